#include "core/dns/names.hpp"
#include "core/util/ascii.hpp"

namespace volley::dns {

namespace {

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

using util::ascii_lower;

}  // namespace

std::optional<std::string> normalize_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return std::nullopt;
  std::string out;
  out.reserve(name.size());
  std::size_t label_len = 0;
  for (char c : name) {
    if (c == '.') {
      if (label_len == 0) return std::nullopt;
      label_len = 0;
      out.push_back('.');
      continue;
    }
    c = ascii_lower(c);
    if (!is_label_char(c) || ++label_len > 63) return std::nullopt;
    out.push_back(c);
  }
  if (label_len == 0) return std::nullopt;
  return out;
}

}  // namespace volley::dns
