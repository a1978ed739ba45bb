#include "api/disk_guard.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/http_json.hpp"
#include "core/util/log_fields.hpp"

namespace volley::api {

namespace {

using prometheus::Counter;
using prometheus::Gauge;

// "1.5GiB": sizes in log lines, readable rather than exact.
std::string approx_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(bytes);
  std::size_t u = 0;
  while (value >= 1024 && u + 1 < std::size(units)) value /= 1024, ++u;
  return fmt::format("{:.{}f}{}", value, u == 0 ? 0 : 1, units[u]);
}

}  // namespace

struct DiskGuard::Impl {
  // One filesystem and the databases on it.
  struct Filesystem {
    dev_t device = 0;
    std::vector<std::size_t> databases;  // indexes into options.databases
    disk::FreeSpaceGuard guard;
    bool unreadable = false;  // statvfs failed at the last check (logged once)
  };

  explicit Impl(DiskGuardOptions o) : options(std::move(o)) {
    active = &prometheus::BuildGauge()
                  .Name("volley_disk_guard_active")
                  .Help("1 while new work is refused because a database's filesystem is below [spool] min_free_space")
                  .Register(*registry)
                  .Add({});
    auto& refusals = prometheus::BuildCounter()
                         .Name("volley_disk_guard_refusals_total")
                         .Help("Requests, SMTP commands and messages refused by the disk guard, by edge")
                         .Register(*registry);
    refused[0] = &refusals.Add({{"edge", "injection"}});
    refused[1] = &refusals.Add({{"edge", "smtp_in"}});
    refused[2] = &refusals.Add({{"edge", "suppressions"}});
    refused[3] = &refusals.Add({{"edge", "submission"}});
    free_family = &prometheus::BuildGauge()
                       .Name("volley_spool_free_bytes")
                       .Help("Free bytes (available to Volley) on the filesystem of each database")
                       .Register(*registry);
    min_family = &prometheus::BuildGauge()
                      .Name("volley_disk_guard_min_free_bytes")
                      .Help("Free bytes below which the disk guard refuses new work, per database")
                      .Register(*registry);
    for (std::size_t i = 0; i < options.databases.size(); ++i) place(i);
  }

  // Database i's gauges, and its filesystem among those measured (databases on one filesystem are
  // measured once; one whose directory is missing gets a filesystem of its own).
  void place(std::size_t i) {
    const auto& db = options.databases[i];
    free_gauges.push_back(&free_family->Add({{"database", db.name}, {"path", db.path}}));
    min_gauges.push_back(&min_family->Add({{"database", db.name}, {"path", db.path}}));
    struct stat st {};
    const bool known = ::stat(db.path.c_str(), &st) == 0;
    Filesystem* same = nullptr;
    for (auto& fs : filesystems)
      if (known && fs.device == st.st_dev) same = &fs;
    if (same == nullptr) {
      filesystems.push_back(Filesystem{known ? st.st_dev : dev_t{}, {}, disk::FreeSpaceGuard(options.min_free)});
      same = &filesystems.back();
    }
    same->databases.push_back(i);
  }

  std::string names(const Filesystem& fs) const {
    std::string out;
    for (auto i : fs.databases)
      out += (out.empty() ? "" : ", ") + options.databases[i].name + " (" + options.databases[i].path + ")";
    return out;
  }

  void check() {
    std::lock_guard lock(mu);
    bool any = false;
    for (auto& fs : filesystems) {
      const auto& first = options.databases[fs.databases.front()];
      struct statvfs st {};
      if (::statvfs(first.path.c_str(), &st) != 0) {
        if (!fs.unreadable) spdlog::warn("disk_guard: cannot measure the free space{}", util::log_fields("paths", names(fs)));
        fs.unreadable = true;
        any = any || fs.guard.refusing();
        continue;
      }
      fs.unreadable = false;
      const std::uint64_t free = std::uint64_t{st.f_bavail} * st.f_frsize;
      const std::uint64_t total = std::uint64_t{st.f_blocks} * st.f_frsize;
      switch (fs.guard.observe(free, total)) {
        case disk::FreeSpaceGuard::Change::tripped:
          spdlog::warn("disk_guard: free space below min_free_space: refusing new mail until resume_at is free{}",
                       util::log_fields("free", approx_size(free), "paths", names(fs), "min_free_space",
                                        approx_size(fs.guard.threshold()), "resume_at",
                                        approx_size(disk::resume_free_bytes(fs.guard.threshold()))));
          break;
        case disk::FreeSpaceGuard::Change::cleared:
          spdlog::info("disk_guard: accepting new mail again{}", util::log_fields("free", approx_size(free), "paths", names(fs)));
          break;
        case disk::FreeSpaceGuard::Change::none:
          break;
      }
      for (auto i : fs.databases) {
        free_gauges[i]->Set(static_cast<double>(free));
        min_gauges[i]->Set(static_cast<double>(fs.guard.threshold()));
      }
      any = any || fs.guard.refusing();
    }
    refusing.store(any, std::memory_order_relaxed);
    active->Set(any ? 1 : 0);
  }

  void run() {
    std::unique_lock lock(thread_mu);
    while (!wake.wait_for(lock, options.interval, [this] { return stopping; })) {
      lock.unlock();
      check();
      lock.lock();
    }
  }

  DiskGuardOptions options;
  std::vector<Filesystem> filesystems;
  std::mutex mu;  // filesystems, check()
  std::atomic<bool> refusing{false};

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Gauge* active = nullptr;
  Counter* refused[4] = {};
  prometheus::Family<Gauge>* free_family = nullptr;
  prometheus::Family<Gauge>* min_family = nullptr;
  std::vector<Gauge*> free_gauges;  // by database
  std::vector<Gauge*> min_gauges;

  std::mutex thread_mu;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

DiskGuard::DiskGuard(DiskGuardOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

void DiskGuard::watch(DiskGuardDatabase database) {
  std::lock_guard lock(impl_->mu);
  for (const auto& db : impl_->options.databases)
    if (db.name == database.name && db.path == database.path) return;
  impl_->options.databases.push_back(std::move(database));
  impl_->place(impl_->options.databases.size() - 1);
}

DiskGuard::~DiskGuard() { stop(); }

void DiskGuard::start() {
  impl_->check();
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void DiskGuard::stop() {
  {
    std::lock_guard lock(impl_->thread_mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void DiskGuard::check() { impl_->check(); }

bool DiskGuard::full() const { return impl_->refusing.load(std::memory_order_relaxed); }

bool DiskGuard::refuse(GuardedEdge edge) {
  if (!full()) return false;
  impl_->refused[static_cast<int>(edge)]->Increment();
  return true;
}

std::string DiskGuard::render_metrics() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(impl_->registry->Collect());
}

HttpResponse storage_full_response() {
  HttpResponse r = error_response(503, "storage_full",
                                  "the server's disk is nearly full: nothing new is accepted until space is freed");
  r.headers.emplace_back("Retry-After", std::to_string(DiskGuard::kRetryAfterSeconds));
  return r;
}

}  // namespace volley::api
