#pragma once
// The disk guard's decision, without the disk: given a filesystem's free and total bytes and
// [spool] min_free_space, whether Volley takes new work that writes to it. statvfs and the
// refusals themselves are the edge's (api/disk_guard).
//
// The automatic minimum is 1 GiB or 5 % of the filesystem, whichever is smaller, but never less
// than 64 MiB: after a full disk RocksDB resumes writing only once about one write buffer (32 MiB
// for the spool) is free, and a flush needs room too. Once refusing, the guard accepts again only
// when a quarter more than the minimum (at most 256 MiB more) is free, so that a filesystem
// hovering at the line does not flip between the two with every check.
#include <cstdint>
#include <optional>

namespace volley::disk {

inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kAutomaticMinFree = 1024 * kMiB;
inline constexpr double kAutomaticMinFreePercent = 5.0;
inline constexpr std::uint64_t kAutomaticMinFreeFloor = 64 * kMiB;
inline constexpr std::uint64_t kMaxResumeMargin = 256 * kMiB;

// What [spool] min_free_space says: a number of bytes, a percentage of the filesystem's size,
// or neither (automatic). Both set: bytes wins.
struct MinFreeSpace {
  std::optional<std::uint64_t> bytes;
  std::optional<double> percent;
};

// The free bytes below which a filesystem of total_bytes refuses new work. 0: never refuses.
std::uint64_t min_free_bytes(const MinFreeSpace& setting, std::uint64_t total_bytes);
// The free bytes at or above which a refusing filesystem accepts again.
std::uint64_t resume_free_bytes(std::uint64_t min_free);

// One filesystem's guard: fed a measurement at a time, it says whether to refuse and when that
// changed (for one log line per change, not one per request).
class FreeSpaceGuard {
 public:
  explicit FreeSpaceGuard(MinFreeSpace setting) : setting_(setting) {}

  enum class Change { none, tripped, cleared };
  Change observe(std::uint64_t free_bytes, std::uint64_t total_bytes);

  bool refusing() const { return refusing_; }
  // Of the last observation.
  std::uint64_t threshold() const { return threshold_; }
  std::uint64_t free_bytes() const { return free_; }

 private:
  MinFreeSpace setting_;
  bool refusing_ = false;
  std::uint64_t threshold_ = 0;
  std::uint64_t free_ = 0;
};

}  // namespace volley::disk
