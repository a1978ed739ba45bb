#pragma once
// Domain names as Volley compares them: ASCII lower case, no trailing dot.
#include <optional>
#include <string>
#include <string_view>

namespace volley::dns {

// The normal form of a host name, or nullopt if it is not one: labels of letters, digits, '-'
// and '_' (underscore appears in real MX targets), 1-63 characters each, 253 in total, one
// optional trailing dot. Internationalised names must already be A-labels ("xn--...").
std::optional<std::string> normalize_host_name(std::string_view name);

// Where the PTR record of an address lives: "10.2.0.192.in-addr.arpa" for 192.0.2.10, the 32
// nibbles under ip6.arpa for IPv6 (RFC 3596 §2.5); nullopt if `address` is no IP literal.
std::optional<std::string> reverse_name(std::string_view address);

}  // namespace volley::dns
