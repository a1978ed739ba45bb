#pragma once
// WSP (space and tab, RFC 5234) as both MTA-STS grammars use it around their fields.
#include <string_view>

namespace volley::mta_sts {

inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace volley::mta_sts
