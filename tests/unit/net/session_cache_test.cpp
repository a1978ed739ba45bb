// The connection cache's keys and its hand-over rules. A real session's park/claim/adopt run on
// its strand against a real server in tests/integration/connection_cache_test.cpp; here a
// stand-in with the same claim state checks what the cache itself decides.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "net/session_cache.hpp"

using namespace volley;
using namespace std::chrono_literals;

namespace {

class StandIn final : public SmtpSession {
 public:
  void send(smtp::Transaction) override {}
  void quit() override { state = 3; }  // as a parked session whose time is up
  void abort() override { state = 3; }
  void park(std::chrono::milliseconds keep) override {
    state = 1;
    kept_for = keep;
  }
  bool parked() const override { return state == 1; }
  bool claim() override {
    int expected = 1;
    return state.compare_exchange_strong(expected, 2);
  }
  void adopt(std::uint64_t, caf::actor) override {}
  std::atomic<int> state{0};
  std::chrono::milliseconds kept_for{0};
};

SessionTarget target(const std::string& host, std::uint16_t port = 25) {
  SessionTarget t;
  t.host = host;
  t.addresses = {"192.0.2.1"};
  t.port = port;
  t.tls.policy = "opportunistic";
  return t;
}

}  // namespace

TEST_CASE("session cache: the key holds source, MX host, port and the whole TLS plan", "[session_cache]") {
  const auto base = SessionCache::key("192.0.2.10", target("mx1.example"));
  CHECK_FALSE(base.empty());
  CHECK(SessionCache::key("192.0.2.10", target("mx1.example")) == base);
  CHECK(SessionCache::key("192.0.2.11", target("mx1.example")) != base);
  CHECK(SessionCache::key("192.0.2.10", target("mx2.example")) != base);
  CHECK(SessionCache::key("192.0.2.10", target("mx1.example", 2525)) != base);
  auto verified = target("mx1.example");
  verified.tls.verify = tls::Verify::host_name;
  verified.tls.verify_required = true;
  verified.tls.policy = "mta-sts";
  CHECK(SessionCache::key("192.0.2.10", verified) != base);
  auto testing = target("mx1.example");
  testing.tls.report_only = true;
  CHECK(SessionCache::key("192.0.2.10", testing) != base);
}

TEST_CASE("session cache: DANE sessions and skipped hosts are never shared", "[session_cache]") {
  auto dane = target("mx1.example");
  dane.tls.verify = tls::Verify::dane;
  CHECK(SessionCache::key("", dane).empty());
  auto with_tlsa = target("mx1.example");
  with_tlsa.tlsa.push_back(tls::Tlsa{});
  CHECK(SessionCache::key("", with_tlsa).empty());
  auto skipped = target("mx1.example");
  skipped.tls.use_host = false;
  CHECK(SessionCache::key("", skipped).empty());

  SessionCache cache;
  auto s = std::make_shared<StandIn>();
  CHECK_FALSE(cache.park("", s, 1, 1s));
  CHECK(s->state == 0);  // not parked: still its owner's
}

TEST_CASE("session cache: a parked session is taken once, by its key only", "[session_cache]") {
  SessionCache cache;
  const auto key = SessionCache::key("", target("mx1.example"));
  auto s = std::make_shared<StandIn>();
  REQUIRE(cache.park(key, s, 7, 1500ms));
  CHECK(s->parked());
  CHECK(s->kept_for == 1500ms);
  CHECK(cache.stats().parked == 1);

  CHECK_FALSE(cache.take(SessionCache::key("", target("mx2.example"))).session);
  auto taken = cache.take(key);
  REQUIRE(taken.session == s);
  CHECK(taken.sent == 7);
  CHECK(s->state == 2);  // claimed
  CHECK_FALSE(cache.take(key).session);
  const auto stats = cache.stats();
  CHECK(stats.parked == 0);
  CHECK(stats.parked_total == 1);
  CHECK(stats.taken_total == 1);
}

TEST_CASE("session cache: sessions that quit while parked are skipped and swept", "[session_cache]") {
  SessionCache cache(2);
  const auto key = SessionCache::key("", target("mx1.example"));
  const auto other = SessionCache::key("", target("mx2.example"));
  auto gone = std::make_shared<StandIn>();
  auto live = std::make_shared<StandIn>();
  REQUIRE(cache.park(key, live, 1, 1s));
  REQUIRE(cache.park(key, gone, 1, 1s));
  gone->quit();  // its idle time ran out before anyone came
  // The most recently parked is tried first; the dead one is passed over.
  CHECK(cache.take(key).session == live);

  // Full of sessions that are no longer parked: a sweep makes room.
  auto a = std::make_shared<StandIn>();
  auto b = std::make_shared<StandIn>();
  REQUIRE(cache.park(other, a, 1, 1s));
  REQUIRE(cache.park(other, b, 1, 1s));
  auto c = std::make_shared<StandIn>();
  CHECK_FALSE(cache.park(key, c, 1, 1s));  // full, all alive
  a->quit();
  b->quit();
  CHECK(cache.park(key, c, 1, 1s));
  CHECK(cache.stats().parked == 1);
}

TEST_CASE("session cache: at shutdown parked sessions quit and nothing more is parked", "[session_cache]") {
  SessionCache cache;
  const auto key = SessionCache::key("", target("mx1.example"));
  auto s = std::make_shared<StandIn>();
  REQUIRE(cache.park(key, s, 1, 1s));
  cache.close_all();
  CHECK(s->state == 3);  // claimed, then told to QUIT
  CHECK(cache.stats().parked == 0);
  auto late = std::make_shared<StandIn>();
  CHECK_FALSE(cache.park(key, late, 1, 1s));
  CHECK(late->state == 0);
}

TEST_CASE("session cache: at most max_connecting attempts per key, each refusal woken once, in order",
          "[session_cache]") {
  auto cache = std::make_shared<SessionCache>(16, 2);
  const auto key = SessionCache::key("", target("mx1.example"));
  const auto other = SessionCache::key("", target("mx2.example"));
  std::vector<std::string> woken;
  auto wake = [&](std::string who) { return [&woken, who] { woken.push_back(who); }; };

  SessionCache::Attempt a1, a2, refused, elsewhere;
  REQUIRE(cache->try_connect(key, wake("a1"), &a1));
  REQUIRE(cache->try_connect(key, wake("a2"), &a2));
  CHECK_FALSE(cache->try_connect(key, wake("b"), &refused));
  CHECK_FALSE(cache->try_connect(key, wake("c"), &refused));
  CHECK_FALSE(cache->try_connect(key, {}, &refused));  // already in line: refused, not queued again
  CHECK(cache->try_connect(other, wake("x"), &elsewhere));  // another host has its own count
  CHECK(woken.empty());
  auto stats = cache->stats();
  CHECK(stats.connecting == 3);
  CHECK(stats.waiting == 2);

  // An attempt that ends (greeted, or failed) lets the first in line try.
  a1.end();
  REQUIRE(woken == std::vector<std::string>{"b"});
  a1.end();  // ends once
  CHECK(woken.size() == 1);
  SessionCache::Attempt b;
  REQUIRE(cache->try_connect(key, wake("b"), &b));
  CHECK_FALSE(cache->try_connect(key, wake("d"), &refused));

  // A session parked under the key wakes the next: "c", who takes it instead of connecting.
  auto s = std::make_shared<StandIn>();
  REQUIRE(cache->park(key, s, 1, 1s));
  REQUIRE(woken == std::vector<std::string>{"b", "c"});
  CHECK(cache->take(key).session == s);

  // A woken destination with no use for its turn passes it on; the Attempt's destructor ends it too.
  a2 = SessionCache::Attempt();
  REQUIRE(woken == std::vector<std::string>{"b", "c", "d"});
  cache->pass_on(key);  // nobody left in line
  CHECK(woken.size() == 3);
  stats = cache->stats();
  CHECK(stats.connecting == 2);  // b, and the other host's
  CHECK(stats.waiting == 0);
}

TEST_CASE("session cache: no gate with max_connecting 0, nor for a key that is never shared", "[session_cache]") {
  auto cache = std::make_shared<SessionCache>(16, 0);
  const auto key = SessionCache::key("", target("mx1.example"));
  std::vector<SessionCache::Attempt> attempts(100);
  for (auto& a : attempts) CHECK(cache->try_connect(key, [] { FAIL("not to be woken"); }, &a));
  CHECK(cache->stats().connecting == 0);

  auto gated = std::make_shared<SessionCache>(16, 1);
  SessionCache::Attempt a, b;
  CHECK(gated->try_connect("", {}, &a));
  CHECK(gated->try_connect("", {}, &b));
  CHECK(gated->stats().connecting == 0);
}
