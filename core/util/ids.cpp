#include "core/util/ids.hpp"

#include <atomic>
#include <chrono>
#include <random>

#include <fmt/format.h>

namespace volley {

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_message_id() {
  // A per-thread generator seeded from the OS; the low 16 bits of the random part are a
  // per-thread counter so ids made in the same millisecond on one thread never collide.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  thread_local std::uint64_t prefix = rng();
  thread_local std::uint16_t counter = 0;
  auto ms = static_cast<std::uint64_t>(now_unix_ms()) & 0xFFFFFFFFFFFFull;
  std::uint64_t rnd = ((prefix & 0xFFFFFFFFull) << 16) | counter++;
  if (counter == 0) prefix = rng();
  return fmt::format("{:012x}{:012x}", ms, rnd & 0xFFFFFFFFFFFFull);
}

}  // namespace volley
