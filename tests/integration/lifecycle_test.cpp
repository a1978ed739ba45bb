// volleyd's lifecycle as an operator and an init system drive it (docs/operations.md): SIGTERM
// drains (the API answers 503, transactions in flight finish, the rest stays spooled and a
// restart delivers it exactly once), SIGHUP and POST /api/v1/reload read the file again (a lower
// rate reaches the receiver; a broken file is refused and delivery goes on), admin actions leave
// audit lines naming their key, systemd's notify protocol and watchdog, JSON logs, and
// `volleyd --check-config`.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

VolleydOptions routed_to(const SmtpReceiver& receiver, const std::string& domain) {
  VolleydOptions o;
  o.dns_port = 9;  // never asked: the domain has a static route
  o.smtp_port = 25;
  o.routes.push_back(Route{domain, "127.0.0.1", receiver.port()});
  return o;
}

std::vector<std::string> inject_n(Volleyd& volleyd, int n, const std::string& domain, const std::string& prefix) {
  auto http = volleyd.client();
  std::vector<std::string> rcpts;
  json batch = {{"messages", json::array()}};
  for (int i = 0; i < n; ++i) {
    rcpts.push_back(prefix + std::to_string(i) + "@" + domain);
    batch["messages"].push_back(
        {{"from", "sender@volley.test"}, {"to", {rcpts.back()}}, {"subject", "m"}, {"text", "hello\n"}});
  }
  const auto res = http.post_json("/api/v1/messages/batch", batch.dump());
  if (res.status != 202) throw std::runtime_error("batch answered " + std::to_string(res.status) + ": " + res.body);
  return rcpts;
}

// Recipient -> how many times the receiver accepted a message for it, and when (ms).
std::map<std::string, std::vector<std::int64_t>> arrivals(const SmtpReceiver& receiver) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& e : receiver.events("data"))
    for (const auto& r : e.value("recipients", json::array()))
      out[r.get<std::string>()].push_back(e.value("ts", std::int64_t{0}));
  return out;
}

std::map<std::string, int> delivered_counts(const Volleyd& volleyd) {
  std::map<std::string, int> out;
  for (const auto& e : volleyd.events())
    if (e.value("event", "") == "delivered") ++out[e.value("recipient", "")];
  return out;
}

// printf %s ops-secret | sha256sum (and t1-secret, t2-secret): keys are stored as digests.
std::string api_key(const std::string& name, const std::string& tenant, bool admin) {
  static const std::map<std::string, std::string> digests = {
      {"ops", "32323cfa9ec9d62750daad0836a4cf3d7b60d23723b7852a529667deed01669f"},
      {"t1", "3cf816fad94399c3de220be01f4e6d358e8b656a045cd5c85aab77ad7a932cec"},
      {"t2", "e21710db0ccf69a5d13dbb29774769a0619cb9130e53a3caa4044704db888f70"}};
  return "[[api_key]]\nname = \"" + name + "\"\nkey_sha256 = \"" + digests.at(name) + "\"\ntenant = \"" + tenant +
         "\"\nadmin = " + (admin ? "true" : "false") + "\n";
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("SIGTERM drains: the API answers 503, transactions in flight finish, the rest stays spooled and a "
          "restart delivers every message exactly once",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-drain");
  // Every end of data waits 700 ms: transactions are in flight whenever the signal comes.
  SmtpReceiver receiver(dir / "receiver", "delay_ms = 700\n");
  auto opts = routed_to(receiver, "drain.test");
  opts.extra_toml = "[shaping.default]\nmax_connections = 2\n[lifecycle]\ndrain_timeout = \"20s\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  const auto rcpts = inject_n(volleyd, 20, "drain.test", "d");
  // Two delivered: both sessions are up and each is in its next transaction.
  REQUIRE(wait_until([&] { return delivered_counts(volleyd).size() >= 2; }, 30s, 20ms));

  volleyd.signal(SIGTERM);
  bool saw_503 = false;
  auto probe = HttpClient("127.0.0.1", volleyd.http_port(), 2s);
  wait_until(
      [&] {
        try {
          const auto res = probe.get("/healthz");
          if (res.status == 503) saw_503 = res.body.find("\"draining\"") != std::string::npos;
        } catch (const HttpError&) {
          probe.close();
        }
        return saw_503 || !volleyd.running();
      },
      20s, 10ms);
  CHECK(saw_503);
  REQUIRE(wait_until([&] { return !volleyd.running(); }, 30s, 20ms));
  const auto status = volleyd.stop();
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  const auto log = volleyd.log();
  CHECK(log.find("draining") != std::string::npos);
  CHECK(log.find("drain: every SMTP session closed") != std::string::npos);

  // What the receiver took before the stop has its delivered event (no transaction was cut:
  // the restart must not send it again), and not everything was sent (the rest was left queued).
  const auto before = arrivals(receiver);
  const auto delivered = delivered_counts(volleyd);
  for (const auto& [r, times] : before) {
    INFO(r);
    CHECK(delivered.count(r) == 1);
  }
  CHECK(before.size() == delivered.size());
  CHECK(before.size() < rcpts.size());

  volleyd.start();
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == rcpts.size(); }, 60s, 50ms));
  REQUIRE(wait_until([&] { return delivered_counts(volleyd).size() == rcpts.size(); }, 30s, 50ms));
  for (const auto& [r, times] : arrivals(receiver)) {
    INFO(r);
    CHECK(times.size() == 1);
  }
  for (const auto& [r, n] : delivered_counts(volleyd)) {
    INFO(r);
    CHECK(n == 1);
  }
}

TEST_CASE("SIGHUP with a lower message rate slows delivery at the receiver within seconds, and a broken file is "
          "refused while delivery goes on",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-reload-rate");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed_to(receiver, "rate.test");
  Volleyd volleyd(dir / "volleyd", opts);
  const auto first = inject_n(volleyd, 10, "rate.test", "fast");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 10; }, 30s, 20ms));

  // 2 messages a second (a burst of 2): 12 more messages need at least 5 s at the receiver.
  auto slow = opts;
  slow.extra_toml = "[shaping.default]\nmax_message_rate = \"2/s\"\n";
  volleyd.rewrite_config(slow);
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("reload: asked by signal SIGHUP: shaping") != std::string::npos; },
                     10s, 20ms));
  const auto second = inject_n(volleyd, 12, "rate.test", "slow");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 22; }, 60s, 50ms));
  std::vector<std::int64_t> times;
  for (const auto& r : second) times.push_back(arrivals(receiver).at(r).front());
  std::sort(times.begin(), times.end());
  INFO("first to last of the 12: " << times.back() - times.front() << " ms");
  CHECK(times.back() - times.front() >= 4000);

  // A file that does not parse: refused, named in the log; mail keeps flowing at the old settings.
  write_file(volleyd.config_path(), read_file(volleyd.config_path()) + "\n[shaping.default]\nbroken = \n");
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("refused; the running configuration stays") != std::string::npos; },
                     10s, 20ms));
  CHECK(volleyd.log().find(volleyd.config_path().filename().string() + ":") != std::string::npos);
  REQUIRE(volleyd.running());
  inject_n(volleyd, 1, "rate.test", "after");
  REQUIRE(wait_until([&] { return arrivals(receiver).count("after0@rate.test") == 1; }, 30s, 50ms));
}

TEST_CASE("POST /api/v1/reload takes new API keys at once, names what needs a restart, is for admin keys only, and "
          "every admin action leaves an audit line naming its key",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-reload-api");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed_to(receiver, "keys.test");
  opts.extra_toml = api_key("ops", "default", true) + api_key("t1", "t1", false);
  Volleyd volleyd(dir / "volleyd", opts);
  auto t1 = volleyd.client();
  t1.set_bearer("t1-secret");
  CHECK(t1.post_json("/api/v1/reload", "").status == 403);
  auto admin = volleyd.client();
  admin.set_bearer("ops-secret");
  const auto nothing = admin.post_json("/api/v1/reload", "");
  REQUIRE(nothing.status == 200);
  CHECK(json::parse(nothing.body)["changed"] == json::array());
  CHECK(json::parse(nothing.body)["restart_required"] == json::array());

  // t1 goes, t2 comes; [spool] min_free_percent changes too (read only at start).
  auto next = opts;
  next.extra_toml = api_key("ops", "default", true) + api_key("t2", "t2", false);
  next.spool_extra = "min_free_space = \"1%\"\n";
  volleyd.rewrite_config(next);
  const auto reloaded = admin.post_json("/api/v1/reload", "");
  REQUIRE(reloaded.status == 200);
  const auto answer = json::parse(reloaded.body);
  CHECK(answer["reloaded"] == true);
  CHECK(answer["changed"] == json::array({"api_key"}));
  CHECK(answer["restart_required"] == json::array({"spool"}));
  CHECK(volleyd.log().find("spool changed, which takes effect only at the next start") != std::string::npos);
  auto t1_again = volleyd.client();
  t1_again.set_bearer("t1-secret");
  CHECK(t1_again.get("/api/v1/suppressions").status == 401);
  auto t2 = volleyd.client();
  t2.set_bearer("t2-secret");
  const json msg = {{"from", "a@volley.test"}, {"to", {"x@keys.test"}}, {"subject", "s"}, {"text", "t\n"}};
  CHECK(t2.post_json("/api/v1/messages", msg.dump()).status == 202);

  // A broken file: 422 naming file, line and key; the running keys stay.
  write_file(volleyd.config_path(), read_file(volleyd.config_path()) + "[metrics]\nidle_series_ttl = \"soon\"\n");
  const auto broken = admin.post_json("/api/v1/reload", "");
  CHECK(broken.status == 422);
  CHECK(json::parse(broken.body)["error"]["code"] == "invalid_configuration");
  CHECK(broken.body.find(volleyd.config_path().filename().string() + ":") != std::string::npos);
  CHECK(broken.body.find("idle_series_ttl") != std::string::npos);
  CHECK(t2.post_json("/api/v1/messages", msg.dump()).status == 202);

  // Queue control: each action leaves one audit line with the key's name and the answer.
  CHECK(admin.post_json("/api/v1/queues/keys.test/suspend", R"({"reason":"incident 42"})").status == 200);
  CHECK(admin.post_json("/api/v1/queues/keys.test/resume", "{}").status == 200);
  CHECK(t2.post_json("/api/v1/queues/keys.test/suspend", "{}").status == 403);
  const auto log = volleyd.log();
  CHECK(count_of(log, "audit: POST /api/v1/queues/keys.test/suspend | key=ops tenant=default admin=true status=200") == 1);
  CHECK(count_of(log, "audit: POST /api/v1/queues/keys.test/resume | key=ops tenant=default admin=true status=200") == 1);
  CHECK(count_of(log, "audit: POST /api/v1/queues/keys.test/suspend | key=t2 tenant=t2 admin=false status=403") == 1);
  CHECK(count_of(log, "audit: POST /api/v1/reload | key=ops tenant=default admin=true status=200") == 2);
  CHECK(count_of(log, "audit: POST /api/v1/reload | key=ops tenant=default admin=true status=422") == 1);
  CHECK(count_of(log, "audit: POST /api/v1/reload | key=t1 tenant=t1 admin=false status=403") == 1);
  CHECK(count_of(log, "POST /api/v1/messages ") == 0);  // sending mail is not an admin action
}

TEST_CASE("[log] format = json: every line volleyd writes is one JSON object with ts, level, component, msg and "
          "its key=value fields",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-json-log");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed_to(receiver, "json.test");
  opts.log_extra = "format = \"json\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  auto client = volleyd.client();
  inject(client, {{"from", "a@volley.test"}, {"to", {"x@json.test"}}, {"subject", "s"}, {"text", "t\n"}});
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "x@json.test").empty(); }, 30s, 50ms));
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("asked by signal SIGHUP") != std::string::npos; }, 10s, 20ms));
  REQUIRE(volleyd.stop());
  std::istringstream lines(volleyd.log());
  std::string line;
  std::set<std::string> components;
  int n = 0;
  bool recovery_fields = false;
  while (std::getline(lines, line)) {
    INFO(line);
    const auto j = json::parse(line);  // throws (fails the test) on a line that is not JSON
    CHECK(j.size() >= 4);
    // "spool: recovery done | requeued_recipients=0 ..." -> members, counts as numbers.
    if (j.at("msg") == "recovery done") {
      recovery_fields = j.at("component") == "spool" && j.at("requeued_recipients").is_number_integer() &&
                        j.at("stranded_recipients") == 0;
    }
    CHECK(j.at("msg").get<std::string>().find(" | ") == std::string::npos);
    CHECK(j.at("ts").get<std::string>().size() == 24);  // 2026-12-06T08:00:00.000Z
    CHECK(!j.at("level").get<std::string>().empty());
    CHECK(!j.at("msg").get<std::string>().empty());
    components.insert(j.at("component").get<std::string>());
    ++n;
  }
  CHECK(n >= 5);
  CHECK(recovery_fields);
  CHECK(components.count("spool") == 1);
  CHECK(components.count("reload") == 1);
  CHECK(components.count("drain") == 1);
}

TEST_CASE("systemd's notify protocol: READY once listening, the watchdog pinged, RELOADING and READY around a reload, "
          "STOPPING at the drain",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-notify");
  // The socket systemd would give: a datagram socket whose path is in NOTIFY_SOCKET.
  const auto path = (dir / "notify.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::vector<std::string> got;
  auto read_all = [&] {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.emplace_back(buf, static_cast<std::size_t>(n));
    }
  };
  auto seen = [&](const std::string& state) {
    read_all();
    return std::count_if(got.begin(), got.end(), [&](const std::string& m) { return m.find(state) != std::string::npos; });
  };
  // The child inherits these; this test process starts no other child that would read them.
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);  // 200 ms: volleyd pings every 100 ms
  SmtpReceiver receiver(dir / "receiver", "");
  Volleyd volleyd(dir / "volleyd", routed_to(receiver, "notify.test"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  REQUIRE(wait_until([&] { return seen("READY=1") >= 1; }, 10s, 20ms));
  CHECK(seen("STATUS=spool recovered, listeners bound") == 1);
  REQUIRE(wait_until([&] { return seen("WATCHDOG=1") >= 5; }, 10s, 20ms));
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return seen("READY=1") >= 2; }, 10s, 20ms));
  CHECK(seen("RELOADING=1") == 1);
  const auto status = volleyd.stop();
  REQUIRE(status);
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(seen("STOPPING=1") == 1);
  ::close(fd);
}

TEST_CASE("volleyd --check-config: 0 and ok for a good file, 2 and every problem with file, line and key for a bad one",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-check-config");
  const auto good = dir / "good.toml";
  write_file(good, "[http]\nlisten = \"127.0.0.1:8025\"\n[shaping.default]\nmax_message_rate = \"10/s\"\n");
  auto [rc, out] = run_with_input({Volleyd::binary(), "--check-config", good.string()}, "", dir.path());
  CHECK(WEXITSTATUS(rc) == 0);
  CHECK(out == good.string() + ": ok\n");

  const auto bad = dir / "bad.toml";
  write_file(bad, "[http]\nlisten = \"127.0.0.1:x\"\n[shaping.default]\nmax_message_rate = \"fast\"\n[nope]\n");
  auto [rc2, out2] = run_with_input({Volleyd::binary(), "--check-config", bad.string()}, "", dir.path());
  CHECK(WEXITSTATUS(rc2) == 2);
  CHECK(out2.find("bad.toml:2: [http] listen") != std::string::npos);
  CHECK(out2.find("bad.toml:4: [shaping.default] max_message_rate") != std::string::npos);
  CHECK(out2.find("bad.toml:5: [nope]: unknown table") != std::string::npos);

  // A bounce rules file that is named but missing is a problem too: the start would fail on it.
  const auto rules = dir / "rules.toml";
  write_file(rules, "[delivery]\nbounce_rules = \"" + (dir / "missing.toml").string() + "\"\n");
  auto [rc3, out3] = run_with_input({Volleyd::binary(), "--check-config", rules.string()}, "", dir.path());
  CHECK(WEXITSTATUS(rc3) == 2);
  CHECK(out3.find("missing.toml") != std::string::npos);
}

TEST_CASE("a reload with other pools and source addresses moves new mail to them, and a new source is used at once",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-reload-pools");
  SmtpReceiver receiver(dir / "receiver", "");
  auto opts = routed_to(receiver, "pools.test");
  const std::string sources =
      "[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\nehlo_name = \"o1.volley.test\"\n"
      "[[source]]\nname = \"ip2\"\naddress = \"127.0.0.3\"\nehlo_name = \"o2.volley.test\"\n";
  const std::string spare = "[[pool]]\nname = \"spare\"\nsources = [{ name = \"ip2\" }]\n";
  opts.extra_toml = sources + spare + "[[pool]]\nname = \"a\"\nsources = [{ name = \"ip1\" }]\n";
  opts.delivery_extra = "default_pool = \"a\"\n";
  Volleyd volleyd(dir / "volleyd", opts);
  auto client = volleyd.client();
  const json to_b = {{"from", "s@volley.test"}, {"to", {"b0@pools.test"}}, {"subject", "s"}, {"text", "t\n"}, {"pool", "b"}};
  CHECK(client.post_json("/api/v1/messages", to_b.dump()).status == 400);  // no pool b yet
  inject_n(volleyd, 3, "pools.test", "before");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 3; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.2").value("messages", 0) == 3);

  auto next = opts;
  next.extra_toml = sources + spare + "[[pool]]\nname = \"a\"\nsources = [{ name = \"ip1\" }]\n" +
                    "[[pool]]\nname = \"b\"\nsources = [{ name = \"ip2\" }]\n";
  next.delivery_extra = "default_pool = \"b\"\n";
  volleyd.rewrite_config(next);
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("pool/pool_rule now in force") != std::string::npos; }, 10s, 20ms));
  CHECK(client.post_json("/api/v1/messages", to_b.dump()).status == 202);
  inject_n(volleyd, 3, "pools.test", "after");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 7; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.3").value("messages", 0) == 4);
  CHECK(receiver.client_stats("127.0.0.2").value("messages", 0) == 3);

  // ip2 moves to another address (same name, same place): the next connection leaves from it.
  auto moved = next;
  const std::string moved_sources =
      "[[source]]\nname = \"ip1\"\naddress = \"127.0.0.2\"\nehlo_name = \"o1.volley.test\"\n"
      "[[source]]\nname = \"ip2\"\naddress = \"127.0.0.5\"\nehlo_name = \"o2.volley.test\"\n";
  moved.extra_toml = moved_sources + spare + "[[pool]]\nname = \"a\"\nsources = [{ name = \"ip1\" }]\n" +
                     "[[pool]]\nname = \"b\"\nsources = [{ name = \"ip2\" }]\n";
  volleyd.rewrite_config(moved);
  auto admin = volleyd.client();
  const auto res_moved = admin.post_json("/api/v1/reload", "");
  REQUIRE(res_moved.status == 200);
  CHECK(json::parse(res_moved.body)["changed"] == json::array({"source/pool/pool_rule"}));
  inject_n(volleyd, 1, "pools.test", "moved");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 8; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.5").value("messages", 0) == 1);

  // A third source, and pool b moved to it: the next message leaves from it.
  auto more = moved;
  more.extra_toml = moved_sources + "[[source]]\nname = \"ip3\"\naddress = \"127.0.0.4\"\nehlo_name = \"o3.volley.test\"\n" +
                    spare + "[[pool]]\nname = \"a\"\nsources = [{ name = \"ip1\" }]\n" +
                    "[[pool]]\nname = \"b\"\nsources = [{ name = \"ip3\" }]\n";
  volleyd.rewrite_config(more);
  const auto res = admin.post_json("/api/v1/reload", "");
  REQUIRE(res.status == 200);
  CHECK(json::parse(res.body)["changed"] == json::array({"source/pool/pool_rule"}));
  CHECK(json::parse(res.body)["restart_required"] == json::array());
  inject_n(volleyd, 1, "pools.test", "last");
  REQUIRE(wait_until([&] { return arrivals(receiver).size() == 9; }, 30s, 20ms));
  CHECK(receiver.client_stats("127.0.0.4").value("messages", 0) == 1);
  CHECK(receiver.client_stats("127.0.0.5").value("messages", 0) == 1);
}

TEST_CASE("a reload gives a webhook endpoint its new secret: POSTs the receiver refused go again, signed with it",
          "[integration][lifecycle]") {
  TempDir dir("volley-it-reload-webhook");
  SmtpReceiver receiver(dir / "receiver", "");
  const auto hook_port = free_port();
  const auto posts = dir / "posts.jsonl";
  ChildProcess hook({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/webhook_receiver.py",
                     std::to_string(hook_port), "rotated-secret-0123456789", posts.string()},
                    dir / "webhook_receiver.log");
  auto webhook = [&](const std::string& secret) {
    return "[[webhook]]\nname = \"app\"\nurl = \"http://127.0.0.1:" + std::to_string(hook_port) +
           "/volley-events\"\nsecret = \"" + secret + "\"\nretry_first = \"100ms\"\nretry_max = \"300ms\"\n";
  };
  auto opts = routed_to(receiver, "hook.test");
  opts.extra_toml = webhook("old-secret-0123456789");
  Volleyd volleyd(dir / "volleyd", opts);
  auto client = volleyd.client();
  const auto accepted =
      inject(client, {{"from", "a@volley.test"}, {"to", {"x@hook.test"}}, {"subject", "s"}, {"text", "t\n"}});
  auto posts_with = [&](bool valid) {
    std::size_t n = 0;
    for (const auto& p : read_json_lines(posts)) n += p["valid"] == valid;
    return n;
  };
  REQUIRE(wait_until([&] { return posts_with(false) >= 2; }, 30s, 50ms));  // refused, and retried
  CHECK(posts_with(true) == 0);

  auto next = opts;
  next.extra_toml = webhook("rotated-secret-0123456789");
  volleyd.rewrite_config(next);
  volleyd.signal(SIGHUP);
  REQUIRE(wait_until([&] { return volleyd.log().find("webhook: new settings in force | endpoint=app") != std::string::npos; },
                     10s, 20ms));
  const auto delivered = [&] {
    for (const auto& p : read_json_lines(posts))
      if (p["valid"] == true)
        for (const auto& e : p["events"])
          if (e.value("event", "") == "delivered" && e.value("id", "") == accepted.recipients.front().second) return true;
    return false;
  };
  REQUIRE(wait_until(delivered, 30s, 50ms));
  CHECK(volleyd.log().find("reload: asked by signal SIGHUP: webhook now in force") != std::string::npos);

  // Another endpoint name: a removal and an addition; app's queue stays on disk under its name.
  auto renamed = next;
  renamed.extra_toml = "[[webhook]]\nname = \"other\"\nurl = \"http://127.0.0.1:" + std::to_string(hook_port) +
                       "/\"\nsecret = \"another-secret-0123456789\"\n";
  volleyd.rewrite_config(renamed);
  auto admin = volleyd.client();
  const auto res = admin.post_json("/api/v1/reload", "");
  REQUIRE(res.status == 200);
  CHECK(json::parse(res.body)["changed"] == json::array({"webhook"}));
  CHECK(json::parse(res.body)["restart_required"] == json::array());
  CHECK(volleyd.log().find("webhook: endpoint removed by a reload; its pending events stay queued on disk and are sent if an "
                             "endpoint of that name is configured again | endpoint=app pending=") != std::string::npos);
}
