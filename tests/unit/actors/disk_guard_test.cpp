// The disk guard on this machine's real filesystem: a minimum above what it has free trips it
// (and every refusal is counted), 0 never does.
#include <sys/statvfs.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "api/disk_guard.hpp"

using namespace volley;

namespace {

std::uint64_t free_bytes(const std::filesystem::path& p) {
  struct statvfs st {};
  REQUIRE(::statvfs(p.c_str(), &st) == 0);
  return std::uint64_t{st.f_bavail} * st.f_frsize;
}

api::DiskGuardOptions options(std::uint64_t min_free) {
  const auto tmp = std::filesystem::temp_directory_path().string();
  api::DiskGuardOptions o;
  o.databases = {{"spool", tmp}, {"suppressions", tmp}};
  o.min_free = disk::MinFreeSpace{min_free, std::nullopt};
  return o;
}

}  // namespace

TEST_CASE("the disk guard refuses while free space is below the minimum, and counts refusals", "[disk_guard]") {
  api::DiskGuard guard(options(free_bytes(std::filesystem::temp_directory_path()) + (std::uint64_t{1} << 30)));
  CHECK_FALSE(guard.full());  // nothing measured yet
  guard.check();
  CHECK(guard.full());
  CHECK(guard.refuse(api::GuardedEdge::injection));
  CHECK(guard.refuse(api::GuardedEdge::injection));
  CHECK(guard.refuse(api::GuardedEdge::smtp_in));
  const auto page = guard.render_metrics();
  CHECK(page.find("volley_disk_guard_active 1") != std::string::npos);
  CHECK(page.find("volley_disk_guard_refusals_total{edge=\"injection\"} 2") != std::string::npos);
  CHECK(page.find("volley_disk_guard_refusals_total{edge=\"smtp_in\"} 1") != std::string::npos);
  CHECK(page.find("volley_disk_guard_refusals_total{edge=\"suppressions\"} 0") != std::string::npos);
  CHECK(page.find("volley_spool_free_bytes{database=\"suppressions\"") != std::string::npos);

  const auto answer = api::storage_full_response();
  CHECK(answer.status == 503);
  CHECK(answer.body.find("\"storage_full\"") != std::string::npos);
  REQUIRE(answer.headers.size() == 1);
  CHECK(answer.headers[0] == std::pair<std::string, std::string>{"Retry-After", "30"});
}

TEST_CASE("a disk guard with a minimum of 0 never refuses, start and stop run its thread", "[disk_guard]") {
  api::DiskGuard guard(options(0));
  guard.start();
  CHECK_FALSE(guard.full());
  CHECK_FALSE(guard.refuse(api::GuardedEdge::suppressions));
  guard.stop();
  CHECK(guard.render_metrics().find("volley_disk_guard_active 0") != std::string::npos);
}

// A webhook queue a reload opens after the start is watched from then on: its filesystem is
// measured, shown in the metrics, and trips the guard like the others.
TEST_CASE("a database watched after the start is measured and can trip the guard", "[disk_guard]") {
  const auto tmp = std::filesystem::temp_directory_path();
  api::DiskGuardOptions o;
  o.min_free = disk::MinFreeSpace{free_bytes(tmp) + (std::uint64_t{1} << 30), std::nullopt};
  api::DiskGuard guard(o);  // no database yet: nothing to measure
  guard.check();
  CHECK_FALSE(guard.full());
  guard.watch({"webhooks", tmp.string()});
  guard.watch({"webhooks", tmp.string()});  // twice: the same one
  guard.check();
  CHECK(guard.full());
  const auto page = guard.render_metrics();
  CHECK(page.find("volley_spool_free_bytes{database=\"webhooks\"") != std::string::npos);
  std::size_t gauges = 0;
  for (auto at = page.find("volley_disk_guard_min_free_bytes{database=\"webhooks\""); at != std::string::npos;
       at = page.find("volley_disk_guard_min_free_bytes{database=\"webhooks\"", at + 1))
    ++gauges;
  CHECK(gauges == 1);
}
