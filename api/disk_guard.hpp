#pragma once
// The disk guard: Volley refuses new work before a database's disk is full, instead of taking
// mail it cannot store. A thread of its own measures the free space of each database's
// filesystem (statvfs) every second; the edges ask refuse() before taking work that writes (one
// atomic load on the request path). Below [spool] min_free_space injection answers 503
// storage_full with Retry-After, the bounce listener 452 4.3.1 (RFC 3463: mail system full), and
// suppression writes 503; all of it clears by itself once space is back (with hysteresis, see
// core/disk/free_space.hpp). One log line when it trips and one when it clears.
//
// Metrics (own registry, rendered with /metrics): volley_spool_free_bytes{database,path},
// volley_disk_guard_min_free_bytes{database,path}, volley_disk_guard_active (0/1),
// volley_disk_guard_refusals_total{edge}.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "core/disk/free_space.hpp"

namespace volley::api {

struct DiskGuardDatabase {
  std::string name;  // "spool", "suppressions", "webhooks"
  std::string path;  // its directory (exists once the database is open)
};

struct DiskGuardOptions {
  std::vector<DiskGuardDatabase> databases;  // databases on one filesystem are measured once
  disk::MinFreeSpace min_free;
  std::chrono::milliseconds interval{1000};
};

// Who refused: the label of volley_disk_guard_refusals_total.
enum class GuardedEdge { injection, smtp_in, suppressions, submission };

class DiskGuard {
 public:
  // Clients retry a full disk later than an overloaded spool: freeing space takes a person.
  static constexpr int kRetryAfterSeconds = 30;

  explicit DiskGuard(DiskGuardOptions options);
  ~DiskGuard();  // stop()s
  DiskGuard(const DiskGuard&) = delete;
  DiskGuard& operator=(const DiskGuard&) = delete;

  // Measures now, then every interval on a thread of its own until stop(). Call once.
  void start();
  void stop();
  // One measurement of every filesystem (what the thread does each interval).
  void check();
  // A database opened after the start (a webhook queue a reload created): measured from the next
  // check on, as those given at construction. Watching one twice changes nothing. Any thread.
  void watch(DiskGuardDatabase database);

  // True while some database's filesystem is below its minimum. Any thread.
  bool full() const;
  // full(), counting a refusal by `edge` when true. Any thread.
  bool refuse(GuardedEdge edge);

  // The guard's metrics in the Prometheus text format. Any thread.
  std::string render_metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The answer of an HTTP edge that refuses because the disk is (nearly) full: 503 storage_full
// with Retry-After.
HttpResponse storage_full_response();

}  // namespace volley::api
