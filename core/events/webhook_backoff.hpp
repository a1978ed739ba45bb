#pragma once
// When to try a failing webhook endpoint again: retry_first after the first failure, doubling
// per further failure, capped at retry_max, each spread by ±20 % so that endpoints (and Volley
// instances) that failed together do not all come back at the same instant.
#include <chrono>
#include <cstdint>

namespace volley::events {

// failures >= 1 (consecutive failed POSTs); unit_random in [0, 1) picks the jitter.
std::chrono::milliseconds retry_delay(std::chrono::milliseconds retry_first,
                                      std::chrono::milliseconds retry_max, std::uint32_t failures,
                                      double unit_random);

}  // namespace volley::events
