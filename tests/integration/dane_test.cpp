// DANE end to end (RFC 7672): zones signed with ldns-signzone, served by nsd and validated by
// unbound (tests/support/dnssec_rig.hpp), volleyd with [dns] dnssec and [delivery] dane asking
// unbound; volley-receiver offers STARTTLS with a self-signed certificate. A TLSA 3 1 1 record
// that matches the certificate delivers (policy "dane", verified); a wrong one defers with
// tls_required and the message never leaves in clear text.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "receiver_fixture.hpp"
#include "tests/support/dnssec_rig.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string sh(const TempDir& dir, const std::string& command) {
  auto [status, out] = run_with_input({"/bin/sh", "-c", command}, "", dir.path());
  INFO(command << "\n" << out);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("DANE: a matching TLSA record delivers over verified TLS, a wrong one defers", "[integration][dane]") {
  TempDir dir("volley-it-dane");
  const auto key = (dir / "mx.key").string(), cert = (dir / "mx.pem").string();
  // One self-signed certificate for both MX hosts: DANE-EE needs no CA and checks no name.
  sh(dir, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key + " -out " +
              cert + " -days 2 -subj /CN=mx.dane.test 2>&1");
  const std::string spki_sha256 =
      sh(dir, "openssl x509 -in " + cert + " -noout -pubkey | openssl pkey -pubin -outform DER | "
              "openssl dgst -sha256 -hex | sed 's/^.*= //'");
  REQUIRE(spki_sha256.size() == 64);
  const std::string wrong(64, 'a');

  DnssecRig rig({RigZone{NsdZone{"dane.test", zone_file(Zone{"dane.test",
                                                                 "@ IN MX 10 mx\n"
                                                                 "mx IN A 127.0.0.1\n"
                                                                 "_25._tcp.mx IN TLSA 3 1 1 " + spki_sha256 + "\n"})},
                         true, {}},
                 RigZone{NsdZone{"wrong.test", zone_file(Zone{"wrong.test",
                                                                  "@ IN MX 10 mx\n"
                                                                  "mx IN A 127.0.0.2\n"
                                                                  "_25._tcp.mx IN TLSA 3 1 1 " + wrong + "\n"})},
                         true, {}}});
  const auto port = free_port();
  const std::vector<std::string> tls_args{"--tls-cert", cert, "--tls-key", key};
  SmtpReceiver good(dir / "good", "", {"127.0.0.1:" + std::to_string(port)}, tls_args);
  SmtpReceiver bad(dir / "bad", "", {"127.0.0.2:" + std::to_string(port)}, tls_args);
  auto options = volleyd_options(rig.resolver_port(), port);
  options.dns_extra = "dnssec = true\n";
  options.delivery_extra = "dane = true\n";
  Volleyd volleyd(dir / "volleyd", options);

  auto http = volleyd.client();
  for (std::string to : {"a@dane.test", "b@wrong.test"}) {
    const json m = {{"from", "sender@volley.test"}, {"to", {to}}, {"subject", "dane"}, {"text", "hello\n"}};
    const auto res = http.post_json("/api/v1/messages", m.dump());
    REQUIRE(res.status == 202);
  }
  const bool settled = wait_until(
      [&] {
        const auto events = volleyd.events();
        return !events_for(events, "delivered", "a@dane.test").empty() &&
               events_for(events, "deferred", "b@wrong.test").size() >= 2;
      },
      90s, 100ms);
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE(settled);
  const auto events = volleyd.events();
  const auto delivered = events_for(events, "delivered", "a@dane.test").at(0);
  INFO(delivered.dump());
  REQUIRE(delivered["tls"].is_object());
  CHECK(delivered["tls"]["policy"] == "dane");
  CHECK(delivered["tls"]["verified"] == true);
  for (const auto& d : events_for(events, "deferred", "b@wrong.test")) {
    INFO(d.dump());
    CHECK(d.value("category", "") == "tls_required");
  }
  CHECK(events_for(events, "delivered", "b@wrong.test").empty());
  CHECK(bad.events("rcpt").empty());  // never a recipient in clear text, nor under a bad TLS
  CHECK_FALSE(bad.events("tls").empty());
}
