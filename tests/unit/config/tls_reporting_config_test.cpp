// [tls_reporting]: SMTP TLS Reporting (RFC 8460).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "core/config/config.hpp"

using volley::Config;
using volley::parse_config;

namespace {

std::string error_of(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  REQUIRE_FALSE(result.ok());
  return result.error;
}

}  // namespace

TEST_CASE("TLS reporting: off by default, documented in the default file") {
  const Config c;
  CHECK_FALSE(c.tls_reporting.enabled);
  CHECK(c.tls_reporting.https_port == 443);
  const auto text = volley::default_config_toml();
  for (const char* key : {"[tls_reporting]", "organization_name =", "contact_info =", "from =", "submitter =", "https_port ="}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("TLS reporting settings are read") {
  auto result = parse_config(
      "[tls_reporting]\nenabled = true\norganization_name = \"Example Mail\"\n"
      "contact_info = \"mailto:postmaster@example.com\"\nfrom = \"tlsrpt@example.com\"\n"
      "submitter = \"mta.example.com\"\nhttps_port = 8443\n",
      "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  const auto& r = result.config->tls_reporting;
  CHECK(r.enabled);
  CHECK(r.organization_name == "Example Mail");
  CHECK(r.contact_info == "mailto:postmaster@example.com");
  CHECK(r.from == "tlsrpt@example.com");
  CHECK(r.submitter == "mta.example.com");
  CHECK(r.https_port == 8443);
}

TEST_CASE("TLS reporting: on without an identity, bad values and unknown keys are errors") {
  CHECK(error_of("[tls_reporting]\nenabled = true\n").find("organization_name, contact_info and from") !=
        std::string::npos);
  CHECK(error_of("[tls_reporting]\nfrom = \"not an address\"\n").find("from") != std::string::npos);
  CHECK(error_of("[tls_reporting]\nsubmitter = \"bad host!\"\n").find("submitter") != std::string::npos);
  CHECK(error_of("[tls_reporting]\nhttps_port = 0\n").find("https_port") != std::string::npos);
  CHECK(error_of("[tls_reporting]\nrua = \"x\"\n").find("rua") != std::string::npos);
}
