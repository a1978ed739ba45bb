#include <catch2/catch.hpp>

#include "core/events/webhook_backoff.hpp"
#include "core/events/webhook_url.hpp"

using namespace volley::events;
using namespace std::chrono_literals;

TEST_CASE("webhook URLs: scheme, host, port and target") {
  auto u = parse_webhook_url("http://127.0.0.1:8080/hooks/volley?x=1");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 8080);
  CHECK(u->target == "/hooks/volley?x=1");
  CHECK(u->host_header() == "127.0.0.1:8080");

  u = parse_webhook_url("HTTPS://hooks.example.com");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->port == 443);
  CHECK(u->target == "/");
  CHECK(u->host_header() == "hooks.example.com");

  u = parse_webhook_url("http://[::1]:9000?q");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->target == "/?q");
  CHECK(u->host_header() == "[::1]:9000");
}

TEST_CASE("webhook URLs we cannot POST to are refused with a reason") {
  for (const char* bad : {"ftp://x/", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
                          "http://h:/", "http://u:p@h/", "http://h/a#frag", "http://h/a b",
                          "http://[::1/", "http://[::1]x/", "hooks.example.com/x"}) {
    std::string error;
    CHECK_FALSE(parse_webhook_url(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("retry delay: first, doubling, capped, jittered by at most 20 %") {
  CHECK(retry_delay(1000ms, 300000ms, 1, 0.5) == 1000ms);
  CHECK(retry_delay(1000ms, 300000ms, 2, 0.5) == 2000ms);
  CHECK(retry_delay(1000ms, 300000ms, 4, 0.5) == 8000ms);
  CHECK(retry_delay(1000ms, 300000ms, 30, 0.5) == 300000ms);
  CHECK(retry_delay(1000ms, 300000ms, 4000000000u, 0.5) == 300000ms);
  CHECK(retry_delay(1000ms, 300000ms, 1, 0.0) == 800ms);
  CHECK(retry_delay(1000ms, 300000ms, 1, 0.999999) >= 1199ms);
  CHECK(retry_delay(1000ms, 300000ms, 1, 0.999999) <= 1200ms);
  CHECK(retry_delay(0ms, 0ms, 1, 0.0) >= 1ms);  // never a busy loop
}
