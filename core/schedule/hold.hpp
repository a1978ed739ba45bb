#pragma once
// Messages held until a time (send_at, or a tenant's sending window): ordered by that time, found
// by message id for a cancel, released in time order (ties in the order they were held). Pure:
// the clock is an argument. The router keeps one for every message it has not handed to
// delivery yet, so a scheduled message costs its records in memory, no connection and no timer
// of its own.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/schedule/window.hpp"

namespace volley::schedule {

// A tenant's sending window in its zone.
struct TenantWindow {
  SendWindow window;
  Zone zone = Zone::fixed(0);
};
// Tenant name -> its window (tenants without one are not held).
using TenantWindows = std::unordered_map<std::string, TenantWindow>;

// When a message may first be tried: 0 = now, else the later of send_at_ms and the next opening
// of the tenant's window (null: none) at or after it.
inline std::int64_t first_attempt_at(std::int64_t send_at_ms, const TenantWindow* window, std::int64_t now_ms) {
  std::int64_t t = std::max(send_at_ms, now_ms);
  if (window) t = window_opens_at(window->window, window->zone, t);
  return t > now_ms ? t : 0;
}

template <class Item>
class Hold {
 public:
  // Holds `item` (all of one message's held recipients) until due_ms.
  void hold(std::int64_t due_ms, const std::string& message_id, Item item) {
    const Key key{due_ms, next_seq_++};
    entries_.emplace(key, Entry{message_id, std::move(item)});
    by_message_[message_id].push_back(key);
  }

  // Everything due at now_ms, in due order.
  std::vector<Item> release_due(std::int64_t now_ms) {
    std::vector<Item> out;
    while (!entries_.empty() && entries_.begin()->first.due_ms <= now_ms) {
      auto it = entries_.begin();
      forget(it->second.message_id, it->first);
      out.push_back(std::move(it->second.item));
      entries_.erase(it);
    }
    return out;
  }

  // When the next item is due, if any is held.
  std::optional<std::int64_t> next_due() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.begin()->first.due_ms;
  }

  // Takes every item of message_id that `take` accepts (a cancel checks the tenant).
  std::vector<Item> take(const std::string& message_id, const std::function<bool(const Item&)>& accept) {
    std::vector<Item> out;
    auto found = by_message_.find(message_id);
    if (found == by_message_.end()) return out;
    auto keys = found->second;
    for (const Key& key : keys) {
      auto it = entries_.find(key);
      if (it == entries_.end() || !accept(it->second.item)) continue;
      forget(message_id, key);
      out.push_back(std::move(it->second.item));
      entries_.erase(it);
    }
    return out;
  }

  // Takes every item `accept` accepts (a campaign's cancel: a scan, as it is rare).
  std::vector<Item> take_all(const std::function<bool(const Item&)>& accept) {
    std::vector<Item> out;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (!accept(it->second.item)) {
        ++it;
        continue;
      }
      forget(it->second.message_id, it->first);
      out.push_back(std::move(it->second.item));
      it = entries_.erase(it);
    }
    return out;
  }

  // Calls f(item) for every held item (counting for the queues API).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [key, entry] : entries_) f(entry.item);
  }

  std::size_t size() const { return entries_.size(); }

 private:
  struct Key {
    std::int64_t due_ms;
    std::uint64_t seq;
    bool operator<(const Key& o) const { return due_ms != o.due_ms ? due_ms < o.due_ms : seq < o.seq; }
    bool operator==(const Key& o) const { return due_ms == o.due_ms && seq == o.seq; }
  };
  struct Entry {
    std::string message_id;
    Item item;
  };

  void forget(const std::string& message_id, const Key& key) {
    auto it = by_message_.find(message_id);
    if (it == by_message_.end()) return;
    std::erase(it->second, key);
    if (it->second.empty()) by_message_.erase(it);
  }

  std::map<Key, Entry> entries_;
  std::unordered_map<std::string, std::vector<Key>> by_message_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace volley::schedule
