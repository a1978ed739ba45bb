#pragma once
// A destination that answers "slow down" gets less from us for a while: each rate-limit reply
// halves its connection limit and message rate (never below 1) for a cooling period, repeated
// ones extend and deepen it, and afterwards the limits climb back one halving per recovery step.
// Pure: the caller owns one DestinationBackoff per destination and passes the time in (ms).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/delivery/rate.hpp"

namespace volley::delivery {

struct BackoffPolicy {
  // Limits stay lowered this long after the latest rate-limit reply.
  std::chrono::seconds cooldown{300};
  // Then they recover one halving per step. A reply deepens the backoff at most once per step,
  // because the replies to sends made before the last halving say nothing about the new limits.
  std::chrono::seconds recovery_step{60};
  friend bool operator==(const BackoffPolicy&, const BackoffPolicy&) = default;
};

// The limits a backoff lowers.
struct Throttle {
  std::size_t max_connections = 1;
  Rate message_rate;  // an unlimited rate stays unlimited: there is nothing to halve
  friend bool operator==(const Throttle&, const Throttle&) = default;
};

class DestinationBackoff {
 public:
  // Deep enough to bring any configured limit down to 1.
  static constexpr std::uint32_t kMaxLevel = 20;

  explicit DestinationBackoff(BackoffPolicy policy = {}) : policy_(policy) {}

  void on_rate_limited(std::int64_t now_ms);

  // How many halvings apply at now_ms; 0 means the configured limits.
  std::uint32_t level(std::int64_t now_ms) const;
  Throttle limits(const Throttle& configured, std::int64_t now_ms) const;
  // When level() next changes by itself (for the caller's timer); nullopt when back at 0.
  std::optional<std::int64_t> next_change_ms(std::int64_t now_ms) const;

 private:
  std::int64_t step_ms() const;

  BackoffPolicy policy_;
  std::uint32_t level_ = 0;  // the level until cooling_until_ms_; recovery counts down from it
  std::int64_t cooling_until_ms_ = 0;
  std::int64_t deepened_at_ms_ = 0;
};

}  // namespace volley::delivery
