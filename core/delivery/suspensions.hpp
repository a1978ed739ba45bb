#pragma once
// Operators' suspensions: what may not send now. The router owns the set in force and sends each
// delivery actor every new version; a destination queue reads it (with the time passed in) to
// decide whether work may go out, through which source, and when to look again.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace volley::delivery {

// What an operator suspends or bounces: one destination domain's queue, the messages of one
// pool, or the use of one source address.
struct QueueScope {
  enum class Kind { domain, pool, source } kind = Kind::domain;
  std::string name;
};

struct Suspension {
  std::int64_t since_ms = 0;
  std::int64_t until_ms = 0;  // 0 = until resumed
  std::string reason;
  bool active(std::int64_t now_ms) const { return until_ms == 0 || now_ms < until_ms; }
};

// Every suspension in force. Each version is immutable once published: actors read it without
// sharing anything mutable.
struct EgressControl {
  std::map<std::string, Suspension> domains, pools, sources;
  // The suspension of a scope in force at now_ms, or nullptr.
  const Suspension* find(QueueScope::Kind kind, const std::string& name, std::int64_t now_ms) const;
  // When the first timed suspension in force at now_ms ends (0: none ends by itself).
  std::int64_t next_end(std::int64_t now_ms) const;
};
using EgressControlPtr = std::shared_ptr<const EgressControl>;

}  // namespace volley::delivery
