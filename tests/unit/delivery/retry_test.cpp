#include <catch2/catch.hpp>

#include "core/delivery/retry.hpp"

using namespace std::chrono_literals;
using volley::delivery::RetryPolicy;

TEST_CASE("retry delay doubles from the first delay up to the cap") {
  RetryPolicy p;  // 5 min .. 1 h
  CHECK(volley::delivery::retry_delay(p, 1) == 300s);
  CHECK(volley::delivery::retry_delay(p, 2) == 600s);
  CHECK(volley::delivery::retry_delay(p, 3) == 1200s);
  CHECK(volley::delivery::retry_delay(p, 4) == 2400s);
  CHECK(volley::delivery::retry_delay(p, 5) == 3600s);
  CHECK(volley::delivery::retry_delay(p, 500) == 3600s);
  CHECK(volley::delivery::retry_delay(p, 0xFFFFFFFFu) == 3600s);
}

TEST_CASE("a first delay above the cap is used as it is") {
  RetryPolicy p{7200s, 3600s, 86400s};
  CHECK(volley::delivery::retry_delay(p, 1) == 7200s);
  CHECK(volley::delivery::retry_delay(p, 9) == 7200s);
}

TEST_CASE("next attempt is capped at the age limit, and nothing is scheduled past it") {
  RetryPolicy p{300s, 3600s, 3600s};
  const std::int64_t received = 1'000'000;
  auto n1 = volley::delivery::next_attempt_ms(p, 1, received, received + 1000);
  REQUIRE(n1);
  CHECK(*n1 == received + 1000 + 300'000);
  // Near the limit: the next attempt lands exactly on it (one last try) ...
  auto last = volley::delivery::next_attempt_ms(p, 5, received, received + 3'500'000);
  REQUIRE(last);
  CHECK(*last == received + 3'600'000);
  // ... and a failure at or after it expires the recipient.
  CHECK_FALSE(volley::delivery::next_attempt_ms(p, 6, received, received + 3'600'000));
  CHECK_FALSE(volley::delivery::next_attempt_ms(p, 6, received, received + 9'999'999));
}

TEST_CASE("greylisting follows its own delays, then the doubling schedule") {
  RetryPolicy p;  // 5 min .. 1 h
  p.greylist = {60s, 120s, 600s};
  using volley::delivery::TempfailKind;
  CHECK(volley::delivery::retry_delay(p, TempfailKind::greylisted, 1, 0) == 60s);
  CHECK(volley::delivery::retry_delay(p, TempfailKind::greylisted, 2, 1) == 120s);
  CHECK(volley::delivery::retry_delay(p, TempfailKind::greylisted, 3, 2) == 600s);
  // Used up: the 4th failure is retried like any 4th failure.
  CHECK(volley::delivery::retry_delay(p, TempfailKind::greylisted, 4, 3) == 2400s);
  // Greylist delays left over after other failures are still the greylist's.
  CHECK(volley::delivery::retry_delay(p, TempfailKind::greylisted, 5, 1) == 120s);
  CHECK(volley::delivery::retry_delay(p, TempfailKind::other, 5, 1) == 3600s);
  // No greylist schedule: greylisting is an ordinary failure.
  CHECK(volley::delivery::retry_delay(RetryPolicy{}, TempfailKind::greylisted, 2, 0) == 600s);
}

TEST_CASE("rate limiting retries at the first delay, other kinds double") {
  RetryPolicy p;
  using volley::delivery::TempfailKind;
  for (std::uint32_t n : {1u, 2u, 7u, 1000u}) {
    CHECK(volley::delivery::retry_delay(p, TempfailKind::rate_limited, n, 0) == 300s);
    CHECK(volley::delivery::retry_delay(p, TempfailKind::mailbox_full, n, 0) == volley::delivery::retry_delay(p, n));
    CHECK(volley::delivery::retry_delay(p, TempfailKind::other, n, 0) == volley::delivery::retry_delay(p, n));
  }
  CHECK(volley::delivery::to_string(TempfailKind::rate_limited) == "rate_limited");
}

TEST_CASE("max_age bounds every kind of schedule") {
  RetryPolicy p{300s, 3600s, 3600s, {1800s}};
  using volley::delivery::TempfailKind;
  const std::int64_t received = 1'000'000;
  CHECK(volley::delivery::next_attempt_ms(p, TempfailKind::greylisted, 1, 0, received, received) ==
        received + 1'800'000);
  CHECK(volley::delivery::next_attempt_ms(p, TempfailKind::greylisted, 2, 0, received, received + 3'000'000) ==
        received + 3'600'000);
  CHECK_FALSE(volley::delivery::next_attempt_ms(p, TempfailKind::rate_limited, 9, 0, received, received + 3'600'000));
}
