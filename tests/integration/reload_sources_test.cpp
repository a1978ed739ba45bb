// A reload that adds, removes, renames or reorders sources and webhook endpoints
// (docs/lifecycle.md): a source added is used at once by the pool that names it; mail queued for a
// removed source goes out from the pool's other sources, each message once, and its
// volley_source_* series go; a webhook endpoint added gets events from then on, one removed gets
// none, and a first one added to a volleyd started without any starts the webhook sink.
#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A static route to the receiver: DNS (port 9) is never asked.
VolleydOptions routed(const SmtpReceiver& receiver, const std::string& domain) {
  auto o = volleyd_options(9, 25);
  o.routes.push_back(Route{domain, "127.0.0.1", receiver.port()});
  return o;
}

// Injects n messages of one recipient each (prefix0@domain, ...) in one batch.
void send_batch(Volleyd& volleyd, int n, const std::string& domain, const std::string& prefix) {
  json batch = {{"messages", json::array()}};
  for (int i = 0; i < n; ++i)
    batch["messages"].push_back({{"from", "sender@volley.test"},
                                 {"to", {prefix + std::to_string(i) + "@" + domain}},
                                 {"subject", "m"},
                                 {"text", "hello\n"}});
  auto client = volleyd.client();
  const auto res = client.post_json("/api/v1/messages/batch", batch.dump());
  if (res.status != 202) throw std::runtime_error("batch answered " + std::to_string(res.status) + ": " + res.body);
}

// Recipient -> how many times the receiver took a message for it.
std::map<std::string, int> received(const SmtpReceiver& receiver) {
  std::map<std::string, int> out;
  for (const auto& e : receiver.events("data"))
    for (const auto& r : e.value("recipients", json::array())) ++out[r.get<std::string>()];
  return out;
}

std::string source(const std::string& name, const std::string& address) {
  return "[[source]]\nname = \"" + name + "\"\naddress = \"" + address + "\"\nehlo_name = \"" + name +
         ".volley.test\"\n";
}

std::string pool(const std::string& name, const std::vector<std::string>& members) {
  std::string list;
  for (const auto& m : members) list += (list.empty() ? "" : ", ") + ("{ name = \"" + m + "\" }");
  return "[[pool]]\nname = \"" + name + "\"\nsources = [" + list + "]\n";
}

json reload(Volleyd& volleyd) {
  auto client = volleyd.client();
  const auto res = client.post_json("/api/v1/reload", "");
  if (res.status != 200) throw std::runtime_error("reload answered " + std::to_string(res.status) + ": " + res.body);
  return json::parse(res.body);
}

// A webhook endpoint: a real HTTP server (webhook_receiver.py) that checks signatures and writes
// one JSON line per POST.
class HookReceiver {
 public:
  HookReceiver(const std::filesystem::path& dir, const std::string& name)
      : name_(name),
        port_(free_port()),
        posts_(dir / (name + "-posts.jsonl")),
        process_({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/webhook_receiver.py",
                  std::to_string(port_), secret(), posts_.string()},
                 dir / (name + "-receiver.log")) {}

  std::string secret() const { return name_ + "-secret-0123456789"; }
  std::string toml() const {
    return "[[webhook]]\nname = \"" + name_ + "\"\nurl = \"http://127.0.0.1:" + std::to_string(port_) +
           "/events\"\nsecret = \"" + secret() + "\"\nretry_first = \"100ms\"\nretry_max = \"300ms\"\n";
  }
  // Recipients whose delivered event came in a valid POST.
  std::map<std::string, int> delivered() const {
    std::map<std::string, int> out;
    if (!std::filesystem::exists(posts_)) return out;
    for (const auto& p : read_json_lines(posts_))
      if (p["valid"] == true)
        for (const auto& e : p["events"])
          if (e.value("event", "") == "delivered") ++out[e.value("recipient", "")];
    return out;
  }
  bool has(const std::string& recipient) const { return delivered().count(recipient) != 0; }

 private:
  std::string name_;
  std::uint16_t port_;
  std::filesystem::path posts_;
  ChildProcess process_;
};

}  // namespace

TEST_CASE("a reload adds source 127.0.0.6 and moves the default pool to it: the next mail leaves from it",
          "[integration][lifecycle][reload]") {
  TempDir dir("volley-it-reload-add-source");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed(receiver, "add.test");
  opts.extra_toml = source("ip1", "127.0.0.2") + pool("a", {"ip1"});
  Volleyd volleyd(dir / "volleyd", opts);
  send_batch(volleyd, 2, "add.test", "before");
  REQUIRE(wait_until([&] { return received(receiver).size() == 2; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.2").value("messages", 0) == 2);

  // The delivery actor of add.test still runs (reaped after 60 s idle): its queue gets the new lane.
  auto next = opts;
  next.extra_toml = source("ip6", "127.0.0.6") + source("ip1", "127.0.0.2") + pool("a", {"ip1"}) + pool("b", {"ip6"});
  next.delivery_extra = "default_pool = \"b\"\n";
  volleyd.rewrite_config(next);
  const json answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"source/pool/pool_rule"}));
  CHECK(answer["restart_required"] == json::array());
  send_batch(volleyd, 3, "add.test", "after");
  REQUIRE(wait_until([&] { return received(receiver).size() == 5; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.6").value("messages", 0) == 3);
  CHECK(receiver.client_stats("127.0.0.2").value("messages", 0) == 2);
  for (const auto& [rcpt, n] : received(receiver)) CHECK(n == 1);
}

TEST_CASE("a reload removes a source while mail is queued for it: its pool's other source sends every message once",
          "[integration][lifecycle][reload]") {
  TempDir dir("volley-it-reload-remove-source");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed(receiver, "remove.test");
  // ip1 may send one message an hour: what the pool gives it waits in its queue.
  const std::string slow_ip1 = "[[shaping.source]]\nsource = \"ip1\"\nmax_message_rate = \"1/h\"\n";
  opts.extra_toml = source("ip1", "127.0.0.2") + source("ip2", "127.0.0.3") + pool("a", {"ip1", "ip2"}) + slow_ip1;
  Volleyd volleyd(dir / "volleyd", opts);
  constexpr int kMessages = 20;
  send_batch(volleyd, kMessages, "remove.test", "r");
  // ip2's share arrives; ip1's first goes, the rest waits for ip1's rate.
  REQUIRE(wait_until([&] { return received(receiver).size() >= kMessages / 2; }, 30s, 20ms));
  auto client = volleyd.client();
  const auto queued = [&] {
    const json answer = json::parse(client.get("/api/v1/queues").body);  // kept: the loop reads into it
    for (const auto& q : answer["queues"])
      if (q.value("domain", "") == "remove.test") return q.value("queued", 0);
    return 0;
  };
  REQUIRE(wait_until([&] { return received(receiver).size() + static_cast<std::size_t>(queued()) == kMessages; }, 10s,
                     20ms));
  REQUIRE(queued() >= kMessages / 2 - 2);
  CHECK(client.get("/metrics").body.find("volley_source_connections{source=\"ip1\"}") != std::string::npos);

  auto next = opts;
  next.extra_toml = source("ip2", "127.0.0.3") + pool("a", {"ip2"});
  volleyd.rewrite_config(next);
  const json answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"source/pool/pool_rule", "shaping"}));
  CHECK(answer["restart_required"] == json::array());
  REQUIRE(wait_until([&] { return received(receiver).size() == kMessages; }, 30s, 20ms));
  for (const auto& [rcpt, n] : received(receiver)) CHECK(n == 1);
  CHECK(receiver.client_stats("127.0.0.2").value("messages", 0) <= 2);
  // The events say delivered once per recipient (the event log is written within 100 ms).
  REQUIRE(wait_until([&] { return queued() == 0; }, 10s, 20ms));
  std::map<std::string, int> delivered;
  const bool all_events = wait_until(
      [&] {
        delivered.clear();
        for (const auto& e : volleyd.events())
          if (e.value("event", "") == "delivered") ++delivered[e.value("recipient", "")];
        return delivered.size() == static_cast<std::size_t>(kMessages);
      },
      10s, 50ms);
  CHECK(all_events);
  for (const auto& [rcpt, n] : delivered) CHECK(n == 1);
  // ip1's series go once the metrics actor has the new sources (the router tells it with the reload).
  CHECK(wait_until(
      [&] { return client.get("/metrics").body.find("volley_source_connections{source=\"ip1\"}") == std::string::npos; },
      10s, 50ms));
}

TEST_CASE("a reload adds a second webhook endpoint (events reach both) and removes one (it gets nothing more)",
          "[integration][lifecycle][reload]") {
  TempDir dir("volley-it-reload-webhooks");
  SmtpReceiver receiver(dir / "receiver", "");
  HookReceiver app(dir.path(), "app"), audit(dir.path(), "audit");
  auto opts = routed(receiver, "hooks.test");
  opts.extra_toml = app.toml();
  Volleyd volleyd(dir / "volleyd", opts);
  send_batch(volleyd, 1, "hooks.test", "first");
  REQUIRE(wait_until([&] { return app.has("first0@hooks.test"); }, 30s, 50ms));

  auto both = opts;
  both.extra_toml = audit.toml() + app.toml();  // another order too
  volleyd.rewrite_config(both);
  json answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"webhook"}));
  CHECK(answer["restart_required"] == json::array());
  send_batch(volleyd, 1, "hooks.test", "second");
  REQUIRE(wait_until([&] { return app.has("second0@hooks.test") && audit.has("second0@hooks.test"); }, 30s, 50ms));
  CHECK_FALSE(audit.has("first0@hooks.test"));  // it gets the events from its start on

  auto only_audit = opts;
  only_audit.extra_toml = audit.toml();
  volleyd.rewrite_config(only_audit);
  answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"webhook"}));
  // (Its last POST may not be acknowledged yet: then its events are the pending ones.)
  CHECK(volleyd.log().find("webhook: endpoint removed by a reload; its pending events stay queued on disk and are sent if an "
                             "endpoint of that name is configured again | endpoint=app pending=") != std::string::npos);
  send_batch(volleyd, 1, "hooks.test", "third");
  REQUIRE(wait_until([&] { return audit.has("third0@hooks.test"); }, 30s, 50ms));
  CHECK_FALSE(app.has("third0@hooks.test"));
  CHECK(app.delivered().size() == 2);
}

TEST_CASE("a first [[webhook]] added by a reload starts the webhook sink, removing the last one stops feeding it",
          "[integration][lifecycle][reload]") {
  TempDir dir("volley-it-reload-first-webhook");
  SmtpReceiver receiver(dir / "receiver", "");
  HookReceiver hook(dir.path(), "hook");
  auto opts = routed(receiver, "first.test");
  Volleyd volleyd(dir / "volleyd", opts);
  send_batch(volleyd, 1, "first.test", "before");
  REQUIRE(wait_until([&] { return received(receiver).size() == 1; }, 30s, 20ms));

  auto with_hook = opts;
  with_hook.extra_toml = hook.toml();
  volleyd.rewrite_config(with_hook);
  CHECK(volleyd.client().get("/metrics").body.find("volley_spool_free_bytes{database=\"webhooks\"") ==
        std::string::npos);
  json answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"webhook"}));
  CHECK(answer["restart_required"] == json::array());
  // Its new queue is watched by the disk guard from now on.
  CHECK(volleyd.client().get("/metrics").body.find("volley_spool_free_bytes{database=\"webhooks\"") !=
        std::string::npos);
  send_batch(volleyd, 1, "first.test", "with");
  REQUIRE(wait_until([&] { return hook.has("with0@first.test"); }, 30s, 50ms));
  CHECK_FALSE(hook.has("before0@first.test"));

  volleyd.rewrite_config(opts);
  answer = reload(volleyd);
  CHECK(answer["changed"] == json::array({"webhook"}));
  send_batch(volleyd, 1, "first.test", "after");
  REQUIRE(wait_until([&] { return received(receiver).size() == 3; }, 30s, 20ms));
  // The delivered event is written (and would have been queued for webhooks) before the receiver's
  // next POST could carry it; give the sink the time of a few retries to prove it gets nothing.
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "after0@first.test").empty(); }, 10s, 20ms));
  CHECK_FALSE(wait_until([&] { return hook.has("after0@first.test"); }, 2s, 50ms));
}
