#include "core/config/host_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace volley {
namespace {

constexpr std::size_t kMaxHostName = 253;
constexpr std::size_t kMaxLabel = 63;

bool parse_port(std::string_view text, bool allow_zero, std::uint16_t* port, std::string* why) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    *why = "the port must be a number 1..65535";
    return false;
  }
  unsigned long value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned long>(c - '0');
  if (value > 65535 || (value == 0 && !allow_zero)) {
    *why = allow_zero ? "the port must be 0..65535" : "the port must be 1..65535";
    return false;
  }
  *port = static_cast<std::uint16_t>(value);
  return true;
}

// inet_pton wants a NUL-terminated string; literals longer than this are never valid.
template <int Family, typename Addr>
bool pton(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  std::string copy(text);
  Addr addr{};
  return ::inet_pton(Family, copy.c_str(), &addr) == 1;
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool is_ipv4_literal(std::string_view text) { return pton<AF_INET, in_addr>(text); }
bool is_ipv6_literal(std::string_view text) { return pton<AF_INET6, in6_addr>(text); }

bool is_host_name(std::string_view text) {
  if (text.empty() || text.size() > kMaxHostName) return false;
  std::string_view last_label;
  while (true) {
    auto dot = text.find('.');
    auto label = text.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last_label = label;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return !std::all_of(last_label.begin(), last_label.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_ehlo_name(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    auto inner = text.substr(1, text.size() - 2);
    constexpr std::string_view kV6Tag = "IPv6:";
    if (inner.substr(0, kV6Tag.size()) == kV6Tag) return is_ipv6_literal(inner.substr(kV6Tag.size()));
    return is_ipv4_literal(inner);
  }
  return is_host_name(text);
}

std::optional<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules, std::string* why) {
  std::string_view host;
  std::optional<std::string_view> port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      *why = "missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    bracketed = true;
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *why = "expected ':' and a port after ']'";
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
  } else {
    auto colons = std::count(text.begin(), text.end(), ':');
    if (colons == 1) {
      auto colon = text.find(':');
      host = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    } else if (colons > 1 && !(rules.default_port && is_ipv6_literal(text))) {
      *why = "an IPv6 address with a port needs brackets, e.g. \"[::1]:25\"";
      return std::nullopt;
    } else {
      host = text;  // no colon, or a bare IPv6 address that takes the default port
    }
  }

  HostPort result;
  if (port_text) {
    if (!parse_port(*port_text, rules.allow_port_zero, &result.port, why)) return std::nullopt;
  } else if (rules.default_port) {
    result.port = *rules.default_port;
  } else {
    *why = "a port is required, e.g. \"127.0.0.1:25\"";
    return std::nullopt;
  }

  if (host.empty()) {
    *why = "the host is empty";
    return std::nullopt;
  }
  if (bracketed) {
    if (!is_ipv6_literal(host)) {
      *why = "brackets must hold an IPv6 address";
      return std::nullopt;
    }
  } else if (!is_ipv4_literal(host) && !is_ipv6_literal(host)) {
    if (rules.ip_only) {
      *why = "expected an IP address, not a name";
      return std::nullopt;
    }
    if (!is_host_name(host)) {
      *why = "the host is neither an IP address nor a valid host name";
      return std::nullopt;
    }
  }
  result.host = std::string(host);
  return result;
}

}  // namespace volley
