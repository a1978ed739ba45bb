#pragma once
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds, as every Prometheus client
// library exports them (prometheus-cpp 1.0.1 has none): read from /proc/self at each scrape.
#include <vector>

#include <prometheus/metric_family.h>

namespace volley {

// The families whose files could be read and parsed; a missing one is left out.
std::vector<prometheus::MetricFamily> collect_process_metrics();

}  // namespace volley
