#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "core/delivery/rate.hpp"

using volley::delivery::format_rate;
using volley::delivery::parse_rate;
using volley::delivery::Rate;
using volley::delivery::RateLimiter;

namespace {

// The largest number of sends in any window of window_ms milliseconds ([t, t + window_ms)).
std::size_t busiest_window(const std::vector<std::int64_t>& sends, std::int64_t window_ms) {
  std::size_t best = 0;
  std::size_t first = 0;
  for (std::size_t last = 0; last < sends.size(); ++last) {
    while (sends[last] - sends[first] >= window_ms) ++first;
    best = std::max(best, last - first + 1);
  }
  return best;
}

// Every window holds at most rate × window + burst sends, in exact integer arithmetic.
bool within_bound(const std::vector<std::int64_t>& sends, Rate rate, std::uint32_t burst) {
  for (std::int64_t window : {1, 7, 10, 333, 1000, 1001, 59'999, 60'000, 3'600'000}) {
    const auto n = static_cast<std::int64_t>(busiest_window(sends, window));
    if ((n - burst) * rate.period_ms > window * rate.count) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("rates are a whole number per second, minute, hour or day") {
  CHECK(parse_rate("100/s") == Rate{100, 1'000});
  CHECK(parse_rate("30/m") == Rate{30, 60'000});
  CHECK(parse_rate("2000/h") == Rate{2000, 3'600'000});
  CHECK(parse_rate("5000/d") == Rate{5000, 86'400'000});
  CHECK(parse_rate("1000000/s") == Rate{1'000'000, 1'000});
  CHECK(parse_rate("unlimited") == Rate{});
  CHECK(parse_rate("unlimited")->unlimited());
  for (const char* bad : {"", "100", "/s", "100/", "0/s", "-1/s", "+1/s", "1.5/s", "100 /s", "100/ s", "100/S",
                          "100/sec", "100/ms", "100/5m", "1000001/s", "99999999999/s", "Unlimited", "100/s "}) {
    INFO(bad);
    CHECK_FALSE(parse_rate(bad));
  }
}

TEST_CASE("rates are written the way they are read") {
  for (const char* text : {"100/s", "30/m", "2000/h", "5000/d", "unlimited"}) CHECK(format_rate(*parse_rate(text)) == text);
  CHECK(format_rate(Rate{3, 1'500}) == "3/1500ms");
}

TEST_CASE("the limiter answers exactly when the next send is allowed") {
  RateLimiter limiter(Rate{3, 1'000});  // one every 333⅓ ms
  std::vector<std::int64_t> sends;
  std::int64_t now = 5'000;
  for (int i = 0; i < 9; ++i) {
    now = std::max(now, limiter.earliest_ms());
    CHECK_FALSE(limiter.try_take(limiter.earliest_ms() - 1));
    REQUIRE(limiter.try_take(now));
    sends.push_back(now);
  }
  // Rounded up to whole milliseconds, never drifting: exactly 3 per second.
  CHECK(sends == std::vector<std::int64_t>{5000, 5334, 5667, 6000, 6334, 6667, 7000, 7334, 7667});
}

TEST_CASE("a greedy sender gets exactly rate × window + burst") {
  for (std::uint32_t burst : {1u, 5u}) {
    RateLimiter limiter(Rate{100, 1'000}, burst);
    std::size_t sent = 0;
    for (std::int64_t t = 0; t <= 10'000; ++t) {
      while (limiter.try_take(t)) ++sent;
    }
    CHECK(sent == 1000 + burst);  // the burst at t = 0, then one every 10 ms up to t = 10 000
  }
}

TEST_CASE("no window ever holds more than rate × window + burst") {
  std::uint64_t state = 0x2545f4914f6cdd1du;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (Rate rate : {Rate{100, 1'000}, Rate{3, 1'000}, Rate{7, 60'000}, Rate{2000, 3'600'000}, Rate{999, 1'000}}) {
    for (std::uint32_t burst : {1u, 2u, 10u}) {
      RateLimiter limiter(rate, burst);
      std::vector<std::int64_t> sends;
      std::int64_t now = 1'000'000;
      for (int i = 0; i < 5000; ++i) {
        // Eager and idle callers mixed: at the allowed time, just before it, or much later.
        switch (next() % 4) {
          case 0: now = std::max(now, limiter.earliest_ms()); break;
          case 1: now = std::max(now, limiter.earliest_ms() - 1); break;
          case 2: now += static_cast<std::int64_t>(next() % 3); break;
          default: now += static_cast<std::int64_t>(next() % (3 * rate.period_ms / rate.count + 1)); break;
        }
        if (limiter.try_take(now)) sends.push_back(now);
      }
      INFO(rate.count << "/" << rate.period_ms << "ms burst " << burst << ": " << sends.size() << " sends");
      CHECK(sends.size() > 1000);
      CHECK(within_bound(sends, rate, burst));
    }
  }
}

TEST_CASE("changing the rate spaces the next sends by the new one") {
  RateLimiter limiter(Rate{10, 1'000});
  REQUIRE(limiter.try_take(0));
  CHECK(limiter.earliest_ms() == 100);
  limiter.set_rate(Rate{5, 1'000});
  CHECK(limiter.earliest_ms() == 100);  // the send already made keeps its place
  REQUIRE(limiter.try_take(100));
  CHECK(limiter.earliest_ms() == 300);
  limiter.set_rate(Rate{3, 1'000});
  REQUIRE(limiter.try_take(300));
  CHECK(limiter.earliest_ms() == 634);
  limiter.set_rate(Rate{7, 1'000});  // 333⅓ rescaled to sevenths, rounded up: never earlier
  CHECK(limiter.earliest_ms() == 634);
  CHECK(limiter.rate() == Rate{7, 1'000});
}

TEST_CASE("an unlimited rate allows everything") {
  RateLimiter limiter;
  for (int i = 0; i < 1000; ++i) CHECK(limiter.try_take(42));
  CHECK(limiter.earliest_ms() <= 42);
  limiter.set_rate(Rate{1, 1'000});
  REQUIRE(limiter.try_take(42));
  CHECK_FALSE(limiter.try_take(1041));
  CHECK(limiter.try_take(1042));
}
