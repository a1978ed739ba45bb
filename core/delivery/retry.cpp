#include "core/delivery/retry.hpp"

#include <algorithm>

namespace volley::delivery {

std::chrono::seconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempts) {
  auto delay = policy.first;
  // Doubling stops at the cap long before it could overflow (2^k * first > max_interval).
  for (std::uint32_t i = 1; i < failed_attempts && delay < policy.max_interval; ++i) delay *= 2;
  return std::min(delay, std::max(policy.max_interval, policy.first));
}

std::chrono::seconds retry_delay(const RetryPolicy& policy, TempfailKind kind, std::uint32_t failed_attempts,
                                 std::uint32_t greylist_retries) {
  switch (kind) {
    case TempfailKind::greylisted:
      if (greylist_retries < policy.greylist.size()) return policy.greylist[greylist_retries];
      break;
    case TempfailKind::rate_limited: return policy.first;
    case TempfailKind::mailbox_full:
    case TempfailKind::tls_required:
    case TempfailKind::other: break;
  }
  return retry_delay(policy, failed_attempts);
}

std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, std::uint32_t failed_attempts,
                                            std::int64_t received_at_ms, std::int64_t now_ms) {
  return next_attempt_ms(policy, TempfailKind::other, failed_attempts, 0, received_at_ms, now_ms);
}

std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, TempfailKind kind,
                                            std::uint32_t failed_attempts, std::uint32_t greylist_retries,
                                            std::int64_t received_at_ms, std::int64_t now_ms) {
  const std::int64_t deadline =
      received_at_ms + std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_age).count();
  if (now_ms >= deadline) return std::nullopt;
  const auto delay = retry_delay(policy, kind, failed_attempts, greylist_retries);
  const std::int64_t next = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  return std::min(next, deadline);
}

}  // namespace volley::delivery
