// HttpServer against real clients on loopback: a Beast client (tests/support/http_connection.hpp) and curl.
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/http_json.hpp"
#include "net/http_server.hpp"

using namespace volley;
using namespace volley::api;
using volley::test::HttpTestClient;
using volley::test::IoThreads;
using namespace std::chrono_literals;

namespace {

// Answers every request with a JSON description of it.
void echo(HttpRequest&& req, Responder respond) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : req.headers) headers[name] = value;
  const nlohmann::json j = {{"method", req.method},
                            {"target", req.target},
                            {"path", std::string(req.path())},
                            {"body", req.body},
                            {"headers", headers}};
  respond(json_response(200, j.dump()));
}

nlohmann::json body_json(const volley::test::Response& r) { return nlohmann::json::parse(r.body()); }

std::string error_code(const volley::test::Response& r) { return body_json(r)["error"]["code"].get<std::string>(); }

// Runs a shell command and returns its standard output.
std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

// Requests whose Responder the test keeps, to answer later from the test's own thread.
struct HeldRequests {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<HttpRequest, Responder>> held;

  Handler handler() {
    return [this](HttpRequest&& req, Responder respond) {
      std::lock_guard lock(mu);
      held.emplace_back(std::move(req), std::move(respond));
      cv.notify_all();
    };
  }
  std::pair<HttpRequest, Responder> take() {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, 10s, [&] { return !held.empty(); })) throw std::runtime_error("no request arrived");
    auto r = std::move(held.front());
    held.pop_front();
    return r;
  }
};

}  // namespace

// Listen addresses are parsed once, by the config reader (tests/unit/config/host_port_test.cpp):
// the server gets a HostPort, and refuses one it cannot bind.
TEST_CASE("HttpServer refuses a listen address it cannot bind", "[http]") {
  IoThreads io;
  HttpServer server(io.io, echo);
  CHECK_THROWS_AS(server.start({"192.0.2.1", 0}), std::runtime_error);
}

TEST_CASE("HttpServer keeps a connection alive over several requests", "[http]") {
  IoThreads io;
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});
  REQUIRE(server.port() != 0);

  HttpTestClient client(server.port());
  for (int i = 0; i < 5; ++i) {
    const auto res = client.request("POST", "/echo/" + std::to_string(i) + "?q=1", "body " + std::to_string(i),
                                    {{"X-Custom-Header", "Value"}});
    REQUIRE(res.result_int() == 200);
    CHECK(res.keep_alive());
    CHECK(res[volley::test::http::field::content_type] == "application/json");
    const auto j = body_json(res);
    CHECK(j["method"] == "POST");
    CHECK(j["target"] == "/echo/" + std::to_string(i) + "?q=1");
    CHECK(j["path"] == "/echo/" + std::to_string(i));
    CHECK(j["body"] == "body " + std::to_string(i));
    CHECK(j["headers"]["x-custom-header"] == "Value");  // names lower-cased, values as sent
  }
  CHECK(server.connection_count() == 1);

  server.stop();
  io.join();
}

TEST_CASE("HttpServer answers pipelined requests in order", "[http]") {
  IoThreads io(2);
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});
  HttpTestClient client(server.port());
  client.write_raw(
      "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /third HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(body_json(client.read())["target"] == "/first");
  const auto second = body_json(client.read());
  CHECK(second["target"] == "/second");
  CHECK(second["body"] == "abc");
  CHECK(body_json(client.read())["target"] == "/third");
  server.stop();
  io.join();
}

// The server feeds its parser whatever a read brought and reads again only when it needs more
// (net/http_server.cpp, parse_buffered): requests that come a byte at a time, a body far larger
// than one read, and a chunked body each make it stop and go on in another place.
TEST_CASE("HttpServer reads requests that come in pieces: byte by byte, a large body, chunked", "[http]") {
  IoThreads io;
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});
  HttpTestClient client(server.port());

  const std::string two =
      "POST /bytes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const char c : two) client.write_raw(std::string_view(&c, 1));
  const auto first = body_json(client.read());
  CHECK(first["target"] == "/bytes");
  CHECK(first["body"] == "hello");
  CHECK(body_json(client.read())["target"] == "/after");

  std::string large(300 * 1024, 'x');
  for (std::size_t i = 0; i < large.size(); i += 997) large[i] = static_cast<char>('a' + i % 26);
  const auto big = client.request("POST", "/large", large);
  REQUIRE(big.result_int() == 200);
  CHECK(body_json(big)["body"] == large);

  client.write_raw(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n");
  client.write_raw("4\r\ndefg\r\n0\r\n\r\n");
  const auto chunked = body_json(client.read());
  CHECK(chunked["target"] == "/chunked");
  CHECK(chunked["body"] == "abcdefg");
  CHECK(server.connection_count() == 1);

  server.stop();
  io.join();
}

TEST_CASE("HttpServer serves many concurrent clients on several io threads", "[http]") {
  IoThreads io(2);
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});

  constexpr int kClients = 32;
  constexpr int kRequests = 20;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        try {
          HttpTestClient client(server.port());
          for (int i = 0; i < kRequests; ++i) {
            const std::string body = std::to_string(c) + ":" + std::to_string(i);
            const auto res = client.request("POST", "/c", body);
            if (res.result_int() == 200 && body_json(res)["body"] == body) {
              ++ok;
            } else {
              ++failed;
            }
          }
        } catch (const std::exception&) {
          ++failed;
        }
      });
    }
    for (auto& t : clients) t.join();
  }
  CHECK(failed == 0);
  CHECK(ok == kClients * kRequests);
  server.stop();
  io.join();
}

TEST_CASE("HttpServer refuses an oversized body with 413 without reading it", "[http]") {
  IoThreads io;
  std::atomic<int> handled{0};
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  HttpServer server(
      io.io, [&](HttpRequest&& r, Responder respond) { ++handled; echo(std::move(r), std::move(respond)); }, opts);
  server.start({"127.0.0.1", 0});

  SECTION("declared by Content-Length: answered before the body is sent") {
    HttpTestClient client(server.port());
    client.write_raw("POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n");
    const auto res = client.read();  // the 10 MiB body was never sent
    CHECK(res.result_int() == 413);
    CHECK(error_code(res) == "too_large");
    CHECK_FALSE(res.keep_alive());
    CHECK(client.closed_by_peer(5s));
  }
  SECTION("chunked: refused once the limit is crossed") {
    HttpTestClient client(server.port());
    client.write_raw("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk(600, 'a');
    client.write_raw("258\r\n" + chunk + "\r\n");
    client.write_raw("258\r\n" + chunk + "\r\n");
    const auto res = client.read();
    CHECK(res.result_int() == 413);
    CHECK(error_code(res) == "too_large");
  }
  SECTION("a body at the limit is accepted") {
    HttpTestClient client(server.port());
    const auto res = client.request("POST", "/x", std::string(1024, 'b'));
    CHECK(res.result_int() == 200);
  }
  server.stop();
  io.join();
  CHECK(handled <= 1);
}

TEST_CASE("HttpServer refuses oversized headers with 431 and garbage with 400", "[http]") {
  IoThreads io;
  std::atomic<int> handled{0};
  HttpServerOptions opts;
  opts.max_header_bytes = 4096;
  HttpServer server(
      io.io, [&](HttpRequest&& r, Responder respond) { ++handled; echo(std::move(r), std::move(respond)); }, opts);
  server.start({"127.0.0.1", 0});

  {
    HttpTestClient client(server.port());
    const auto res = client.request("GET", "/", "", {{"X-Big", std::string(8000, 'h')}});
    CHECK(res.result_int() == 431);
    CHECK(error_code(res) == "headers_too_large");
    CHECK(client.closed_by_peer(5s));
  }
  for (const std::string garbage :
       {"HELLO THERE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        // request smuggling: both framings at once
        "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
    CAPTURE(garbage);
    HttpTestClient client(server.port());
    client.write_raw(garbage);
    const auto res = client.read();
    CHECK(res.result_int() == 400);
    CHECK(error_code(res) == "bad_request");
    CHECK(client.closed_by_peer(5s));
  }
  CHECK(handled == 0);
  server.stop();
  io.join();
}

TEST_CASE("HttpServer closes idle and slow connections", "[http]") {
  IoThreads io;
  HttpServerOptions opts;
  SECTION("idle keep-alive connection") {
    opts.idle_timeout = 200ms;
    opts.request_timeout = 30s;
    HttpServer server(io.io, echo, opts);
    server.start({"127.0.0.1", 0});
    HttpTestClient client(server.port());
    CHECK(client.request("GET", "/").result_int() == 200);
    const auto before = std::chrono::steady_clock::now();
    CHECK(client.closed_by_peer(5s));
    CHECK(std::chrono::steady_clock::now() - before >= 150ms);
    server.stop();
  }
  SECTION("slow-loris: a request that never completes") {
    opts.idle_timeout = 30s;  // so only the request timeout can close it
    opts.request_timeout = 300ms;
    HttpServer server(io.io, echo, opts);
    server.start({"127.0.0.1", 0});
    HttpTestClient client(server.port());
    client.write_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    CHECK(client.closed_by_peer(5s));
    server.stop();
  }
  io.join();
}

TEST_CASE("A Responder may be called later from another thread", "[http]") {
  IoThreads io;
  HeldRequests held;
  HttpServer server(io.io, held.handler());
  server.start({"127.0.0.1", 0});

  std::optional<volley::test::Response> res;
  std::jthread client_thread([&] {
    HttpTestClient client(server.port());
    res = client.request("GET", "/later");
  });
  auto [req, respond] = held.take();  // on this thread, after the handler has returned
  CHECK(req.target == "/later");
  HttpResponse answer = json_response(201, R"({"late":true})");
  answer.headers = {{"X-Answered-By", "test thread"}, {"X-Evil", "a\r\nSet-Cookie: injected=1"}};
  respond(answer);
  respond(json_response(500, "{}"));  // a second call is ignored
  client_thread.join();
  REQUIRE(res);
  CHECK(res->result_int() == 201);
  CHECK(res->body() == R"({"late":true})");
  CHECK((*res)["X-Answered-By"] == "test thread");
  CHECK((*res)["X-Evil"].empty());  // a header that would split the response is dropped
  CHECK((*res)["Set-Cookie"].empty());
  server.stop();
  io.join();
}

TEST_CASE("A dropped Responder or a throwing handler answers 500", "[http]") {
  IoThreads io;
  HttpServer server(io.io, [](HttpRequest&& req, Responder respond) {
    if (req.path() == "/throw") throw std::runtime_error("boom");
    // "/drop": the Responder goes out of scope unanswered
  });
  server.start({"127.0.0.1", 0});
  HttpTestClient client(server.port());
  const auto dropped = client.request("GET", "/drop");
  CHECK(dropped.result_int() == 500);
  CHECK(error_code(dropped) == "internal_error");
  const auto thrown = client.request("GET", "/throw");  // same connection still usable
  CHECK(thrown.result_int() == 500);
  CHECK(body_json(thrown)["error"]["message"].get<std::string>().find("boom") != std::string::npos);
  server.stop();
  io.join();
}

TEST_CASE("HttpServer closes connections beyond max_connections at once", "[http]") {
  IoThreads io;
  HttpServerOptions opts;
  opts.max_connections = 2;
  HttpServer server(io.io, echo, opts);
  server.start({"127.0.0.1", 0});
  HttpTestClient a(server.port());
  HttpTestClient b(server.port());
  CHECK(a.request("GET", "/a").result_int() == 200);
  CHECK(b.request("GET", "/b").result_int() == 200);
  HttpTestClient c(server.port());
  CHECK(c.closed_by_peer(5s));
  CHECK(a.request("GET", "/a").result_int() == 200);  // the others are unaffected
  server.stop();
  io.join();
}

TEST_CASE("HTTP/1.0 without keep-alive gets its answer and a close", "[http]") {
  IoThreads io;
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});
  HttpTestClient client(server.port());
  client.write_raw("GET /old HTTP/1.0\r\n\r\n");
  const auto res = client.read();
  CHECK(res.result_int() == 200);
  CHECK(res.version() == 10);
  CHECK(client.closed_by_peer(5s));
  server.stop();
  io.join();
}

TEST_CASE("stop() closes open connections, even with a request in flight", "[http]") {
  IoThreads io;
  HeldRequests held;
  HttpServer server(io.io, held.handler());
  server.start({"127.0.0.1", 0});
  HttpTestClient idle(server.port());
  HttpTestClient busy(server.port());
  busy.write_raw("GET /pending HTTP/1.1\r\nHost: x\r\n\r\n");
  auto [req, respond] = held.take();
  server.stop();
  CHECK(idle.closed_by_peer(5s));
  CHECK(busy.closed_by_peer(5s));
  respond(json_response(200, "{}"));  // too late: ignored, and harmless
  { auto drop = std::move(respond); }
  io.join();  // run() returns: nothing is left on the io_context
  CHECK_THROWS(HttpTestClient(server.port()).request("GET", "/"));
}

// A handler's worker thread or an actor may hold a Responder past the server and its io_context
// (the suppression API's worker did, in a test's teardown): answering or dropping it then must
// touch neither (ASan reports it if it does).
TEST_CASE("A Responder kept past the server and its io_context touches neither", "[http]") {
  Responder answered_late;
  Responder dropped_late;
  {
    IoThreads io;
    HeldRequests held;
    auto server = std::make_unique<HttpServer>(io.io, held.handler());
    server->start({"127.0.0.1", 0});
    HttpTestClient one(server->port());
    HttpTestClient two(server->port());
    one.write_raw("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    two.write_raw("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
    answered_late = held.take().second;
    dropped_late = held.take().second;
    server->stop();
    CHECK(one.closed_by_peer(5s));
    io.join();
    server.reset();
  }  // the io_context is gone, and with it every connection
  answered_late(json_response(200, "{}"));
  answered_late = nullptr;
  dropped_late = nullptr;  // unanswered: its 500 has nowhere to go
  SUCCEED("neither Responder touched the server");
}

TEST_CASE("curl talks to HttpServer: keep-alive and Expect: 100-continue", "[http]") {
  IoThreads io;
  HttpServer server(io.io, echo);
  server.start({"127.0.0.1", 0});
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  // Three URLs in one curl run reuse one connection.
  const auto out = run_command("/usr/bin/curl -sS --max-time 20 -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\\n' " +
                               base + "/a " + base + "/b " + base + "/c");
  CHECK(out == "200 1\n200 0\n200 0\n");

  // A 2 MiB upload: curl asks for 100-continue and waits for it.
  const std::string file = std::string(VOLLEY_BINARY_DIR) + "/http_server_test_upload.bin";
  {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    REQUIRE(f != nullptr);
    const std::string chunk(1024, 'z');
    for (int i = 0; i < 2048; ++i) std::fwrite(chunk.data(), 1, chunk.size(), f);
    std::fclose(f);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto upload = run_command("/usr/bin/curl -sS --max-time 30 --expect100-timeout 15 "
                                  "-H 'Content-Type: application/octet-stream' "
                                  "--data-binary @" + file + " " + base + "/upload");
  // Without the interim 100 curl would have waited 15 s before sending the body.
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  std::remove(file.c_str());
  const auto j = nlohmann::json::parse(upload);
  CHECK(j["headers"]["expect"] == "100-continue");
  CHECK(j["body"].get<std::string>().size() == 2048u * 1024u);
  server.stop();
  io.join();
}
