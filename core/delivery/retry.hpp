#pragma once
// When a deferred recipient is tried again, and when Volley gives up on it. Postfix's defaults:
// the delay doubles from minimal_backoff_time (5 min) up to maximal_backoff_time (1 h), and a
// message older than maximal_queue_lifetime (5 days) is returned to its sender. Greylisted
// recipients first follow their own list of delays, tuned to when greylisters let mail through.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/delivery/tempfail.hpp"

namespace volley::delivery {

struct RetryPolicy {
  std::chrono::seconds first{300};
  std::chrono::seconds max_interval{3600};
  std::chrono::seconds max_age{5 * 24 * 3600};
  // Delays after the 1st, 2nd, ... greylisting reply; once used up, greylisting is retried like
  // any other temporary failure. Empty: greylisting gets no special treatment. (The explicit
  // initializer lets RetryPolicy{first, max_interval, max_age} leave it out without a warning.)
  std::vector<std::chrono::seconds> greylist{};
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

// Delay after the given number of failed attempts (1 = the first failure).
std::chrono::seconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempts);

// Delay after a failure of the given kind, failed_attempts counting this one and
// greylist_retries counting the greylist delays the recipient has had before it:
//   greylisted    the next delay of policy.greylist, then as other;
//   rate_limited  policy.first, never growing: the reply says nothing about the recipient, and
//                 the destination's backoff is what slows sending down;
//   mailbox_full, other: the doubling schedule.
std::chrono::seconds retry_delay(const RetryPolicy& policy, TempfailKind kind, std::uint32_t failed_attempts,
                                 std::uint32_t greylist_retries);

// When to try a recipient next after its failed_attempts-th failure at now_ms, or nullopt when it
// has reached max_age and must expire. The last attempt is placed exactly at the age limit, so
// a recipient is always tried once more just before it expires.
std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, std::uint32_t failed_attempts,
                                            std::int64_t received_at_ms, std::int64_t now_ms);
// The same for a failure of the given kind (see retry_delay above).
std::optional<std::int64_t> next_attempt_ms(const RetryPolicy& policy, TempfailKind kind,
                                            std::uint32_t failed_attempts, std::uint32_t greylist_retries,
                                            std::int64_t received_at_ms, std::int64_t now_ms);

}  // namespace volley::delivery
