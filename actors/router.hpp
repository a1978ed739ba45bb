#pragma once
// The injection router: sends each spooled recipient to its destination domain's delivery
// actor, spawning one on demand and stopping it once it has been idle and empty. It owns the
// suspensions in force and sends every new version to every delivery actor.
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/delivery_actor.hpp"
#include "actors/delivery_context.hpp"
#include "actors/messages.hpp"
#include "core/delivery/queue_snapshot.hpp"

namespace volley {

struct ReloadedDelivery {
  DeliverySettings settings;
  std::shared_ptr<const schedule::TenantWindows> windows;
};

using router_actor = caf::typed_actor<
    // The spool actor, given once at start before any work. Given late because the spool is
    // spawned with the router (it sends it every commit) while delivery actors, which the router
    // spawns, need the spool (bodies, deferrals, releases): the cycle spool -> router ->
    // delivery -> spool has to start somewhere.
    caf::reacts_to<spool_atom, caf::actor>,
    // Pending recipients of spooled messages (one group commit, or a slice of recovery).
    caf::reacts_to<enqueue_atom, SpooledMessages>,
    // A delivery actor has been empty for a while (delivery_parent, delivery_actor.hpp).
    caf::reacts_to<idle_atom, std::string, std::uint64_t>,
    // Suspends a domain, pool or source (replacing its suspension, if any): true.
    caf::replies_to<suspend_atom, QueueScope, Suspension>::with<bool>,
    // Resumes a domain, pool or source: whether it was suspended.
    caf::replies_to<resume_atom, QueueScope>::with<bool>,
    // Bounces the queued recipients of a domain or a pool (reason): how many.
    caf::replies_to<bounce_atom, QueueScope, std::string>::with<std::uint64_t>,
    // Every destination's queue, and the suspended domains that have nothing queued.
    caf::replies_to<queues_atom>::with<std::vector<delivery::QueueSnapshot>>,
    // Stops every delivery actor, then itself.
    caf::reacts_to<stop_atom>,
    // Shutdown's drain (SIGTERM): nothing new is routed or released (it stays in the spool for the
    // next start) and every delivery actor lets its transactions in flight finish; the answer
    // comes when all have closed their sessions. The caller bounds the wait.
    caf::replies_to<drain_atom>::with<bool>,
    // A reload (SIGHUP): new delivery settings and sending windows for every delivery actor, now
    // and spawned later; the metrics actor gets the new sources and pools.
    caf::reacts_to<reload_atom, ReloadedDelivery>,
    // Scheduling (docs/scheduling.md). Messages whose send_at or tenant's sending window lies
    // ahead are held here, not in delivery actors, until they are due.
    // (tenant, message id) Cancels a held message of that tenant: its recipients get the
    // "cancelled" event and leave the spool. The answer: recipients cancelled (0: none held).
    caf::replies_to<cancel_atom, std::string, std::string>::with<std::uint64_t>,
    // (tenant, campaign) The same for every held message of a campaign: messages cancelled.
    caf::replies_to<cancel_atom, campaign_atom, std::string, std::string>::with<std::uint64_t>,
    // Held messages and their recipients.
    caf::replies_to<scheduled_atom>::with<std::uint64_t, std::uint64_t>,
    // Internal: the hold's timer (its generation: older timers are ignored).
    caf::reacts_to<tick_atom, std::uint64_t>,
    // Internal, every 15 s: a look at every queue for the metrics (QueueSurvey).
    caf::reacts_to<gauge_atom>>;

router_actor spawn_router(caf::actor_system& sys, DeliveryContext ctx);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::delivery::QueueSnapshot>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ReloadedDelivery)
