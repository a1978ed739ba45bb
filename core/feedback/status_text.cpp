#include "core/feedback/status_text.hpp"

namespace volley::feedback {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool class_digit(char c) { return c == '2' || c == '4' || c == '5'; }

// Digits starting at `i`, at most `max`: their count (0 when none).
std::size_t digits_at(std::string_view t, std::size_t i, std::size_t max) {
  std::size_t n = 0;
  while (i + n < t.size() && n < max && digit(t[i + n])) ++n;
  return n;
}

// A word boundary before `i`: not part of a number, an IP address or a longer code.
bool starts_word(std::string_view t, std::size_t i) {
  if (i == 0) return true;
  char p = t[i - 1];
  return !digit(p) && p != '.' && !(p >= 'a' && p <= 'z') && !(p >= 'A' && p <= 'Z');
}

// Length of an enhanced status code "c.sss.ddd" at `i`, or 0.
std::size_t enhanced_at(std::string_view t, std::size_t i) {
  if (!class_digit(t[i]) || !starts_word(t, i)) return 0;
  std::size_t n = 1;
  if (i + n >= t.size() || t[i + n] != '.') return 0;
  ++n;
  auto a = digits_at(t, i + n, 3);
  if (a == 0) return 0;
  n += a;
  if (i + n >= t.size() || t[i + n] != '.') return 0;
  ++n;
  auto b = digits_at(t, i + n, 3);
  if (b == 0) return 0;
  n += b;
  // "5.1.1.4" is an IP address, "5.1.10" is fine, "5.1.1." ends a sentence
  if (i + n < t.size() && (digit(t[i + n]) || (t[i + n] == '.' && i + n + 1 < t.size() && digit(t[i + n + 1]))))
    return 0;
  return n;
}

}  // namespace

std::size_t reply_code_at(std::string_view t) {
  for (std::size_t i = 0; i + 3 <= t.size(); ++i) {
    if (!class_digit(t[i]) || !starts_word(t, i) || digits_at(t, i, 4) != 3) continue;
    if (i + 3 == t.size() || t[i + 3] == ' ' || t[i + 3] == '-' || t[i + 3] == '\t' || t[i + 3] == '\'' || t[i + 3] == '\n')
      return i;
  }
  return std::string_view::npos;
}

std::string status_in(std::string_view t) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (auto n = enhanced_at(t, i)) return std::string(t.substr(i, n));
  }
  auto code = reply_code_at(t);
  if (code == std::string_view::npos) return {};
  return std::string(1, t[code]) + ".0.0";
}

std::string action_for_status(std::string_view status) {
  if (status.empty()) return {};
  switch (status.front()) {
    case '5': return "failed";
    case '4': return "delayed";
    case '2': return "delivered";
    default: return {};
  }
}

}  // namespace volley::feedback
