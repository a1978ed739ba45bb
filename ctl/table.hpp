#pragma once
// volleyctl's human output: aligned tables no wider than 100 columns, and the short forms of
// ages, times and rates its tables use. Values only, so it is tested without a daemon.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace volley::ctl {

inline constexpr std::size_t kWidth = 100;

struct Table {
  std::vector<std::string> header;
  std::vector<bool> numeric;  // per column: right-aligned (missing = left)
  std::vector<std::vector<std::string>> rows;
  void add(std::vector<std::string> row) { rows.push_back(std::move(row)); }
};

// Columns two spaces apart, each as wide as its widest cell; while the whole is wider than
// `width`, the widest column is cut (its cells end in '~'). No trailing spaces. Control
// characters in cells are shown as '?': a table never moves the cursor.
std::string render(const Table& t, std::size_t width = kWidth);

// 75 -> "1m15s", 7260 -> "2h01m", 190000 -> "2d04h"; 0 -> "0s".
std::string format_age(std::int64_t seconds);
// Milliseconds since the epoch -> "2026-12-06 07:40:01" (UTC); 0 -> "-".
std::string format_time(std::int64_t unix_ms);
// 2.5 -> "2.5", 120 -> "120", 0 -> "0".
std::string format_rate(double per_second);

}  // namespace volley::ctl
