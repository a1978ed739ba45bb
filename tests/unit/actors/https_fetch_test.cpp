// The HTTPS GET of MTA-STS policies against a real local HTTPS server (python3, certificate
// made by the test's own CA).
#include "net/https_fetch.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include <future>

#include "tests/support/sts_policy_server.hpp"
#include "tests/unit/actors/io_runtime.hpp"

using namespace volley;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

namespace {

const std::string kHost = "mta-sts.example.test";

HttpsResponse get(HttpsFetcher& fetcher, HttpsRequest req) {
  auto done = std::make_shared<std::promise<HttpsResponse>>();
  auto answer = done->get_future();
  fetcher.fetch(std::move(req), [done](HttpsResponse r) { done->set_value(std::move(r)); });
  REQUIRE(answer.wait_for(60s) == std::future_status::ready);
  return answer.get();
}

HttpsRequest request_to(const test::StsPolicyServer& server, std::string host = kHost) {
  HttpsRequest req;
  req.host = std::move(host);
  req.port = server.port();
  req.target = "/.well-known/mta-sts.txt";
  req.addresses = {"127.0.0.1"};
  req.timeout = 10s;
  return req;
}

}  // namespace

TEST_CASE("https fetch: a 200 answer from a verified host", "[https_fetch]") {
  testing::IoRuntime rt;
  test::StsPolicyServer server({kHost});
  server.answer(kHost, 200, "version: STSv1\n", "text/plain; charset=utf-8");
  HttpsFetcher fetcher(rt.io, server.ca_file());
  auto r = get(fetcher, request_to(server));
  INFO(r.error);
  CHECK(r.ok);
  CHECK(r.status == 200);
  CHECK(r.body == "version: STSv1\n");
  CHECK(r.content_type == "text/plain; charset=utf-8");
  CHECK(server.requests(kHost) == 1);
}

TEST_CASE("https fetch: refusals", "[https_fetch]") {
  testing::IoRuntime rt;
  test::StsPolicyServer server({kHost});
  HttpsFetcher fetcher(rt.io, server.ca_file());

  SECTION("a certificate from a CA not trusted") {
    HttpsFetcher system_cas_only(rt.io);
    auto r = get(system_cas_only, request_to(server));
    CHECK_FALSE(r.ok);
    CHECK(r.status == 0);
    CHECK_THAT(r.error, Catch::Contains("certificate"));
    CHECK(server.requests(kHost) == 0);
  }
  SECTION("a certificate for another name") {
    auto r = get(fetcher, request_to(server, "mta-sts.other.test"));
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("certificate") || Catch::Contains("handshake"));
    CHECK(server.requests("mta-sts.other.test") == 0);
  }
  SECTION("a redirect is not followed") {
    server.answer(kHost, 301, "", "text/plain", 0, "https://elsewhere.test/policy");
    auto r = get(fetcher, request_to(server));
    CHECK_FALSE(r.ok);
    CHECK(r.status == 301);
    CHECK_THAT(r.error, Catch::Contains("redirects are not followed"));
    CHECK(r.body.empty());
  }
  SECTION("a status other than 200") {
    server.answer(kHost, 404, "not here");
    auto r = get(fetcher, request_to(server));
    CHECK_FALSE(r.ok);
    CHECK(r.status == 404);
    CHECK(r.error == "HTTP 404");
    server.answer(kHost, 204, "");
    CHECK_FALSE(get(fetcher, request_to(server)).ok);
  }
  SECTION("a body over the limit") {
    server.answer(kHost, 200, std::string(70000, 'x'));
    auto r = get(fetcher, request_to(server));
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("body larger than 65536"));
  }
  SECTION("a server too slow") {
    server.answer(kHost, 200, "late", "text/plain", 3);
    auto req = request_to(server);
    req.timeout = 300ms;
    auto r = get(fetcher, req);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("timed out"));
  }
  SECTION("nobody listening") {
    auto req = request_to(server);
    req.port = test::free_port();
    auto r = get(fetcher, req);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("connect"));
  }
  SECTION("an address that is not one") {
    auto req = request_to(server);
    req.addresses = {"mta-sts.example.test"};
    CHECK_THAT(get(fetcher, req).error, Catch::Contains("not an IP address"));
  }
}

TEST_CASE("https fetch: a CA file that cannot be loaded throws", "[https_fetch]") {
  boost::asio::io_context io;
  CHECK_THROWS_WITH(HttpsFetcher(io, "/nonexistent/ca.pem"), Catch::Contains("/nonexistent/ca.pem"));
}
