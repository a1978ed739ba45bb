// The injection API end to end over HTTP: a real HttpServer on loopback, the real
// prepare_message, and a small CAF actor standing in for the spool (it records each InjectBatch
// and answers it the way the test asks).
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "api/api_auth.hpp"
#include "api/injection_api.hpp"
#include "core/smtp/wire.hpp"
#include "storage/suppression_list.hpp"
#include "core/util/ids.hpp"

using namespace volley;
using namespace volley::api;
using volley::InjectBatchPtr;
using volley::InjectOutcome;
using volley::test::HttpTestClient;
using volley::test::IoThreads;
using volley::test::Response;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// What the fake spool saw, and how it answers.
struct FakeSpool {
  enum class Mode { commit, fail, hold };

  std::mutex mu;
  std::condition_variable cv;
  Mode mode = Mode::commit;
  std::vector<InjectBatchPtr> seen;
  std::deque<InjectBatchPtr> held;
  // idempotency key -> first answer and its request's digest (as the spool actor keeps them)
  std::map<std::string, std::pair<std::string, std::string>> keys;

  void on_batch(const InjectBatchPtr& b) {
    std::unique_lock lock(mu);
    seen.push_back(b);
    InjectOutcome out;
    if (!b->idempotency_key.empty()) {
      if (auto it = keys.find(b->idempotency_key); it != keys.end()) {
        const bool same = it->second.second == b->request_digest;
        out.kind = same ? InjectOutcome::Kind::replayed : InjectOutcome::Kind::reused;
        if (same) out.replay_json = it->second.first;
        lock.unlock();
        cv.notify_all();
        return b->done(out);
      }
    }
    switch (mode) {
      case Mode::hold:
        held.push_back(b);
        lock.unlock();
        cv.notify_all();
        return;
      case Mode::fail:
        out.kind = InjectOutcome::Kind::failed;
        out.error = "disk full";
        break;
      case Mode::commit:
        out.kind = InjectOutcome::Kind::committed;
        if (!b->idempotency_key.empty()) keys[b->idempotency_key] = {b->response_json, b->request_digest};
        break;
    }
    lock.unlock();
    cv.notify_all();
    b->done(out);
  }

  InjectBatchPtr take_held() {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, 10s, [&] { return !held.empty(); })) throw std::runtime_error("nothing held");
    auto b = held.front();
    held.pop_front();
    return b;
  }

  std::size_t seen_count() {
    std::lock_guard lock(mu);
    return seen.size();
  }
};

caf::behavior fake_spool_actor(caf::event_based_actor*, std::shared_ptr<FakeSpool> state) {
  return {[state](volley::put_atom, InjectBatchPtr batch) { state->on_batch(batch); }};
}

caf::actor_system_config& small_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", 2);
  return cfg;
}

// An actor system, the fake spool, and the API on a server with one io thread.
struct Fixture {
  // With keys, the API sits behind api_auth as in volleyd: each key's tenant and admin right.
  explicit Fixture(std::function<void(InjectionApiConfig&, HttpServerOptions&)> tweak = {},
                   std::vector<ApiKeyEntry> keys = {})
      : sys(small_config(cfg)), spool_state(std::make_shared<FakeSpool>()) {
    spool = sys.spawn(fake_spool_actor, spool_state);
    api.spool = spool;
    api.prepare.hostname = "volley.test";
    api.pending = pending;
    api.render_metrics = [] { return std::string("# TYPE volley_up gauge\nvolley_up 1\n"); };
    HttpServerOptions opts;
    if (tweak) tweak(api, opts);
    auto handler = make_injection_handler(api);
    if (!keys.empty()) handler = make_auth_handler(std::move(keys), std::move(handler));
    server = std::make_unique<HttpServer>(io.io, std::move(handler), opts);
    server->start({"127.0.0.1", 0});
  }

  ~Fixture() {
    {  // held batches answer 503 when dropped; let them go while the io_context still runs
      std::lock_guard lock(spool_state->mu);
      spool_state->held.clear();
      spool_state->seen.clear();
    }
    server->stop();
    io.join();
    caf::anon_send_exit(spool, caf::exit_reason::user_shutdown);
  }

  HttpTestClient client() { return HttpTestClient(server->port()); }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<FakeSpool> spool_state;
  caf::actor spool;
  std::shared_ptr<std::atomic<std::int64_t>> pending = std::make_shared<std::atomic<std::int64_t>>(0);
  InjectionApiConfig api;
  IoThreads io;
  std::unique_ptr<HttpServer> server;
};

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

json simple_message(const std::string& subject = "hello") {
  return {{"from", {{"email", "sender@example.com"}, {"name", "Sender"}}},
          {"to", json::array({"first@Example.ORG", {{"email", "second@other.example"}, {"name", "Second"}}})},
          {"subject", subject},
          {"text", "Hello there.\n.\nA line with a dot.\n"}};
}

json from_response(const Response& r) { return json::parse(r.body()); }

std::string error_code(const Response& r) { return from_response(r)["error"]["code"].get<std::string>(); }
std::string error_field(const Response& r) { return from_response(r)["error"]["field"].get<std::string>(); }
std::string error_message(const Response& r) { return from_response(r)["error"]["message"].get<std::string>(); }

bool is_message_id(const std::string& id) {
  return id.size() == 24 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Two tenants and an admin key (printf %s <key> | sha256sum).
const std::vector<ApiKeyEntry> kTenantKeys = {
    {"a", "835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11", "acme", false},     // inject-secret-1
    {"b", "4c9d15a527bf4b6806b16778a619b9133a134000f3dda72f38e28493c342f562", "globex", false},   // tenant-b-secret-3
    {"ops", "dcb1b08f0acb7b53bfe9939165e70e9a20147ab617bffadfbfb6b0009968b145", "default", true},  // admin-secret-2
};

// JSON headers with one key's Authorization, and an Idempotency-Key when given.
std::vector<std::pair<std::string, std::string>> as(const std::string& secret, const std::string& idempotency_key = "") {
  auto headers = kJson;
  headers.emplace_back("Authorization", "Bearer " + secret);
  if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
  return headers;
}

}  // namespace

TEST_CASE("POST /api/v1/messages spools the message and answers 202", "[http][injection]") {
  Fixture f;
  auto client = f.client();
  const auto before = volley::now_unix_ms();
  const auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), kJson);
  REQUIRE(res.result_int() == 202);
  CHECK(res[volley::test::http::field::content_type] == "application/json");

  const auto answer = from_response(res);
  const std::string id = answer["id"];
  CHECK(is_message_id(id));
  REQUIRE(answer["recipients"].size() == 2);
  CHECK(answer["recipients"][0] == json({{"email", "first@Example.ORG"}, {"id", id + "-0"}, {"status", "queued"}}));
  CHECK(answer["recipients"][1] == json({{"email", "second@other.example"}, {"id", id + "-1"}, {"status", "queued"}}));

  REQUIRE(f.spool_state->seen_count() == 1);
  const auto& batch = *f.spool_state->seen.at(0);
  CHECK(batch.idempotency_key.empty());
  CHECK(json::parse(batch.response_json) == answer);
  REQUIRE(batch.messages.size() == 1);
  const auto& m = batch.messages[0];
  CHECK(m.message.id == id);
  CHECK(m.message.tenant == "default");
  CHECK(m.message.envelope_from == "sender@example.com");
  CHECK(m.message.recipient_count == 2);
  CHECK(m.message.received_at_ms >= before);
  CHECK(m.message.received_at_ms <= volley::now_unix_ms());
  CHECK(m.message.message_id_header.find("@volley.test>") != std::string::npos);
  REQUIRE(m.recipients.size() == 2);
  CHECK(m.recipients[0].id == id + "-0");
  CHECK(m.recipients[0].message_id == id);
  CHECK(m.recipients[0].recipient == "first@Example.ORG");
  CHECK(m.recipients[0].domain == "example.org");
  CHECK(m.recipients[1].domain == "other.example");
  // The stored body is the wire form: dot-stuffed, CRLF, terminated; its size is the message's.
  CHECK(m.wire_data.size() > 5);
  CHECK(m.wire_data.substr(m.wire_data.size() - 5) == "\r\n.\r\n");
  CHECK(m.wire_data.find("\r\n..\r\n") != std::string::npos);
  CHECK(m.message.message_size == volley::smtp::from_wire_data(m.wire_data).size());
  CHECK(f.pending->load() == 0);
}

TEST_CASE("Injection refuses what it cannot take, queuing nothing", "[http][injection]") {
  Fixture f([](InjectionApiConfig& api, HttpServerOptions& opts) {
    api.prepare.max_message_size = 4096;
    opts.max_body_bytes = 64 * 1024;
    opts.body_too_large = body_too_large;  // as volleyd wires it
  });
  auto client = f.client();

  SECTION("415 without application/json") {
    auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), {{"Content-Type", "text/plain"}});
    CHECK(res.result_int() == 415);
    CHECK(error_code(res) == "unsupported_media_type");
    res = client.request("POST", "/api/v1/messages", simple_message().dump());
    CHECK(res.result_int() == 415);
    res = client.request("POST", "/api/v1/messages", simple_message().dump(),
                         {{"Content-Type", "Application/JSON; charset=utf-8"}});
    CHECK(res.result_int() == 202);  // media type is case-insensitive, parameters allowed
    std::lock_guard lock(f.spool_state->mu);
    f.spool_state->seen.clear();
  }
  SECTION("400 for malformed JSON, with its position") {
    const auto res = client.request("POST", "/api/v1/messages", R"({"from": "a@b.example", "to": [)", kJson);
    CHECK(res.result_int() == 400);
    CHECK(res[volley::test::http::field::content_type] == "application/json");
    CHECK(error_code(res) == "invalid_json");
    CHECK(error_message(res).find("at byte 32") != std::string::npos);
    CHECK(error_message(res).find("column 32") != std::string::npos);
  }
  SECTION("400 for JSON nested too deep to handle safely") {
    const std::string deep = R"({"from":"a@b.example","metadata":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
    const auto res = client.request("POST", "/api/v1/messages", deep, kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "invalid_json");
  }
  SECTION("400 header_injection for CR/LF in a header field") {
    const auto res =
        client.request("POST", "/api/v1/messages", simple_message("hi\r\nBcc: victim@example.net").dump(), kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "header_injection");
    CHECK(error_field(res) == "subject");
  }
  SECTION("400 with the field of an invalid address") {
    auto m = simple_message();
    m["to"][1]["email"] = "no-at-sign";
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "invalid_address");
    CHECK(error_field(res) == "to[1].email");
  }
  SECTION("413 for a message over the message size limit") {
    auto m = simple_message();
    m["text"] = std::string(8000, 'x');
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    CHECK(res.result_int() == 413);
    CHECK(error_code(res) == "too_large");
  }
  SECTION("413 for a body over the HTTP limit, answered from its Content-Length") {
    client.write_raw(
        "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{");
    const auto res = client.read();
    CHECK(res.result_int() == 413);
    CHECK(error_code(res) == "too_large");
    CHECK(error_message(res) == "request body exceeds 65536 bytes");
  }
  SECTION("413 for a batch over the HTTP limit names the batch limit, before its body is read") {
    client.write_raw(
        "POST /api/v1/messages/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000\r\n\r\n{");
    const auto res = client.read();
    CHECK(res.result_int() == 413);
    CHECK(error_code(res) == "too_large");
    CHECK(error_field(res) == "messages");
    CHECK(error_message(res).find("batch limit of 65536 bytes") != std::string::npos);
  }
  SECTION("413 for a chunked batch once it crosses the limit") {
    const std::string chunk(40 * 1024, ' ');
    std::ostringstream hex;
    hex << std::hex << chunk.size();
    client.write_raw("POST /api/v1/messages/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n" + hex.str() + "\r\n" + chunk + "\r\n" + hex.str() +
                     "\r\n" + chunk + "\r\n");
    const auto res = client.read();
    CHECK(res.result_int() == 413);
    CHECK(error_field(res) == "messages");
    CHECK(error_message(res).find("batch limit") != std::string::npos);
  }
  SECTION("400 for an invalid Idempotency-Key") {
    for (const std::string& key : {std::string(201, 'k'), std::string("tab\there")}) {
      auto json_and_key = kJson;
      json_and_key.emplace_back("Idempotency-Key", key);
      const auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), json_and_key);
      CHECK(res.result_int() == 400);
      CHECK(error_code(res) == "invalid_idempotency_key");
    }
  }
  CHECK(f.spool_state->seen_count() == 0);
}

TEST_CASE("An idempotent repeat answers the first answer again, another body is 422", "[http][injection]") {
  Fixture f;
  auto client = f.client();
  auto headers = kJson;
  headers.emplace_back("Idempotency-Key", "order-4711 retry ok");
  const auto first = client.request("POST", "/api/v1/messages", simple_message().dump(), headers);
  const auto second = client.request("POST", "/api/v1/messages", simple_message().dump(), headers);
  REQUIRE(first.result_int() == 202);
  REQUIRE(second.result_int() == 202);
  CHECK(second.body() == first.body());
  REQUIRE(f.spool_state->seen_count() == 2);
  const std::string& key = f.spool_state->seen[0]->idempotency_key;
  CHECK(key.size() > std::string("order-4711 retry ok").size());  // scoped to tenant and endpoint
  CHECK(key.substr(key.size() - 19) == "order-4711 retry ok");
  CHECK(f.spool_state->seen[1]->idempotency_key == key);
  CHECK(f.spool_state->seen[0]->request_digest.size() == 32);  // SHA-256 of the body
  CHECK(f.spool_state->seen[1]->request_digest == f.spool_state->seen[0]->request_digest);
  CHECK(f.spool_state->seen[0]->response_json == first.body());

  const auto other = client.request("POST", "/api/v1/messages", simple_message("changed").dump(), headers);
  CHECK(other.result_int() == 422);
  CHECK(error_code(other) == "idempotency_key_reused");
  CHECK(error_field(other) == "Idempotency-Key");
  REQUIRE(f.spool_state->seen_count() == 3);
  CHECK(f.spool_state->seen[2]->request_digest != f.spool_state->seen[0]->request_digest);
  // The first request is still answered as it was.
  CHECK(client.request("POST", "/api/v1/messages", simple_message().dump(), headers).body() == first.body());
}

TEST_CASE("An idempotency key is its tenant's and its endpoint's own", "[http][injection]") {
  Fixture f({}, kTenantKeys);
  auto client = f.client();
  const auto a = client.request("POST", "/api/v1/messages", simple_message().dump(), as("inject-secret-1", "k"));
  const auto b = client.request("POST", "/api/v1/messages", simple_message().dump(), as("tenant-b-secret-3", "k"));
  REQUIRE(a.result_int() == 202);
  REQUIRE(b.result_int() == 202);
  // Tenant B's request is its own message, not tenant A's answer.
  CHECK(from_response(b)["id"] != from_response(a)["id"]);
  REQUIRE(f.spool_state->seen_count() == 2);
  CHECK(f.spool_state->seen[1]->messages.size() == 1);
  CHECK(f.spool_state->seen[1]->messages[0].message.tenant == "globex");

  // The same key on /batch is another key: a batch answer, in the batch's shape.
  const json batch = {{"messages", json::array({simple_message()})}};
  const auto on_batch =
      client.request("POST", "/api/v1/messages/batch", batch.dump(), as("inject-secret-1", "k"));
  REQUIRE(on_batch.result_int() == 202);
  const auto answer = from_response(on_batch);
  REQUIRE(answer.contains("messages"));
  CHECK(answer["messages"][0]["id"] != from_response(a)["id"]);
  std::set<std::string> keys;
  for (const auto& seen : f.spool_state->seen) keys.insert(seen->idempotency_key);
  CHECK(keys.size() == 3);
}

TEST_CASE("A spool failure answers 503 with Retry-After", "[http][injection]") {
  SECTION("the spool reports a failed write") {
    Fixture f;
    f.spool_state->mode = FakeSpool::Mode::fail;
    auto client = f.client();
    const auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), kJson);
    CHECK(res.result_int() == 503);
    CHECK(error_code(res) == "spool_unavailable");
    CHECK(error_message(res).find("disk full") != std::string::npos);
    CHECK(res["Retry-After"] == "1");
    CHECK(f.pending->load() == 0);
  }
  SECTION("the spool drops the batch unanswered") {
    Fixture f;
    f.spool_state->mode = FakeSpool::Mode::hold;
    std::optional<Response> res;
    std::jthread t([&] { res = f.client().request("POST", "/api/v1/messages", simple_message().dump(), kJson); });
    { auto dropped = f.spool_state->take_held(); }
    {
      std::lock_guard lock(f.spool_state->mu);
      f.spool_state->seen.clear();  // the last reference: the batch dies unanswered
    }
    t.join();
    REQUIRE(res);
    CHECK(res->result_int() == 503);
    CHECK(error_code(*res) == "spool_unavailable");
  }
  SECTION("no spool actor at all") {
    Fixture f([](InjectionApiConfig& api, HttpServerOptions&) { api.spool = caf::actor(); });
    const auto res = f.client().request("POST", "/api/v1/messages", simple_message().dump(), kJson);
    CHECK(res.result_int() == 503);
    CHECK(res["Retry-After"] == "1");
  }
}

TEST_CASE("Back-pressure: too many uncommitted messages answers 503 before any work", "[http][injection]") {
  Fixture f([](InjectionApiConfig& api, HttpServerOptions&) { api.max_pending = 1; });
  f.spool_state->mode = FakeSpool::Mode::hold;

  // Two messages waiting for the spool: over the limit of 1.
  std::optional<Response> first;
  std::jthread t([&] {
    auto batch = json{{"messages", json::array({simple_message(), simple_message()})}};
    first = f.client().request("POST", "/api/v1/messages/batch", batch.dump(), kJson);
  });
  auto held = f.spool_state->take_held();
  CHECK(f.pending->load() == 2);

  auto client = f.client();
  const auto busy = client.request("POST", "/api/v1/messages", "not even JSON", kJson);
  CHECK(busy.result_int() == 503);
  CHECK(error_code(busy) == "overloaded");
  CHECK(busy["Retry-After"] == "1");
  CHECK(f.spool_state->seen_count() == 1);

  InjectOutcome ok;
  ok.kind = InjectOutcome::Kind::committed;
  held->done(ok);  // from this thread: the Responder posts to the connection's strand
  t.join();
  REQUIRE(first);
  CHECK(first->result_int() == 202);
  CHECK(from_response(*first)["messages"].size() == 2);
  CHECK(f.pending->load() == 0);

  f.spool_state->mode = FakeSpool::Mode::commit;
  CHECK(client.request("POST", "/api/v1/messages", simple_message().dump(), kJson).result_int() == 202);
}

TEST_CASE("POST /api/v1/messages/batch is all or nothing", "[http][injection]") {
  Fixture f([](InjectionApiConfig& api, HttpServerOptions&) { api.max_batch = 3; });
  auto client = f.client();

  SECTION("valid messages go to the spool in one batch") {
    const json body = {{"messages", json::array({simple_message("a"), simple_message("b"), simple_message("c")})}};
    const auto res = client.request("POST", "/api/v1/messages/batch", body.dump(), kJson);
    REQUIRE(res.result_int() == 202);
    const auto answer = from_response(res);
    REQUIRE(answer["messages"].size() == 3);
    REQUIRE(f.spool_state->seen_count() == 1);
    const auto& batch = *f.spool_state->seen[0];
    REQUIRE(batch.messages.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(answer["messages"][i]["id"] == batch.messages[i].message.id);
      CHECK(answer["messages"][i]["recipients"][1]["id"] == batch.messages[i].message.id + "-1");
    }
    CHECK(batch.messages[0].message.id != batch.messages[1].message.id);
  }
  SECTION("one invalid message refuses the batch, naming it") {
    auto bad = simple_message();
    bad["to"][0] = "bad address@";
    const json body = {{"messages", json::array({simple_message(), bad, simple_message()})}};
    const auto res = client.request("POST", "/api/v1/messages/batch", body.dump(), kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "invalid_address");
    CHECK(error_field(res) == "messages[1].to[0]");
    CHECK(f.spool_state->seen_count() == 0);
  }
  SECTION("too many messages") {
    const json body = {{"messages", json::array({simple_message(), simple_message(), simple_message(), simple_message()})}};
    const auto res = client.request("POST", "/api/v1/messages/batch", body.dump(), kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "too_many_messages");
    CHECK(f.spool_state->seen_count() == 0);
  }
  SECTION("not a messages array") {
    for (const std::string body : {R"({"messages": {}})", R"([])", R"({"messages": []})", R"({"message": []})"}) {
      CAPTURE(body);
      const auto res = client.request("POST", "/api/v1/messages/batch", body, kJson);
      CHECK(res.result_int() == 400);
      CHECK(error_field(res) == "messages");
    }
    CHECK(f.spool_state->seen_count() == 0);
  }
}

TEST_CASE("GET /api/v1/messages/{id} asks the status source", "[http][injection]") {
  std::mutex mu;
  std::vector<std::string> asked;
  Fixture f([&](InjectionApiConfig& api, HttpServerOptions&) {
    api.status = [&](std::string id, std::function<void(std::optional<StatusFound>)> answer) {
      {
        std::lock_guard lock(mu);
        asked.push_back(id);
      }
      // Answer from another thread, as the events actor would.
      std::thread([id, answer = std::move(answer)] {
        if (id == "0123456789abcdef01234567-0")
          return answer(StatusFound{"default", R"({"id":")" + id + R"(","status":"queued"})"});
        answer(std::nullopt);
      }).join();
    };
  });
  auto client = f.client();
  const auto known = client.request("GET", "/api/v1/messages/0123456789abcdef01234567-0");
  CHECK(known.result_int() == 200);
  CHECK(from_response(known)["status"] == "queued");
  const auto unknown = client.request("GET", "/api/v1/messages/0123456789abcdef01234567-9");
  CHECK(unknown.result_int() == 404);
  CHECK(error_code(unknown) == "not_found");
  const auto hostile = client.request("GET", "/api/v1/messages/..%2F..%2Fetc");
  CHECK(hostile.result_int() == 404);
  std::lock_guard lock(mu);
  CHECK(asked == std::vector<std::string>{"0123456789abcdef01234567-0", "0123456789abcdef01234567-9"});
}

TEST_CASE("GET /api/v1/messages/{id}: another tenant's message is 404, an admin key sees all", "[http][injection]") {
  const std::string rcpt = "0123456789abcdef01234567-0";
  const std::string message = "0123456789abcdef01234567";
  Fixture f(
      [&](InjectionApiConfig& api, HttpServerOptions&) {
        api.status = [=](std::string id, std::function<void(std::optional<StatusFound>)> answer) {
          if (id == rcpt || id == message) return answer(StatusFound{"acme", R"({"id":")" + id + R"("})"});
          answer(std::nullopt);
        };
      },
      kTenantKeys);
  auto client = f.client();
  for (const auto& id : {rcpt, message}) {
    INFO(id);
    const auto own = client.request("GET", "/api/v1/messages/" + id, {}, as("inject-secret-1"));
    CHECK(own.result_int() == 200);
    CHECK(from_response(own)["id"] == id);
    const auto other = client.request("GET", "/api/v1/messages/" + id, {}, as("tenant-b-secret-3"));
    CHECK(other.result_int() == 404);
    CHECK(error_code(other) == "not_found");
    CHECK(other.body().find("acme") == std::string::npos);
    CHECK(client.request("GET", "/api/v1/messages/" + id, {}, as("admin-secret-2")).result_int() == 200);
  }
}

TEST_CASE("healthz, metrics, unknown paths and wrong methods", "[http][injection]") {
  Fixture f;
  auto client = f.client();
  const auto health = client.request("GET", "/healthz");
  CHECK(health.result_int() == 200);
  CHECK(from_response(health) == json({{"status", "ok"}}));
  CHECK(health[volley::test::http::field::content_type] == "application/json");

  const auto metrics = client.request("GET", "/metrics");
  CHECK(metrics.result_int() == 200);
  CHECK(metrics[volley::test::http::field::content_type] == "text/plain; version=0.0.4");
  CHECK(metrics.body() == "# TYPE volley_up gauge\nvolley_up 1\n");

  const auto missing = client.request("GET", "/nope");
  CHECK(missing.result_int() == 404);
  CHECK(error_code(missing) == "not_found");

  struct Case {
    const char* method;
    const char* target;
    const char* allow;
  };
  for (const auto& c : {Case{"GET", "/api/v1/messages", "POST"}, Case{"PUT", "/api/v1/messages/batch", "POST"},
                        Case{"DELETE", "/api/v1/messages/abc", "GET"}, Case{"POST", "/healthz", "GET"},
                        Case{"POST", "/metrics", "GET"}}) {
    CAPTURE(c.method, c.target);
    const auto res = client.request(c.method, c.target);
    CHECK(res.result_int() == 405);
    CHECK(res["Allow"] == c.allow);
    CHECK(error_code(res) == "method_not_allowed");
  }
}

namespace {

// A suppression list in a fresh temporary directory, with what the API reported as suppressed.
struct Suppressions {
  Suppressions() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("volley-inject-supp-" + std::to_string(rd()) + std::to_string(rd()));
    std::string error;
    list = volley::storage::SuppressionList::open(dir.string(), &error);
    if (!list) throw std::runtime_error(error);
  }
  ~Suppressions() {
    list.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void add(const std::string& tenant, const std::string& email, const std::string& reason) {
    volley::suppression::Entry e;
    e.tenant = tenant;
    e.email = email;
    e.reason = reason;
    e.source = "api";
    std::string error;
    if (!list->add(e, false, &error)) throw std::runtime_error(error);
  }
  // Wires the list and the report into the API.
  void wire(InjectionApiConfig& api) {
    api.suppressions = list;
    api.on_suppressed = [this](std::vector<SuppressedRecipient> s) {
      std::lock_guard lock(mu);
      reports.push_back(std::move(s));
    };
  }
  std::vector<std::vector<SuppressedRecipient>> taken() {
    std::lock_guard lock(mu);
    return reports;
  }

  std::filesystem::path dir;
  std::shared_ptr<volley::storage::SuppressionList> list;
  std::mutex mu;
  std::vector<std::vector<SuppressedRecipient>> reports;
};

}  // namespace

TEST_CASE("Suppressed recipients are answered \"suppressed\" and not spooled", "[http][injection][suppression]") {
  Suppressions supp;
  supp.add("default", "FIRST@example.org", "hard_bounce");
  supp.add("acme", "second@other.example", "complaint");  // another tenant's list: no effect here
  Fixture f([&](InjectionApiConfig& api, HttpServerOptions&) { supp.wire(api); });
  auto client = f.client();

  SECTION("a message with a suppressed and a queued recipient") {
    auto m = simple_message();
    m["tags"] = json::array({"welcome"});
    m["metadata"] = {{"user", 7}};
    m["campaign"] = "spring";
    const auto before = volley::now_unix_ms();
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    REQUIRE(res.result_int() == 202);
    const auto answer = from_response(res);
    const std::string id = answer["id"];
    REQUIRE(answer["recipients"].size() == 2);
    CHECK(answer["recipients"][0] == json({{"email", "first@Example.ORG"}, {"id", id + "-0"}, {"status", "suppressed"},
                                           {"reason", "hard_bounce"}}));
    CHECK(answer["recipients"][1] == json({{"email", "second@other.example"}, {"id", id + "-1"}, {"status", "queued"}}));

    REQUIRE(f.spool_state->seen_count() == 1);
    const auto& batch = *f.spool_state->seen[0];
    REQUIRE(batch.messages.size() == 1);
    const auto& spooled = batch.messages[0];
    CHECK(spooled.message.recipient_count == 1);
    REQUIRE(spooled.recipients.size() == 1);
    CHECK(spooled.recipients[0].id == id + "-1");  // keeps its index
    CHECK(spooled.recipients[0].recipient == "second@other.example");
    CHECK(json::parse(batch.response_json) == answer);

    // Reported once, before the answer, with what an event needs.
    const auto reports = supp.taken();
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].size() == 1);
    const auto& s = reports[0][0];
    CHECK(s.message_id == id);
    CHECK(s.rcpt_id == id + "-0");
    CHECK(s.recipient == "first@Example.ORG");
    CHECK(s.tenant == "default");
    CHECK(s.campaign == "spring");
    CHECK(s.pool == spooled.message.pool);
    CHECK(s.tags == std::vector<std::string>{"welcome"});
    CHECK(json::parse(s.metadata_json) == json({{"user", 7}}));
    CHECK(s.reason == "hard_bounce");
    CHECK(s.at_ms >= before);
  }
  SECTION("a message whose every recipient is suppressed is not spooled at all") {
    supp.add("default", "second@other.example", "manual");
    const auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), kJson);
    REQUIRE(res.result_int() == 202);
    const auto answer = from_response(res);
    const std::string id = answer["id"];
    CHECK(is_message_id(id));
    REQUIRE(answer["recipients"].size() == 2);
    CHECK(answer["recipients"][0]["status"] == "suppressed");
    CHECK(answer["recipients"][1]["status"] == "suppressed");
    CHECK(answer["recipients"][1]["reason"] == "manual");
    CHECK(answer["recipients"][1]["id"] == id + "-1");
    CHECK(f.spool_state->seen_count() == 0);  // no round-trip
    const auto reports = supp.taken();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].size() == 2);
    CHECK(f.pending->load() == 0);
  }
  SECTION("a batch: only the messages with a recipient left are spooled, one report for the request") {
    supp.add("default", "second@other.example", "manual");
    auto queued = simple_message("b");
    queued["to"] = json::array({"fresh@example.net"});
    const json body = {{"messages", json::array({simple_message("a"), queued})}};
    const auto res = client.request("POST", "/api/v1/messages/batch", body.dump(), kJson);
    REQUIRE(res.result_int() == 202);
    const auto answer = from_response(res);
    REQUIRE(answer["messages"].size() == 2);
    CHECK(answer["messages"][0]["recipients"][0]["status"] == "suppressed");
    CHECK(answer["messages"][1]["recipients"][0]["status"] == "queued");
    REQUIRE(f.spool_state->seen_count() == 1);
    const auto& batch = *f.spool_state->seen[0];
    REQUIRE(batch.messages.size() == 1);
    CHECK(batch.messages[0].message.id == answer["messages"][1]["id"]);
    const auto reports = supp.taken();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].size() == 2);
  }
  SECTION("the address is compared normalised; other tenants' entries do not count") {
    auto m = simple_message();
    m["to"] = json::array({"First@EXAMPLE.org", "second@other.example"});
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    REQUIRE(res.result_int() == 202);
    const auto answer = from_response(res);
    CHECK(answer["recipients"][0]["status"] == "suppressed");
    CHECK(answer["recipients"][1]["status"] == "queued");  // suppressed for acme only
  }
}

TEST_CASE("Suppressed recipients are reported only for a committed, first request", "[http][injection][suppression]") {
  Suppressions supp;
  supp.add("default", "first@example.org", "complaint");
  Fixture f([&](InjectionApiConfig& api, HttpServerOptions&) { supp.wire(api); });
  auto client = f.client();

  SECTION("an idempotent repeat answers the first answer and reports nothing again") {
    auto headers = kJson;
    headers.emplace_back("Idempotency-Key", "k-1");
    const auto first = client.request("POST", "/api/v1/messages", simple_message().dump(), headers);
    const auto second = client.request("POST", "/api/v1/messages", simple_message().dump(), headers);
    REQUIRE(first.result_int() == 202);
    REQUIRE(second.result_int() == 202);
    CHECK(second.body() == first.body());
    CHECK(supp.taken().size() == 1);
  }
  SECTION("an all-suppressed request with a key still records its answer with the spool") {
    auto m = simple_message();
    m["to"] = json::array({"first@example.org"});
    auto headers = kJson;
    headers.emplace_back("Idempotency-Key", "k-2");
    const auto first = client.request("POST", "/api/v1/messages", m.dump(), headers);
    const auto second = client.request("POST", "/api/v1/messages", m.dump(), headers);
    REQUIRE(first.result_int() == 202);
    CHECK(second.body() == first.body());
    REQUIRE(f.spool_state->seen_count() == 2);
    CHECK(f.spool_state->seen[0]->messages.empty());
    CHECK(supp.taken().size() == 1);
  }
  SECTION("a failed spool write reports nothing") {
    f.spool_state->mode = FakeSpool::Mode::fail;
    const auto res = client.request("POST", "/api/v1/messages", simple_message().dump(), kJson);
    CHECK(res.result_int() == 503);
    CHECK(supp.taken().empty());
  }
  SECTION("a refused request reports nothing") {
    auto m = simple_message();
    m["to"].push_back("broken");
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    CHECK(res.result_int() == 400);
    CHECK(supp.taken().empty());
  }
}

TEST_CASE("Unknown fields and repeated member names are 400 naming the field, queuing nothing",
          "[http][injection][strict]") {
  Fixture f;
  auto client = f.client();
  auto refused = [&](const std::string& path, const std::string& body, const std::string& code,
                     const std::string& field) {
    CAPTURE(body);
    const auto res = client.request("POST", path, body, kJson);
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == code);
    CHECK(error_field(res) == field);
    return error_message(res);
  };

  SECTION("a member no message has") {
    auto typo = simple_message();
    typo["subjet"] = typo["subject"];
    typo.erase("subject");
    const auto why = refused("/api/v1/messages", typo.dump(), "unknown_field", "subjet");
    CHECK(why.find("subject") != std::string::npos);  // the message lists what is known
    for (const char* feature : {"sendAt", "template_id", "substitutions"}) {
      auto m = simple_message();
      m[feature] = "x";
      refused("/api/v1/messages", m.dump(), "unknown_field", feature);
    }
    auto null_valued = simple_message();
    null_valued["send_time"] = nullptr;  // (send_at is known: docs/scheduling.md)
    refused("/api/v1/messages", null_valued.dump(), "unknown_field", "send_time");
  }
  SECTION("unknown members of addresses and attachments") {
    auto m = simple_message();
    m["from"]["nmae"] = "Typo";
    refused("/api/v1/messages", m.dump(), "unknown_field", "from.nmae");
    m = simple_message();
    m["to"][1]["display"] = "x";
    refused("/api/v1/messages", m.dump(), "unknown_field", "to[1].display");
    m = simple_message();
    m["attachments"] = json::array({{{"filename", "logo.png"}, {"content", "aGk="}, {"cid", "logo@x"}}});
    refused("/api/v1/messages", m.dump(), "unknown_field", "attachments[0].cid");
  }
  SECTION("in a batch: the message's path, and members of the body besides messages") {
    auto typo = simple_message();
    typo["subjet"] = "x";
    const json batch = {{"messages", json::array({simple_message(), simple_message(), simple_message(), typo})}};
    const auto why = refused("/api/v1/messages/batch", batch.dump(), "unknown_field", "messages[3].subjet");
    CHECK(why.find("messages[3]") != std::string::npos);
    const json extra = {{"messages", json::array({simple_message()})}, {"send_at", "tomorrow"}};
    refused("/api/v1/messages/batch", extra.dump(), "unknown_field", "send_at");
  }
  SECTION("a member name given twice, at any depth") {
    const std::string twice_to =
        R"({"from":"sender@example.com","to":["a@example.org"],"subject":"s","text":"t","to":["b@example.net"]})";
    refused("/api/v1/messages", twice_to, "duplicate_key", "to");
    const std::string escaped_to =
        R"({"from":"sender@example.com","to":["a@example.org"],"subject":"s","text":"t","t\u006f":["b@example.net"]})";
    refused("/api/v1/messages", escaped_to, "duplicate_key", "to");
    const std::string in_metadata =
        R"({"from":"sender@example.com","to":["a@example.org"],"text":"t","metadata":{"user_id":1,"user_id":2}})";
    refused("/api/v1/messages", in_metadata, "duplicate_key", "metadata.user_id");
    const std::string in_batch =
        R"({"messages":[{"from":"sender@example.com","from":"other@example.com","to":["a@example.org"],"text":"t"}]})";
    refused("/api/v1/messages/batch", in_batch, "duplicate_key", "messages[0].from");
  }
  CHECK(f.spool_state->seen_count() == 0);

  SECTION("what the API knows, and free-form headers and metadata, are still accepted") {
    auto m = simple_message();
    m["pool"] = "default";
    m["headers"] = {{"X-Send-At", "now"}, {"List-Unsubscribe", "<mailto:u@example.com>"}};
    m["metadata"] = {{"subjet", 1}, {"send_at", {{"nested", true}}}};
    m["cc"] = {{"email", "cc@example.org"}, {"name", "Cc"}};
    m["attachments"] = json::array({{{"filename", "a.txt"}, {"content_type", "text/plain"}, {"content", "aGk="}}});
    const auto res = client.request("POST", "/api/v1/messages", m.dump(), kJson);
    CHECK(res.result_int() == 202);
    CHECK(f.spool_state->seen_count() == 1);
  }
}
