// Outbound STARTTLS end to end, against volley-receiver offering STARTTLS with certificates the
// test makes (openssl, in its directory): opportunistic TLS with a self-signed certificate
// delivers and the event shows the version and cipher; "required" defers (4xx tls_required,
// never bounced) until the CA is trusted through [tls] ca_file; a receiver whose handshakes fail
// gets its mail in clear text under "opportunistic" and never under "required". The TLS metrics
// count all of it.
#include <catch2/catch.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dns_zone.hpp"
#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

void openssl(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto [status, output] = run_with_input(argv, "", dir.path());
  INFO(output);
  REQUIRE(status == 0);
}

// A P-256 key and a certificate for `host`: self-signed, or signed by the CA made before.
struct Certificate {
  std::string cert, key;
};

Certificate self_signed(const TempDir& dir, const std::string& host) {
  Certificate c{(dir / (host + ".pem")).string(), (dir / (host + ".key")).string()};
  openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                c.key, "-out", c.cert, "-days", "2", "-subj", "/CN=" + host, "-addext", "subjectAltName=DNS:" + host});
  return c;
}

// A CA (ca.pem) and a certificate it signed for `host`.
Certificate ca_signed(const TempDir& dir, const std::string& host, std::string* ca_file) {
  *ca_file = (dir / "ca.pem").string();
  const auto ca_key = (dir / "ca.key").string();
  openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                ca_key, "-out", *ca_file, "-days", "2", "-subj", "/CN=Volley Test CA"});
  Certificate c{(dir / (host + ".pem")).string(), (dir / (host + ".key")).string()};
  const auto csr = (dir / (host + ".csr")).string();
  openssl(dir, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key, "-out",
                csr, "-subj", "/CN=" + host});
  write_file(dir / "san.ext", "subjectAltName=DNS:" + host + "\n");
  openssl(dir, {"x509", "-req", "-in", csr, "-CA", *ca_file, "-CAkey", ca_key, "-CAcreateserial", "-out", c.cert,
                "-days", "2", "-extfile", (dir / "san.ext").string()});
  return c;
}

void inject(Volleyd& volleyd, const std::string& to) {
  auto http = volleyd.client();
  const json m = {{"from", "sender@volley.test"}, {"to", {to}}, {"subject", "tls"}, {"text", "over TLS?\n"}};
  const auto res = http.post_json("/api/v1/messages", m.dump());
  INFO(res.body);
  REQUIRE(res.status == 202);
}

std::size_t count_of(const Volleyd& volleyd, const std::string& kind, const std::string& rcpt) {
  return events_for(volleyd.events(), kind, rcpt).size();
}

// The value of one series of GET /metrics, e.g. volley_tls_sessions_total{result="clear"}; 0 when absent.
double metric(Volleyd& volleyd, const std::string& series) {
  auto http = volleyd.client();
  const auto res = http.get("/metrics");
  REQUIRE(res.status == 200);
  std::istringstream in(res.body);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return 0;
}

std::uint64_t accepted_for(const SmtpReceiver& receiver, const std::string& domain) {
  const auto stats = receiver.stats();
  if (!stats.contains("domains") || !stats["domains"].contains(domain)) return 0;
  return stats["domains"][domain].value("accepted", 0ull);
}

}  // namespace

TEST_CASE("tls: opportunistic STARTTLS with a self-signed certificate delivers, the event shows version and cipher",
          "[integration][tls]") {
  TempDir dir("volley-it-tls-opportunistic");
  const auto cert = self_signed(dir, "mx.tls.test");
  SmtpReceiver receiver(dir / "receiver", "", {"127.0.0.1:0"}, {"--tls-cert", cert.cert, "--tls-key", cert.key});
  NsdServer nsd({test_zone("tls IN MX 10 mx.tls\nmx.tls IN A 127.0.0.1\n")});
  Volleyd volleyd(dir / "volleyd", volleyd_options(nsd.port(), receiver.port()));

  inject(volleyd, "a@tls.test");
  inject(volleyd, "b@tls.test");
  REQUIRE(wait_until([&] { return count_of(volleyd, "delivered", "a@tls.test") + count_of(volleyd, "delivered", "b@tls.test") == 2; },
                     60s, 50ms));
  for (const char* rcpt : {"a@tls.test", "b@tls.test"}) {
    const auto e = events_for(volleyd.events(), "delivered", rcpt).at(0);
    INFO(e.dump());
    REQUIRE(e.contains("tls"));
    REQUIRE(e["tls"].is_object());
    CHECK(e["tls"].value("version", "").rfind("TLSv1.", 0) == 0);
    CHECK_FALSE(e["tls"].value("cipher", "").empty());
    CHECK(e["tls"].value("verified", true) == false);  // self-signed, not judged
    CHECK(e["tls"].value("policy", "") == "opportunistic");
  }
  REQUIRE(wait_until([&] { return receiver.stats().value("tls_messages", 0) == 2; }, 10s, 50ms));
  CHECK(metric(volleyd, "volley_tls_sessions_total{result=\"encrypted\"}") >= 1);
  CHECK(metric(volleyd, "volley_tls_sessions_total{result=\"failed\"}") == 0);
}

TEST_CASE("tls: required defers with tls_required until the CA is trusted through [tls] ca_file",
          "[integration][tls]") {
  TempDir dir("volley-it-tls-required");
  std::string ca_file;
  const auto cert = ca_signed(dir, "mx.req.test", &ca_file);
  SmtpReceiver receiver(dir / "receiver", "", {"127.0.0.1:0"}, {"--tls-cert", cert.cert, "--tls-key", cert.key});
  NsdServer nsd({test_zone("req IN MX 10 mx.req\nmx.req IN A 127.0.0.1\n")});
  auto options = volleyd_options(nsd.port(), receiver.port());
  options.extra_toml = "[[shaping.domain]]\ndomain = \"req.test\"\ntls = \"required\"\n";
  std::optional<Volleyd> volleyd;
  volleyd.emplace(dir / "volleyd", options);

  inject(*volleyd, "r@req.test");
  REQUIRE(wait_until([&] { return count_of(*volleyd, "deferred", "r@req.test") >= 2; }, 60s, 50ms));
  for (const auto& e : events_for(volleyd->events(), "deferred", "r@req.test")) {
    INFO(e.dump());
    CHECK(e.value("category", "") == "tls_required");
    CHECK(e.value("reply", "").find("451 4.7.10 tls_required: TLS handshake failed") == 0);
  }
  CHECK(count_of(*volleyd, "bounced", "r@req.test") == 0);
  CHECK(count_of(*volleyd, "delivered", "r@req.test") == 0);
  CHECK(accepted_for(receiver, "req.test") == 0);
  CHECK(metric(*volleyd, "volley_tls_sessions_total{result=\"failed\"}") >= 2);
  CHECK(metric(*volleyd, "volley_tls_policy_failures_total{policy=\"required\",reason=\"certificate\"}") >= 2);

  // The CA trusted: the next attempt verifies and delivers.
  volleyd.reset();
  options.extra_toml += "[tls]\nca_file = \"" + ca_file + "\"\n";
  volleyd.emplace(dir / "volleyd", options);
  REQUIRE(wait_until([&] { return count_of(*volleyd, "delivered", "r@req.test") == 1; }, 60s, 50ms));
  const auto e = events_for(volleyd->events(), "delivered", "r@req.test").at(0);
  INFO(e.dump());
  CHECK(e["tls"].value("verified", false));
  CHECK(e["tls"].value("policy", "") == "required");
  CHECK(accepted_for(receiver, "req.test") == 1);
  CHECK(metric(*volleyd, "volley_tls_sessions_total{result=\"verified\"}") >= 1);
}

TEST_CASE("tls: a receiver whose handshake fails gets the mail in clear text under opportunistic, never under required",
          "[integration][tls]") {
  TempDir dir("volley-it-tls-broken");
  // Two receivers whose handshakes fail, one per domain, on one port (every MX is on smtp_port).
  SmtpReceiver may(dir / "may", "", {"127.0.0.1:0"}, {"--tls-broken"});
  SmtpReceiver must(dir / "must", "", {"127.0.0.2:" + std::to_string(may.port())}, {"--tls-broken"});
  NsdServer nsd({test_zone("may IN MX 10 mx.may\nmx.may IN A 127.0.0.1\n"
                           "must IN MX 10 mx.must\nmx.must IN A 127.0.0.2\n")});
  auto options = volleyd_options(nsd.port(), may.port());
  options.extra_toml = "[[shaping.domain]]\ndomain = \"must.test\"\ntls = \"required_insecure\"\n";
  Volleyd volleyd(dir / "volleyd", options);

  inject(volleyd, "x@may.test");
  inject(volleyd, "y@must.test");
  REQUIRE(wait_until([&] { return count_of(volleyd, "delivered", "x@may.test") == 1; }, 60s, 50ms));
  const auto e = events_for(volleyd.events(), "delivered", "x@may.test").at(0);
  INFO(e.dump());
  REQUIRE(e.contains("tls"));
  CHECK(e["tls"].is_null());  // clear text, on a new connection after the failed handshake
  CHECK(may.events("tls").size() == 1);
  REQUIRE(wait_until([&] { return count_of(volleyd, "deferred", "y@must.test") >= 2; }, 60s, 50ms));
  for (const auto& d : events_for(volleyd.events(), "deferred", "y@must.test")) {
    INFO(d.dump());
    CHECK(d.value("category", "") == "tls_required");
    CHECK(d.value("reply", "").find("tls_required: TLS handshake failed") != std::string::npos);
  }
  CHECK(count_of(volleyd, "bounced", "y@must.test") == 0);
  CHECK(accepted_for(may, "may.test") == 1);
  CHECK(accepted_for(must, "must.test") == 0);
  CHECK(must.events("tls").size() >= 2);
  CHECK(must.events("mail").empty());  // never a word of the message in clear text
  CHECK(metric(volleyd, "volley_tls_policy_failures_total{policy=\"opportunistic\",reason=\"handshake\"}") == 1);
  CHECK(metric(volleyd, "volley_tls_policy_failures_total{policy=\"required_insecure\",reason=\"handshake\"}") >= 2);
  CHECK(metric(volleyd, "volley_tls_sessions_total{result=\"clear\"}") >= 1);

  // may.test's MX host is remembered as TLS-broken: once the first session has gone, the next
  // one does not ask for STARTTLS.
  REQUIRE(wait_until([&] { return may.events("close").size() == may.events("connect").size(); }, 30s, 50ms));
  inject(volleyd, "z@may.test");
  REQUIRE(wait_until([&] { return count_of(volleyd, "delivered", "z@may.test") == 1; }, 60s, 50ms));
  CHECK(may.events("connect").size() == 3);
  CHECK(may.events("tls").size() == 1);
}
