#pragma once
// Host names, IP literals and "host:port" endpoints as written in the config file:
// "127.0.0.1:8025", "[::1]:8025", "localhost:2525", and for DNS servers "127.0.0.1" (port 53).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley {

struct HostPort {
  std::string host;  // an IP literal (IPv6 without brackets) or a host name
  std::uint16_t port = 0;

  // "127.0.0.1:25", "[::1]:25", "mx.example.com:25": the form parse_host_port reads back.
  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

struct HostPortRules {
  std::optional<std::uint16_t> default_port;  // nullopt: the port is required
  bool allow_port_zero = false;               // a listener may ask the kernel for a free port
  bool ip_only = false;                       // no names (e.g. DNS servers: nothing resolves them)
};

// nullopt on malformed text, with *why set to what is wrong (for the caller's error message).
std::optional<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules, std::string* why);

bool is_ipv4_literal(std::string_view text);
bool is_ipv6_literal(std::string_view text);  // without brackets
// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, each 1..63
// characters, 253 in all, the last not all digits (so "1.2.3.999" is neither name nor address).
bool is_host_name(std::string_view text);
// What may follow EHLO (RFC 5321 §4.1.4): a host name or an address literal such as
// "[192.0.2.1]" or "[IPv6:2001:db8::1]".
bool is_ehlo_name(std::string_view text);

}  // namespace volley
