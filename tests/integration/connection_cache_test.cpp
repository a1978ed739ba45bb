// The connection cache (net/session_cache.hpp) end to end: domains whose mail goes to the same
// MX host share an idle session instead of opening one each, a parked session quits by itself
// when its idle time is up, and share_connections = false keeps every domain to its own.
// Judged by volley-receiver's connection counts and volleyd's /metrics.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kDomains = {"d1.test", "d2.test", "d3.test", "d4.test", "d5.test"};

VolleydOptions options_for(const SmtpReceiver& receiver, bool share) {
  VolleydOptions o;
  o.dns_port = 9;  // never asked: every domain has a static route to the same host
  o.smtp_port = 25;
  o.idle_timeout = "30s";
  for (const auto& d : kDomains) o.routes.push_back(Route{d, "127.0.0.1", receiver.port()});
  if (!share) o.delivery_extra = "share_connections = false\n";
  return o;
}

// The value of an unlabelled metric in volleyd's /metrics, -1 when absent.
double metric(Volleyd& volleyd, const std::string& name) {
  auto http = volleyd.client();
  const auto res = http.get("/metrics");
  if (res.status != 200) return -1;
  const std::string& text = res.body;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string line = text.substr(pos, end - pos);
    if (line.compare(0, name.size() + 1, name + " ") == 0) return std::stod(line.substr(name.size() + 1));
    pos = end + 1;
  }
  return -1;
}

bool delivered(const Volleyd& volleyd, const std::string& rcpt) {
  for (const auto& e : volleyd.events())
    if (e.value("event", "") == "delivered" && e.value("recipient", "") == rcpt) return true;
  return false;
}

void send_and_wait(Volleyd& volleyd, const std::string& rcpt) {
  auto http = volleyd.client();
  const auto res = http.post_json(
      "/api/v1/messages",
      json({{"from", "sender@volley.test"}, {"to", {rcpt}}, {"subject", "s"}, {"text", "hello\n"}}).dump());
  INFO("POST answered " << res.status << ": " << res.body);
  REQUIRE(res.status == 202);
  REQUIRE(wait_until([&] { return delivered(volleyd, rcpt); }, 30s, 20ms));
}

std::uint64_t connections(const SmtpReceiver& receiver) {
  return receiver.client_stats("127.0.0.1").value("connections", 0ull);
}

}  // namespace

TEST_CASE("connection cache: domains on one MX host share one idle connection", "[integration][connection_cache]") {
  TempDir dir("volley-it-conncache");
  SmtpReceiver receiver(dir / "receiver", "");
  Volleyd volleyd(dir / "volleyd", options_for(receiver, true));

  // One message per domain, each after the last one's session was parked: every domain after the
  // first takes the same connection.
  double parked_before = 0;
  for (const auto& d : kDomains) {
    send_and_wait(volleyd, "user@" + d);
    INFO("after " << d);
    REQUIRE(wait_until([&] { return metric(volleyd, "volley_connection_cache_parked_total") > parked_before; }, 30s,
                       20ms));
    parked_before = metric(volleyd, "volley_connection_cache_parked_total");
    CHECK(metric(volleyd, "volley_connection_cache_sessions") == 1);
  }
  CHECK(connections(receiver) == 1);
  CHECK(metric(volleyd, "volley_connection_cache_reused_total") == kDomains.size() - 1);
  // Each domain's delivered event names the host it went to, as for a new connection.
  for (const auto& e : volleyd.events())
    if (e.value("event", "") == "delivered") CHECK(e.value("mx_host", "") == "127.0.0.1");
}

TEST_CASE("connection cache: a parked session quits when its idle time is up", "[integration][connection_cache]") {
  TempDir dir("volley-it-conncache-quit");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = options_for(receiver, true);
  opts.idle_timeout = "1s";
  Volleyd volleyd(dir / "volleyd", opts);

  send_and_wait(volleyd, "user@d1.test");
  REQUIRE(wait_until([&] { return metric(volleyd, "volley_connection_cache_parked_total") == 1; }, 30s, 20ms));
  // Nobody takes it: it says QUIT by itself and the receiver sees the connection go.
  CHECK(wait_until(
      [&] {
        return metric(volleyd, "volley_connection_cache_sessions") == 0 &&
               receiver.client_stats("127.0.0.1").value("concurrent", 1ull) == 0;
      },
      30s, 50ms));
  // The next message opens a new connection.
  send_and_wait(volleyd, "user@d2.test");
  CHECK(connections(receiver) == 2);
  CHECK(metric(volleyd, "volley_connection_cache_reused_total") == 0);
}

TEST_CASE("connection cache: share_connections = false gives each domain its own connection",
          "[integration][connection_cache]") {
  TempDir dir("volley-it-conncache-off");
  SmtpReceiver receiver(dir / "receiver", "");
  Volleyd volleyd(dir / "volleyd", options_for(receiver, false));
  for (const auto& d : kDomains) send_and_wait(volleyd, "user@" + d);
  CHECK(connections(receiver) == kDomains.size());
  CHECK(metric(volleyd, "volley_connection_cache_sessions") == -1);
}

TEST_CASE("connection cache: a burst of new domains on one MX host waits at the gate for parked sessions "
          "instead of connecting each",
          "[integration][connection_cache]") {
  TempDir dir("volley-it-conncache-gate");
  // 50 ms before every reply: a new connection takes at least the greeting's and EHLO's 100 ms.
  SmtpReceiver receiver(dir / "receiver", "delay_ms = 50\n");
  VolleydOptions o;
  o.dns_port = 9;  // never asked: static routes
  o.smtp_port = 25;
  o.idle_timeout = "30s";
  std::vector<std::string> domains;
  for (int i = 0; i < 30; ++i) {
    domains.push_back("g" + std::to_string(i) + ".test");
    o.routes.push_back(Route{domains.back(), "127.0.0.1", receiver.port()});
  }
  o.delivery_extra = "max_connecting_per_host = 1\n";
  Volleyd volleyd(dir / "volleyd", o);

  auto http = volleyd.client();
  for (const auto& d : domains) {
    const auto res = http.post_json(
        "/api/v1/messages",
        json({{"from", "sender@volley.test"}, {"to", {"user@" + d}}, {"subject", "s"}, {"text", "hello\n"}}).dump());
    REQUIRE(res.status == 202);
  }
  // Every destination gets its turn: from the gate (an attempt ended) or from the cache (a
  // session parked), each wake passed on by those that no longer need it.
  for (const auto& d : domains) {
    INFO(d);
    REQUIRE(wait_until([&] { return delivered(volleyd, "user@" + d); }, 60s, 20ms));
  }
  // One attempt at a time, each at least 100 ms long, while sessions carry a message every
  // 200 ms or so and are parked for the next: far fewer connections than domains (without the
  // gate every domain, arriving within a few milliseconds, would connect at once).
  const auto n = connections(receiver);
  INFO("connections: " << n);
  CHECK(n < domains.size() / 2);
  CHECK(metric(volleyd, "volley_connection_cache_reused_total") >= static_cast<double>(domains.size() - n));
}
