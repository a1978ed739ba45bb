// libspf2 through our DNS layer: every mechanism that needs a lookup (include, redirect, a, mx,
// ptr, exists) answered by a real NSD via DoctorResolver, never by /etc/resolv.conf. Sources are
// TEST-NET addresses (libspf2 passes loopback clients unconditionally).
#include "net/spf_evaluator.hpp"

#include <catch2/catch.hpp>

#include "tests/support/nsd_server.hpp"

using namespace volley;
using doctor::SpfResult;

namespace {

std::string zone() {
  return "$ORIGIN spf.test.\n"
         "$TTL 300\n"
         "@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n"
         "@ IN NS ns1\n"
         "ns1 IN A 127.0.0.1\n"
         "ip IN TXT \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::/32 -all\"\n"
         "inc IN TXT \"v=spf1 include:ip.spf.test ~all\"\n"
         "redir IN TXT \"v=spf1 redirect=ip.spf.test\"\n"
         "a IN TXT \"v=spf1 a:host.spf.test -all\"\n"
         "host IN A 192.0.2.20\n"
         "host IN AAAA 2001:db8::20\n"
         "mx IN TXT \"v=spf1 mx ?all\"\n"
         "mx IN MX 10 host\n"
         "split IN TXT \"v=spf1 ip4:192.0.2.30\" \" -all\"\n"
         "broken IN TXT \"v=spf1 ip4:192.0.2.10 bogus:x -all\"\n"
         "two IN TXT \"v=spf1 -all\"\n"
         "two IN TXT \"v=spf1 +all\"\n"
         "plain IN TXT \"not spf\"\n";
}

}  // namespace

TEST_CASE("SPF evaluated by libspf2 through the configured DNS server", "[net][spf]") {
  test::NsdServer nsd({{"spf.test", zone()}});
  DoctorResolver resolver(DnsTransport::Settings{{DnsServer{"127.0.0.1", nsd.port()}}, std::chrono::milliseconds(1000), 2});
  SpfEvaluator spf(resolver);
  auto result = [&](const std::string& domain, const std::string& address) {
    return spf.evaluate(domain, address, "mail.spf.test").result;
  };
  CHECK(result("ip.spf.test", "192.0.2.10") == SpfResult::pass);
  CHECK(result("ip.spf.test", "192.0.2.11") == SpfResult::fail);
  CHECK(result("ip.spf.test", "2001:db8::1") == SpfResult::pass);
  CHECK(spf.evaluate("ip.spf.test", "192.0.2.10", "x").record == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::/32 -all");
  CHECK(result("inc.spf.test", "192.0.2.10") == SpfResult::pass);
  CHECK(result("inc.spf.test", "198.51.100.1") == SpfResult::softfail);
  CHECK(result("redir.spf.test", "192.0.2.10") == SpfResult::pass);
  CHECK(result("redir.spf.test", "198.51.100.1") == SpfResult::fail);
  CHECK(result("a.spf.test", "192.0.2.20") == SpfResult::pass);
  CHECK(result("a.spf.test", "2001:db8::20") == SpfResult::pass);
  CHECK(result("a.spf.test", "192.0.2.21") == SpfResult::fail);
  CHECK(result("mx.spf.test", "192.0.2.20") == SpfResult::pass);
  CHECK(result("mx.spf.test", "192.0.2.21") == SpfResult::neutral);
  // A record in two character-strings is one record (RFC 7208 §3.3).
  CHECK(result("split.spf.test", "192.0.2.30") == SpfResult::pass);
  const auto broken = spf.evaluate("broken.spf.test", "192.0.2.10", "x");
  CHECK(broken.result == SpfResult::permerror);
  CHECK_FALSE(broken.detail.empty());
  CHECK(result("two.spf.test", "192.0.2.10") == SpfResult::permerror);
  CHECK(result("plain.spf.test", "192.0.2.10") == SpfResult::none);
  CHECK(result("nothing.spf.test", "192.0.2.10") == SpfResult::none);
  CHECK(resolver.lookup("nothing.spf.test", dns::RrType::txt).error == "NXDOMAIN");
}

TEST_CASE("a resolver that does not answer is a temperror, not a pass", "[net][spf]") {
  // Nothing listens on the discard port of loopback over UDP: ICMP ends each try at once.
  DoctorResolver resolver(DnsTransport::Settings{{DnsServer{"127.0.0.1", 9}}, std::chrono::milliseconds(200), 1});
  SpfEvaluator spf(resolver);
  CHECK(spf.evaluate("ip.spf.test", "192.0.2.10", "x").result == SpfResult::temperror);
  CHECK(resolver.lookup("ip.spf.test", dns::RrType::txt).status == dns::Status::temp_fail);
}
