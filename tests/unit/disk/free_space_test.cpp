// The disk guard's decision: thresholds from [spool] min_free_space, and hysteresis.
#include <catch2/catch.hpp>

#include "core/disk/free_space.hpp"

using namespace volley::disk;

namespace {
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
}

TEST_CASE("automatic: 1 GiB or 5 % of the filesystem, whichever is smaller, never below 64 MiB", "[disk]") {
  const MinFreeSpace automatic;
  CHECK(min_free_bytes(automatic, 100 * kGiB) == kGiB);             // 5 % = 5 GiB
  CHECK(min_free_bytes(automatic, 10 * kGiB) == kGiB / 2);          // 5 % = 512 MiB
  CHECK(min_free_bytes(automatic, kGiB) == 64 * kMiB);              // 5 % = 51 MiB: the floor
  CHECK(min_free_bytes(automatic, 64 * kMiB) == 64 * kMiB);         // a tiny disk refuses at once
  CHECK(min_free_bytes(automatic, 0) == 64 * kMiB);
}

TEST_CASE("an explicit size or percentage is taken as it is, 0 turning the guard off", "[disk]") {
  CHECK(min_free_bytes(MinFreeSpace{2 * kGiB, std::nullopt}, 100 * kGiB) == 2 * kGiB);
  CHECK(min_free_bytes(MinFreeSpace{kMiB, std::nullopt}, 100 * kGiB) == kMiB);  // below the automatic floor
  CHECK(min_free_bytes(MinFreeSpace{std::nullopt, 10.0}, 100 * kGiB) == 10 * kGiB);
  CHECK(min_free_bytes(MinFreeSpace{std::nullopt, 0.5}, 200 * kGiB) == kGiB);
  CHECK(min_free_bytes(MinFreeSpace{std::nullopt, 100.0}, 3 * kGiB) == 3 * kGiB);
  CHECK(min_free_bytes(MinFreeSpace{2 * kGiB, 10.0}, 100 * kGiB) == 2 * kGiB);  // bytes win

  FreeSpaceGuard off(MinFreeSpace{0, std::nullopt});
  CHECK(off.observe(0, kGiB) == FreeSpaceGuard::Change::none);
  CHECK_FALSE(off.refusing());
}

TEST_CASE("the guard trips below the minimum and clears only a quarter above it", "[disk]") {
  FreeSpaceGuard guard(MinFreeSpace{100 * kMiB, std::nullopt});
  const std::uint64_t total = 10 * kGiB;
  CHECK(guard.observe(200 * kMiB, total) == FreeSpaceGuard::Change::none);
  CHECK_FALSE(guard.refusing());
  CHECK(guard.observe(100 * kMiB, total) == FreeSpaceGuard::Change::none);  // at the minimum: still fine
  CHECK(guard.observe(100 * kMiB - 1, total) == FreeSpaceGuard::Change::tripped);
  CHECK(guard.refusing());
  CHECK(guard.threshold() == 100 * kMiB);
  CHECK(guard.free_bytes() == 100 * kMiB - 1);
  // Hovering around the line changes nothing (one log line per change, not one per check).
  CHECK(guard.observe(90 * kMiB, total) == FreeSpaceGuard::Change::none);
  CHECK(guard.observe(110 * kMiB, total) == FreeSpaceGuard::Change::none);
  CHECK(guard.observe(125 * kMiB - 1, total) == FreeSpaceGuard::Change::none);
  CHECK(guard.refusing());
  CHECK(guard.observe(125 * kMiB, total) == FreeSpaceGuard::Change::cleared);
  CHECK_FALSE(guard.refusing());
  CHECK(guard.observe(120 * kMiB, total) == FreeSpaceGuard::Change::none);
  CHECK(guard.observe(0, total) == FreeSpaceGuard::Change::tripped);
}

TEST_CASE("the margin to clear is capped at 256 MiB", "[disk]") {
  CHECK(resume_free_bytes(64 * kMiB) == 80 * kMiB);
  CHECK(resume_free_bytes(kGiB) == kGiB + 256 * kMiB);
  CHECK(resume_free_bytes(10 * kGiB) == 10 * kGiB + 256 * kMiB);
  CHECK(resume_free_bytes(0) == 0);
}
