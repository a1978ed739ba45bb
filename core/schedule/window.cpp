#include "core/schedule/window.hpp"

namespace volley::schedule {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

bool hh_mm(std::string_view s, int* out) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (std::size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return false;
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return false;
  *out = h * 60 + m;
  return true;
}

std::int64_t seconds_of(std::int64_t ms) { return (ms - floor_mod(ms, 1000)) / 1000; }

std::int64_t local_ms_of_day(const Zone& zone, std::int64_t utc_ms) {
  return floor_mod(utc_ms + std::int64_t{zone.offset_at(seconds_of(utc_ms))} * 1000, kDayMs);
}

}  // namespace

bool SendWindow::contains(std::int64_t ms) const {
  const std::int64_t start = std::int64_t{start_min} * 60'000, end = std::int64_t{end_min} * 60'000;
  return start < end ? (ms >= start && ms < end) : (ms >= start || ms < end);
}

std::optional<SendWindow> parse_send_window(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  SendWindow w;
  if (!hh_mm(text.substr(0, dash), &w.start_min) || !hh_mm(text.substr(dash + 1), &w.end_min) ||
      w.start_min == w.end_min)
    return std::nullopt;
  return w;
}

std::int64_t window_opens_at(const SendWindow& window, const Zone& zone, std::int64_t now_ms) {
  std::int64_t t = now_ms;
  // Each round either finds the window open or moves t to the next window start by the current
  // offset, or to an offset change before it (whose jump may land inside the window). A zone
  // changes its offset a few times a year, so a handful of rounds always suffices.
  for (int round = 0; round < 16; ++round) {
    const std::int64_t local = local_ms_of_day(zone, t);
    if (window.contains(local)) return t;
    const std::int64_t start_ms = std::int64_t{window.start_min} * 60'000;
    const std::int64_t next = t + floor_mod(start_ms - local, kDayMs);
    const auto change = zone.next_change_after(seconds_of(t));
    if (change && *change * 1000 <= next && *change * 1000 > t) {
      t = *change * 1000;
    } else {
      t = next;
    }
  }
  return t;
}

}  // namespace volley::schedule
