// Delivery intelligence end to end: IP pools and their weights, per-destination limits,
// greylisting retries from the same address, backing off a destination that says "too many
// connections", queue control, and a faulty receiver where every message must still end exactly
// once. Judged by what volley-receiver saw per client address and by volleyd's event log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Routes every domain to the receiver's first listener.
VolleydOptions options_for(const SmtpReceiver& receiver, const std::vector<std::string>& domains) {
  VolleydOptions o;
  o.dns_port = 9;  // never asked: every domain has a static route
  o.smtp_port = 25;
  for (const auto& d : domains) o.routes.push_back(Route{d, "127.0.0.1", receiver.port()});
  return o;
}

// Injects n one-recipient messages to user<i>@domain through the batch API; returns the
// recipient addresses.
std::vector<std::string> inject_many(Volleyd& volleyd, int n, const std::string& domain, const json& extra = json::object(),
                                     const std::string& prefix = "user") {
  auto http = volleyd.client();
  std::vector<std::string> rcpts;
  for (int start = 0; start < n; start += 100) {
    json batch = {{"messages", json::array()}};
    for (int i = start; i < std::min(n, start + 100); ++i) {
      rcpts.push_back(prefix + std::to_string(i) + "@" + domain);
      json m = {{"from", "sender@volley.test"}, {"to", {rcpts.back()}}, {"subject", "m" + std::to_string(i)},
                {"text", "hello\n"}};
      m.update(extra);
      batch["messages"].push_back(std::move(m));
    }
    const auto res = http.post_json("/api/v1/messages/batch", batch.dump());
    if (res.status != 202) throw std::runtime_error("batch answered " + std::to_string(res.status) + ": " + res.body);
  }
  return rcpts;
}

bool is_final(const std::string& kind) { return kind == "delivered" || kind == "bounced" || kind == "expired"; }

// Final events per recipient address.
std::map<std::string, std::vector<json>> finals_by_recipient(const std::vector<json>& events) {
  std::map<std::string, std::vector<json>> out;
  for (const auto& e : events)
    if (is_final(e.value("event", ""))) out[e.value("recipient", "")].push_back(e);
  return out;
}

bool all_final(const Volleyd& volleyd, const std::vector<std::string>& rcpts) {
  const auto finals = finals_by_recipient(volleyd.events());
  return std::all_of(rcpts.begin(), rcpts.end(), [&](const std::string& r) { return finals.count(r) != 0; });
}

std::uint64_t accepted(const json& stats, const std::string& client, const std::string& domain) {
  if (!stats.contains("clients") || !stats["clients"].contains(client)) return 0;
  const auto& c = stats["clients"][client];
  if (!c.contains("domains") || !c["domains"].contains(domain)) return 0;
  return c["domains"][domain].value("accepted", 0ull);
}

json queues(Volleyd& volleyd) {
  auto http = volleyd.client();
  const auto res = http.get("/api/v1/queues");
  if (res.status != 200) throw std::runtime_error("GET /api/v1/queues answered " + std::to_string(res.status));
  return json::parse(res.body).at("queues");
}

json queue_of(Volleyd& volleyd, const std::string& domain) {
  for (auto& q : queues(volleyd))
    if (q.value("domain", "") == domain) return q;
  return json();
}

json post(Volleyd& volleyd, const std::string& target, const json& body, int expect = 200) {
  auto http = volleyd.client();
  const auto res = http.post_json(target, body.dump());
  INFO(target << " answered " << res.status << ": " << res.body);
  REQUIRE(res.status == expect);
  return json::parse(res.body);
}

const char* kPools =
    "[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\nehlo_name = \"o1.volley.test\"\n"
    "[[source]]\nname = \"ip2\"\naddress = \"127.0.0.3\"\nehlo_name = \"o2.volley.test\"\n"
    "[[source]]\nname = \"ip3\"\naddress = \"127.0.0.4\"\nehlo_name = \"o3.volley.test\"\n"
    "[[pool]]\nname = \"shared\"\nsources = [{ name = \"ip1\", weight = 3 }, { name = \"ip2\", weight = 1 }]\n"
    "[[pool]]\nname = \"dedicated\"\nsources = [{ name = \"ip3\" }]\n";

}  // namespace

TEST_CASE("pools: weights split traffic, and a dedicated pool leaves only from its own address",
          "[integration][pools]") {
  TempDir dir("volley-it-pools");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = options_for(receiver, {"shared.test", "dedicated.test"});
  opts.delivery_extra = "default_pool = \"shared\"\n";
  opts.extra_toml = kPools;
  Volleyd volleyd(dir / "volleyd", opts);

  {
    auto http = volleyd.client();
    const auto res = http.post_json("/api/v1/messages", json({{"from", "a@volley.test"}, {"to", {"x@shared.test"}},
                                                              {"subject", "s"}, {"text", "t"}, {"pool", "nope"}})
                                                            .dump());
    CHECK(res.status == 400);
    CHECK(json::parse(res.body)["error"]["code"] == "unknown_pool");
  }

  constexpr int kShared = 10000, kDedicated = 100;
  inject_many(volleyd, kShared, "shared.test");
  inject_many(volleyd, kDedicated, "dedicated.test", {{"pool", "dedicated"}});
  const bool done = wait_until([&] { return receiver.stats().value("messages", 0) >= kShared + kDedicated; }, 600s, 200ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);

  const json stats = receiver.stats();
  const auto ip1 = accepted(stats, "127.0.0.2", "shared.test");
  const auto ip2 = accepted(stats, "127.0.0.3", "shared.test");
  INFO("ip1 " << ip1 << ", ip2 " << ip2);
  CHECK(ip1 + ip2 == kShared);
  // 3:1 within 5 %: each source's share within 5 % of what its weight asks.
  CHECK(std::abs(static_cast<double>(ip1) - 0.75 * kShared) <= 0.05 * 0.75 * kShared);
  CHECK(std::abs(static_cast<double>(ip2) - 0.25 * kShared) <= 0.05 * 0.25 * kShared);
  CHECK(accepted(stats, "127.0.0.4", "dedicated.test") == kDedicated);
  CHECK(accepted(stats, "127.0.0.4", "shared.test") == 0);
  CHECK(accepted(stats, "127.0.0.2", "dedicated.test") == 0);
  CHECK(accepted(stats, "127.0.0.3", "dedicated.test") == 0);

  // Each source says its own EHLO name.
  const std::map<std::string, std::string> ehlo = {
      {"127.0.0.2", "o1.volley.test"}, {"127.0.0.3", "o2.volley.test"}, {"127.0.0.4", "o3.volley.test"}};
  for (const auto& e : receiver.events("mail")) {
    INFO(e.dump());
    CHECK(e.value("ehlo", "") == ehlo.at(e.value("client", "")));
  }
  // Events name the pool and source.
  const auto events = volleyd.events();
  std::size_t dedicated_events = 0;
  for (const auto& e : events) {
    if (e.value("event", "") != "delivered" || e.value("domain", "") != "dedicated.test") continue;
    ++dedicated_events;
    CHECK(e.value("pool", "") == "dedicated");
    CHECK(e.value("source", "") == "ip3");
  }
  CHECK(dedicated_events == kDedicated);
}

TEST_CASE("shaping: connection and message-rate limits hold at the receiver", "[integration][shaping]") {
  TempDir dir("volley-it-limits");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = options_for(receiver, {"limited.test"});
  opts.extra_toml =
      "[[shaping.domain]]\ndomain = \"limited.test\"\nmax_connections = 2\nmax_message_rate = \"20/s\"\n"
      "max_messages_per_connection = 30\n";
  Volleyd volleyd(dir / "volleyd", opts);

  constexpr int kMessages = 100;
  inject_many(volleyd, kMessages, "limited.test");
  const bool done = wait_until([&] { return receiver.stats().value("messages", 0) >= kMessages; }, 120s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);
  const json stats = receiver.stats();
  CHECK(stats.value("peak_concurrent", 99) <= 2);
  CHECK(stats.value("connections", 0) >= 4);  // 30 messages per connection, then a new one

  std::vector<std::int64_t> at;
  for (const auto& e : receiver.events("data"))
    if (e.value("code", 0) == 250) at.push_back(e.value("ts", std::int64_t{0}));
  REQUIRE(at.size() == kMessages);
  std::sort(at.begin(), at.end());
  // GCRA at 20/s with a burst of 1: 100 messages need at least 99 spacings of 50 ms.
  CHECK(at.back() - at.front() >= 99 * 50 - 20);
  // And no second holds more than 20 + the burst, give or take one message delayed on its way
  // (the receiver sees arrivals, not Volley's sends).
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < at.size(); ++i) {
    while (at[i] - at[j] >= 1000) ++j;
    worst = std::max(worst, i - j + 1);
  }
  INFO("most messages in one second: " << worst);
  CHECK(worst <= 22);
}

TEST_CASE("greylisting: retried on the greylist schedule, from the same address", "[integration][greylist]") {
  TempDir dir("volley-it-greylist");
  SmtpReceiver receiver(dir / "receiver",
                        "[[rule]]\nmatch = \"grey.test\"\naction = \"greylist\"\nseconds = 1\n"
                        "reply = \"451 4.7.1 Greylisted, please retry later\"\n");
  auto opts = options_for(receiver, {"grey.test"});
  // The generic schedule would wait an hour: only the greylist schedule delivers within the test.
  opts.retry_first = "1h";
  opts.retry_max_interval = "1h";
  opts.delivery_extra = "default_pool = \"shared\"\ngreylist_retry = [\"2s\"]\n";
  opts.extra_toml = std::string(kPools) +
                    "[[pool]]\nname = \"even\"\nsources = [{ name = \"ip1\" }, { name = \"ip2\" }]\n";
  Volleyd volleyd(dir / "volleyd", opts);

  const auto rcpts = inject_many(volleyd, 20, "grey.test", {{"pool", "even"}});
  const bool done = wait_until([&] { return all_final(volleyd, rcpts); }, 60s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);

  const auto events = volleyd.events();
  std::set<std::string> sources_used;
  for (const auto& r : rcpts) {
    INFO(r);
    const auto deferred = events_for(events, "deferred", r);
    const auto delivered = events_for(events, "delivered", r);
    REQUIRE(deferred.size() == 1);
    REQUIRE(delivered.size() == 1);
    CHECK(deferred[0].value("category", "") == "greylisted");
    CHECK(delivered[0].value("source", "") == deferred[0].value("source", "x"));
    sources_used.insert(delivered[0].value("source", ""));
    CHECK(delivered[0].value("at", std::int64_t{0}) - deferred[0].value("at", std::int64_t{0}) >= 1900);
  }
  CHECK(sources_used.size() == 2);  // both sources of the pool were used, each kept its own
  // The receiver agrees: every accepted recipient came from the address it first refused.
  std::map<std::string, std::string> refused_from;
  for (const auto& e : receiver.events("rcpt")) {
    const auto rcpt = e.value("recipient", "");
    if (e.value("code", 0) == 451) refused_from.emplace(rcpt, e.value("client", ""));
  }
  for (const auto& e : receiver.events("rcpt")) {
    if (e.value("code", 0) != 250) continue;
    INFO(e.dump());
    CHECK(refused_from.at(e.value("recipient", "")) == e.value("client", ""));
  }
}

TEST_CASE("backoff: a destination answering 421 too many connections gets fewer and still gets everything",
          "[integration][backoff]") {
  TempDir dir("volley-it-backoff");
  SmtpReceiver receiver(dir / "receiver", "max_concurrent = 2\n");
  auto opts = options_for(receiver, {"busy.test"});
  opts.extra_toml = "[shaping.default]\nmax_connections = 8\n";
  Volleyd volleyd(dir / "volleyd", opts);

  const auto rcpts = inject_many(volleyd, 200, "busy.test");
  const bool done = wait_until([&] { return all_final(volleyd, rcpts); }, 120s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);
  const auto finals = finals_by_recipient(volleyd.events());
  for (const auto& r : rcpts) CHECK(finals.at(r).front().value("event", "") == "delivered");

  const json stats = receiver.stats();
  INFO(stats.dump());
  CHECK(stats.value("messages", 0) == 200);
  // The first burst of 8 meets 6 refusals; after that Volley asks for no more than it has.
  CHECK(stats.value("refused_connections", 0) <= 12);
  const json q = queue_of(volleyd, "busy.test");
  INFO(q.dump());
  REQUIRE(q.contains("sources"));
  CHECK(q["sources"][0].value("backoff_level", 0) >= 1);
  CHECK(q["sources"][0].value("current_max_connections", 99) <= 4);
  CHECK(q.value("state", "") == "backoff");
}

TEST_CASE("queue control: suspend, resume, timed suspension and bounce-all", "[integration][queues]") {
  TempDir dir("volley-it-queues");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = options_for(receiver, {"hold.test", "cancel.test", "timed.test"});
  Volleyd volleyd(dir / "volleyd", opts);

  // Refusals first.
  {
    auto http = volleyd.client();
    CHECK(http.get("/api/v1/queues/hold.test/suspend").status == 405);
    CHECK(http.post_json("/api/v1/queues/bad..domain/suspend", "{}").status == 400);
    CHECK(http.post_json("/api/v1/pools/nope/suspend", "{}").status == 404);
    CHECK(http.post_json("/api/v1/queues/hold.test/suspend", "{\"duration\":\"soon\"}").status == 400);
    CHECK(http.post_json("/api/v1/queues/hold.test/explode", "{}").status == 404);
  }

  SECTION("suspend holds a domain's mail until resume") {
    post(volleyd, "/api/v1/queues/hold.test/suspend", {{"reason", "maintenance"}});
    const auto rcpts = inject_many(volleyd, 20, "hold.test");
    REQUIRE(wait_until([&] { return queue_of(volleyd, "hold.test").value("queued", 0) == 20; }, 30s, 50ms));
    const json q = queue_of(volleyd, "hold.test");
    CHECK(q.value("state", "") == "suspended");
    CHECK(q["suspended"].value("reason", "") == "maintenance");
    // Twenty messages were routed to the domain's actor and none went out.
    CHECK(receiver.stats().value("connections", 0) == 0);
    const json answer = post(volleyd, "/api/v1/queues/hold.test/resume", json::object());
    CHECK(answer.value("resumed", false));
    REQUIRE(wait_until([&] { return all_final(volleyd, rcpts); }, 60s, 50ms));
    CHECK(receiver.stats().value("messages", 0) == 20);
  }
  SECTION("a timed suspension ends by itself") {
    post(volleyd, "/api/v1/queues/timed.test/suspend", {{"duration", "1s"}});
    const auto rcpts = inject_many(volleyd, 5, "timed.test");
    REQUIRE(wait_until([&] { return all_final(volleyd, rcpts); }, 60s, 50ms));
    for (const auto& e : volleyd.events())
      if (e.value("event", "") == "delivered") CHECK(e.value("at", std::int64_t{0}) - e.value("received_at", std::int64_t{0}) >= 0);
  }
  SECTION("bounce-all empties a queue, with one event per recipient") {
    post(volleyd, "/api/v1/queues/cancel.test/suspend", json::object());
    const auto rcpts = inject_many(volleyd, 30, "cancel.test");
    REQUIRE(wait_until([&] { return queue_of(volleyd, "cancel.test").value("queued", 0) == 30; }, 30s, 50ms));
    const json answer = post(volleyd, "/api/v1/queues/cancel.test/bounce", {{"reason", "campaign cancelled"}});
    CHECK(answer.value("bounced", 0) == 30);
    REQUIRE(wait_until([&] { return all_final(volleyd, rcpts); }, 30s, 50ms));
    const auto finals = finals_by_recipient(volleyd.events());
    for (const auto& r : rcpts) {
      REQUIRE(finals.at(r).size() == 1);
      CHECK(finals.at(r)[0].value("event", "") == "bounced");
      CHECK(finals.at(r)[0].value("reply", "").find("campaign cancelled") != std::string::npos);
    }
    CHECK(queue_of(volleyd, "cancel.test").value("queued", -1) == 0);
    CHECK(receiver.stats().value("connections", 0) == 0);
  }
}

TEST_CASE("queue control: mail held by a suspension still expires at its max age", "[integration][queues]") {
  TempDir dir("volley-it-held");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = options_for(receiver, {"held.test", "heldpool.test"});
  opts.max_age = "3s";
  opts.delivery_extra = "default_pool = \"shared\"\n";
  opts.extra_toml = kPools;
  Volleyd volleyd(dir / "volleyd", opts);
  post(volleyd, "/api/v1/queues/held.test/suspend", json::object());
  post(volleyd, "/api/v1/pools/dedicated/suspend", {{"reason", "warming up"}});
  auto rcpts = inject_many(volleyd, 5, "held.test");
  const auto pooled = inject_many(volleyd, 5, "heldpool.test", {{"pool", "dedicated"}});
  rcpts.insert(rcpts.end(), pooled.begin(), pooled.end());
  REQUIRE(wait_until([&] { return all_final(volleyd, rcpts); }, 60s, 100ms));
  const auto finals = finals_by_recipient(volleyd.events());
  for (const auto& r : rcpts) {
    INFO(r);
    REQUIRE(finals.at(r).size() == 1);
    CHECK(finals.at(r)[0].value("event", "") == "expired");
  }
  CHECK(receiver.stats().value("connections", 0) == 0);
}

TEST_CASE("a faulty receiver: every message ends in exactly one final event", "[integration][faults]") {
  TempDir dir("volley-it-faults");
  SmtpReceiver receiver(dir / "receiver",
                        "[[rule]]\nmatch = \"reject.test\"\naction = \"reject\"\nreply = \"550 5.1.1 No such user here\"\n"
                        "[[rule]]\nmatch = \"flaky.test\"\naction = \"tempfail\"\ntimes = 2\nreply = \"451 4.3.0 Try again later\"\n"
                        "[[rule]]\nmatch = \"grey.test\"\naction = \"greylist\"\nseconds = 1\n"
                        "reply = \"450 4.2.0 Greylisted, try again later\"\n"
                        "[[rule]]\nmatch = \"drop.test\"\naction = \"drop\"\nafter_bytes = 10\n"
                        "[[rule]]\nmatch = \"full.test\"\naction = \"tempfail\"\ntimes = 1000000\n"
                        "reply = \"452 4.2.2 Mailbox full\"\n"
                        "[[rule]]\nmatch = \"slow.test\"\naction = \"accept\"\ndelay_ms = 200\n"
                        "[[rule]]\nmatch = \"late.test\"\naction = \"reject\"\nstage = \"end_of_data\"\n"
                        "reply = \"554 5.7.1 Message refused as spam\"\n");
  const std::vector<std::string> domains = {"ok.test",   "reject.test", "flaky.test", "grey.test",
                                            "drop.test", "full.test",   "slow.test",  "late.test"};
  auto opts = options_for(receiver, domains);
  opts.retry_first = "1s";
  opts.retry_max_interval = "2s";
  opts.max_age = "12s";
  opts.delivery_extra = "greylist_retry = [\"1s\"]\n";
  Volleyd volleyd(dir / "volleyd", opts);

  std::vector<std::string> rcpts;
  for (const auto& d : domains) {
    auto more = inject_many(volleyd, 25, d);
    rcpts.insert(rcpts.end(), more.begin(), more.end());
  }
  // Messages with recipients in several domains: each recipient ends on its own.
  {
    auto http = volleyd.client();
    for (int i = 0; i < 10; ++i) {
      std::vector<std::string> to;
      for (const auto& d : {"ok.test", "reject.test", "full.test"}) to.push_back("multi" + std::to_string(i) + "@" + d);
      inject(http, {{"from", "sender@volley.test"}, {"to", to}, {"subject", "multi"}, {"text", "x\n"}});
      rcpts.insert(rcpts.end(), to.begin(), to.end());
    }
  }
  const bool done = wait_until([&] { return all_final(volleyd, rcpts); }, 120s, 200ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(done);
  REQUIRE(volleyd.stop() == 0);  // nothing more can be written after this

  const auto finals = finals_by_recipient(volleyd.events());
  auto domain_of = [](const std::string& r) { return r.substr(r.find('@') + 1); };
  for (const auto& r : rcpts) {
    INFO(r);
    REQUIRE(finals.at(r).size() == 1);
    const json& e = finals.at(r)[0];
    const auto d = domain_of(r);
    if (d == "reject.test") {
      CHECK(e.value("event", "") == "bounced");
      CHECK(e.value("category", "") == "bad-mailbox");
    } else if (d == "late.test") {
      CHECK(e.value("event", "") == "bounced");
      CHECK(e.value("category", "") == "spam-related");
    } else if (d == "drop.test" || d == "full.test") {
      CHECK(e.value("event", "") == "expired");
      CHECK(e.value("category", "") == "message-expired");
    } else {
      CHECK(e.value("event", "") == "delivered");
    }
  }
  // Nothing final for anyone else, and nothing left in the spool's queue: a restart finds no work.
  CHECK(finals.size() == rcpts.size());
}
