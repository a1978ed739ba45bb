// The DNS actor behind a real validating resolver (tests/support/dnssec_rig.hpp: a zone signed
// at test time, nsd serving it, unbound validating it): MX and TLSA answers are secure only
// from the signed zone, with [dns] dnssec on; a bogus signature is a failure, never data.
#include "actors/dns_actor.hpp"

#include <catch2/catch.hpp>

#include "actors/messages.hpp"
#include "dns_runtime.hpp"
#include "tests/support/dnssec_rig.hpp"

using namespace volley;
using volley::test::ask;
using volley::test::config_for;
using volley::test::Runtime;

namespace {

const std::string good_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string spoiled_hash = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

std::string zone(const std::string& origin, const std::string& records) {
  return "$ORIGIN " + origin + ".\n$TTL 30\n@ IN SOA ns hostmaster 1 3600 600 86400 30\n" +
         "@ IN NS ns\nns IN A 127.0.0.1\n" + records;
}

test::DnssecRig make_rig() {
  const std::string records =
      "@ IN MX 10 mx\n"
      "mx IN A 127.0.0.1\n"
      "_25._tcp.mx IN TLSA 3 1 1 " + good_hash + "\n"
      "bad IN MX 10 mx.bad\n"
      "mx.bad IN A 127.0.0.1\n"
      "_25._tcp.mx.bad IN TLSA 3 1 1 " + good_hash + "\n"
      "_mta-sts IN TXT \"v=STSv1; id=1\"\n";
  // The TLSA record of mx.bad changed after signing: unbound finds its signature bogus.
  test::RigZone signed_zone{{"signed.test", zone("signed.test", records)},
                            true,
                            {{"mx.bad.signed.test.\t30\tIN\tTLSA\t3 1 1 " + good_hash,
                              "mx.bad.signed.test.\t30\tIN\tTLSA\t3 1 1 " + spoiled_hash}}};
  test::RigZone plain_zone{{"plain.test", zone("plain.test", records)}, false, {}};
  return test::DnssecRig({signed_zone, plain_zone});
}

dns::TlsaResolution tlsa(caf::scoped_actor& self, const dns_actor& dns, const std::string& host) {
  return ask<dns::TlsaResolution>(self, dns, tlsa_atom::value, host, std::uint16_t{25});
}

dns::MxResolution mx(caf::scoped_actor& self, const dns_actor& dns, const std::string& domain) {
  return ask<dns::MxResolution>(self, dns, resolve_atom::value, domain);
}

}  // namespace

TEST_CASE("DNSSEC: secure MX and TLSA through unbound for a signed zone, not for an unsigned one",
          "[actors][dns][dnssec]") {
  auto rig = make_rig();
  Runtime rt;
  {
    caf::scoped_actor self{*rt.system};
    auto cfg = config_for({rig.resolver_port()}, std::chrono::seconds(5), 2);
    cfg.dnssec = true;
    auto dns = spawn_dns_actor(*rt.system, rt.io, cfg);

    auto secure_mx = mx(self, dns, "signed.test");
    INFO(rig.unbound_log());
    REQUIRE(secure_mx.status == dns::Status::ok);
    REQUIRE(secure_mx.hosts.size() == 1);
    CHECK(secure_mx.hosts[0].name == "mx.signed.test");
    CHECK(secure_mx.secure);

    auto secure_tlsa = tlsa(self, dns, "mx.signed.test");
    REQUIRE(secure_tlsa.status == dns::Status::ok);
    REQUIRE(secure_tlsa.records.size() == 1);
    CHECK(secure_tlsa.records[0].usage == 3);
    CHECK(secure_tlsa.secure);

    auto sts = ask<dns::TxtResolution>(self, dns, txt_atom::value,
                                       std::string("_mta-sts.signed.test"));
    REQUIRE(sts.status == dns::Status::ok);
    CHECK(sts.texts == std::vector<std::string>{"v=STSv1; id=1"});
    CHECK(sts.secure);

    // An authenticated denial: secure, and no records.
    auto none = ask<dns::TlsaResolution>(self, dns, tlsa_atom::value,
                                         std::string("mx.signed.test"), std::uint16_t{465});
    CHECK(none.status == dns::Status::perm_fail);
    CHECK(none.secure);

    // The same records, unsigned: answered, never secure.
    auto plain_mx = mx(self, dns, "plain.test");
    REQUIRE(plain_mx.status == dns::Status::ok);
    CHECK_FALSE(plain_mx.secure);
    auto plain_tlsa = tlsa(self, dns, "mx.plain.test");
    REQUIRE(plain_tlsa.status == dns::Status::ok);
    CHECK_FALSE(plain_tlsa.secure);

    // A bogus signature: SERVFAIL from unbound, a temp_fail here, and no records.
    auto bogus = tlsa(self, dns, "mx.bad.signed.test");
    CHECK(bogus.status == dns::Status::temp_fail);
    CHECK(bogus.records.empty());
    CHECK_FALSE(bogus.secure);
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
  {
    // With [dns] dnssec off the AD bit is neither asked for nor believed.
    caf::scoped_actor self{*rt.system};
    auto dns = spawn_dns_actor(*rt.system, rt.io,
                               config_for({rig.resolver_port()}, std::chrono::seconds(5), 2));
    auto r = tlsa(self, dns, "mx.signed.test");
    REQUIRE(r.status == dns::Status::ok);
    CHECK_FALSE(r.secure);
    CHECK_FALSE(mx(self, dns, "signed.test").secure);
    self->send_exit(dns, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("DNSSEC: nsd alone (no validating resolver) never gives secure answers",
          "[actors][dns][dnssec]") {
  auto rig = make_rig();
  Runtime rt;
  caf::scoped_actor self{*rt.system};
  auto cfg = config_for({rig.authority_port()});
  cfg.dnssec = true;
  auto dns = spawn_dns_actor(*rt.system, rt.io, cfg);
  auto r = tlsa(self, dns, "mx.signed.test");
  REQUIRE(r.status == dns::Status::ok);
  CHECK_FALSE(r.secure);
  // nsd serves the tampered record as it is: only a validator sees that it is bogus.
  auto bogus = tlsa(self, dns, "mx.bad.signed.test");
  CHECK(bogus.status == dns::Status::ok);
  CHECK_FALSE(bogus.secure);
  self->send_exit(dns, caf::exit_reason::user_shutdown);
}
