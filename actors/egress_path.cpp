#include "actors/egress_path.hpp"

namespace volley {

EgressPath::EgressPath(const delivery::Limits& limits)
    : limits_(limits),
      connection_rate_(limits.max_connection_rate),
      message_rate_(limits.max_message_rate),
      backoff_(limits.backoff) {}

void EgressPath::set_limits(const delivery::Limits& limits) {
  std::lock_guard<std::mutex> lock(mu_);
  if (limits_ == limits) return;
  limits_ = limits;
  connection_rate_.set_rate(limits.max_connection_rate);
}

delivery::Throttle EgressPath::current(std::int64_t now_ms) const {
  return backoff_.limits(delivery::Throttle{limits_.max_connections, limits_.max_message_rate}, now_ms);
}

bool EgressPath::try_open(std::int64_t now_ms, std::int64_t* retry_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  *retry_ms = 0;
  if (open_ >= current(now_ms).max_connections) return false;
  if (!connection_rate_.try_take(now_ms)) {
    *retry_ms = connection_rate_.earliest_ms();
    return false;
  }
  ++open_;
  return true;
}

void EgressPath::closed() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ > 0) --open_;
}

bool EgressPath::try_send(std::int64_t now_ms, std::int64_t* retry_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  *retry_ms = 0;
  const delivery::Rate rate = current(now_ms).message_rate;
  if (!(message_rate_.rate() == rate)) message_rate_.set_rate(rate);
  if (message_rate_.try_take(now_ms)) return true;
  *retry_ms = message_rate_.earliest_ms();
  return false;
}

void EgressPath::rate_limited(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  backoff_.on_rate_limited(now_ms);
}

EgressPath::Snapshot EgressPath::snapshot(std::int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto t = current(now_ms);
  return Snapshot{open_, t.max_connections, t.message_rate, backoff_.level(now_ms)};
}

bool EgressPath::over_limit(std::int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_ > current(now_ms).max_connections;
}

std::shared_ptr<EgressPath> EgressPaths::get(const std::string& source, const std::string& key,
                                             const delivery::Limits& limits) {
  std::lock_guard<std::mutex> lock(mu_);
  if (++gets_ % 256 == 0) {  // forget paths nobody holds any more, now and then
    for (auto it = paths_.begin(); it != paths_.end();) it = it->second.expired() ? paths_.erase(it) : std::next(it);
  }
  auto& slot = paths_[{source, key}];
  if (auto path = slot.lock()) return path;
  auto path = std::make_shared<EgressPath>(limits);
  slot = path;
  return path;
}

}  // namespace volley
