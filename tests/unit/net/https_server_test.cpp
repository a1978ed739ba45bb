// HttpServer with TLS from the first byte (the public unsubscribe listener's HTTPS), against
// curl checking the certificate with the test's own CA, and raw TCP clients that misbehave.
#include "tests/support/http_connection.hpp"  // first: <utility> before Boost.Asio

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "net/http_server.hpp"
#include "net/tls_context.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"

using namespace volley;
using volley::test::HttpTestClient;
using volley::test::IoThreads;
using namespace std::chrono_literals;

namespace {

void echo(HttpRequest&& req, Responder respond) {
  const nlohmann::json j = {{"method", req.method}, {"path", std::string(req.path())}, {"body", req.body}};
  respond(json_response(200, j.dump()));
}

// curl's output (stdout and stderr) for these arguments.
std::string curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/curl", "-s", "--max-time", "20"});
  return volley::test::run_with_input(args, "", VOLLEY_BINARY_DIR).second;
}

// A certificate for unsub.example.test signed by a throwaway CA, written where the server and
// curl can read them.
struct HttpsFiles {
  HttpsFiles() {
    const auto leaf = pki.issue({"unsub.example.test"});
    volley::test::write_file(chain, volley::test::TestPki::chain_pem(leaf, pki.ca()));
    volley::test::write_file(key, leaf.key_pem());
    volley::test::write_file(ca, pki.ca().cert_pem());
  }
  ~HttpsFiles() {
    std::remove(chain.c_str());
    std::remove(key.c_str());
    std::remove(ca.c_str());
  }
  volley::test::TestPki pki;
  // The process id in the names: ctest runs each test case as its own process, side by side;
  // and a count, for a test with two sets.
  static inline int made = 0;
  std::string prefix =
      std::string(VOLLEY_BINARY_DIR) + "/https_test_" + std::to_string(::getpid()) + "_" + std::to_string(++made);
  std::string chain = prefix + "_chain.pem", key = prefix + "_key.pem", ca = prefix + "_ca.pem";
};

}  // namespace

TEST_CASE("HttpServer with TLS serves curl over HTTPS with keep-alive", "[http][tls]") {
  HttpsFiles files;
  IoThreads io;
  HttpServerOptions opts;
  opts.tls = make_server_tls_context(files.chain, files.key);
  HttpServer server(io.io, echo, opts);
  server.start({"127.0.0.1", 0});
  const std::string port = std::to_string(server.port());
  const std::string base = "https://unsub.example.test:" + port;
  const std::vector<std::string> trust{"--cacert", files.ca, "--resolve", "unsub.example.test:" + port + ":127.0.0.1"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  // The certificate checks out against the CA and the name; three URLs share one connection.
  CHECK(curl(with(trust, {"-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n",
                          base + "/a", base + "/b", base + "/c"})) == "200 1\n200 0\n200 0\n");
  // A one-click POST as mailbox providers send it.
  const auto j = nlohmann::json::parse(curl(with(trust, {"-d", "List-Unsubscribe=One-Click", base + "/u/token"})));
  CHECK(j["method"] == "POST");
  CHECK(j["path"] == "/u/token");
  CHECK(j["body"] == "List-Unsubscribe=One-Click");
  // A client that does not trust the CA gets no answer.
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "--resolve", "unsub.example.test:" + port + ":127.0.0.1",
              base + "/a"}) == "000");
  server.stop();
  io.join();
}

TEST_CASE("HttpServer with TLS drops clients that do not speak TLS or stall", "[http][tls]") {
  HttpsFiles files;
  IoThreads io;
  HttpServerOptions opts;
  opts.tls = make_server_tls_context(files.chain, files.key);
  opts.request_timeout = 300ms;
  opts.idle_timeout = 30s;  // so only the handshake's deadline can close the silent client
  HttpServer server(io.io, echo, opts);
  server.start({"127.0.0.1", 0});

  SECTION("plain HTTP on the TLS port: no HTTP answer, the connection closes") {
    HttpTestClient client(server.port());
    client.write_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(client.closed_by_peer(5s));
  }
  SECTION("a client that never starts its handshake is closed after request_timeout") {
    HttpTestClient client(server.port());
    const auto before = std::chrono::steady_clock::now();
    CHECK(client.closed_by_peer(5s));
    CHECK(std::chrono::steady_clock::now() - before >= 250ms);
  }
  CHECK(server.connection_count() <= 1);
  server.stop();
  io.join();
}

TEST_CASE("HttpServer::set_tls serves new connections with another certificate", "[http][tls]") {
  HttpsFiles first, renewed;  // two CAs, each with its own certificate for unsub.example.test
  auto tls = [](const HttpsFiles& f) { return make_server_tls_context(f.chain, f.key); };
  IoThreads io;
  HttpServer server(io.io, echo, [&] {
    HttpServerOptions o;
    o.tls = tls(first);
    return o;
  }());
  server.start({"127.0.0.1", 0});
  auto code = [port = std::to_string(server.port())](const std::string& ca) {
    return curl({"-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "--resolve",
                 "unsub.example.test:" + port + ":127.0.0.1", "https://unsub.example.test:" + port + "/a"});
  };
  CHECK(code(first.ca) == "200");
  server.set_tls(tls(renewed));
  CHECK(code(renewed.ca) == "200");
  CHECK(code(first.ca) == "000");
  CHECK_THROWS_AS(server.set_tls(nullptr), std::logic_error);
  HttpServer plain(io.io, echo);
  CHECK_THROWS_AS(plain.set_tls(tls(first)), std::logic_error);
  server.stop();
  io.join();
}
