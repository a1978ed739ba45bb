#include <catch2/catch.hpp>

#include "core/config/config.hpp"

using namespace std::chrono_literals;

namespace {

volley::Config parsed(std::string_view text) {
  auto result = volley::parse_config(text, "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  return *result.config;
}

std::string error_of(std::string_view text) {
  auto result = volley::parse_config(text, "volley.toml");
  REQUIRE_FALSE(result.ok());
  return result.error;
}

}  // namespace

TEST_CASE("[[dkim]] entries are read with their defaults", "[config]") {
  const auto c = parsed(R"(
[[dkim]]
domain = "Example.COM"
selector = "s2026r"
key_file = "/etc/volley/dkim/example.com.s2026r.pem"

[[dkim]]
domain = "example.com"
selector = "s2026e"
key_file = "/etc/volley/dkim/example.com.s2026e.pem"
subdomains = true
headers = ["From", "Subject", "List-Id"]
over_sign = []
expiration = "7d"
tenant = "acme"
canonicalization = "simple/relaxed"
)");
  REQUIRE(c.dkim.size() == 2);
  CHECK(c.dkim[0].domain == "example.com");
  CHECK(c.dkim[0].selector == "s2026r");
  CHECK_FALSE(c.dkim[0].subdomains);
  CHECK_FALSE(c.dkim[0].headers);
  CHECK_FALSE(c.dkim[0].over_sign);
  CHECK(c.dkim[0].expiration == 0s);
  CHECK(c.dkim[0].tenant.empty());
  CHECK(c.dkim[0].canonicalization == "relaxed/relaxed");
  CHECK(c.dkim[1].subdomains);
  CHECK(c.dkim[1].headers == std::vector<std::string>{"From", "Subject", "List-Id"});
  CHECK(c.dkim[1].over_sign == std::vector<std::string>{});
  CHECK(c.dkim[1].expiration == 7 * 24h);
  CHECK(c.dkim[1].tenant == "acme");
  CHECK(c.dkim[1].canonicalization == "simple/relaxed");
  CHECK(volley::Config{}.dkim.empty());
}

TEST_CASE("bad [[dkim]] entries are refused with their line and key", "[config]") {
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\n"),
             Catch::Contains("selector: missing") && Catch::Contains("key_file: missing"));
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey_file = \"k\"\ncanonicalization = \"loose\"\n"),
             Catch::Contains("volley.toml:5") && Catch::Contains("canonicalization"));
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey_file = \"k\"\nheaders = [\"Subject\"]\n"),
             Catch::Contains("must include From"));
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey_file = \"k\"\n"
                      "[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey_file = \"k2\"\n"),
             Catch::Contains("is used for"));
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\nselector = \"bad_selector!\"\nkey_file = \"k\"\n"),
             Catch::Contains("selector"));
  CHECK_THAT(error_of("[[dkim]]\ndomain = \"example.com\"\nselector = \"s\"\nkey_file = \"k\"\nalgorithm = \"rsa\"\n"),
             Catch::Contains("unknown key"));
}
