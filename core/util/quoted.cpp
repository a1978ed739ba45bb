#include "core/util/quoted.hpp"

namespace volley::util {

std::string quoted(std::string_view text, std::size_t max_shown) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (++shown > max_shown) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
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

}  // namespace volley::util
