#include "core/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
#include <sstream>
#include <vector>
#include <toml++/toml.h>

#include "core/config/units.hpp"

namespace volley {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kMaxFileBytes = 1024 * 1024;
constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxDnsServers = 16;
constexpr std::size_t kMaxShown = 64;  // characters of a user's value or key quoted in an error

// Text from the file, made safe and short for an error message.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (++shown > kMaxShown) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A key as it appears in an error: bare when it is a plain identifier, quoted otherwise.
std::string shown_key(std::string_view key) {
  bool bare = !key.empty() && key.size() <= kMaxShown && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return bare ? std::string(key) : quoted(key);
}

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return quoted(node.as_string()->get());
    case toml::node_type::integer: return std::to_string(node.as_integer()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::floating_point: {
      std::ostringstream out;
      out << *node.as_floating_point();
      return out.str();
    }
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The known name closest to a misspelt one, if it is close enough to be a plausible typo.
std::optional<std::string_view> near_miss(std::string_view typo, const std::vector<std::string_view>& known) {
  if (typo.size() > kMaxShown) return std::nullopt;
  std::optional<std::string_view> best;
  std::size_t best_distance = std::min<std::size_t>(3, typo.size() / 2 + 1);
  for (auto name : known) {
    auto d = edit_distance(typo, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

// Collects every problem; the report lists them in file order.
class Problems {
 public:
  explicit Problems(std::string_view source) : source_(source) {}

  void add(const toml::source_region& where, std::string_view place, std::string_view message) {
    auto line = static_cast<std::size_t>(where.begin.line);
    std::string text = source_ + ":" + std::to_string(line) + ": ";
    if (!place.empty()) text.append(place).append(": ");
    text.append(message);
    list_.push_back({line, std::move(text)});
  }
  bool empty() const { return list_.empty(); }

  std::string report() {
    std::stable_sort(list_.begin(), list_.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
    std::string out;
    for (const auto& p : list_) {
      if (!out.empty()) out += '\n';
      out += p.text;
    }
    return out;
  }

 private:
  struct Problem {
    std::size_t line;
    std::string text;
  };
  std::string source_;
  std::vector<Problem> list_;
};

// A value reader: true and *out set, or false and *why saying what was expected.
template <typename T>
using Parse = std::function<bool(const toml::node&, T*, std::string*)>;

template <typename T>
Parse<T> integer_in(std::int64_t lo, std::int64_t hi) {
  return [lo, hi](const toml::node& node, T* out, std::string* why) {
    const auto* v = node.as_integer();
    if (v == nullptr || v->get() < lo || v->get() > hi) {
      *why = "expected an integer " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + describe(node);
      return false;
    }
    *out = static_cast<T>(v->get());
    return true;
  };
}

template <typename Duration>
Parse<Duration> duration_in(Duration lo, Duration hi) {
  return [lo, hi](const toml::node& node, Duration* out, std::string* why) {
    std::optional<milliseconds> value;
    if (const auto* i = node.as_integer()) {
      if (i->get() >= 0 && i->get() <= std::chrono::duration_cast<seconds>(kMaxConfigDuration).count())
        value = seconds{i->get()};
    } else if (const auto* s = node.as_string()) {
      value = parse_duration(s->get());
    }
    if (!value) {
      *why = "expected a duration such as \"250ms\", \"30s\", \"5m\", \"1h\", \"5d\" or a number of seconds, got " +
             describe(node);
      return false;
    }
    if (*value < lo || *value > hi) {
      *why = "expected a duration from " + format_duration(lo) + " to " + format_duration(hi) + ", got " +
             describe(node);
      return false;
    }
    if (std::chrono::duration_cast<Duration>(*value) != *value) {
      *why = "expected a whole number of seconds, got " + describe(node);
      return false;
    }
    *out = std::chrono::duration_cast<Duration>(*value);
    return true;
  };
}

Parse<std::size_t> byte_size_in(std::uint64_t lo, std::uint64_t hi) {
  return [lo, hi](const toml::node& node, std::size_t* out, std::string* why) {
    std::optional<std::uint64_t> value;
    if (const auto* i = node.as_integer()) {
      if (i->get() >= 0) value = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = node.as_string()) {
      value = parse_byte_size(s->get());
    }
    if (!value) {
      *why = "expected a size such as \"25MiB\", \"512KiB\" or a number of bytes, got " + describe(node);
      return false;
    }
    if (*value < lo || *value > hi) {
      *why = "expected a size from " + format_byte_size(lo) + " to " + format_byte_size(hi) + ", got " +
             describe(node);
      return false;
    }
    *out = static_cast<std::size_t>(*value);
    return true;
  };
}

// A string that passes `valid`; `expected` describes what that means in the error.
Parse<std::string> string_that(std::string expected, std::function<bool(std::string_view)> valid) {
  return [expected = std::move(expected), valid = std::move(valid)](const toml::node& node, std::string* out,
                                                                     std::string* why) {
    const auto* s = node.as_string();
    if (s == nullptr || !valid(s->get())) {
      *why = "expected " + expected + ", got " + describe(node);
      return false;
    }
    *out = s->get();
    return true;
  };
}

Parse<std::string> file_path() {
  return string_that("a file path", [](std::string_view s) {
    return !s.empty() && s.size() <= kMaxPathBytes && s.find('\0') == std::string_view::npos;
  });
}

Parse<std::string> one_of(std::vector<std::string_view> choices) {
  std::string expected = "one of";
  for (auto c : choices) expected += " " + quoted(c);
  return string_that(std::move(expected), [choices = std::move(choices)](std::string_view s) {
    return std::find(choices.begin(), choices.end(), s) != choices.end();
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Parse<std::string> domain_name() {
  return [](const toml::node& node, std::string* out, std::string* why) {
    const auto* s = node.as_string();
    std::string_view name = s ? std::string_view(s->get()) : std::string_view();
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (s == nullptr || !is_host_name(name)) {
      *why = "expected a domain name such as \"example.com\", got " + describe(node);
      return false;
    }
    *out = lower(name);
    return true;
  };
}

// A route's target: a host name or an IP address (IPv6 with or without brackets).
Parse<std::string> host_or_ip() {
  return [](const toml::node& node, std::string* out, std::string* why) {
    const auto* s = node.as_string();
    std::string_view host = s ? std::string_view(s->get()) : std::string_view();
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (s == nullptr || !(is_ipv4_literal(host) || is_ipv6_literal(host) || is_host_name(host))) {
      *why = "expected a host name or an IP address, got " + describe(node);
      return false;
    }
    *out = std::string(host);
    return true;
  };
}

Parse<HostPort> endpoint(HostPortRules rules) {
  return [rules](const toml::node& node, HostPort* out, std::string* why) {
    const auto* s = node.as_string();
    if (s == nullptr) {
      *why = std::string(rules.default_port ? "expected an address such as \"127.0.0.1\" or \"127.0.0.1:53\""
                                            : "expected an address such as \"127.0.0.1:8025\"") +
             ", got " + describe(node);
      return false;
    }
    std::string reason;
    auto parsed = parse_host_port(s->get(), rules, &reason);
    if (!parsed) {
      *why = "invalid address " + describe(node) + ": " + reason;
      return false;
    }
    *out = std::move(*parsed);
    return true;
  };
}

// Reads the keys of one table, and afterwards complains about every key it was not asked for.
class TableReader {
 public:
  TableReader(Problems& problems, const toml::table& table, std::string section)
      : problems_(problems), table_(table), section_(std::move(section)) {}

  template <typename T>
  const toml::node* read(std::string_view key, T* out, const Parse<T>& parse) {
    known_.push_back(key);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    std::string why;
    if (!parse(*node, out, &why)) report(*node, key, why);
    return node;
  }

  void report(const toml::node& at, std::string_view key, std::string_view message) {
    problems_.add(at.source(), place(key), message);
  }
  void report_table(std::string_view key, std::string_view message) {
    problems_.add(table_.source(), place(key), message);
  }

  void reject_unknown_keys() {
    for (auto&& [key, node] : table_) {
      if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
      std::string message = "unknown key";
      if (auto guess = near_miss(key.str(), known_)) message += " (did you mean \"" + std::string(*guess) + "\"?)";
      problems_.add(key.source(), place(shown_key(key.str())), message);
    }
  }

 private:
  std::string place(std::string_view key) const {
    return section_.empty() ? std::string(key) : section_ + " " + std::string(key);
  }

  Problems& problems_;
  const toml::table& table_;
  std::string section_;
  std::vector<std::string_view> known_;
};

const std::vector<std::string_view> kTables = {"http", "spool", "dns", "delivery", "route", "log"};
const std::vector<std::string_view> kTopLevelKeys = {"hostname"};

// The [name] table, or nullptr when absent or not a table (reported).
const toml::table* section(const toml::table& root, std::string_view name, Problems& problems) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    problems.add(node->source(), name, "expected a table [" + std::string(name) + "], got " + describe(*node));
    return nullptr;
  }
  return node->as_table();
}

void read_http(const toml::table& t, Config::Http& http, Problems& problems) {
  TableReader r(problems, t, "[http]");
  r.read("listen", &http.listen, endpoint({.default_port = std::nullopt, .allow_port_zero = true, .ip_only = false}));
  r.read("max_message_size", &http.max_message_size, byte_size_in(1024, std::uint64_t{1} << 30));
  r.read("max_pending", &http.max_pending, integer_in<std::size_t>(1, 10'000'000));
  r.reject_unknown_keys();
}

void read_spool(const toml::table& t, Config::Spool& spool, Problems& problems) {
  TableReader r(problems, t, "[spool]");
  r.read("path", &spool.path, file_path());
  r.reject_unknown_keys();
}

Parse<std::vector<HostPort>> dns_servers() {
  return [](const toml::node& node, std::vector<HostPort>* out, std::string* why) {
    const auto* array = node.as_array();
    if (array == nullptr || array->size() > kMaxDnsServers) {
      *why = "expected an array of at most " + std::to_string(kMaxDnsServers) +
             " addresses such as [\"127.0.0.1\", \"[::1]:5353\"], got " + describe(node);
      return false;
    }
    auto parse_one = endpoint({.default_port = 53, .allow_port_zero = false, .ip_only = true});
    std::vector<HostPort> servers;
    for (const auto& element : *array) {
      HostPort server;
      if (!parse_one(element, &server, why)) return false;
      servers.push_back(std::move(server));
    }
    *out = std::move(servers);
    return true;
  };
}

void read_dns(const toml::table& t, Config::Dns& dns, Problems& problems) {
  TableReader r(problems, t, "[dns]");
  r.read("servers", &dns.servers, dns_servers());
  r.read("timeout", &dns.timeout, duration_in(milliseconds{10}, milliseconds{60'000}));
  r.read("attempts", &dns.attempts, integer_in<int>(1, 10));
  r.read("resolv_conf", &dns.resolv_conf, file_path());
  r.reject_unknown_keys();
}

void read_delivery(const toml::table& t, Config::Delivery& d, Problems& problems) {
  TableReader r(problems, t, "[delivery]");
  constexpr seconds kDay{24 * 3600};
  r.read("smtp_port", &d.smtp_port, integer_in<std::uint16_t>(1, 65535));
  r.read("ehlo_name", &d.ehlo_name,
         string_that("a host name or an address literal such as \"[192.0.2.1]\"", is_ehlo_name));
  r.read("max_connections", &d.max_connections_per_domain, integer_in<std::size_t>(1, 10'000));
  r.read("max_messages_per_connection", &d.max_messages_per_connection, integer_in<std::size_t>(1, 1'000'000));
  r.read("idle_timeout", &d.idle_timeout, duration_in(seconds{1}, seconds{3600}));
  r.read("connect_timeout", &d.connect_timeout, duration_in(seconds{1}, seconds{600}));
  r.read("retry_first", &d.retry_first, duration_in(seconds{1}, kDay));
  const toml::node* max_interval =
      r.read("retry_max_interval", &d.retry_max_interval, duration_in(seconds{1}, 7 * kDay));
  r.read("max_age", &d.max_age, duration_in(seconds{1}, 30 * kDay));
  if (d.retry_max_interval < d.retry_first) {
    std::string message = "must not be shorter than retry_first (" + format_duration(d.retry_first) + ")";
    if (max_interval != nullptr) {
      r.report(*max_interval, "retry_max_interval", message + ", got " + describe(*max_interval));
    } else {
      r.report_table("retry_max_interval", message + ", and its default is " + format_duration(d.retry_max_interval));
    }
  }
  r.reject_unknown_keys();
}

void read_log(const toml::table& t, Config::Log& log, Problems& problems) {
  TableReader r(problems, t, "[log]");
  r.read("event_log", &log.event_log, file_path());
  r.read("level", &log.level, one_of({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  r.reject_unknown_keys();
}

void read_routes(const toml::node& node, std::vector<StaticRoute>& routes, Problems& problems) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    problems.add(node.source(), "route", "expected [[route]] tables (an array of tables), got " + describe(node));
    return;
  }
  for (const auto& element : *array) {
    const auto* table = element.as_table();
    if (table == nullptr) {
      problems.add(element.source(), "[[route]]", "expected a table with domain, host and port, got " +
                                                      describe(element));
      continue;
    }
    TableReader r(problems, *table, "[[route]]");
    StaticRoute route;
    const auto* domain = r.read("domain", &route.domain, domain_name());
    const auto* host = r.read("host", &route.host, host_or_ip());
    r.read("port", &route.port, integer_in<std::uint16_t>(1, 65535));
    r.reject_unknown_keys();
    if (domain == nullptr) r.report_table("domain", "missing (every [[route]] needs a domain and a host)");
    if (host == nullptr) r.report_table("host", "missing (every [[route]] needs a domain and a host)");
    if (domain == nullptr || route.domain.empty() || host == nullptr || route.host.empty()) continue;
    auto same = std::find_if(routes.begin(), routes.end(), [&](const auto& o) { return o.domain == route.domain; });
    if (same != routes.end()) {
      r.report(*domain, "domain", quoted(route.domain) + " has a route already");
      continue;
    }
    routes.push_back(std::move(route));
  }
}

void read_root(const toml::table& root, Config& config, Problems& problems) {
  TableReader top(problems, root, "");
  top.read("hostname", &config.hostname, string_that("a host name such as \"mail.example.com\"", is_host_name));

  if (const auto* t = section(root, "http", problems)) read_http(*t, config.http, problems);
  if (const auto* t = section(root, "spool", problems)) read_spool(*t, config.spool, problems);
  if (const auto* t = section(root, "dns", problems)) read_dns(*t, config.dns, problems);
  if (const auto* t = section(root, "delivery", problems)) read_delivery(*t, config.delivery, problems);
  if (const auto* t = section(root, "log", problems)) read_log(*t, config.log, problems);
  if (const auto* n = root.get("route")) read_routes(*n, config.routes, problems);

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
  std::string name = lower(buffer.data());
  return is_host_name(name) ? name : "localhost";
}

LoadResult parse_config(std::string_view toml_text, std::string_view source_name) {
  Problems problems(source_name);
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    std::string message = "syntax error at column " + std::to_string(at.column) + ": " + std::string(e.description());
    problems.add(e.source(), "", message);
    return {std::nullopt, problems.report()};
  }

  Config config;
  read_root(root, config, problems);
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
