#include "core/events/webhook_backoff.hpp"

#include <algorithm>

namespace volley::events {

std::chrono::milliseconds retry_delay(std::chrono::milliseconds retry_first,
                                      std::chrono::milliseconds retry_max, std::uint32_t failures,
                                      double unit_random) {
  const double first = static_cast<double>(std::max<std::int64_t>(retry_first.count(), 1));
  const double cap = static_cast<double>(std::max<std::int64_t>(retry_max.count(), 1));
  double base = first;
  // Doubling stops at the cap, so the loop is bounded by log2(cap / first) whatever `failures` is.
  for (std::uint32_t i = 1; i < failures && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  const double jitter = 0.8 + 0.4 * std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(base * jitter)));
}

}  // namespace volley::events
