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

constexpr std::string_view kHash = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7";

}  // namespace

TEST_CASE("[submission] and [[submission_user]] are read with their defaults", "[config]") {
  const auto c = parsed(std::string(R"(
[submission]
listen = "127.0.0.1:2587"
implicit_tls_listen = "127.0.0.1:2465"
hostname = "smtp.example.com"
tls_certificate = "/etc/volley/tls/fullchain.pem"
tls_private_key = "/etc/volley/tls/privkey.pem"
max_message_size = "25MiB"
trusted_networks = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]

[[submission_user]]
name = "newsletter-app"
password_hash = ")") + std::string(kHash) + R"("
tenant = "acme"
sender_domains = ["Acme.Example", "news.acme.example"]
max_messages = "1000/h"
max_recipients = 20

[[submission_user]]
name = "other"
password_hash = "$6$saltsalt$0123456789abcdef"
sender_domains = ["other.example"]
)");
  CHECK(c.submission.listen->port == 2587);
  CHECK(c.submission.implicit_tls_listen->port == 2465);
  CHECK(c.submission.hostname == "smtp.example.com");
  CHECK(c.submission.max_message_size == 25u << 20);
  CHECK(c.submission.trusted_networks.size() == 3);
  CHECK(c.submission.trusted_tenant == "default");
  CHECK(c.submission.auth_lockout == 900s);
  REQUIRE(c.submission_users.size() == 2);
  const auto& u = c.submission_users[0];
  CHECK(u.tenant == "acme");
  CHECK(u.sender_domains == std::vector<std::string>{"acme.example", "news.acme.example"});
  CHECK(u.max_messages.count == 1000);
  CHECK(u.max_messages.period_ms == 3'600'000);
  CHECK(u.max_recipients == 20);
  CHECK(c.submission_users[1].max_messages.unlimited());
  CHECK(c.submission_users[1].max_recipients == 100);
  CHECK(c.submission_users[1].tenant == "default");
}

TEST_CASE("A clear-text password in [[submission_user]] is refused, naming the key", "[config]") {
  const auto e = error_of(R"(
[[submission_user]]
name = "app"
password_hash = "hunter2hunter2hunter2"
sender_domains = ["example.com"]
)");
  CHECK_THAT(e, Catch::Contains("volley.toml:4: [[submission_user]] password_hash"));
  CHECK_THAT(e, Catch::Contains("never a clear-text password"));
}

TEST_CASE("[[submission_user]] problems name their key", "[config]") {
  CHECK_THAT(error_of(R"(
[[submission_user]]
name = "app"
password_hash = "$6$saltsalt$0123456789abcdef"
)"), Catch::Contains("sender_domains: missing"));
  CHECK_THAT(error_of(R"(
[[submission_user]]
name = "app"
password_hash = "$6$saltsalt$0123456789abcdef"
sender_domains = ["example.com"]
max_messages = "many"
)"), Catch::Contains("[[submission_user]] max_messages: expected a rate"));
  CHECK_THAT(error_of(R"(
[[submission_user]]
name = "app"
password_hash = "$6$saltsalt$0123456789abcdef"
sender_domains = ["example.com"]
passwd = "x"
)"), Catch::Contains("passwd"));
  CHECK_THAT(error_of(R"(
[[submission_user]]
name = "app"
password_hash = "$6$saltsalt$0123456789abcdef"
sender_domains = ["example.com"]
[[submission_user]]
name = "app"
password_hash = "$6$saltsalt$0123456789abcdef"
sender_domains = ["example.com"]
)"), Catch::Contains("names another user already"));
}

TEST_CASE("[submission] problems name their key", "[config]") {
  CHECK_THAT(error_of(R"(
[submission]
trusted_networks = ["10.0.0.1/8"]
)"), Catch::Contains("[submission] trusted_networks"));
  CHECK_THAT(error_of(R"(
[submission]
listen = "127.0.0.1:2587"
)"), Catch::Contains("[submission] tls_certificate"));
  CHECK_THAT(error_of(R"(
[submission]
tls_certificate = "/a.pem"
)"), Catch::Contains("[submission] tls_certificate: TLS needs both"));
  CHECK_THAT(error_of(R"(
[submission]
listne = "127.0.0.1:2587"
)"), Catch::Contains("listne"));
}
