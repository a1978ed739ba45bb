// The MTA-STS actor with the real DNS actor: the _mta-sts TXT record and the policy host's A
// record served by nsd, the policy by a local HTTPS server.
#include "actors/mta_sts_actor.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <catch2/catch.hpp>

#include "tests/support/nsd_server.hpp"
#include "tests/support/sts_policy_server.hpp"
#include "tests/unit/actors/io_runtime.hpp"

using namespace volley;
using std::chrono_literals::operator""s;
using Mode = tls::StsPolicy::Mode;

namespace {

std::string zone(const std::string& id) {
  return "$ORIGIN sts.test.\n"
         "$TTL 300\n"
         "@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n"
         "@ IN NS ns1\n"
         "ns1 IN A 127.0.0.1\n"
         "_mta-sts IN TXT \"v=STSv1; \" \"id=" + id + ";\"\n"
         "_mta-sts IN TXT \"v=spf1 -all\"\n"
         "mta-sts IN A 127.0.0.1\n"
         "mx IN A 127.0.0.1\n"
         "@ IN MX 10 mx\n"
         // A policy host reached through a CNAME, as when the policy sits on a web host.
         "_mta-sts.alias IN TXT \"v=STSv1; id=a1\"\n"
         "mta-sts.alias IN CNAME web\n"
         "web IN A 127.0.0.1\n"
         // A record but no policy host.
         "_mta-sts.nohost IN TXT \"v=STSv1; id=n1\"\n";
}

tls::StsPolicy policy_of(caf::actor_system& sys, const mta_sts_actor& sts, const std::string& domain) {
  caf::scoped_actor self{sys};
  std::optional<tls::StsPolicy> out;
  self->request(sts, 60s, sts_atom::value, domain)
      .receive([&](const tls::StsPolicy& p) { out = p; },
               [&](const caf::error& e) { FAIL("request failed: " << self->system().render(e)); });
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE("mta-sts actor over nsd: the TXT record and the policy host come from DNS", "[mta_sts_actor][nsd]") {
  testing::IoRuntime rt;
  test::NsdServer nsd({{"sts.test", zone("20261205")}});
  test::StsPolicyServer https({"mta-sts.sts.test", "mta-sts.alias.sts.test", "mta-sts.nohost.sts.test"});
  https.answer("mta-sts.sts.test", 200,
               "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 604800\n");
  https.answer("mta-sts.alias.sts.test", 200, "version: STSv1\nmode: testing\nmx: *.sts.test\nmax_age: 600\n");

  DnsConfig dns_config;
  dns_config.servers.push_back(DnsServer{"127.0.0.1", nsd.port()});
  dns_config.timeout = std::chrono::milliseconds(2000);
  auto dns = spawn_dns_actor(*rt.system, rt.io, dns_config);
  MtaStsOptions options;
  options.port = https.port();
  options.ca_file = https.ca_file();
  options.fetch_timeout = 10s;
  auto sts = spawn_mta_sts_actor(*rt.system, rt.io, dns, options);

  auto p = policy_of(*rt.system, sts, "sts.test");
  CHECK(p.mode == Mode::enforce);
  CHECK(p.mx == std::vector<std::string>{"mx.sts.test"});
  CHECK(p.max_age == std::chrono::seconds(604800));
  CHECK(p.id == "20261205");  // from two character-strings joined
  CHECK(policy_of(*rt.system, sts, "sts.test") == p);
  CHECK(https.requests("mta-sts.sts.test") == 1);

  auto alias = policy_of(*rt.system, sts, "alias.sts.test");
  CHECK(alias.mode == Mode::testing);
  CHECK(alias.id == "a1");

  CHECK(policy_of(*rt.system, sts, "nohost.sts.test").mode == Mode::none);  // NXDOMAIN for the host
  CHECK(policy_of(*rt.system, sts, "nothing.sts.test").mode == Mode::none);  // no TXT record
  CHECK(https.requests("mta-sts.nohost.sts.test") == 0);

  caf::anon_send_exit(sts, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(dns, caf::exit_reason::user_shutdown);
}
