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

}  // namespace volley::dns
