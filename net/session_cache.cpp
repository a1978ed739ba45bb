#include "net/session_cache.hpp"

#include <iterator>
#include <utility>

namespace volley {

std::string SessionCache::key(const std::string& source_address, const SessionTarget& t) {
  const tls::HostPlan& p = t.tls;
  if (!p.use_host || p.verify == tls::Verify::dane || !t.tlsa.empty()) return {};
  std::string k;
  k.reserve(source_address.size() + t.host.size() + p.policy.size() + 24);
  k += source_address;
  k += '|';
  k += t.host;
  k += '|';
  k += std::to_string(t.port);
  k += '|';
  k += std::to_string(static_cast<int>(p.starttls));
  k += std::to_string(static_cast<int>(p.verify));
  k += p.verify_required ? 'r' : '-';
  k += p.fallback_to_clear ? 'f' : '-';
  k += p.report_only ? 'o' : '-';
  k += '|';
  k += p.policy;
  return k;
}

bool SessionCache::park(const std::string& key, std::shared_ptr<SmtpSession> session, std::uint32_t sent,
                        std::chrono::milliseconds keep) {
  if (key.empty() || !session) return false;
  std::unique_lock lock(mu_);
  if (closed_) return false;
  // Sessions that quit or closed while parked are dropped here and in take(): the cache
  // never holds more than max_parked_ entries, live or not.
  if (count_ >= max_parked_) sweep();
  if (count_ >= max_parked_) return false;
  auto& list = by_key_[key];
  while (!list.empty() && !list.front().session->parked()) {
    list.pop_front();
    --count_;
  }
  // The session stops reporting before anyone can take it: park() is posted to its strand
  // ahead of any adopt().
  session->park(keep);
  list.push_back(Entry{std::move(session), sent});
  ++count_;
  ++parked_total_;
  wake_next(lock, key);  // whoever waits for this key may have it
  return true;
}

SessionCache::Taken SessionCache::take(const std::string& key) {
  if (key.empty()) return {};
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return {};
  auto& list = it->second;
  Taken out;
  // Most recently parked first: the oldest are the first to time out.
  while (!list.empty()) {
    Entry e = std::move(list.back());
    list.pop_back();
    --count_;
    if (e.session->claim()) {
      out = Taken{std::move(e.session), e.sent};
      ++taken_total_;
      break;
    }
  }
  if (list.empty()) by_key_.erase(it);
  return out;
}

void SessionCache::sweep() {
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    auto& list = it->second;
    for (auto e = list.begin(); e != list.end();) {
      if (e->session->parked()) {
        ++e;
      } else {
        e = list.erase(e);
        --count_;
      }
    }
    it = list.empty() ? by_key_.erase(it) : std::next(it);
  }
}

void SessionCache::close_all() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [key, list] : by_key_)
    for (auto& e : list)
      if (e.session->claim()) e.session->quit();
  by_key_.clear();
  count_ = 0;
}

SessionCache::Stats SessionCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s{0, parked_total_, taken_total_, 0, 0};
  for (const auto& [key, list] : by_key_)
    for (const auto& e : list) s.parked += e.session->parked();
  for (const auto& [key, gate] : gates_) {
    s.connecting += gate.connecting;
    s.waiting += gate.waiting.size();
  }
  return s;
}

bool SessionCache::try_connect(const std::string& key, Wake wake, Attempt* attempt) {
  *attempt = Attempt();
  if (max_connecting_ == 0 || key.empty()) return true;
  std::lock_guard lock(mu_);
  Gate& gate = gates_[key];
  if (gate.connecting < max_connecting_) {
    ++gate.connecting;
    *attempt = Attempt(shared_from_this(), key);
    return true;
  }
  if (wake) gate.waiting.push_back(std::move(wake));
  return false;
}

void SessionCache::pass_on(const std::string& key) {
  std::unique_lock lock(mu_);
  wake_next(lock, key);
}

void SessionCache::attempt_ended(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = gates_.find(key);
  if (it == gates_.end()) return;
  if (it->second.connecting > 0) --it->second.connecting;
  wake_next(lock, key);
}

void SessionCache::wake_next(std::unique_lock<std::mutex>& lock, const std::string& key) {
  auto it = gates_.find(key);
  if (it == gates_.end()) return;
  Wake wake;
  if (!it->second.waiting.empty()) {
    wake = std::move(it->second.waiting.front());
    it->second.waiting.pop_front();
  }
  if (it->second.connecting == 0 && it->second.waiting.empty()) gates_.erase(it);
  lock.unlock();  // the wake sends a message: not under the lock
  if (wake) wake();
}

SessionCache::Attempt& SessionCache::Attempt::operator=(Attempt&& o) noexcept {
  if (this != &o) {
    end();
    cache_ = std::move(o.cache_);
    key_ = std::move(o.key_);
  }
  return *this;
}

void SessionCache::Attempt::end() {
  if (!cache_) return;
  auto cache = std::move(cache_);  // empty from here: ends once
  cache->attempt_ended(key_);
}

}  // namespace volley
