// The MTA-STS actor with a stand-in DNS actor (TXT answers set by the test, the policy host at
// 127.0.0.1) and a real local HTTPS server serving the policies.
#include "actors/mta_sts_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include <map>
#include <mutex>

#include "tests/support/sts_policy_server.hpp"
#include "tests/unit/actors/io_runtime.hpp"

using namespace volley;
using std::chrono_literals::operator""s;
using Mode = tls::StsPolicy::Mode;

namespace {

// What the stand-in DNS answers, changed by the test between requests.
struct Zone {
  std::mutex mutex;
  std::map<std::string, dns::TxtResolution> txt;  // by name; missing: NXDOMAIN
  int txt_questions = 0;
  int address_questions = 0;

  void publish(const std::string& domain, std::vector<std::string> texts) {
    std::lock_guard lock(mutex);
    dns::TxtResolution r;
    r.status = dns::Status::ok;
    r.texts = std::move(texts);
    r.ttl = 60;
    txt["_mta-sts." + domain] = r;
  }
  void fail(const std::string& domain) {
    std::lock_guard lock(mutex);
    txt["_mta-sts." + domain] = dns::TxtResolution{};  // temp_fail
  }
  int questions() {
    std::lock_guard lock(mutex);
    return txt_questions + address_questions;
  }
};

caf::behavior stand_in_dns(caf::event_based_actor*, std::shared_ptr<Zone> zone) {
  return {
      [zone](txt_atom, const std::string& name) {
        std::lock_guard lock(zone->mutex);
        ++zone->txt_questions;
        auto it = zone->txt.find(name);
        if (it != zone->txt.end()) return it->second;
        dns::TxtResolution r;
        r.status = dns::Status::perm_fail;
        r.error = "NXDOMAIN";
        return r;
      },
      // Every policy host is at 127.0.0.1 (its own A record: the implicit MX).
      [zone](resolve_atom, const std::string& name) {
        std::lock_guard lock(zone->mutex);
        ++zone->address_questions;
        dns::MxResolution r;
        r.status = dns::Status::ok;
        r.implicit_mx = true;
        r.hosts.push_back(dns::MxHost{name, 0, {"127.0.0.1"}});
        r.ttl = 60;
        return r;
      },
  };
}

std::string policy_text(const std::string& mode, const std::string& mx, int max_age = 86400) {
  return "version: STSv1\r\nmode: " + mode + "\r\nmx: " + mx + "\r\nmax_age: " + std::to_string(max_age) + "\r\n";
}

struct Rig {
  explicit Rig(std::vector<std::string> domains, MtaStsOptions options = {}) {
    std::vector<std::string> hosts;
    for (auto& d : domains) hosts.push_back("mta-sts." + d);
    server.emplace(hosts);
    dns = caf::actor_cast<dns_actor>(rt.system->spawn(stand_in_dns, zone));
    options.port = server->port();
    options.ca_file = server->ca_file();
    options.fetch_timeout = 10s;
    sts = spawn_mta_sts_actor(*rt.system, rt.io, dns, options);
  }
  ~Rig() {
    caf::anon_send_exit(sts, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dns, caf::exit_reason::user_shutdown);
  }

  tls::StsPolicy policy(const std::string& domain) {
    caf::scoped_actor self{*rt.system};
    std::optional<tls::StsPolicy> out;
    self->request(sts, 60s, sts_atom::value, domain)
        .receive([&](const tls::StsPolicy& p) { out = p; },
                 [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
    REQUIRE(out);
    return *out;
  }
  int fetches(const std::string& domain) { return server->requests("mta-sts." + domain); }

  testing::IoRuntime rt;
  std::shared_ptr<Zone> zone = std::make_shared<Zone>();
  std::optional<test::StsPolicyServer> server;
  dns_actor dns;
  mta_sts_actor sts;
};

}  // namespace

TEST_CASE("mta-sts actor: a published policy is fetched once and cached", "[mta_sts_actor]") {
  Rig rig({"example.test"});
  rig.zone->publish("example.test", {"v=spf1 -all", "v=STSv1; id=20261205a;"});
  rig.server->answer("mta-sts.example.test", 200, policy_text("enforce", "*.example.test"));
  auto p = rig.policy("Example.TEST.");
  CHECK(p.mode == Mode::enforce);
  CHECK(p.mx == std::vector<std::string>{"*.example.test"});
  CHECK(p.max_age == std::chrono::seconds(86400));
  CHECK(p.id == "20261205a");
  CHECK(rig.policy("example.test") == p);
  CHECK(rig.fetches("example.test") == 1);
}

TEST_CASE("mta-sts actor: concurrent requests for one domain share one fetch", "[mta_sts_actor]") {
  Rig rig({"example.test"});
  rig.zone->publish("example.test", {"v=STSv1; id=one"});
  // A slow answer keeps the first discovery open while the others arrive.
  rig.server->answer("mta-sts.example.test", 200, policy_text("testing", "mx.example.test"), "text/plain", 0.5);
  caf::scoped_actor self{*rig.rt.system};
  constexpr int kAskers = 10;
  for (int i = 0; i < kAskers; ++i) self->send(rig.sts, sts_atom::value, std::string("example.test"));
  int answers = 0;
  self->receive_for(answers, kAskers)([&](const tls::StsPolicy& p) { CHECK(p.mode == Mode::testing); });
  CHECK(answers == kAskers);
  CHECK(rig.fetches("example.test") == 1);
}

TEST_CASE("mta-sts actor: a new TXT id is fetched, a failed refresh keeps the cached policy", "[mta_sts_actor]") {
  MtaStsOptions o;
  o.retry_failed_fetch_after = std::chrono::seconds(0);
  Rig rig({"example.test"}, o);
  rig.zone->publish("example.test", {"v=STSv1; id=one"});
  rig.server->answer("mta-sts.example.test", 200, policy_text("testing", "mx.example.test"));
  CHECK(rig.policy("example.test").mode == Mode::testing);

  rig.zone->publish("example.test", {"v=STSv1; id=two"});
  rig.server->answer("mta-sts.example.test", 200, policy_text("enforce", "mx.example.test"));
  auto p = rig.policy("example.test");
  CHECK(p.mode == Mode::enforce);
  CHECK(p.id == "two");
  CHECK(rig.fetches("example.test") == 2);

  SECTION("the policy server fails") {
    rig.zone->publish("example.test", {"v=STSv1; id=three"});
    rig.server->answer("mta-sts.example.test", 500, "oops");
    CHECK(rig.policy("example.test") == p);
    CHECK(rig.fetches("example.test") == 3);
  }
  SECTION("the new policy is broken") {
    rig.zone->publish("example.test", {"v=STSv1; id=three"});
    rig.server->answer("mta-sts.example.test", 200, "version: STSv1\nmode: strict\n");
    CHECK(rig.policy("example.test") == p);
  }
  SECTION("served as HTML") {
    rig.zone->publish("example.test", {"v=STSv1; id=three"});
    rig.server->answer("mta-sts.example.test", 200, policy_text("none", "mx.example.test"), "text/html");
    CHECK(rig.policy("example.test") == p);
  }
  SECTION("the TXT lookup fails or the record goes away: the unexpired policy stays") {
    rig.zone->fail("example.test");
    CHECK(rig.policy("example.test") == p);
    rig.zone->publish("example.test", {"v=spf1 -all"});
    CHECK(rig.policy("example.test") == p);
    CHECK(rig.fetches("example.test") == 2);
  }
  SECTION("a published mode none replaces it") {
    rig.zone->publish("example.test", {"v=STSv1; id=three"});
    rig.server->answer("mta-sts.example.test", 200, "version: STSv1\nmode: none\nmax_age: 86400\n");
    CHECK(rig.policy("example.test").mode == Mode::none);
  }
}

TEST_CASE("mta-sts actor: no policy without a usable STSv1 record", "[mta_sts_actor]") {
  Rig rig({"example.test"});
  rig.server->answer("mta-sts.example.test", 200, policy_text("enforce", "mx.example.test"));
  CHECK(rig.policy("example.test").mode == Mode::none);  // NXDOMAIN
  rig.zone->publish("example.test", {"v=STSv1; id=a", "v=STSv1; id=b"});
  CHECK(rig.policy("example.test").mode == Mode::none);  // two records
  rig.zone->publish("example.test", {"v=STSv1; id=not-alnum"});
  CHECK(rig.policy("example.test").mode == Mode::none);
  rig.zone->fail("example.test");
  CHECK(rig.policy("example.test").mode == Mode::none);
  CHECK(rig.policy("not a domain").mode == Mode::none);
  CHECK(rig.fetches("example.test") == 0);
}

TEST_CASE("mta-sts actor: a policy host whose certificate does not verify gives no policy", "[mta_sts_actor]") {
  // The server's certificate names only mta-sts.example.test.
  Rig rig({"example.test"});
  rig.zone->publish("other.test", {"v=STSv1; id=x"});
  rig.server->answer("mta-sts.other.test", 200, policy_text("enforce", "mx.other.test"));
  CHECK(rig.policy("other.test").mode == Mode::none);
  CHECK(rig.fetches("other.test") == 0);
  // Not tried again at once for the same id.
  const int asked = rig.zone->questions();
  CHECK(rig.policy("other.test").mode == Mode::none);
  CHECK(rig.zone->questions() == asked + 1);  // the TXT lookup only
}

TEST_CASE("mta-sts actor: turned off, it answers none without asking anyone", "[mta_sts_actor]") {
  MtaStsOptions o;
  o.enabled = false;
  Rig rig({"example.test"}, o);
  rig.zone->publish("example.test", {"v=STSv1; id=one"});
  rig.server->answer("mta-sts.example.test", 200, policy_text("enforce", "mx.example.test"));
  CHECK(rig.policy("example.test").mode == Mode::none);
  CHECK(rig.zone->questions() == 0);
  CHECK(rig.fetches("example.test") == 0);
}

TEST_CASE("mta-sts actor: the cache keeps the domains used last", "[mta_sts_actor]") {
  MtaStsOptions o;
  o.max_cache_entries = 2;
  Rig rig({"a.test", "b.test", "c.test"}, o);
  for (std::string d : {"a.test", "b.test", "c.test"}) {
    rig.zone->publish(d, {"v=STSv1; id=one"});
    rig.server->answer("mta-sts." + d, 200, policy_text("enforce", "mx." + d));
  }
  CHECK(rig.policy("a.test").mode == Mode::enforce);
  CHECK(rig.policy("b.test").mode == Mode::enforce);
  CHECK(rig.policy("a.test").mode == Mode::enforce);  // a used after b
  CHECK(rig.policy("c.test").mode == Mode::enforce);  // b goes
  CHECK(rig.policy("a.test").mode == Mode::enforce);
  CHECK(rig.fetches("a.test") == 1);
  CHECK(rig.policy("b.test").mode == Mode::enforce);
  CHECK(rig.fetches("b.test") == 2);
}
