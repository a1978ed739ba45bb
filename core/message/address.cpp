#include "core/message/address.hpp"

#include <arpa/inet.h>

#include <cstdio>

#include "core/message/utf8.hpp"
#include "core/util/ascii.hpp"
#include "core/util/utf8.hpp"

namespace volley::message {

namespace {

constexpr std::size_t kMaxLocal = 64;    // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;  // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxPath = 254;    // 256-octet path minus the angle brackets
constexpr std::size_t kMaxLabel = 63;

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext, widened by RFC 6531 to every non-ASCII octet of (already validated) UTF-8.
bool is_atext(unsigned char c) {
  if (c >= 0x80 || is_alnum(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string bad_char(unsigned char c, const char* where) {
  char buf[64];
  if (c == ' ')
    std::snprintf(buf, sizeof buf, "space in %s", where);
  else
    std::snprintf(buf, sizeof buf, "invalid character '%c' in %s", static_cast<char>(c), where);
  return buf;
}

// Returns "" when `local` (unquoted) is a valid dot-atom.
std::string check_dot_atom(std::string_view local) {
  if (local.front() == '.' || local.back() == '.') return "local part starts or ends with a dot";
  for (std::size_t i = 0; i < local.size(); ++i) {
    auto c = static_cast<unsigned char>(local[i]);
    if (c == '.') {
      if (local[i + 1] == '.') return "local part has two dots in a row";
      continue;
    }
    if (!is_atext(c)) return bad_char(c, "local part");
  }
  return "";
}

// `s` starts with '"'. Sets *end to the index just past the closing quote.
std::string scan_quoted_local(std::string_view s, std::size_t* end) {
  std::size_t i = 1;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      *end = i + 1;
      if (i == 1) return "empty local part";
      return "";
    }
    if (c == '\\') {  // quoted-pairSMTP: backslash and one printable ASCII character
      if (i + 1 >= s.size()) break;
      auto q = static_cast<unsigned char>(s[i + 1]);
      if (q < 32 || q > 126) return "invalid quoted pair in local part";
      i += 2;
      continue;
    }
    // qtextSMTP: printable ASCII except '"' and '\', or UTF-8.
    if (c < 32 || c == 127) return "invalid character in quoted local part";
    ++i;
  }
  return "unterminated quoted local part";
}

std::string check_address_literal(std::string_view d) {
  if (d.back() != ']') return "unterminated address literal";
  std::string inner(d.substr(1, d.size() - 2));
  unsigned char buf[16];
  if (inner.rfind("IPv6:", 0) == 0) {
    if (inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1) return "";
    return "invalid IPv6 address literal";
  }
  if (inet_pton(AF_INET, inner.c_str(), buf) == 1) return "";
  return "invalid address literal";
}

std::string check_hostname(std::string_view d) {
  std::size_t start = 0;
  bool last_label_numeric = false;
  while (true) {
    std::size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty()) return "domain has an empty label";
    if (label.size() > kMaxLabel) return "domain label longer than 63 octets";
    if (label.front() == '-' || label.back() == '-') return "domain label starts or ends with a hyphen";
    last_label_numeric = true;
    for (char ch : label) {
      auto c = static_cast<unsigned char>(ch);
      if (c < '0' || c > '9') last_label_numeric = false;
      // LDH, plus UTF-8 for internationalised labels (U-labels).
      if (!(c >= 0x80 || is_alnum(c) || c == '-')) return bad_char(c, "domain");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // "user@1.2.3.4" is almost always a mistake for the literal form, and no TLD is numeric.
  if (last_label_numeric) return "top-level domain label is numeric (write an IP address as [1.2.3.4])";
  return "";
}

}  // namespace

std::string Mailbox::domain_key() const {
  return util::ascii_lower(domain);
}

bool Mailbox::needs_smtputf8() const {
  return !message::is_ascii(local) || !message::is_ascii(domain);
}

std::optional<Mailbox> parse_address(std::string_view s, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Mailbox> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (s.empty()) return fail("empty address");
  if (!util::valid_utf8(s)) return fail("address is not valid UTF-8");
  for (char ch : s) {
    if (ch == '\r' || ch == '\n' || ch == '\0') return fail("CR, LF or NUL in address");
    if (ch == '<' || ch == '>')
      return fail("angle brackets in address (give only local@domain; a display name goes in \"name\")");
  }
  if (message::has_control_chars(s) || s.find('\t') != std::string_view::npos)
    return fail("control character in address");

  std::size_t at;
  if (s.front() == '"') {
    std::size_t end = 0;
    if (auto why = scan_quoted_local(s, &end); !why.empty()) return fail(why);
    if (end >= s.size() || s[end] != '@') return fail(end >= s.size() ? "missing @" : "text after quoted local part");
    at = end;
  } else {
    at = s.find('@');
    if (at == std::string_view::npos) return fail("missing @");
    if (at == 0) return fail("empty local part");
    if (auto why = check_dot_atom(s.substr(0, at)); !why.empty()) return fail(why);
  }
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (domain.empty()) return fail("missing domain");
  if (domain.find('@') != std::string_view::npos) return fail("more than one @");
  if (local.size() > kMaxLocal) return fail("local part longer than 64 octets");
  if (domain.size() > kMaxDomain) return fail("domain longer than 255 octets");
  if (s.size() > kMaxPath) return fail("address longer than 254 octets");
  std::string why = domain.front() == '[' ? check_address_literal(domain) : check_hostname(domain);
  if (!why.empty()) return fail(why);

  Mailbox box;
  box.local = std::string(local);
  box.domain = std::string(domain);
  return box;
}

}  // namespace volley::message
