// A reload renews the certificates of the SMTP listeners ([smtp_in], [submission]) and of the
// unsubscribe listener, as it does the API's: new connections get the renewed one, judged by
// openssl s_client (STARTTLS for SMTP, TLS from the first byte for HTTPS); a pair that does not
// match refuses the reload and the running certificate stays.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "../support/test_pki.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;

namespace {

// The issuer of the certificate a listener serves to a new connection, as openssl sees it.
std::string served_issuer(const std::filesystem::path& dir, std::uint16_t port, bool starttls) {
  const std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              (starttls ? " -starttls smtp" : "") +
                              " -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -issuer";
  return run_with_input({"/bin/sh", "-c", command}, "", dir).second;
}

void write_pair(const TestPki& pki, const std::filesystem::path& dir) {
  const auto leaf = pki.issue({"localhost"});
  write_file(dir / "cert.pem", TestPki::chain_pem(leaf, pki.ca()));
  write_file(dir / "key.pem", leaf.key_pem());
}

}  // namespace

TEST_CASE("a reload renews the certificates of the SMTP listeners and the unsubscribe listener",
          "[integration][https][reload]") {
  TempDir dir("volley-it-listener-tls");
  TestPki first("Volley First CA");
  write_pair(first, dir.path());
  const auto submission_port = free_port(), bounce_port = free_port(), unsubscribe_port = free_port();
  const std::string pair = "tls_certificate = \"" + (dir / "cert.pem").string() + "\"\ntls_private_key = \"" +
                           (dir / "key.pem").string() + "\"\n";
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.extra_toml = "[submission]\nlisten = \"127.0.0.1:" + std::to_string(submission_port) + "\"\n" + pair +
                    "[smtp_in]\nlisten = \"127.0.0.1:" + std::to_string(bounce_port) + "\"\n" +
                    "domains = [\"bounces.volley.test\"]\n" + pair +
                    "[unsubscribe]\nbase_url = \"https://localhost\"\nlisten = \"127.0.0.1:" +
                    std::to_string(unsubscribe_port) + "\"\n" + pair;
  Volleyd volleyd(dir / "volleyd", opts);
  INFO(volleyd.log());
  CHECK(served_issuer(dir.path(), submission_port, true).find("Volley First CA") != std::string::npos);
  CHECK(served_issuer(dir.path(), bounce_port, true).find("Volley First CA") != std::string::npos);
  CHECK(served_issuer(dir.path(), unsubscribe_port, false).find("Volley First CA") != std::string::npos);

  // Renewed by another CA in the same files: the reload names each listener, new connections
  // get the new certificate.
  TestPki renewed("Volley Renewal CA");
  write_pair(renewed, dir.path());
  auto api = volleyd.client();
  const auto reloaded = api.post_json("/api/v1/reload", "");
  REQUIRE(reloaded.status == 200);
  const auto answer = json::parse(reloaded.body);
  CHECK(answer["changed"] == json::array({"smtp_in.tls", "submission.tls", "unsubscribe.tls"}));
  CHECK(answer["restart_required"] == json::array());
  CHECK(served_issuer(dir.path(), submission_port, true).find("Volley Renewal CA") != std::string::npos);
  CHECK(served_issuer(dir.path(), bounce_port, true).find("Volley Renewal CA") != std::string::npos);
  CHECK(served_issuer(dir.path(), unsubscribe_port, false).find("Volley Renewal CA") != std::string::npos);
  // The same files again: nothing changed.
  CHECK(json::parse(api.post_json("/api/v1/reload", "").body)["changed"] == json::array());

  // A key that is not the certificate's: refused, naming the first listener; the renewed stays.
  write_file(dir / "key.pem", renewed.issue({"localhost"}).key_pem());
  const auto refused = api.post_json("/api/v1/reload", "");
  CHECK(refused.status == 422);
  CHECK(refused.body.find("[smtp_in]: TLS private key") != std::string::npos);
  CHECK(served_issuer(dir.path(), submission_port, true).find("Volley Renewal CA") != std::string::npos);
}
