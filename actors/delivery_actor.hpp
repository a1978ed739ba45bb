#pragma once
// One delivery actor per destination domain. Its decisions (ready and deferred work, source
// choice, retries, expiry, suspensions, outcomes) are a delivery::DestinationQueue
// (core/delivery/destination_queue.hpp, docs/scheduler.md); the actor runs them: it holds the
// domain's SMTP sessions (a small reused pool, delivery_sessions.cpp), its MX answer, its timers
// and its body loads, and reports outcomes to metrics, events and the spool.
//
// It tells its parent router (idle_atom, domain, batches received) when it has been empty for
// DeliverySettings::reap_after, so the router can stop it without losing a late batch.
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/delivery_context.hpp"
#include "actors/messages.hpp"
#include "net/session_reports.hpp"
#include "core/delivery/queue_snapshot.hpp"

namespace volley {

using delivery_actor = caf::typed_actor<
    // Recipients to deliver, now or at their next_attempt_ms (from the router).
    caf::reacts_to<enqueue_atom, RecipientBatch>,
    // A new version of the suspensions in force (from the router).
    caf::reacts_to<control_atom, EgressControlPtr>,
    // Bounces the queued recipients (not those in flight) of the domain or of a pool: how many.
    caf::replies_to<bounce_atom, QueueScope, std::string>::with<std::uint64_t>,
    // The queue as an operator sees it.
    caf::replies_to<queues_atom>::with<delivery::QueueSnapshot>,
    // Closes the sessions and quits (from the router).
    caf::reacts_to<stop_atom>,
    // Shutdown's drain (from the router): no new transaction starts; the answer comes once the
    // transactions in flight have finished and every session has closed. Queued work stays in the
    // spool for the next start.
    caf::replies_to<drain_atom>::with<bool>,
    // A reload (SIGHUP): new settings (shaping, routes, bounce rules, sources, pools, pool rules).
    // Lanes follow their sources by name; a removed source's queued work goes to its pool's other
    // sources. Sessions in flight finish as they are.
    caf::reacts_to<reload_atom, DeliveryContextPtr>,
    // Its own: what its sessions report (smtp_session.hpp), by session id, a turn of the I/O
    // loop's worth at a time.
    caf::reacts_to<session_atom, SessionReports>,
    // Its own, through the connection cache: the host key it waited for at the cache's gate has
    // a parked session or room for another connection attempt (delivery_sessions.cpp).
    caf::reacts_to<wake_atom, std::string>,
    // Its own timers: the retry timer and the pacing timer (by generation), the retry of a failed
    // body load, a session's idle timeout (session id, 0), its own reap (generation).
    caf::reacts_to<tick_atom, std::uint64_t>, caf::reacts_to<pace_atom, std::uint64_t>, caf::reacts_to<load_atom>,
    caf::reacts_to<idle_atom, std::uint64_t, std::uint64_t>, caf::reacts_to<idle_atom, std::uint64_t>>;

// What a delivery actor needs of its parent (the router, router.hpp).
using delivery_parent = caf::typed_actor<
    // The actor of domain has been empty for a while, having received this many batches.
    caf::reacts_to<idle_atom, std::string, std::uint64_t>>;

delivery_actor spawn_delivery_actor(caf::actor_system& sys, std::string domain, DeliveryContextPtr ctx,
                                    delivery_parent router, EgressControlPtr control);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::delivery::QueueSnapshot)
