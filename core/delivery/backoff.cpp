#include "core/delivery/backoff.hpp"

#include <algorithm>

namespace volley::delivery {

std::int64_t DestinationBackoff::step_ms() const {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(policy_.recovery_step).count());
}

std::uint32_t DestinationBackoff::level(std::int64_t now_ms) const {
  if (level_ == 0 || now_ms < cooling_until_ms_) return level_;
  // The first step back up is at the end of the cooling period, then one per recovery step.
  const std::int64_t steps = 1 + (now_ms - cooling_until_ms_) / step_ms();
  return steps >= level_ ? 0 : level_ - static_cast<std::uint32_t>(steps);
}

void DestinationBackoff::on_rate_limited(std::int64_t now_ms) {
  const std::uint32_t current = level(now_ms);
  if (current == 0 || (now_ms - deepened_at_ms_ >= step_ms() && current < kMaxLevel)) {
    level_ = current + 1;
    deepened_at_ms_ = now_ms;
  } else {
    level_ = current;
  }
  cooling_until_ms_ = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(policy_.cooldown).count();
}

Throttle DestinationBackoff::limits(const Throttle& configured, std::int64_t now_ms) const {
  const std::uint32_t halvings = level(now_ms);
  Throttle lowered = configured;
  lowered.max_connections = std::max<std::size_t>(1, configured.max_connections >> halvings);
  if (!configured.message_rate.unlimited())
    lowered.message_rate.count = std::max<std::uint32_t>(1, configured.message_rate.count >> halvings);
  return lowered;
}

std::optional<std::int64_t> DestinationBackoff::next_change_ms(std::int64_t now_ms) const {
  if (level(now_ms) == 0) return std::nullopt;
  if (now_ms < cooling_until_ms_) return cooling_until_ms_;
  return cooling_until_ms_ + (1 + (now_ms - cooling_until_ms_) / step_ms()) * step_ms();
}

}  // namespace volley::delivery
