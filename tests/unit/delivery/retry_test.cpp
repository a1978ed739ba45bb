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
