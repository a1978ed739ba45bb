#include "core/schedule/send_at.hpp"

#include <cstdint>

#include "core/schedule/civil.hpp"

namespace volley::schedule {

namespace {

// Reads exactly n digits at pos.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, pos, 4, &year) || !expect(s, pos, '-') || !digits(s, pos, 2, &month) || !expect(s, pos, '-') ||
      !digits(s, pos, 2, &day))
    return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!digits(s, pos, 2, &hour) || !expect(s, pos, ':') || !digits(s, pos, 2, &minute) || !expect(s, pos, ':') ||
      !digits(s, pos, 2, &second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59)
    return std::nullopt;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++n) {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (; n < 3; ++n) millis *= 10;
  }
  std::int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const bool negative = s[pos] == '-';
    ++pos;
    int oh = 0, om = 0;
    if (!digits(s, pos, 2, &oh) || !expect(s, pos, ':') || !digits(s, pos, 2, &om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (negative ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;  // RFC 3339 requires the offset: a local time names no instant
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t local_s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return (local_s - offset_min * 60) * 1000 + millis;
}

std::variant<std::int64_t, SendAtError> resolve_send_at(std::string_view text, std::int64_t now_ms) {
  const auto at = parse_rfc3339(text);
  if (!at)
    return SendAtError{"invalid_field",
                       "send_at must be an RFC 3339 date-time with an offset, e.g. 2026-12-24T08:00:00Z"};
  if (*at <= now_ms) return std::int64_t{0};
  if (*at - now_ms > kMaxSendAheadMs)
    return SendAtError{"invalid_field", "send_at is more than 30 days ahead"};
  return *at;
}

}  // namespace volley::schedule
