#pragma once
// One destination's queue as an operator sees it (GET /api/v1/queues): the delivery actor fills
// it, the router collects one per destination, api/queue_admin_api renders them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/delivery/rate.hpp"
#include "core/delivery/suspensions.hpp"

namespace volley::delivery {

// The pacing of a source's egress path now (shared with the provider's other domains).
struct PathSnapshot {
  std::uint64_t connections = 0;
  std::uint64_t max_connections = 0;  // after backoff
  Rate message_rate;                  // after backoff
  std::uint32_t backoff_level = 0;    // 0: the configured limits
};

struct SourceSnapshot {
  std::string source;
  std::uint64_t ready = 0;        // jobs (transactions) ready on this source
  std::uint64_t connections = 0;  // open or opening
  // The configured limits for this source and destination.
  std::uint64_t max_connections = 0;
  Rate max_connection_rate;
  Rate max_message_rate;
  std::uint64_t max_messages_per_connection = 0;
  std::uint64_t max_recipients_per_transaction = 0;
  std::optional<PathSnapshot> path;  // once the MX hosts (and so the path) are known
};

struct QueueSnapshot {
  std::string domain;
  // A suspended domain with nothing queued has no delivery actor: the router lists it with its
  // domain, zero counts, state and suspension only (detailed = false).
  bool detailed = true;
  std::uint64_t queued = 0;     // recipients not final
  std::uint64_t ready = 0;      // recipients ready to go out
  std::uint64_t deferred = 0;   // recipients waiting for their next attempt
  std::uint64_t in_flight = 0;  // recipients in a transaction now
  std::int64_t oldest_age_seconds = 0;
  std::uint64_t connections = 0;
  std::vector<SourceSnapshot> sources;
  std::optional<std::string> rollup;  // once the MX hosts are known
  std::string provider;  // "" when no provider rule matched
  std::string state;     // suspended, backoff, active, waiting, idle
  std::optional<Suspension> suspended;
};

}  // namespace volley::delivery
