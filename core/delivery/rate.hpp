#pragma once
// Sending rates ("100/s", "2000/h") and the limiter that enforces one. The limiter is GCRA (the
// generic cell rate algorithm): one "theoretical arrival time" per limiter, no buckets to refill,
// and an exact answer to "may I send now, and if not, when?". Over any stretch of time the sends
// it allows never exceed rate × duration + burst. Times are milliseconds on the caller's clock.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace volley::delivery {

// count sends per period_ms; count 0 means unlimited.
struct Rate {
  std::uint32_t count = 0;
  std::int64_t period_ms = 0;

  bool unlimited() const noexcept { return count == 0; }
  friend bool operator==(const Rate&, const Rate&) = default;
};

inline constexpr std::uint32_t kMaxRateCount = 1'000'000;

// "unlimited", or a whole number 1..kMaxRateCount, a slash and one of s, m, h, d: "100/s",
// "30/m", "2000/h", "5000/d". Fractions are refused ("1.5/s" is "90/m"), so a rate is always
// written the one way it is meant. nullopt on anything else.
std::optional<Rate> parse_rate(std::string_view text);
// The spelling parse_rate reads ("100/s", "unlimited"). A period that is not a second, minute,
// hour or day, which parse_rate never makes, is written in milliseconds ("3/1500ms").
std::string format_rate(Rate rate);

class RateLimiter {
 public:
  // burst: sends allowed back to back before the spacing of the rate applies (at least 1).
  explicit RateLimiter(Rate rate = {}, std::uint32_t burst = 1);

  // Counts one send at now_ms if the rate allows it; false, and nothing counted, otherwise.
  bool try_take(std::int64_t now_ms);
  // The earliest time at which try_take succeeds (any time at or before now means now).
  std::int64_t earliest_ms() const;

  // A new rate from now on (e.g. while a destination cools down). Sends already counted keep
  // their place: the next one is spaced by the new rate after them.
  void set_rate(Rate rate);
  Rate rate() const noexcept { return rate_; }

 private:
  Rate rate_;
  std::uint32_t burst_;
  // The theoretical arrival time, tat_ms_ + tat_frac_ / rate_.count ms: exact for any rate,
  // with no multiplication of clock values that could overflow.
  std::int64_t tat_ms_ = std::numeric_limits<std::int64_t>::min() / 4;
  std::int64_t tat_frac_ = 0;
};

}  // namespace volley::delivery
