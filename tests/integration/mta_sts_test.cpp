// End to end: MTA-STS policies served by a local HTTPS server (tests/support/sts_policy_server),
// their TXT records and every host by nsd, mail delivered by volleyd to a volley-receiver that
// offers STARTTLS with a certificate from the test's CA ([tls] ca_file trusts it).
//   enf.test     enforce, mx: mx.enf.test; its better-preference MX rogue.enf.test (with a valid
//                certificate) does not match and must not be used
//   badcert.test enforce, mx: mx.badcert.test, whose certificate does not carry that name:
//                deferred, never delivered in clear text
//   tst.test     testing, mx pattern matching nothing and a certificate that does not verify:
//                delivered anyway
// NOTE: written against i13-tls's delivery wiring (merged here) but not yet run: the build of
// the integration tests did not finish before the deadline. Remove the [.] tag once it passes:
//   ctest --test-dir build-test -R 'MTA-STS: enforce' (or integration_tests "[mta_sts]").
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "receiver_fixture.hpp"
#include "tests/support/sts_policy_server.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRecords =
    "_mta-sts.enf IN TXT \"v=STSv1; id=e1;\"\n"
    "mta-sts.enf IN A 127.0.0.1\n"
    "enf IN MX 10 rogue.enf\n"
    "enf IN MX 20 mx.enf\n"
    "rogue.enf IN A 127.0.0.5\n"
    "mx.enf IN A 127.0.0.6\n"
    "_mta-sts.badcert IN TXT \"v=STSv1; id=b1;\"\n"
    "mta-sts.badcert IN A 127.0.0.1\n"
    "badcert IN MX 10 mx.badcert\n"
    "mx.badcert IN A 127.0.0.7\n"
    "_mta-sts.tst IN TXT \"v=STSv1; id=t1;\"\n"
    "mta-sts.tst IN A 127.0.0.1\n"
    "tst IN MX 10 mx.tst\n"
    "mx.tst IN A 127.0.0.8\n";

std::string policy(const std::string& mode, const std::string& mx) {
  return "version: STSv1\nmode: " + mode + "\nmx: " + mx + "\nmax_age: 86400\n";
}

}  // namespace

TEST_CASE("MTA-STS: enforce picks matching MX hosts and needs a verified certificate, testing delivers",
          "[.][integration][mta_sts]") {  // hidden ([.]): not yet run, see the note above
  TempDir dir("volley-it-mta-sts");
  NsdServer nsd({test_zone(kRecords)});
  // One certificate for the policy hosts and the MX hosts that should verify (not mx.badcert,
  // not mx.tst), from the CA volleyd is told to trust.
  StsPolicyServer https({"mta-sts.enf.test", "mta-sts.badcert.test", "mta-sts.tst.test", "mx.enf.test",
                         "rogue.enf.test"});
  https.answer("mta-sts.enf.test", 200, policy("enforce", "mx.enf.test"));
  https.answer("mta-sts.badcert.test", 200, policy("enforce", "mx.badcert.test"));
  https.answer("mta-sts.tst.test", 200, policy("testing", "elsewhere.tst.test"));

  const auto smtp_port = free_port();
  const std::string p = ":" + std::to_string(smtp_port);
  SmtpReceiver receiver(dir / "receiver", "",
                        {"127.0.0.5" + p, "127.0.0.6" + p, "127.0.0.7" + p, "127.0.0.8" + p},
                        {"--tls-cert", (https.directory() / "server.pem").string(), "--tls-key",
                         (https.directory() / "server.key").string()});
  auto options = volleyd_options(nsd.port(), smtp_port);
  options.delivery_extra = "mta_sts_port = " + std::to_string(https.port()) + "\n";
  options.extra_toml = "[tls]\nca_file = \"" + https.ca_file() + "\"\n";
  Volleyd volleyd(dir / "volleyd", options);

  auto http = volleyd.client();
  for (std::string to : {"a@enf.test", "b@badcert.test", "c@tst.test"})
    inject(http, {{"from", "sender@volley.test"}, {"to", {to}}, {"subject", "sts " + to}, {"text", "hello\n"}});

  const bool settled = wait_until(
      [&] {
        const auto events = volleyd.events();
        return !events_for(events, "delivered", "a@enf.test").empty() &&
               !events_for(events, "delivered", "c@tst.test").empty() &&
               !events_for(events, "deferred", "b@badcert.test").empty();
      },
      120s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  const auto events = volleyd.events();
  INFO("events:\n" << [&] {
    std::string s;
    for (const auto& e : events) s += e.dump() + "\n";
    return s;
  }());
  REQUIRE(settled);

  const auto enf = events_for(events, "delivered", "a@enf.test");
  REQUIRE(enf.size() == 1);
  CHECK(enf[0].value("mx_host", "") == "mx.enf.test");
  REQUIRE(enf[0]["tls"].is_object());
  CHECK(enf[0]["tls"]["verified"] == true);
  CHECK(enf[0]["tls"]["policy"] == "mta-sts");
  CHECK(events_for(events, "deferred", "a@enf.test").empty());  // rogue.enf.test was never tried

  CHECK(events_for(events, "delivered", "b@badcert.test").empty());
  const auto deferred = events_for(events, "deferred", "b@badcert.test");
  REQUIRE_FALSE(deferred.empty());
  CHECK(deferred[0].dump().find("tls") != std::string::npos);

  const auto tst = events_for(events, "delivered", "c@tst.test");
  REQUIRE(tst.size() == 1);
  CHECK(tst[0].value("mx_host", "") == "mx.tst.test");

  // At the receiver: nobody connected to rogue.enf.test, b@badcert.test never reached RCPT, the
  // others came over TLS to the hosts their events name.
  INFO("receiver log:\n" << read_file(receiver.log_path()));
  const auto at = [](const json& e, const std::string& ip) { return e.value("local", "").rfind(ip + ":", 0) == 0; };
  for (const auto& e : receiver.events()) CHECK_FALSE(at(e, "127.0.0.5"));
  std::vector<std::string> rcpts;
  for (const auto& e : receiver.events("rcpt")) {
    const std::string r = e.value("recipient", "");
    rcpts.push_back(r);
    CHECK(e.value("tls", false));
    if (r == "a@enf.test") CHECK(at(e, "127.0.0.6"));
    if (r == "c@tst.test") CHECK(at(e, "127.0.0.8"));
  }
  CHECK(std::count(rcpts.begin(), rcpts.end(), "a@enf.test") == 1);
  CHECK(std::count(rcpts.begin(), rcpts.end(), "b@badcert.test") == 0);
  CHECK(std::count(rcpts.begin(), rcpts.end(), "c@tst.test") == 1);
  CHECK(https.requests("mta-sts.enf.test") == 1);
  CHECK(https.requests("mta-sts.badcert.test") >= 1);
}
