#include "core/submission/auth_throttle.hpp"

#include <algorithm>

namespace volley::submission {

bool AuthThrottle::locked(std::string_view address, std::int64_t now_ms) const {
  const auto it = entries_.find(std::string(address));
  return it != entries_.end() && it->second.locked_until > now_ms;
}

AuthThrottle::Failure AuthThrottle::failed(std::string_view address, std::int64_t now_ms) {
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    make_room(now_ms);
    it = entries_.emplace(std::string(address), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.locked_until != 0 && e.locked_until <= now_ms) e = Entry{};  // a lockout served starts over
  e.last = now_ms;
  ++e.failures;
  Failure f;
  auto delay = opts_.first_delay;
  for (int i = 1; i < e.failures && delay < opts_.max_delay; ++i) delay *= 2;
  f.delay = std::min(delay, opts_.max_delay);
  if (e.failures >= opts_.max_failures && e.locked_until <= now_ms) {
    e.locked_until = now_ms + opts_.lockout.count();
    f.locked_now = true;
  }
  return f;
}

void AuthThrottle::succeeded(std::string_view address) { entries_.erase(std::string(address)); }

// Forgets what no longer matters (no lockout running, quiet for a lockout's time), and if that is
// not enough, the address heard from least recently.
void AuthThrottle::make_room(std::int64_t now_ms) {
  if (entries_.size() < opts_.max_tracked) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool stale = it->second.locked_until <= now_ms && it->second.last + opts_.lockout.count() <= now_ms;
    it = stale ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < opts_.max_tracked) return;
  const auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                       [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
  entries_.erase(oldest);
}

}  // namespace volley::submission
