#pragma once
// Where mail leaves from: sources (a local address and the EHLO name that goes with it) grouped
// into weighted pools. A message is given a pool (asked for, chosen by a rule, or the default);
// each connection then takes a source from it by smooth weighted round robin, which is
// deterministic and, while every source is available, gives each exactly its weight in every
// run of sum-of-weights picks. Times are milliseconds on the caller's clock.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace volley::delivery {

struct Source {
  std::string name;
  std::string address;  // IPv4 or IPv6 literal to bind to; empty: let the kernel choose
  std::string ehlo_name;
  friend bool operator==(const Source&, const Source&) = default;
};

struct PoolMember {
  std::string source;
  std::uint32_t weight = 1;
  friend bool operator==(const PoolMember&, const PoolMember&) = default;
};

struct Pool {
  std::string name;
  std::vector<PoolMember> members;
  friend bool operator==(const Pool&, const Pool&) = default;
};

// Matches a message when each condition it sets holds (empty: any).
struct PoolRule {
  std::string tenant;
  std::string sender_domain;  // the envelope sender's domain, compared case-insensitively
  std::string pool;
  friend bool operator==(const PoolRule&, const PoolRule&) = default;
};

struct IpPools {
  std::vector<Source> sources;
  std::vector<Pool> pools;
  std::vector<PoolRule> rules;  // the first that matches wins
  std::string default_pool;

  // What applies when no pool is configured: pool "default" of one source "default" that does
  // not bind and says ehlo_name, so mail leaves as it did before pools existed.
  static IpPools builtin(std::string ehlo_name);

  const Source* source(std::string_view name) const;
  const Pool* pool(std::string_view name) const;
  friend bool operator==(const IpPools&, const IpPools&) = default;
};

// The pool for a message: the one requested when it is not empty (nullptr when there is no such
// pool: the caller refuses the message), else the first rule's that matches, else the default.
const Pool* choose_pool(const IpPools& pools, std::string_view requested, std::string_view tenant,
                        std::string_view sender_domain);

// Picks sources from one pool. Keep one per pool and destination, so that each destination
// sees the pool's weights.
class SourceSelector {
 public:
  SourceSelector(const IpPools& pools, const Pool& pool);  // members naming no source are left out

  // The next source available at now_ms, or nullptr when every one is suspended or failing (the
  // caller defers). Unavailable sources sit out; the others share their turns by weight.
  const Source* next(std::int64_t now_ms);

  // Out of use until resumed (an operator's decision).
  void suspend(std::string_view source);
  void resume(std::string_view source);
  // Out of use until until_ms (e.g. it could not connect, or the destination refuses it).
  void mark_failing(std::string_view source, std::int64_t until_ms);

 private:
  struct Member {
    Source source;
    std::int64_t weight;
    std::int64_t current = 0;
    bool suspended = false;
    std::int64_t failing_until_ms = std::numeric_limits<std::int64_t>::min();
  };
  Member* find(std::string_view source);

  std::vector<Member> members_;
};

}  // namespace volley::delivery
