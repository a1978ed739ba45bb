#include "actors/process_metrics.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "core/metrics/process_stats.hpp"

namespace volley {
namespace {

// /proc files report a size of 0: read until the end.
std::optional<std::string> read_proc_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<double> open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  double n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;
}

void add(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
         prometheus::MetricType type, std::optional<double> value) {
  if (!value) return;
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = *value;
  else
    m.gauge.value = *value;
  f.metric.push_back(std::move(m));
  out.push_back(std::move(f));
}

}  // namespace

std::vector<prometheus::MetricFamily> collect_process_metrics() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::optional<metrics::ProcStat> stat;
  const auto self_stat = read_proc_file("/proc/self/stat");
  const auto system_stat = read_proc_file("/proc/stat");
  const auto boot_time = system_stat ? metrics::parse_boot_time(*system_stat) : std::nullopt;
  if (self_stat && boot_time)
    stat = metrics::parse_proc_stat(*self_stat, *boot_time, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
  auto of = [&](double metrics::ProcStat::*field) { return stat ? std::optional<double>((*stat).*field) : std::nullopt; };
  add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
      of(&metrics::ProcStat::cpu_seconds));
  add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
      of(&metrics::ProcStat::resident_bytes));
  add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
      of(&metrics::ProcStat::virtual_bytes));
  add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
      of(&metrics::ProcStat::start_time_seconds));
  add(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds());
  const auto limits = read_proc_file("/proc/self/limits");
  add(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
      limits ? metrics::parse_max_open_files(*limits) : std::nullopt);
  return out;
}

}  // namespace volley
