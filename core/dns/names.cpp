#include "core/dns/names.hpp"

#include <arpa/inet.h>

#include <array>

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

std::optional<std::string> reverse_name(std::string_view address) {
  const std::string text(address);
  std::array<unsigned char, 16> bytes{};
  std::string out;
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(bytes[static_cast<std::size_t>(i)]) + ".";
    return out + "in-addr.arpa";
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    const unsigned char b = bytes[static_cast<std::size_t>(i)];
    out += kHex[b & 0x0f];
    out += '.';
    out += kHex[b >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

}  // namespace volley::dns
