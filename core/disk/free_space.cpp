#include "core/disk/free_space.hpp"

#include <algorithm>
#include <cmath>

namespace volley::disk {

std::uint64_t min_free_bytes(const MinFreeSpace& setting, std::uint64_t total_bytes) {
  auto share = [total_bytes](double percent) {
    const double bytes = std::ceil(static_cast<double>(total_bytes) * percent / 100.0);
    return bytes >= static_cast<double>(total_bytes) ? total_bytes : static_cast<std::uint64_t>(bytes);
  };
  if (setting.bytes) return *setting.bytes;
  if (setting.percent) return share(*setting.percent);
  return std::max(std::min(kAutomaticMinFree, share(kAutomaticMinFreePercent)), kAutomaticMinFreeFloor);
}

std::uint64_t resume_free_bytes(std::uint64_t min_free) {
  return min_free + std::min(min_free / 4, kMaxResumeMargin);
}

FreeSpaceGuard::Change FreeSpaceGuard::observe(std::uint64_t free_bytes, std::uint64_t total_bytes) {
  threshold_ = min_free_bytes(setting_, total_bytes);
  free_ = free_bytes;
  if (!refusing_ && free_bytes < threshold_) {
    refusing_ = true;
    return Change::tripped;
  }
  if (refusing_ && free_bytes >= resume_free_bytes(threshold_)) {
    refusing_ = false;
    return Change::cleared;
  }
  return Change::none;
}

}  // namespace volley::disk
