// [unsubscribe]: one-click unsubscribe (RFC 8058).
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

TEST_CASE("unsubscribe config: off by default, documented in the default file") {
  const Config c;
  CHECK(c.unsubscribe.base_url.empty());
  CHECK_FALSE(c.unsubscribe.listen);
  const auto text = volley::default_config_toml();
  for (const char* key : {"# [unsubscribe]", "# base_url =", "# listen =", "# mailto_domain =", "# tls_certificate ="}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("unsubscribe config: the settings are read") {
  auto result = parse_config(
      "[smtp_in]\nlisten = \"127.0.0.1:0\"\n"
      "[unsubscribe]\nbase_url = \"https://mta.example.com/\"\nlisten = \"127.0.0.1:8081\"\n"
      "mailto_domain = \"Unsub.Example.com\"\n",
      "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  const auto& u = result.config->unsubscribe;
  CHECK(u.base_url == "https://mta.example.com");
  REQUIRE(u.listen);
  CHECK(u.listen->port == 8081);
  CHECK(u.mailto_domain == "unsub.example.com");
  CHECK(u.tls_certificate.empty());

  auto https = parse_config("[unsubscribe]\nbase_url = \"https://mta.example.com\"\nlisten = \"127.0.0.1:8443\"\n"
                            "tls_certificate = \"/etc/volley/tls/fullchain.pem\"\n"
                            "tls_private_key = \"/etc/volley/tls/privkey.pem\"\n",
                            "volley.toml");
  INFO(https.error);
  REQUIRE(https.ok());
  CHECK(https.config->unsubscribe.tls_certificate == "/etc/volley/tls/fullchain.pem");
  CHECK(https.config->unsubscribe.tls_private_key == "/etc/volley/tls/privkey.pem");

  auto with_port = parse_config("[unsubscribe]\nbase_url = \"https://mta.example.com:8443\"\n", "volley.toml");
  INFO(with_port.error);
  REQUIRE(with_port.ok());
  CHECK(with_port.config->unsubscribe.base_url == "https://mta.example.com:8443");
}

TEST_CASE("unsubscribe config: mistakes name file, line and key") {
  CHECK(error_of("[unsubscribe]\nlisten = \"127.0.0.1:0\"\n").find("volley.toml") != std::string::npos);
  CHECK(error_of("[unsubscribe]\nlisten = \"127.0.0.1:0\"\n").find("base_url") != std::string::npos);
  for (const char* url : {"http://mta.example.com", "https://mta.example.com/unsub", "https://", "mta.example.com",
                          "https://mta.example.com:0", "https://bad host"}) {
    INFO(url);
    const auto e = error_of(std::string("[unsubscribe]\nbase_url = \"") + url + "\"\n");
    CHECK(e.find("volley.toml:2: [unsubscribe] base_url") != std::string::npos);
  }
  CHECK(error_of("[unsubscribe]\nbase_url = \"https://m.example\"\nmailto_domain = \"unsub.example\"\n")
            .find("volley.toml:3: [unsubscribe] mailto_domain: needs [smtp_in] listen") != std::string::npos);
  CHECK(error_of("[unsubscribe]\nbase_url = \"https://m.example\"\nlisten = \"127.0.0.1:0\"\ntls_certificate = \"/x\"\n")
            .find("volley.toml:4: [unsubscribe] tls_certificate: HTTPS needs both") != std::string::npos);
  CHECK(error_of("[unsubscribe]\nbase_url = \"https://m.example\"\ntls_certificate = \"/x\"\ntls_private_key = \"/y\"\n")
            .find("[unsubscribe] tls_certificate: needs listen") != std::string::npos);
  CHECK(error_of("[unsubscribe]\nbase_url = \"https://m.example\"\ntls = true\n").find("unknown key") != std::string::npos);
}
