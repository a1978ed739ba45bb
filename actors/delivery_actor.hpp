#pragma once
// One delivery actor per destination domain: it owns the domain's ready and deferred queues,
// its SMTP sessions (a small reused pool), its MX answer and its retry timers.
//   (enqueue_atom, RecipientBatch)            recipients to deliver (now or at next_attempt_ms)
//   (control_atom, EgressControlPtr)          suspensions changed (from the router)
//   (bounce_atom, QueueScope, reason) -> n    bounce queued recipients of the domain or a pool
//   (queues_atom) -> JSON object              depth, age, connections, state, limits
//   (stop_atom)                               close sessions and quit
// It tells its parent router (idle_atom, domain, batches received) when it has been empty for
// DeliverySettings::reap_after, so the router can stop it without losing a late batch.
#include <string>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include "actors/delivery_context.hpp"
#include "actors/messages.hpp"

namespace volley {

caf::actor spawn_delivery_actor(caf::actor_system& sys, std::string domain, DeliveryContextPtr ctx,
                                caf::actor router, EgressControlPtr control);

}  // namespace volley
