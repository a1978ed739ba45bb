// volleyctl, the real binary, against a real volleyd (and a real SMTP receiver it delivers to):
// every command, with --json and as tables, the exit statuses (0 done, 1 the daemon said no,
// 2 unreachable or bad usage), and GET /api/v1/events?follow=1 through `events --follow`,
// including the tenant wall on the stream.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctl_fixture.hpp"
#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// printf %s <secret> | sha256sum: acme-secret, other-secret (tenant keys), ops-secret (admin).
const char* kKeys =
    "[[api_key]]\nname = \"acme\"\ntenant = \"acme\"\n"
    "key_sha256 = \"@ACME@\"\n"
    "[[api_key]]\nname = \"other\"\ntenant = \"other\"\n"
    "key_sha256 = \"@OTHER@\"\n"
    "[[api_key]]\nname = \"ops\"\nadmin = true\n"
    "key_sha256 = \"@OPS@\"\n"
    "[[source]]\nname = \"lo2\"\naddress = \"127.0.0.2\"\nehlo_name = \"o2.volley.test\"\n"
    "[[pool]]\nname = \"p1\"\nsources = [{ name = \"lo2\" }]\n";

std::string sha256_hex(const std::string& s) {
  TempDir dir("volley-it-ctl-sha");
  write_file(dir / "in", s);
  const auto [status, out] = run_with_input({"/usr/bin/sha256sum", (dir / "in").string()}, "", dir.path());
  return out.substr(0, 64);
}

std::string keys_toml() {
  std::string t = kKeys;
  auto put = [&](const std::string& mark, const std::string& secret) { t.replace(t.find(mark), mark.size(), sha256_hex(secret)); };
  put("@ACME@", "acme-secret");
  put("@OTHER@", "other-secret");
  put("@OPS@", "ops-secret");
  return t;
}

using Run = CtlRun;

json parse(const Run& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit == 0);
  return json::parse(r.out);
}

// volleyd with the keys above, delivering ctl.test to a receiver; volleyctl pointed at it.
struct Rig {
  explicit Rig(const char* name)
      : dir(name), receiver(dir / "receiver", ""), volleyd(dir / "volleyd", options(receiver.port())),
        ctl(dir.path(), http_url(volleyd.http_port())) {}
  static VolleydOptions options(std::uint16_t receiver_port) {
    VolleydOptions opts;
    opts.dns_port = 9;  // nothing: delivery goes by [[route]]
    opts.smtp_port = 25;
    opts.routes.push_back(Route{"ctl.test", "127.0.0.1", receiver_port});
    opts.extra_toml = keys_toml();
    return opts;
  }
  TempDir dir;
  SmtpReceiver receiver;
  Volleyd volleyd;
  Ctl ctl;
};

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("volleyctl runs every command against a running volleyd", "[integration][volleyctl]") {
  Rig rig("volley-it-ctl");
  auto& dir = rig.dir;
  auto& volleyd = rig.volleyd;
  auto& ctl = rig.ctl;
  const std::string ops = "ops-secret", acme = "acme-secret";

  auto client = volleyd.client();
  client.set_bearer(acme);
  const auto accepted =
      inject(client, {{"from", "a@volley.test"}, {"to", {"x@ctl.test"}}, {"subject", "s"}, {"text", "t\n"}});
  const std::string rcpt = accepted.recipients[0].second;
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "x@ctl.test").empty(); }, 30s, 50ms));

  SECTION("queues, as a table and as the daemon's JSON, filtered by domain and pool") {
    // An idle destination leaves the list; a suspended one stays in it.
    REQUIRE(ctl.run(ops, {"suspend", "domain", "ctl.test"}).exit == 0);
    const auto table = ctl.run(ops, {"queues"});
    INFO(table.err);
    CHECK(table.exit == 0);
    CHECK(table.out.find("DOMAIN / SOURCE") != std::string::npos);
    CHECK(table.out.find("ctl.test") != std::string::npos);
    for (std::size_t start = 0, nl; (nl = table.out.find('\n', start)) != std::string::npos; start = nl + 1)
      CHECK(nl - start <= 100);
    const auto all = parse(ctl.run(ops, {"--json", "queues"}));
    CHECK(all.contains("queues"));
    const auto one = parse(ctl.run(ops, {"--json", "queues", "--domain", "CTL.test"}));
    REQUIRE(one["queues"].size() == 1);
    CHECK(one["queues"][0]["domain"] == "ctl.test");
    CHECK(parse(ctl.run(ops, {"--json", "queues", "--domain", "none.test"}))["queues"].empty());
    // With --pool, each destination lists only that pool's sources.
    const auto by_pool = parse(ctl.run(ops, {"--json", "queues", "--pool", "p1"}));  // kept: the loop reads into it
    for (const auto& q : by_pool["queues"]) {
      REQUIRE(q.contains("sources"));
      for (const auto& src : q["sources"]) CHECK(src["source"] == "lo2");
    }
    const auto unknown_pool = ctl.run(ops, {"queues", "--pool", "nope"});
    CHECK(unknown_pool.exit == 1);
    CHECK(unknown_pool.err.find("no IP pool named") != std::string::npos);
  }

  SECTION("suspend, resume and bounce a domain, a pool and a source") {
    const auto s = ctl.run(ops, {"suspend", "domain", "ctl.test", "--duration", "30m", "--reason", "maintenance"});
    INFO(s.err);
    CHECK(s.exit == 0);
    CHECK(s.out.rfind("suspended domain ctl.test until ", 0) == 0);
    CHECK(s.out.find("(maintenance)") != std::string::npos);
    const auto q = parse(ctl.run(ops, {"--json", "queues", "--domain", "ctl.test"}));
    CHECK(q["queues"][0]["suspended"]["reason"] == "maintenance");
    CHECK(ctl.run(ops, {"queues"}).out.find("(maintenance)") != std::string::npos);
    CHECK(ctl.run(ops, {"resume", "domain", "ctl.test"}).out == "resumed domain ctl.test\n");
    CHECK(ctl.run(ops, {"resume", "domain", "ctl.test"}).out == "domain ctl.test was not suspended\n");
    CHECK(ctl.run(ops, {"bounce", "domain", "ctl.test", "--reason", "gone"}).out ==
          "bounced 0 queued recipient messages of domain ctl.test\n");
    const auto pool = parse(ctl.run(ops, {"--json", "suspend", "pool", "p1"}));
    CHECK(pool == json{{"pool", "p1"}, {"suspended", true}, {"reason", ""}});
    CHECK(parse(ctl.run(ops, {"--json", "resume", "pool", "p1"}))["resumed"] == true);
    CHECK(ctl.run(ops, {"suspend", "source", "lo2"}).exit == 0);
    CHECK(ctl.run(ops, {"resume", "source", "lo2"}).out == "resumed source lo2\n");
    // The daemon says no: a source has no queue to bounce; an unknown pool.
    const auto no = ctl.run(ops, {"bounce", "source", "lo2"});
    CHECK(no.exit == 1);
    CHECK(no.err.find("400 unsupported") != std::string::npos);
    CHECK(lines(no.err) == 1);
    const auto nopool = ctl.run(ops, {"--json", "suspend", "pool", "nope"});
    CHECK(nopool.exit == 1);
    CHECK(json::parse(nopool.out)["error"]["code"] == "not_found");
    CHECK(ctl.run(ops, {"suspend", "planet", "x"}).exit == 2);  // bad usage
  }

  SECTION("message: the status and every event of a recipient message") {
    const auto table = ctl.run(acme, {"message", rcpt});
    INFO(table.err);
    CHECK(table.exit == 0);
    CHECK(table.out.find("delivered") != std::string::npos);
    CHECK(table.out.find("received") != std::string::npos);
    const auto j = parse(ctl.run(acme, {"--json", "message", rcpt}));
    CHECK(j["status"]["status"] == "delivered");
    std::vector<std::string> kinds;
    for (const auto& e : j["events"]) kinds.push_back(e["event"]);
    CHECK(kinds == std::vector<std::string>{"received", "delivered"});
    const auto whole = parse(ctl.run(acme, {"--json", "message", accepted.id}));
    CHECK(whole["status"]["recipients"].size() == 1);
    CHECK(whole["events"].size() == 2);
    // Another tenant sees neither the status nor the events.
    const auto other = ctl.run("other-secret", {"message", rcpt});
    CHECK(other.exit == 1);
    CHECK(other.err.find("404 not_found") != std::string::npos);
  }

  SECTION("suppressions list, add, remove, import and export") {
    const auto added = ctl.run(acme, {"suppressions", "add", "no@ctl.test", "--reason", "manual", "--description", "asked"});
    INFO(added.err);
    CHECK(added.out == "added no@ctl.test (manual)\n");
    CHECK(ctl.run(acme, {"suppressions", "list"}).out.find("no@ctl.test") != std::string::npos);
    write_file(dir / "in.csv", "email,reason\na1@ctl.test,complaint\n\"a2@ctl.test\",\"manual, by hand\"\na3@ctl.test\n");
    const auto imported = ctl.run(acme, {"suppressions", "import", (dir / "in.csv").string()});
    CHECK(imported.out == "imported 3 addresses from " + (dir / "in.csv").string() + "\n");
    const auto list = parse(ctl.run(acme, {"--json", "suppressions", "list"}));
    CHECK(list["suppressions"].size() == 4);
    const auto csv = ctl.run(acme, {"suppressions", "export"});
    CHECK(csv.out.rfind("email,reason,category,description,source,created_at,updated_at\n", 0) == 0);
    CHECK(csv.out.find("a2@ctl.test,\"manual, by hand\",") != std::string::npos);
    CHECK(lines(csv.out) == 5);
    CHECK(ctl.run(acme, {"suppressions", "remove", "no@ctl.test"}).out == "removed no@ctl.test\n");
    CHECK(ctl.run(acme, {"suppressions", "remove", "no@ctl.test"}).exit == 1);  // 404
    // The other tenant's list is its own; an admin key reads acme's with --tenant.
    CHECK(parse(ctl.run("other-secret", {"--json", "suppressions", "list"}))["suppressions"].empty());
    CHECK(parse(ctl.run(ops, {"--json", "suppressions", "--tenant", "acme", "list"}))["suppressions"].size() == 3);
    CHECK(ctl.run(acme, {"suppressions", "import", (dir / "missing.csv").string()}).exit == 2);
  }

  SECTION("events without --follow: the recent ones, filtered, behind the tenant wall") {
    const auto mine = parse(ctl.run(acme, {"--json", "events", "--type", "delivered"}));
    REQUIRE(mine["events"].size() == 1);
    CHECK(mine["events"][0]["recipient"] == "x@ctl.test");
    CHECK(parse(ctl.run("other-secret", {"--json", "events"}))["events"].empty());
    CHECK(parse(ctl.run(ops, {"--json", "events", "--domain", "ctl.test"}))["events"].size() == 2);
    CHECK(ctl.run(ops, {"events", "--type", "delivered"}).out.find("x@ctl.test") != std::string::npos);
    const auto bad = ctl.run(ops, {"events", "--type", "nonsense"});
    CHECK(bad.exit == 1);
    CHECK(bad.err.find("unknown event type") != std::string::npos);
  }

  SECTION("doctor, top, completion") {
    const auto doctor = ctl.run(ops, {"--json", "--timeout", "50", "doctor"});
    INFO(doctor.err);
    CHECK(doctor.exit == 0);
    CHECK(json::parse(doctor.out).contains("findings"));
    CHECK(ctl.run(acme, {"doctor"}).exit == 1);  // 403: not an admin key
    const auto top = ctl.run("", {"top", "--iterations", "2", "--interval", "0.2"});
    CHECK(top.exit == 0);
    CHECK(top.out.find("delivered/s") != std::string::npos);
    CHECK(top.out.find("TOP DEFERRING DOMAINS") != std::string::npos);
    const auto top_json = ctl.run("", {"--json", "top", "-n", "1", "--interval", "0.1"});
    CHECK(json::parse(top_json.out)["per_second"].contains("delivered"));
    const auto completion = ctl.run("", {"completion", "bash"});
    CHECK(completion.out.find("complete -F _volleyctl volleyctl") != std::string::npos);
    write_file(dir / "completion.bash", completion.out);
    CHECK(run_with_input({"/bin/bash", "-n", (dir / "completion.bash").string()}, "", dir.path()).first == 0);
  }

  SECTION("exit 1 for a refused key, 2 for an unreachable daemon or bad usage, one line on stderr") {
    const auto wrong = ctl.run("wrong-secret", {"queues"});
    CHECK(wrong.exit == 1);
    CHECK(wrong.err == "volleyctl: the daemon answered 401 unauthorized: an API key is required: Authorization: Bearer <key>\n");
    const auto tenant = ctl.run(acme, {"queues"});
    CHECK(tenant.exit == 1);
    CHECK(tenant.err.find("403 forbidden") != std::string::npos);
    Ctl nowhere(dir.path(), http_url(free_port()), 100);
    const auto down = nowhere.run(ops, {"queues"});
    CHECK(down.exit == 2);
    CHECK(down.err.find("connect failed") != std::string::npos);
    CHECK(lines(down.err) == 1);
    // https:// to the plain listener: the handshake fails, and says why.
    Ctl tls_to_plain(dir.path(), "https://127.0.0.1:" + std::to_string(volleyd.http_port()), 200);
    const auto not_tls = tls_to_plain.run(ops, {"queues"});
    CHECK(not_tls.exit == 2);
    CHECK(not_tls.err.find("TLS handshake failed") != std::string::npos);
    CHECK(not_tls.err.find("does not speak TLS") != std::string::npos);
    CHECK(lines(not_tls.err) == 1);
    CHECK(ctl.run(ops, {"frobnicate"}).exit == 2);
    CHECK(ctl.run(ops, {"--url", "ftp://x", "queues"}).exit == 2);
  }
}

TEST_CASE("volleyctl events --follow streams delivered events, each tenant its own", "[integration][volleyctl]") {
  Rig rig("volley-it-ctl-follow");
  auto& dir = rig.dir;
  auto& volleyd = rig.volleyd;
  auto& ctl = rig.ctl;

  // Each follower stops after its first delivered event; it is told to start before any mail.
  struct Follower {
    std::filesystem::path out, err;
    ChildProcess process;
  };
  auto follow = [&](const std::string& name, const std::string& key, std::vector<std::string> extra) {
    auto f = std::make_unique<Follower>();
    f->out = dir / (name + ".out");
    f->err = dir / (name + ".err");
    std::vector<std::string> args{"--json", "events", "--follow", "--type", "delivered", "--count", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    f->process.start(ctl.argv(key, args, f->err.string()), f->out);
    return f;
  };
  auto acme = follow("acme", "acme-secret", {});
  auto other = follow("other", "other-secret", {});
  auto admin = follow("admin", "ops-secret", {"--domain", "ctl.test"});
  for (auto* f : {acme.get(), other.get(), admin.get()}) {
    REQUIRE(wait_until([&] { return read_file(f->err).find("following events at") != std::string::npos; }, 30s));
  }

  auto as_acme = volleyd.client();
  as_acme.set_bearer("acme-secret");
  inject(as_acme, {{"from", "a@volley.test"}, {"to", {"x@ctl.test"}}, {"subject", "s"}, {"text", "t\n"}});
  for (auto* f : {acme.get(), admin.get()}) {
    const auto status = f->process.wait_for(30s);
    INFO(read_file(f->err));
    REQUIRE(status);
    CHECK(WEXITSTATUS(*status) == 0);
    const auto e = json::parse(read_file(f->out));
    CHECK(e["event"] == "delivered");
    CHECK(e["tenant"] == "acme");
    CHECK(e["recipient"] == "x@ctl.test");
  }
  // acme's event went past the other tenant's follower, which waits on for one of its own.
  CHECK(other->process.running());
  auto as_other = volleyd.client();
  as_other.set_bearer("other-secret");
  inject(as_other, {{"from", "b@volley.test"}, {"to", {"y@ctl.test"}}, {"subject", "s"}, {"text", "t\n"}});
  const auto status = other->process.wait_for(30s);
  REQUIRE(status);
  const auto out = read_file(other->out);
  CHECK(lines(out) == 1);
  const auto e = json::parse(out);
  CHECK(e["tenant"] == "other");
  CHECK(e["recipient"] == "y@ctl.test");

  // A follower that goes away is forgotten: the daemon keeps serving, and a new one works.
  auto gone = follow("gone", "ops-secret", {});
  REQUIRE(wait_until([&] { return read_file(gone->err).find("following events at") != std::string::npos; }, 30s));
  gone->process.kill_now();
  auto human = std::make_unique<Follower>();
  human->out = dir / "human.out";
  human->err = dir / "human.err";
  human->process.start(ctl.argv("ops-secret", {"events", "-f", "--count", "1", "--type", "delivered"}, human->err.string()),
                       human->out);
  REQUIRE(wait_until([&] { return read_file(human->err).find("following events at") != std::string::npos; }, 30s));
  inject(as_acme, {{"from", "a@volley.test"}, {"to", {"z@ctl.test"}}, {"subject", "s"}, {"text", "t\n"}});
  REQUIRE(human->process.wait_for(30s));
  CHECK(read_file(human->out).find("delivered") != std::string::npos);
  CHECK(read_file(human->out).find("z@ctl.test") != std::string::npos);
}

TEST_CASE("volleyctl reload prints what changed, or the daemon's refusal", "[integration][volleyctl]") {
  Rig rig("volley-it-ctl-reload");
  const auto same = rig.ctl.run("ops-secret", {"reload"});
  CHECK(same.exit == 0);
  CHECK(same.out == "reloaded; changed: nothing\n");

  // A lower rate for every destination and another [http] max_pending (read only at start).
  auto next = Rig::options(rig.receiver.port());
  next.extra_toml += "[shaping.default]\nmax_message_rate = \"100/s\"\n";
  rig.volleyd.rewrite_config(next);
  {
    auto text = read_file(rig.volleyd.config_path());
    text.replace(text.find("[http]\n"), 7, "[http]\nmax_pending = 777\n");
    write_file(rig.volleyd.config_path(), text);
  }
  const auto changed = rig.ctl.run("ops-secret", {"reload"});
  CHECK(changed.exit == 0);
  CHECK(changed.out == "reloaded; changed: shaping\nneeds a restart to change: http\n");
  CHECK(parse(rig.ctl.run("ops-secret", {"--json", "reload"}))["restart_required"] == json::array({"http"}));

  CHECK(rig.ctl.run("acme-secret", {"reload"}).exit == 1);  // not an admin key: 403
  write_file(rig.volleyd.config_path(), read_file(rig.volleyd.config_path()) + "[shaping.default]\nbogus = 1\n");
  const auto refused = rig.ctl.run("ops-secret", {"reload"});
  CHECK(refused.exit == 1);
  CHECK(refused.err.rfind("volleyctl: the daemon answered 422 invalid_configuration: ", 0) == 0);
  CHECK(refused.err.find(rig.volleyd.config_path().filename().string() + ":") != std::string::npos);
}
