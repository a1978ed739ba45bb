#pragma once
// The standard process_* metrics that every Prometheus client library exports, computed from the
// text of Linux's /proc files (the caller reads them at scrape time; nothing here does I/O).
#include <optional>
#include <string_view>

namespace volley::metrics {

// From /proc/self/stat.
struct ProcStat {
  double cpu_seconds = 0;         // user + system time
  double virtual_bytes = 0;       // vsize
  double resident_bytes = 0;      // rss pages * page size
  double start_time_seconds = 0;  // Unix time the process started
};

// stat_text: /proc/self/stat; boot_time_seconds: btime of /proc/stat (parse_boot_time);
// ticks_per_second: sysconf(_SC_CLK_TCK); page_size: sysconf(_SC_PAGESIZE).
// nullopt when the text is not a stat line.
std::optional<ProcStat> parse_proc_stat(std::string_view stat_text, double boot_time_seconds,
                                        long ticks_per_second, long page_size);

// The "btime" line of /proc/stat: when the system booted, in Unix seconds.
std::optional<double> parse_boot_time(std::string_view proc_stat_text);

// The soft limit of "Max open files" in /proc/self/limits; "unlimited" is +Inf.
std::optional<double> parse_max_open_files(std::string_view limits_text);

}  // namespace volley::metrics
