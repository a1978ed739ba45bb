#pragma once
// When a deferred recipient is tried again, and when Volley gives up on it. Postfix's defaults:
// the delay doubles from minimal_backoff_time (5 min) up to maximal_backoff_time (1 h), and a
// message older than maximal_queue_lifetime (5 days) is returned to its sender.
#include <chrono>
#include <cstdint>
#include <optional>

namespace volley::delivery {

struct RetryPolicy {
  std::chrono::seconds first{300};
  std::chrono::seconds max_interval{3600};
  std::chrono::seconds max_age{5 * 24 * 3600};
};

// Delay after the given number of failed attempts (1 = the first failure).
std::chrono::seconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempts);

// When to try a recipient next after its failed_attempts-th failure at now_ms, or nullopt when it
// has reached max_age and must expire. The last attempt is placed exactly at the age limit, so
// a recipient is always tried once more just before it expires.
std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, std::uint32_t failed_attempts,
                                            std::int64_t received_at_ms, std::int64_t now_ms);

}  // namespace volley::delivery
