#include "core/config/submission_config.hpp"

#include <algorithm>

#include "core/config/shaping_config.hpp"
#include "core/util/cidr.hpp"

namespace volley::config_detail {

namespace {

constexpr std::size_t kMaxNetworks = 256;
constexpr std::size_t kMaxSenderDomains = 256;

// A crypt(3) hash of a kind libcrypt verifies and that is worth having: yescrypt ("$y$...") or
// sha512-crypt ("$6$..."). Anything else (a clear-text password above all) is refused.
bool is_password_hash(std::string_view s) {
  const bool known = s.rfind("$y$", 0) == 0 || s.rfind("$6$", 0) == 0;
  return known && s.size() >= 20 && s.size() <= 512 && std::count(s.begin(), s.end(), '$') >= 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 127; });
}

Parse<std::string> cidr() {
  return string_that("a network such as \"192.0.2.0/24\", \"2001:db8::/32\" or an address", [](std::string_view s) {
    return util::parse_cidr(s).has_value();
  });
}

}  // namespace

void read_submission(const toml::table& t, Config::Submission& s, Problems& problems) {
  using std::chrono::seconds;
  TableReader r(problems, t, "[submission]");
  const auto rules = HostPortRules{.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false};
  r.read("listen", &s.listen, endpoint(rules));
  r.read("implicit_tls_listen", &s.implicit_tls_listen, endpoint(rules));
  r.read("hostname", &s.hostname, string_that("a host name such as \"smtp.example.com\"", is_host_name));
  const auto* cert = r.read("tls_certificate", &s.tls_certificate, file_path());
  const auto* key = r.read("tls_private_key", &s.tls_private_key, file_path());
  r.read("max_message_size", &s.max_message_size, byte_size_in(1024, std::uint64_t{1} << 30));
  r.read("max_connections", &s.max_connections, integer_in<std::size_t>(1, 100'000));
  r.read("timeout", &s.timeout, duration_in(seconds{1}, seconds{3600}));
  r.read("trusted_networks", &s.trusted_networks,
         list_of(cidr(), kMaxNetworks, "networks", "[\"10.0.0.0/8\", \"2001:db8::/32\"]"));
  r.read("trusted_tenant", &s.trusted_tenant, name_token());
  r.read("auth_lockout", &s.auth_lockout, duration_in(seconds{1}, seconds{24 * 3600}));
  r.reject_unknown_keys();
  if ((cert == nullptr) != (key == nullptr))
    r.report(cert ? *cert : *key, cert ? "tls_certificate" : "tls_private_key",
             "TLS needs both tls_certificate and tls_private_key");
}

void read_submission_user(const toml::table& t, std::vector<Config::SubmissionUser>& users, Problems& problems) {
  TableReader r(problems, t, "[[submission_user]]");
  Config::SubmissionUser u;
  const auto* name = r.read("name", &u.name, string_that("a user name of 1 to 255 printable ASCII characters, no spaces",
                                                          [](std::string_view s) {
                                                            return !s.empty() && s.size() <= 255 &&
                                                                   std::all_of(s.begin(), s.end(), [](char c) {
                                                                     return c > ' ' && c < 127;
                                                                   });
                                                          }));
  const auto* hash = r.read("password_hash", &u.password_hash,
                            string_that("a crypt(3) hash, yescrypt (\"$y$...\") or sha512-crypt (\"$6$...\"), as "
                                        "`volleyd hash-password` prints it; never a clear-text password",
                                        is_password_hash));
  r.read("tenant", &u.tenant, name_token());
  const auto* domains = r.read("sender_domains", &u.sender_domains,
                               list_of(domain_name(), kMaxSenderDomains, "domains", "[\"example.com\"]"));
  r.read("pool", &u.pool, name_token());
  r.read("max_messages", &u.max_messages, rate());
  r.read("max_recipients", &u.max_recipients, integer_in<std::size_t>(1, 10'000));
  r.reject_unknown_keys();
  constexpr std::string_view missing =
      "missing (every [[submission_user]] needs a name, a password_hash and sender_domains)";
  if (name == nullptr) r.report_table("name", missing);
  if (hash == nullptr) r.report_table("password_hash", missing);
  if (domains == nullptr) r.report_table("sender_domains", missing);
  if (name == nullptr || hash == nullptr || domains == nullptr || u.name.empty() || u.password_hash.empty()) return;
  if (u.sender_domains.empty()) return r.report(*domains, "sender_domains", "must name at least one domain");
  for (const auto& other : users)
    if (other.name == u.name) return r.report(*name, "name", quoted(u.name) + " names another user already");
  users.push_back(std::move(u));
}

void check_submission(const toml::table& root, const Config& config, Problems& problems) {
  const auto& s = config.submission;
  if (!s.listen && !s.implicit_tls_listen) return;
  const auto* node = root.get("submission");
  const auto where = node ? node->source() : root.source();
  if (s.tls_certificate.empty())
    problems.add(where, "[submission] tls_certificate",
                 "missing: AUTH is offered only over TLS, so the listener needs tls_certificate and tls_private_key");
  if (s.listen && s.implicit_tls_listen && *s.listen == *s.implicit_tls_listen)
    problems.add(where, "[submission] implicit_tls_listen", "must differ from listen");
  for (const auto& u : config.submission_users) {
    if (u.pool.empty()) continue;
    const auto& pools = config.ip_pools.pools;
    if (std::none_of(pools.begin(), pools.end(), [&](const auto& p) { return p.name == u.pool; }))
      problems.add(where, "[[submission_user]] pool", quoted(u.pool) + " (user " + quoted(u.name) + ") is not a configured pool");
  }
}

}  // namespace volley::config_detail
