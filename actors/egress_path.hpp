#pragma once
// The pacing of one egress path: mail from one source to one destination (a domain, or the
// provider its MX hosts roll up to). Every delivery actor sending over the path shares its
// state, so gmail.com and googlemail.com together stay within Google's limits: connections
// open, new connections per time, messages per time, and the backoff after "slow down" replies.
//
// Shared between actors on different threads, so it is the one place in delivery with a lock;
// every call holds it for a few arithmetic operations and never waits on anything.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/delivery/backoff.hpp"
#include "core/delivery/rate.hpp"
#include "core/delivery/shaping.hpp"

namespace volley {

class EgressPath {
 public:
  explicit EgressPath(const delivery::Limits& limits);
  // New limits (a reload); open connections, rate history and backoff stay.
  void set_limits(const delivery::Limits& limits);

  // A new connection may be opened at now_ms: counted as open, true. Otherwise false and, when
  // only time stands in the way (a connection rate), *retry_ms says when to ask again; when the
  // connection limit does, *retry_ms is 0 (a connection closing frees a slot).
  bool try_open(std::int64_t now_ms, std::int64_t* retry_ms);
  void closed();  // a connection counted by try_open has ended
  // One message may be sent at now_ms: counted, true; otherwise false and *retry_ms as above.
  bool try_send(std::int64_t now_ms, std::int64_t* retry_ms);
  // The destination answered "too many connections" / "rate limited".
  void rate_limited(std::int64_t now_ms);

  struct Snapshot {
    std::size_t connections = 0;
    std::size_t max_connections = 0;      // after backoff
    delivery::Rate message_rate;          // after backoff
    std::uint32_t backoff_level = 0;      // 0: the configured limits
  };
  Snapshot snapshot(std::int64_t now_ms) const;
  // True while more connections are open than the current (backed-off) limit allows: the
  // owner closes idle ones.
  bool over_limit(std::int64_t now_ms) const;

 private:
  delivery::Throttle current(std::int64_t now_ms) const;  // with the lock held

  mutable std::mutex mu_;
  delivery::Limits limits_;
  std::size_t open_ = 0;
  delivery::RateLimiter connection_rate_;
  delivery::RateLimiter message_rate_;
  delivery::DestinationBackoff backoff_;
};

// Finds or creates the path for (source, destination key). A path lives while an actor holds
// it; the registry only remembers it weakly.
class EgressPaths {
 public:
  std::shared_ptr<EgressPath> get(const std::string& source, const std::string& key,
                                  const delivery::Limits& limits);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::weak_ptr<EgressPath>> paths_;
  std::uint64_t gets_ = 0;
};

}  // namespace volley
