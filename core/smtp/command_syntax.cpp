#include "core/smtp/command_syntax.hpp"

#include <algorithm>
#include <charconv>

#include "core/util/ascii.hpp"

namespace volley::smtp::command_syntax {

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && util::ascii_iequals(s.substr(0, prefix.size()), prefix);
}

// Control characters have no place in a command line: NUL and bare CR smuggle, the rest are
// binary noise. TAB is let through as ordinary text.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7F;
  });
}

bool non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_number(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// "<path> params" after "FROM:" or "TO:". The path may hold a quoted local part with '>' or
// spaces in it; a source route ("<@a,@b:user@c>", RFC 5321 §4.1.2) is accepted and dropped.
std::optional<PathAndParams> split_path(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.front() != '<') return std::nullopt;
  bool quoted = false;
  std::size_t i = 1;
  for (; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == '>') {
      break;
    }
  }
  if (i >= s.size()) return std::nullopt;
  PathAndParams out{s.substr(1, i - 1), s.substr(i + 1)};
  if (!out.params.empty() && out.params.front() != ' ') return std::nullopt;
  if (!out.path.empty() && out.path.front() == '@') {
    const auto colon = out.path.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.path.remove_prefix(colon + 1);
  }
  return out;
}

// local@domain, both present, no bare spaces. Deliberately loose beyond that: the owner judges
// addresses; the machine only refuses what cannot be one.
bool plausible_mailbox(std::string_view p) {
  const auto at = p.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == p.size()) return false;
  const auto domain = p.substr(at + 1);
  if (domain.find_first_of(" \"<>") != std::string_view::npos) return false;
  const auto local = p.substr(0, at);
  if (local.front() == '"') return local.size() >= 2 && local.back() == '"';
  return local.find_first_of(" <>") == std::string_view::npos;
}

// The next space-separated word of `s`, removed from it.
std::string_view next_word(std::string_view& s) {
  s = trim(s);
  const auto sp = s.find(' ');
  const auto word = s.substr(0, sp);
  s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
  return word;
}

// Reply text from the owner goes on the wire: no line ends or other controls in it.
void append_sanitized(std::string& out, std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c == 0x7F) ? ' ' : ch;
  }
}

}  // namespace volley::smtp::command_syntax
