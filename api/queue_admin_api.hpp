#pragma once
// Queue control for operators, on the same HTTP server and behind the same authentication as
// injection:
//   GET  /api/v1/queues                          every destination: depth, oldest message age,
//                                                connections, state, limits per source
//   POST /api/v1/queues/{domain}/suspend         body (optional): {"duration":"30m","reason":"..."}
//   POST /api/v1/queues/{domain}/resume
//   POST /api/v1/queues/{domain}/bounce          body (optional): {"reason":"..."}: bounce every
//                                                queued recipient of the domain
//   POST /api/v1/pools/{pool}/suspend|resume|bounce      the same for the messages of a pool
//   POST /api/v1/sources/{source}/suspend|resume         stop/start sending from a source address
// Anything else goes to `next`. A suspension without a duration lasts until resumed; suspensions
// are held in memory (a restart resumes everything).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/router.hpp"
#include "net/http_server.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/queue_snapshot.hpp"

#include "api/reloadable_pools.hpp"

namespace volley::api {

struct QueueAdminConfig {
  caf::actor_system* system = nullptr;
  router_actor router;       // answers suspend/resume/bounce/queues
  PoolsRef pools = pools_ref(delivery::IpPools::builtin("localhost"));  // pool and source names that exist
};

Handler make_queue_admin_handler(QueueAdminConfig config, Handler next);

// Messages the router holds until their send_at or sending window (docs/scheduling.md): apart
// from every destination's queue, so apart from deferred recipients.
struct ScheduledCount {
  std::uint64_t messages = 0, recipients = 0;
};

// The body of GET /api/v1/queues: {"queues":[...]}, one object per destination, and with a
// count "scheduled":{"messages","recipients"}.
std::string render_queues(const std::vector<delivery::QueueSnapshot>& queues,
                          std::optional<ScheduledCount> scheduled = std::nullopt);

}  // namespace volley::api
