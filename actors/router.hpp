#pragma once
// The injection router: sends each spooled recipient to its destination domain's delivery
// actor, spawning one on demand and stopping it once it has been idle and empty.
//   (spool_atom, caf::actor spool)      the spool actor, given once at start (before any work)
//   (enqueue_atom, SpooledMessages)     pending recipients of spooled messages (one commit)
//   (suspend_atom, QueueScope, Suspension) -> bool   suspend a domain, pool or source
//   (resume_atom, QueueScope) -> bool                 whether it was suspended
//   (bounce_atom, QueueScope, reason) -> uint64       queued recipients bounced (domain or pool)
//   (queues_atom) -> JSON array                       every destination's queue
//   (stop_atom)                         stop every delivery actor, then itself
#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include "actors/delivery_context.hpp"

namespace volley {

caf::actor spawn_router(caf::actor_system& sys, DeliveryContext ctx);

}  // namespace volley
