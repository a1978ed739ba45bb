#include "core/delivery/retry.hpp"

#include <algorithm>

namespace volley::delivery {

std::chrono::seconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempts) {
  auto delay = policy.first;
  // Doubling stops at the cap long before it could overflow (2^k * first > max_interval).
  for (std::uint32_t i = 1; i < failed_attempts && delay < policy.max_interval; ++i) delay *= 2;
  return std::min(delay, std::max(policy.max_interval, policy.first));
}

std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, std::uint32_t failed_attempts,
                                            std::int64_t received_at_ms, std::int64_t now_ms) {
  const std::int64_t deadline =
      received_at_ms + std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_age).count();
  if (now_ms >= deadline) return std::nullopt;
  const std::int64_t next =
      now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(retry_delay(policy, failed_attempts)).count();
  return std::min(next, deadline);
}

}  // namespace volley::delivery
