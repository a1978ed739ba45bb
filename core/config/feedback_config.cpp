#include "core/config/feedback_config.hpp"

#include <algorithm>

namespace volley::config_detail {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kMaxListed = 1000;

// The local part VERP addresses start with: "bounces" in bounces+<id>@domain. No '+', since that
// separates it from the id.
Parse<std::string> verp_prefix() {
  return string_that("1 to 32 letters, digits, '.', '_' or '-'", [](std::string_view s) {
    return !s.empty() && s.size() <= 32 && s.front() != '.' && s.back() != '.' &&
           std::all_of(s.begin(), s.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
           });
  });
}

Parse<std::string> sender_domain() {
  auto domain = domain_name();
  return [domain](const toml::node& node, std::string* out, std::string* why) {
    if (const auto* s = node.as_string(); s != nullptr && s->get() == "*") {
      *out = "*";
      return true;
    }
    if (domain(node, out, why)) return true;
    *why = "expected a domain name such as \"example.com\" or \"*\" for every other sender, got " + describe(node);
    return false;
  };
}

// http:// or https:// URLs with a host: webhooks are sent nowhere else.
Parse<std::string> webhook_url() {
  return string_that("an http:// or https:// URL such as \"https://app.example.com/volley-events\"",
                     [](std::string_view s) {
                       const auto scheme = s.substr(0, s.find("://"));
                       if (scheme != "http" && scheme != "https") return false;
                       const auto rest = s.substr(scheme.size() + 3);
                       return !rest.empty() && rest.front() != '/' && s.size() <= 2000 &&
                              std::none_of(s.begin(), s.end(), [](char c) {
                                return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
                              });
                     });
}

Parse<std::string> secret() {
  return string_that("a secret of 16 to 512 printable characters", [](std::string_view s) {
    return s.size() >= 16 && s.size() <= 512 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  });
}

}  // namespace

const std::vector<std::string_view>& event_types() {
  static const std::vector<std::string_view> types = {"received", "delivered", "deferred", "bounced",
                                                      "async_bounce", "complaint", "expired", "suppressed",
                                                      "unsubscribe", "cancelled"};
  return types;
}

void read_smtp_in(const toml::table& t, Config::SmtpIn& in, Problems& problems) {
  TableReader r(problems, t, "[smtp_in]");
  r.read("listen", &in.listen, endpoint({.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false}));
  r.read("hostname", &in.hostname, string_that("a host name such as \"bounce.example.com\"", is_host_name));
  r.read("domains", &in.domains, list_of(domain_name(), kMaxListed, "domains", "[\"fbl.example.com\"]"));
  r.read("max_message_size", &in.max_message_size, byte_size_in(1024, std::uint64_t{1} << 30));
  r.read("max_connections", &in.max_connections, integer_in<std::size_t>(1, 100'000));
  r.read("timeout", &in.timeout, duration_in(seconds{1}, seconds{3600}));
  r.read("data_timeout", &in.data_timeout, duration_in(seconds{1}, seconds{3600}));
  const auto* cert = r.read("tls_certificate", &in.tls_certificate, file_path());
  const auto* key = r.read("tls_private_key", &in.tls_private_key, file_path());
  r.reject_unknown_keys();
  if ((cert == nullptr) != (key == nullptr))
    r.report(cert ? *cert : *key, cert ? "tls_certificate" : "tls_private_key",
             "STARTTLS needs both tls_certificate and tls_private_key");
}

void read_return_path(const toml::table& t, std::vector<Config::ReturnPath>& paths, Problems& problems) {
  TableReader r(problems, t, "[[return_path]]");
  Config::ReturnPath path;
  const auto* sender = r.read("sender_domain", &path.sender_domain, sender_domain());
  const auto* domain = r.read("domain", &path.domain, domain_name());
  r.read("prefix", &path.prefix, verp_prefix());
  r.reject_unknown_keys();
  constexpr std::string_view missing = "missing (every [[return_path]] needs a sender_domain and a domain)";
  if (sender == nullptr) r.report_table("sender_domain", missing);
  if (domain == nullptr) r.report_table("domain", missing);
  if (sender == nullptr || domain == nullptr || path.sender_domain.empty() || path.domain.empty()) return;
  for (const auto& other : paths) {
    if (other.sender_domain == path.sender_domain)
      return r.report(*sender, "sender_domain", quoted(path.sender_domain) + " has a [[return_path]] already");
  }
  paths.push_back(std::move(path));
}

void read_suppression(const toml::table& t, Config::Suppression& s, Problems& problems) {
  TableReader r(problems, t, "[suppression]");
  r.read("path", &s.path, file_path());
  r.read("bounce_categories", &s.bounce_categories,
         list_of(name_token(), 64, "categories", "[\"bad-mailbox\", \"bad-domain\", \"inactive-mailbox\"]"));
  r.read("complaints", &s.complaints, Parse<bool>([](const toml::node& n, bool* out, std::string* why) {
           if (!n.is_boolean()) return *why = "expected true or false", false;
           *out = n.as_boolean()->get();
           return true;
         }));
  r.reject_unknown_keys();
}

void read_webhook(const toml::table& t, std::vector<Config::Webhook>& hooks, Problems& problems) {
  TableReader r(problems, t, "[[webhook]]");
  Config::Webhook hook;
  const auto* name = r.read("name", &hook.name, name_token());
  const auto* url = r.read("url", &hook.url, webhook_url());
  const auto* key = r.read("secret", &hook.secret, secret());
  r.read("events", &hook.events, list_of(one_of(event_types()), 16, "event types", "[\"bounced\", \"complaint\"]"));
  r.read("tenants", &hook.tenants, list_of(name_token(), kMaxListed, "tenants", "[\"default\"]"));
  r.read("max_batch", &hook.max_batch, integer_in<std::size_t>(1, 10'000));
  r.read("timeout", &hook.timeout, duration_in(milliseconds{100}, milliseconds{300'000}));
  r.read("retry_first", &hook.retry_first, duration_in(milliseconds{10}, milliseconds{3'600'000}));
  r.read("retry_max", &hook.retry_max, duration_in(milliseconds{10}, milliseconds{86'400'000}));
  r.reject_unknown_keys();
  constexpr std::string_view missing = "missing (every [[webhook]] needs a name, a url and a secret)";
  if (name == nullptr) r.report_table("name", missing);
  if (url == nullptr) r.report_table("url", missing);
  if (key == nullptr) r.report_table("secret", missing);
  if (name == nullptr || url == nullptr || key == nullptr || hook.name.empty()) return;
  if (hook.retry_max < hook.retry_first) r.report_table("retry_max", "must not be shorter than retry_first");
  for (const auto& other : hooks) {
    if (other.name == hook.name) return r.report(*name, "name", quoted(hook.name) + " names another [[webhook]] already");
  }
  hooks.push_back(std::move(hook));
}

void read_events(const toml::table& t, Config::Events& e, Problems& problems) {
  TableReader r(problems, t, "[events]");
  r.read("webhook_queue", &e.webhook_queue, file_path());
  r.read("history_retention", &e.history_retention, duration_in(seconds{3600}, seconds{400 * 24 * 3600}));
  r.reject_unknown_keys();
}

}  // namespace volley::config_detail
