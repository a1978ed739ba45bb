#include "core/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/config/dkim_config.hpp"
#include "core/config/feedback_config.hpp"
#include "core/config/tenant_config.hpp"
#include "core/config/submission_config.hpp"
#include "core/config/unsubscribe_config.hpp"
#include "core/config/pool_config.hpp"
#include "core/config/shaping_config.hpp"
#include "core/config/toml_reader.hpp"
#include "core/config/units.hpp"
#include "core/util/ascii.hpp"

namespace volley {
namespace {

using namespace config_detail;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kMaxFileBytes = 1024 * 1024;
constexpr std::size_t kMaxDnsServers = 16;
constexpr double kMaxMinFreePercent = 90;

const std::vector<std::string_view> kTables = {"http",   "spool", "dns",       "delivery", "route",  "source",
                                              "pool",   "pool_rule", "shaping", "log", "api_key",
                                              "smtp_in", "return_path", "suppression", "webhook", "events",
                                              "metrics", "tls", "dkim", "tls_reporting",
                                              "submission", "submission_user", "unsubscribe", "tenant", "lifecycle"};
const std::vector<std::string_view> kTopLevelKeys = {"hostname", "worker_threads", "scheduling_policy"};

// The [name] table, or nullptr when absent or not a table (reported).
const toml::table* section(const toml::table& root, std::string_view name, Problems& problems) {
  return subtable(root, name, name, "[" + std::string(name) + "]", problems);
}

void read_http(const toml::table& t, Config::Http& http, Problems& problems) {
  TableReader r(problems, t, "[http]");
  r.read("listen", &http.listen, endpoint({.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false}));
  r.read("max_message_size", &http.max_message_size, byte_size_in(1024, std::uint64_t{1} << 30));
  r.read("max_pending", &http.max_pending, integer_in<std::size_t>(1, 10'000'000));
  const auto* cert = r.read("tls_certificate", &http.tls_certificate, file_path());
  const auto* key = r.read("tls_private_key", &http.tls_private_key, file_path());
  r.reject_unknown_keys();
  if ((cert == nullptr) != (key == nullptr))
    r.report(cert ? *cert : *key, cert ? "tls_certificate" : "tls_private_key",
             "HTTPS needs both tls_certificate and tls_private_key");
}

// [spool] min_free_space: a size (or a number of bytes), or a percentage of the filesystem.
struct MinFreeSpace {
  std::optional<std::uint64_t> bytes;
  std::optional<double> percent;
};

Parse<MinFreeSpace> min_free_space() {
  return [](const toml::node& node, MinFreeSpace* out, std::string* why) {
    MinFreeSpace value;
    if (const auto* i = node.as_integer()) {
      if (i->get() >= 0 && static_cast<std::uint64_t>(i->get()) <= kMaxConfigByteSize)
        value.bytes = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = node.as_string()) {
      value.percent = parse_percent(s->get());
      if (value.percent && *value.percent > kMaxMinFreePercent) value.percent.reset();
      if (!value.percent) value.bytes = parse_byte_size(s->get());
    }
    if (!value.bytes && !value.percent) {
      *why = "expected a size such as \"1GiB\" or \"512MiB\", a number of bytes, or a percentage of the "
             "filesystem from \"0%\" to \"90%\" such as \"5%\", got " + describe(node);
      return false;
    }
    *out = value;
    return true;
  };
}

void read_spool(const toml::table& t, Config::Spool& spool, Problems& problems) {
  TableReader r(problems, t, "[spool]");
  r.read("path", &spool.path, file_path());
  MinFreeSpace min_free{spool.min_free_bytes, spool.min_free_percent};
  r.read("min_free_space", &min_free, min_free_space());
  spool.min_free_bytes = min_free.bytes;
  spool.min_free_percent = min_free.percent;
  r.reject_unknown_keys();
}

Parse<bool> boolean() {
  return [](const toml::node& n, bool* out, std::string* why) {
    if (!n.is_boolean()) return *why = "expected true or false, got " + describe(n), false;
    *out = n.as_boolean()->get();
    return true;
  };
}

Parse<std::vector<HostPort>> dns_servers() {
  return list_of(endpoint({.default_port = 53, .allow_port_zero = false, .ip_only = true}), kMaxDnsServers, "addresses",
                 "[\"127.0.0.1\", \"[::1]:5353\"]");
}

void read_dns(const toml::table& t, Config::Dns& dns, Problems& problems) {
  TableReader r(problems, t, "[dns]");
  r.read("servers", &dns.servers, dns_servers());
  r.read("timeout", &dns.timeout, duration_in(milliseconds{10}, milliseconds{60'000}));
  r.read("attempts", &dns.attempts, integer_in<int>(1, 10));
  r.read("resolv_conf", &dns.resolv_conf, file_path());
  r.read("dnssec", &dns.dnssec, boolean());
  r.reject_unknown_keys();
}

// What [delivery] says beyond Config::Delivery: the bottom of the shaping defaults, and the
// default pool (checked once the pools are known).
struct DeliveryExtras {
  LimitsLayer limits;
  std::string default_pool;
  const toml::node* default_pool_node = nullptr;
  const toml::node* dane_node = nullptr;  // where dane = true was said, for its check against [dns] dnssec
};

DeliveryExtras read_delivery(const toml::table& t, Config::Delivery& d, Problems& problems) {
  TableReader r(problems, t, "[delivery]");
  r.read("smtp_port", &d.smtp_port, integer_in<std::uint16_t>(1, 65535));
  r.read("ehlo_name", &d.ehlo_name,
         string_that("a host name or an address literal such as \"[192.0.2.1]\"", is_ehlo_name));
  r.read("connect_timeout", &d.connect_timeout, duration_in(seconds{1}, seconds{600}));
  r.read("bounce_rules", &d.bounce_rules, file_path());
  r.read("mta_sts", &d.mta_sts, boolean());
  r.read("mta_sts_port", &d.mta_sts_port, integer_in<std::uint16_t>(1, 65535));
  DeliveryExtras extras;
  extras.dane_node = r.read("dane", &d.dane, boolean());
  r.read("share_connections", &d.share_connections, boolean());
  r.read("max_connecting_per_host", &d.max_connecting_per_host, integer_in<std::uint32_t>(0, 1000000));
  r.read("chunking", &d.chunking, boolean());
  extras.limits = read_limits(r, true);
  extras.default_pool_node = r.read("default_pool", &extras.default_pool, name_token());
  r.reject_unknown_keys();
  return extras;
}

void read_tls(const toml::table& t, Config::Tls& tls, Problems& problems) {
  TableReader r(problems, t, "[tls]");
  r.read("ca_file", &tls.ca_file, file_path());
  r.reject_unknown_keys();
}

bool is_mailbox(std::string_view s) {
  const auto at = s.rfind('@');
  return at != std::string_view::npos && at > 0 && is_host_name(s.substr(at + 1)) &&
         s.find_first_of(" \t<>\"") == std::string_view::npos;
}

void read_tls_reporting(const toml::table& t, Config::TlsReporting& rpt, Problems& problems) {
  TableReader r(problems, t, "[tls_reporting]");
  const auto* enabled = r.read("enabled", &rpt.enabled, boolean());
  r.read("organization_name", &rpt.organization_name, string_that("an organisation's name", [](std::string_view s) {
           return !s.empty() && s.size() <= 200;
         }));
  r.read("contact_info", &rpt.contact_info, string_that("e.g. \"mailto:postmaster@example.com\"", [](std::string_view s) {
           return !s.empty() && s.size() <= 200;
         }));
  r.read("from", &rpt.from, string_that("an address such as \"tlsrpt@example.com\"", is_mailbox));
  r.read("submitter", &rpt.submitter, string_that("a host name such as \"mail.example.com\"", is_host_name));
  r.read("https_port", &rpt.https_port, integer_in<std::uint16_t>(1, 65535));
  r.reject_unknown_keys();
  if (rpt.enabled && (rpt.organization_name.empty() || rpt.contact_info.empty() || rpt.from.empty()))
    r.report(*enabled, "enabled", "reports need organization_name, contact_info and from");
}

void read_log(const toml::table& t, Config::Log& log, Problems& problems) {
  TableReader r(problems, t, "[log]");
  r.read("event_log", &log.event_log, file_path());
  r.read("event_log_max_size", &log.event_log_max_size, byte_size_in(64 * 1024, std::uint64_t{1} << 40));
  r.read("event_log_keep", &log.event_log_keep, integer_in<std::size_t>(1, 1000));
  r.read("level", &log.level, one_of({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  r.read("format", &log.format, one_of({"text", "json"}));
  r.reject_unknown_keys();
}

void read_lifecycle(const toml::table& t, Config::Lifecycle& l, Problems& problems) {
  TableReader r(problems, t, "[lifecycle]");
  r.read("drain_timeout", &l.drain_timeout, duration_in(seconds{0}, seconds{3600}));
  r.reject_unknown_keys();
}

void read_metrics(const toml::table& t, Config::Metrics& m, Problems& problems) {
  TableReader r(problems, t, "[metrics]");
  r.read("idle_series_ttl", &m.idle_series_ttl, duration_in(seconds{0}, seconds{400 * 24 * 3600}));
  r.reject_unknown_keys();
}

void read_route(const toml::table& table, std::vector<StaticRoute>& routes, Problems& problems) {
  TableReader r(problems, table, "[[route]]");
  StaticRoute route;
  const auto* domain = r.read("domain", &route.domain, domain_name());
  const auto* host = r.read("host", &route.host, host_or_ip());
  r.read("port", &route.port, integer_in<std::uint16_t>(1, 65535));
  r.reject_unknown_keys();
  if (domain == nullptr) r.report_table("domain", "missing (every [[route]] needs a domain and a host)");
  if (host == nullptr) r.report_table("host", "missing (every [[route]] needs a domain and a host)");
  if (domain == nullptr || route.domain.empty() || host == nullptr || route.host.empty()) return;
  auto same = std::find_if(routes.begin(), routes.end(), [&](const auto& o) { return o.domain == route.domain; });
  if (same != routes.end()) {
    r.report(*domain, "domain", quoted(route.domain) + " has a route already");
    return;
  }
  routes.push_back(std::move(route));
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void read_api_key(const toml::table& table, std::vector<Config::ApiKey>& keys, Problems& problems) {
  TableReader r(problems, table, "[[api_key]]");
  Config::ApiKey key;
  const auto* name = r.read("name", &key.name, name_token());
  const auto* hash = r.read("key_sha256", &key.key_sha256,
                            string_that("the SHA-256 of the key in lower-case hex (64 characters): "
                                        "printf %s \"$KEY\" | sha256sum",
                                        is_sha256_hex));
  r.read("tenant", &key.tenant, name_token());
  r.read("admin", &key.admin, boolean());
  r.reject_unknown_keys();
  if (name == nullptr) r.report_table("name", "missing (every [[api_key]] needs a name and a key_sha256)");
  if (hash == nullptr) r.report_table("key_sha256", "missing (every [[api_key]] needs a name and a key_sha256)");
  if (name == nullptr || hash == nullptr || key.name.empty() || key.key_sha256.empty()) return;
  for (const auto& other : keys) {
    if (other.name == key.name) return r.report(*name, "name", quoted(key.name) + " names another key already");
    if (other.key_sha256 == key.key_sha256) return r.report(*hash, "key_sha256", "the same key as " + quoted(other.name));
  }
  keys.push_back(std::move(key));
}

void read_root(const toml::table& root, Config& config, Problems& problems) {
  TableReader top(problems, root, "");
  top.read("hostname", &config.hostname, string_that("a host name such as \"mail.example.com\"", is_host_name));
  top.read("worker_threads", &config.worker_threads, integer_in<std::size_t>(0, 256));
  top.read("scheduling_policy", &config.scheduling_policy, one_of({"batch", "inherit"}));

  if (const auto* t = section(root, "http", problems)) read_http(*t, config.http, problems);
  if (const auto* t = section(root, "spool", problems)) read_spool(*t, config.spool, problems);
  if (const auto* t = section(root, "dns", problems)) read_dns(*t, config.dns, problems);
  DeliveryExtras delivery;
  if (const auto* t = section(root, "delivery", problems)) delivery = read_delivery(*t, config.delivery, problems);
  if (const auto* t = section(root, "log", problems)) read_log(*t, config.log, problems);
  if (const auto* t = section(root, "tls", problems)) read_tls(*t, config.tls, problems);
  if (const auto* t = section(root, "tls_reporting", problems)) read_tls_reporting(*t, config.tls_reporting, problems);
  if (config.delivery.dane && !config.dns.dnssec && delivery.dane_node != nullptr)
    problems.add(delivery.dane_node->source(), "[delivery] dane",
                 "needs [dns] dnssec = true (TLSA records are trusted only from a validating resolver)");
  if (const auto* n = root.get("route"))
    for_each_table(*n, "route", "[[route]]", "domain, host and port", problems,
                   [&](const toml::table& t) { read_route(t, config.routes, problems); });
  if (const auto* t = section(root, "smtp_in", problems)) read_smtp_in(*t, config.smtp_in, problems);
  if (const auto* t = section(root, "unsubscribe", problems)) read_unsubscribe(*t, config, problems);
  if (const auto* t = section(root, "suppression", problems)) read_suppression(*t, config.suppression, problems);
  if (const auto* t = section(root, "events", problems)) read_events(*t, config.events, problems);
  if (const auto* t = section(root, "metrics", problems)) read_metrics(*t, config.metrics, problems);
  if (const auto* t = section(root, "lifecycle", problems)) read_lifecycle(*t, config.lifecycle, problems);
  if (const auto* n = root.get("return_path"))
    for_each_table(*n, "return_path", "[[return_path]]", "sender_domain, domain and prefix", problems,
                   [&](const toml::table& t) { read_return_path(t, config.return_paths, problems); });
  if (const auto* n = root.get("webhook"))
    for_each_table(*n, "webhook", "[[webhook]]", "name, url, secret and filters", problems,
                   [&](const toml::table& t) { read_webhook(t, config.webhooks, problems); });
  if (const auto* n = root.get("dkim"))
    for_each_table(*n, "dkim", "[[dkim]]", "domain, selector, key_file and options", problems,
                   [&](const toml::table& t) { read_dkim(t, config.dkim, problems); });
  if (const auto* t = section(root, "submission", problems)) read_submission(*t, config.submission, problems);
  if (const auto* n = root.get("submission_user"))
    for_each_table(*n, "submission_user", "[[submission_user]]", "name, password_hash, tenant and sender_domains",
                   problems, [&](const toml::table& t) { read_submission_user(t, config.submission_users, problems); });
  if (const auto* n = root.get("api_key"))
    for_each_table(*n, "api_key", "[[api_key]]", "name, key_sha256, tenant and admin", problems,
                   [&](const toml::table& t) { read_api_key(t, config.api_keys, problems); });
  if (const auto* n = root.get("tenant"))  // scheduling: sending windows (docs/scheduling.md)
    for_each_table(*n, "tenant", "[[tenant]]", "name, send_window and timezone", problems,
                   [&](const toml::table& t) { read_tenant(t, config.tenants, problems); });

  config.ip_pools =
      read_pools(root, delivery.default_pool, delivery.default_pool_node, config.delivery.ehlo_name, problems);
  config.shaping = read_shaping(section(root, "shaping", problems), delivery.limits, config.ip_pools, problems);
  check_submission(root, config, problems);

  for (auto&& [key, node] : root) {
    auto name = key.str();
    if (std::find(kTables.begin(), kTables.end(), name) != kTables.end()) continue;
    if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), name) != kTopLevelKeys.end()) continue;
    if (node.is_table()) {
      std::string message = "unknown table";
      if (auto guess = near_miss(name, kTables)) message += " (did you mean [" + std::string(*guess) + "]?)";
      problems.add(key.source(), "[" + shown_key(name) + "]", message);
    } else {
      std::string message = "unknown key";
      if (auto guess = near_miss(name, kTopLevelKeys)) message += " (did you mean \"" + std::string(*guess) + "\"?)";
      problems.add(key.source(), shown_key(name), message);
    }
  }
}

}  // namespace

std::string system_hostname() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) return "localhost";
  std::string name = util::ascii_lower(buffer.data());
  return is_host_name(name) ? name : "localhost";
}

LoadResult parse_config(std::string_view toml_text, std::string_view source_name) {
  Problems problems(source_name);
  const auto root = toml_file::parse_document(toml_text, source_name, problems);
  if (!root) return {std::nullopt, problems.report()};

  Config config;
  read_root(*root, config, problems);
  if (!problems.empty()) return {std::nullopt, problems.report()};
  return {std::move(config), {}};
}

LoadResult load_config_file(const std::string& path) {
  auto fail = [&](const std::string& why) { return LoadResult{std::nullopt, path + ": " + why}; };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  std::string text;
  std::array<char, 16 * 1024> chunk{};
  while (true) {
    auto n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(std::string("cannot read: ") + std::strerror(err));
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      return fail("larger than " + format_byte_size(kMaxFileBytes) + ", not a config file");
    }
  }
  ::close(fd);
  return parse_config(text, path);
}

}  // namespace volley
