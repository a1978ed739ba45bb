#include "core/metrics/idle_destinations.hpp"

#include <algorithm>

namespace volley::metrics {

IdleDestinations::IdleDestinations(std::int64_t ttl_ms) : ttl_ms_(std::max<std::int64_t>(ttl_ms, 0)) {}

void IdleDestinations::touch(const std::string& domain, std::int64_t now_ms) {
  if (!enabled()) return;
  auto& a = activity_[domain];
  a.last_ms = std::max(a.last_ms, now_ms);
}

void IdleDestinations::set_busy(const std::string& domain, bool busy, std::int64_t now_ms) {
  if (!enabled()) return;
  auto& a = activity_[domain];
  a.last_ms = std::max(a.last_ms, now_ms);
  a.busy = busy;
}

std::vector<std::string> IdleDestinations::take_idle(std::int64_t now_ms) {
  std::vector<std::string> idle;
  if (!enabled()) return idle;
  for (auto it = activity_.begin(); it != activity_.end();) {
    if (!it->second.busy && now_ms - it->second.last_ms >= ttl_ms_) {
      idle.push_back(it->first);
      it = activity_.erase(it);
    } else {
      ++it;
    }
  }
  return idle;
}

std::int64_t IdleDestinations::sweep_interval_ms() const {
  // A quarter of the ttl keeps the overshoot small; the bounds keep a tiny ttl from spinning and
  // a long one from leaving series hours past it.
  return std::clamp<std::int64_t>(ttl_ms_ / 4, 250, 60'000);
}

}  // namespace volley::metrics
