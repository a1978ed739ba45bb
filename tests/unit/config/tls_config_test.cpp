// The TLS settings: [tls] ca_file, [delivery] mta_sts / mta_sts_port / dane, [dns] dnssec and the
// shaping layers' tls key.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"

using volley::Config;
using volley::parse_config;
using volley::tls::Mode;

namespace {

Config parsed(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  return *result.config;
}

std::string error_of(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  REQUIRE_FALSE(result.ok());
  return result.error;
}

}  // namespace

TEST_CASE("TLS settings: the defaults") {
  const Config c;
  CHECK(c.tls.ca_file.empty());
  CHECK(c.delivery.mta_sts);
  CHECK(c.delivery.mta_sts_port == 443);
  CHECK_FALSE(c.delivery.dane);
  CHECK_FALSE(c.dns.dnssec);
  CHECK(c.shaping.defaults.tls == Mode::opportunistic);
  const auto text = volley::default_config_toml();
  for (const char* key : {"[tls]", "ca_file =", "mta_sts =", "mta_sts_port =", "dane =", "dnssec =", "tls = "}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("TLS settings are read") {
  const auto c = parsed(
      "[tls]\nca_file = \"/etc/volley/ca.pem\"\n"
      "[dns]\ndnssec = true\n"
      "[delivery]\nmta_sts = false\nmta_sts_port = 8443\ndane = true\n"
      "[shaping.default]\ntls = \"required\"\n"
      "[[shaping.provider]]\nname = \"big\"\nmx_suffixes = [\".big.test\"]\ntls = \"opportunistic_verify\"\n"
      "[[shaping.domain]]\ndomain = \"old.test\"\ntls = \"disabled\"\n"
      "[[shaping.domain]]\ndomain = \"bank.test\"\ntls = \"required_insecure\"\n");
  CHECK(c.tls.ca_file == "/etc/volley/ca.pem");
  CHECK(c.dns.dnssec);
  CHECK_FALSE(c.delivery.mta_sts);
  CHECK(c.delivery.mta_sts_port == 8443);
  CHECK(c.delivery.dane);
  CHECK(c.shaping.defaults.tls == Mode::required);
  CHECK(c.shaping.providers.at(0).limits.tls == Mode::opportunistic_verify);
  CHECK(c.shaping.domains.at(0).limits.tls == Mode::disabled);
  CHECK(c.shaping.domains.at(1).limits.tls == Mode::required_insecure);

  const std::vector<std::string> mx = {"mx1.big.test"};
  CHECK(volley::delivery::resolve_shaping(c.shaping, "x.test", mx, "").limits.tls == Mode::opportunistic_verify);
  CHECK(volley::delivery::resolve_shaping(c.shaping, "old.test", mx, "").limits.tls == Mode::disabled);
  CHECK(volley::delivery::resolve_shaping(c.shaping, "y.test", {}, "").limits.tls == Mode::required);
}

TEST_CASE("TLS setting mistakes name file, line and key") {
  CHECK(error_of("[shaping.default]\ntls = \"sometimes\"\n") ==
        "volley.toml:2: [shaping.default] tls: expected \"opportunistic\", \"opportunistic_verify\", \"required\", "
        "\"required_insecure\" or \"disabled\", got \"sometimes\"");
  CHECK(error_of("[[shaping.domain]]\ndomain = \"a.test\"\ntls = true\n")
            .starts_with("volley.toml:3: [[shaping.domain]] tls: expected \"opportunistic\""));
  CHECK(error_of("[delivery]\nmta_sts = \"yes\"\n").starts_with("volley.toml:2: [delivery] mta_sts: expected true or false"));
  CHECK(error_of("[delivery]\nmta_sts_port = 0\n").starts_with("volley.toml:2: [delivery] mta_sts_port:"));
  CHECK(error_of("[dns]\ndnssec = 1\n").starts_with("volley.toml:2: [dns] dnssec: expected true or false"));
  CHECK(error_of("[tls]\nca_fil = \"x\"\n").starts_with("volley.toml:2: [tls] ca_fil: unknown key"));
  CHECK(error_of("[delivery]\ndane = true\n") ==
        "volley.toml:2: [delivery] dane: needs [dns] dnssec = true (TLSA records are trusted only from a validating "
        "resolver)");
  // [delivery] takes only the limit keys it always had: tls is a shaping key.
  CHECK(error_of("[delivery]\ntls = \"required\"\n").starts_with("volley.toml:2: [delivery] tls: unknown key"));
}
