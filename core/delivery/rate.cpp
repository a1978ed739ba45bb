#include "core/delivery/rate.hpp"

#include <algorithm>
#include <array>

namespace volley::delivery {
namespace {

struct Unit {
  char name;
  std::int64_t ms;
};
constexpr std::array<Unit, 4> kUnits{{{'s', 1'000}, {'m', 60'000}, {'h', 3'600'000}, {'d', 86'400'000}}};

// Rounds up for either sign (C++ division truncates toward zero).
std::int64_t ceil_div(std::int64_t n, std::int64_t d) { return n / d + (n % d > 0 ? 1 : 0); }

}  // namespace

std::optional<Rate> parse_rate(std::string_view text) {
  if (text == "unlimited") return Rate{};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > 7 || text.size() != slash + 2) return std::nullopt;
  std::uint32_t count = 0;
  for (char c : text.substr(0, slash)) {
    if (c < '0' || c > '9') return std::nullopt;
    count = count * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (count == 0 || count > kMaxRateCount) return std::nullopt;
  for (const auto& unit : kUnits) {
    if (unit.name == text.back()) return Rate{count, unit.ms};
  }
  return std::nullopt;
}

std::string format_rate(Rate rate) {
  if (rate.unlimited()) return "unlimited";
  for (const auto& unit : kUnits) {
    if (unit.ms == rate.period_ms) return std::to_string(rate.count) + "/" + unit.name;
  }
  return std::to_string(rate.count) + "/" + std::to_string(rate.period_ms) + "ms";
}

RateLimiter::RateLimiter(Rate rate, std::uint32_t burst) : rate_(rate), burst_(std::max<std::uint32_t>(burst, 1)) {}

// In units of 1/count ms, a send is one period_ms, and the burst tolerance (burst - 1) sends.
std::int64_t RateLimiter::earliest_ms() const {
  if (rate_.unlimited()) return std::numeric_limits<std::int64_t>::min();
  const std::int64_t tolerance = static_cast<std::int64_t>(burst_ - 1) * rate_.period_ms;
  return tat_ms_ + ceil_div(tat_frac_ - tolerance, rate_.count);
}

bool RateLimiter::try_take(std::int64_t now_ms) {
  if (rate_.unlimited()) return true;
  if (now_ms < earliest_ms()) return false;
  // Time spent idle earns nothing; but a send in the millisecond its turn came is counted at
  // its exact turn, or whole-millisecond clocks would lose the fraction on every send (3/s would
  // become 1000/334 ms).
  if (tat_ms_ + (tat_frac_ > 0 ? 1 : 0) < now_ms) {
    tat_ms_ = now_ms;
    tat_frac_ = 0;
  }
  tat_frac_ += rate_.period_ms;
  tat_ms_ += tat_frac_ / rate_.count;
  tat_frac_ %= rate_.count;
  return true;
}

void RateLimiter::set_rate(Rate rate) {
  if (!rate_.unlimited() && !rate.unlimited()) {
    // Rescale the fraction of a millisecond, rounding up: never earlier than before.
    tat_frac_ = ceil_div(tat_frac_ * rate.count, rate_.count);
    tat_ms_ += tat_frac_ / rate.count;
    tat_frac_ %= rate.count;
  } else {
    tat_frac_ = 0;
  }
  rate_ = rate;
}

}  // namespace volley::delivery
