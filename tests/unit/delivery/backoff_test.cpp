#include <catch2/catch.hpp>

#include "core/delivery/backoff.hpp"

using namespace std::chrono_literals;
using volley::delivery::BackoffPolicy;
using volley::delivery::DestinationBackoff;
using volley::delivery::Rate;
using volley::delivery::Throttle;

namespace {
constexpr std::int64_t kT0 = 1'000'000;
constexpr std::int64_t kSecond = 1'000;
const Throttle kConfigured{8, Rate{100, 1'000}};
}  // namespace

TEST_CASE("no rate-limit reply, no backoff") {
  DestinationBackoff b;
  CHECK(b.level(kT0) == 0);
  CHECK(b.limits(kConfigured, kT0) == kConfigured);
  CHECK_FALSE(b.next_change_ms(kT0));
}

TEST_CASE("a rate-limit reply halves the limits for the cooling period, then they recover step by step") {
  DestinationBackoff b(BackoffPolicy{300s, 60s});
  b.on_rate_limited(kT0);
  CHECK(b.limits(kConfigured, kT0) == Throttle{4, Rate{50, 1'000}});
  CHECK(b.next_change_ms(kT0) == kT0 + 300 * kSecond);
  CHECK(b.level(kT0 + 300 * kSecond - 1) == 1);
  CHECK(b.level(kT0 + 300 * kSecond) == 0);
  CHECK(b.limits(kConfigured, kT0 + 300 * kSecond) == kConfigured);
  CHECK_FALSE(b.next_change_ms(kT0 + 300 * kSecond));
}

TEST_CASE("repeated replies extend the cooling period and deepen it at most once per step") {
  DestinationBackoff b(BackoffPolicy{300s, 60s});
  b.on_rate_limited(kT0);
  // A flurry of replies to sends made before the halving: extended, not deepened.
  for (std::int64_t t = kT0; t < kT0 + 60 * kSecond; t += 7 * kSecond) b.on_rate_limited(t);
  CHECK(b.level(kT0 + 59 * kSecond) == 1);
  CHECK(b.next_change_ms(kT0 + 59 * kSecond) == kT0 + 56 * kSecond + 300 * kSecond);
  b.on_rate_limited(kT0 + 60 * kSecond);
  CHECK(b.limits(kConfigured, kT0 + 60 * kSecond) == Throttle{2, Rate{25, 1'000}});
  b.on_rate_limited(kT0 + 120 * kSecond);
  CHECK(b.limits(kConfigured, kT0 + 120 * kSecond) == Throttle{1, Rate{12, 1'000}});
  b.on_rate_limited(kT0 + 180 * kSecond);
  CHECK(b.limits(kConfigured, kT0 + 180 * kSecond) == Throttle{1, Rate{6, 1'000}});  // connections at the floor

  // Cooling until 480 s, then one halving back per minute.
  const std::int64_t cooled = kT0 + 480 * kSecond;
  CHECK(b.level(cooled - 1) == 4);
  CHECK(b.next_change_ms(cooled - 1) == cooled);
  CHECK(b.level(cooled) == 3);
  CHECK(b.next_change_ms(cooled) == cooled + 60 * kSecond);
  CHECK(b.level(cooled + 60 * kSecond - 1) == 3);
  CHECK(b.limits(kConfigured, cooled + 60 * kSecond) == Throttle{2, Rate{25, 1'000}});
  CHECK(b.level(cooled + 120 * kSecond) == 1);
  CHECK(b.next_change_ms(cooled + 150 * kSecond) == cooled + 180 * kSecond);
  CHECK(b.level(cooled + 180 * kSecond) == 0);
  CHECK_FALSE(b.next_change_ms(cooled + 180 * kSecond));
}

TEST_CASE("a reply while recovering deepens from where the recovery got to") {
  DestinationBackoff b(BackoffPolicy{300s, 60s});
  b.on_rate_limited(kT0);
  b.on_rate_limited(kT0 + 60 * kSecond);
  b.on_rate_limited(kT0 + 120 * kSecond);  // level 3, cooling until 420 s
  CHECK(b.level(kT0 + 480 * kSecond) == 1);
  b.on_rate_limited(kT0 + 480 * kSecond);
  CHECK(b.level(kT0 + 480 * kSecond) == 2);
  CHECK(b.next_change_ms(kT0 + 480 * kSecond) == kT0 + 780 * kSecond);
}

TEST_CASE("limits never go below 1, and an unlimited rate stays unlimited") {
  DestinationBackoff b(BackoffPolicy{300s, 1s});
  for (std::int64_t t = kT0; t < kT0 + 100 * kSecond; t += kSecond) b.on_rate_limited(t);
  const std::int64_t now = kT0 + 100 * kSecond;
  CHECK(b.level(now) == DestinationBackoff::kMaxLevel);
  CHECK(b.limits(Throttle{10'000, Rate{1'000'000, 1'000}}, now) == Throttle{1, Rate{1, 1'000}});
  CHECK(b.limits(Throttle{3, Rate{}}, now) == Throttle{1, Rate{}});
}
