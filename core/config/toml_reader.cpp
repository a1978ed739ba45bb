#include "core/config/toml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include "core/util/ascii.hpp"

namespace volley::config_detail {
namespace {

constexpr std::size_t kMaxPathBytes = 4096;

}  // namespace

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

Parse<std::string> file_path() {
  return string_that("a file path", [](std::string_view s) {
    return !s.empty() && s.size() <= kMaxPathBytes && s.find('\0') == std::string_view::npos;
  });
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
    *out = util::ascii_lower(name);
    return true;
  };
}

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

Parse<std::string> name_token() {
  return string_that("a name of 1 to 64 letters, digits, '.', '_' or '-'", [](std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
  });
}

}  // namespace volley::config_detail
