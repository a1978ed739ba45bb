#include "core/metrics/process_stats.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <vector>

namespace volley::metrics {
namespace {

std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The line of `text` that starts with `prefix` (without its end of line), or nullopt.
std::optional<std::string_view> line_starting(std::string_view text, std::string_view prefix) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(at, end - at);
    if (line.substr(0, prefix.size()) == prefix) return line;
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view stat_text, double boot_time_seconds,
                                        long ticks_per_second, long page_size) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields that
  // follow are counted from the last ')'. After it, field 3 (state) is the first.
  const auto close = stat_text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
  const auto f = fields(stat_text.substr(close + 1));
  auto field = [&](std::size_t n) { return n - 3 < f.size() ? number(f[n - 3]) : std::nullopt; };
  const auto utime = field(14), stime = field(15), starttime = field(22), vsize = field(23), rss = field(24);
  if (!utime || !stime || !starttime || !vsize || !rss) return std::nullopt;
  const auto ticks = static_cast<double>(ticks_per_second);
  ProcStat s;
  s.cpu_seconds = static_cast<double>(*utime + *stime) / ticks;
  s.virtual_bytes = static_cast<double>(*vsize);
  s.resident_bytes = static_cast<double>(*rss) * static_cast<double>(page_size);
  s.start_time_seconds = boot_time_seconds + static_cast<double>(*starttime) / ticks;
  return s;
}

std::optional<double> parse_boot_time(std::string_view proc_stat_text) {
  const auto line = line_starting(proc_stat_text, "btime ");
  if (!line) return std::nullopt;
  const auto f = fields(*line);
  if (f.size() != 2) return std::nullopt;
  const auto v = number(f[1]);
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

std::optional<double> parse_max_open_files(std::string_view limits_text) {
  // "Max open files            1024                 524288               files"
  constexpr std::string_view kName = "Max open files";
  const auto line = line_starting(limits_text, kName);
  if (!line) return std::nullopt;
  const auto f = fields(line->substr(kName.size()));
  if (f.empty()) return std::nullopt;
  if (f[0] == "unlimited") return std::numeric_limits<double>::infinity();
  const auto v = number(f[0]);
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

}  // namespace volley::metrics
