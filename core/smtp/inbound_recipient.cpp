#include "core/smtp/inbound_recipient.hpp"

#include <algorithm>
#include <string_view>

#include "core/util/ascii.hpp"

namespace volley::smtp {

namespace {

using util::ascii_lower;

// RFC 5322 atext without '%' and '!': both are legal in a local part, and both are how old
// relays were tricked into forwarding ("victim%elsewhere@us", "elsewhere!victim@us").
bool plain_local_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("#$&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// A dot-atom: atoms of plain characters separated by single dots.
bool plain_local_part(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.' ? prev == '.' : !plain_local_char(c)) return false;
    prev = c;
  }
  return true;
}

}  // namespace

bool inbound_recipient_allowed(const std::string& address, const std::vector<std::string>& domains) {
  if (ascii_lower(address) == "postmaster") return true;
  const auto at = address.rfind('@');
  if (at == std::string::npos) return false;
  const std::string_view local(address.data(), at);
  const auto domain = ascii_lower(std::string_view(address).substr(at + 1));
  return plain_local_part(local) && std::find(domains.begin(), domains.end(), domain) != domains.end();
}

}  // namespace volley::smtp
