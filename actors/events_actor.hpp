#pragma once
// The event sink: every event about a recipient message (received, delivered, deferred,
// bounced, expired, suppressed, async_bounce, complaint; core/events/outcome.hpp) becomes a JSON
// line in the rotated event log and, when webhooks are configured, goes to the webhook actor's
// disk queue. A final event (delivered, bounced, expired, suppressed) goes to the spool as the
// recipient's history, where GET /api/v1/messages/{id} finds it; until then its status is
// answered from here (a recipient not final yet is answered from its spool record).
//
// Data flows one way through it: delivery, the spool (received), the feedback actor
// (async_bounce, complaint) and the suppression API (suppressed) send events here; they go on to
// the log, the webhook actor and the spool. A synchronous bounce is seen here first, so this
// actor asks core/suppression/policy.hpp whether it suppresses its address and, if so, sends the
// entry to the suppression actor (never back to the feedback actor). Events that come as
// reports (report_atom) were decided on by their sender.
//
// A scheduled actor, not a detached one: its only I/O is an append of buffered lines to the page
// cache (no fsync) at most every 100 ms or 64 KiB, which costs less than the thread wake-up a
// detached actor pays for every outcome sent to it.
//
// Ordering that keeps events from being lost: a final outcome's spool records are released only
// after its line is written and the webhook actor has queued it. A crash in between repeats a
// delivery (and its event) rather than losing the event. Reports are answered at the same point,
// so a sender that waits for the answer knows its events are written and queued.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/recipient_status.hpp"
#include "actors/suppression_actor.hpp"
#include "actors/webhook_actor.hpp"
#include "core/events/event_filter.hpp"
#include "core/suppression/policy.hpp"
#include "core/config/config.hpp"

namespace volley {

using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using recent_atom = caf::atom_constant<caf::atom("recent")>;

// A live reader of the event stream (GET /api/v1/events?follow=1). `deliver` is called from the
// events actor with each matching event line (ending in '\n') and must not block: it queues the
// line in a bounded buffer. It answers false once its reader is gone or has fallen too far
// behind; the subscription is then dropped, so a slow reader never holds the actor up.
struct EventSubscription {
  std::uint64_t id = 0;
  events::EventFilter filter;
  std::function<bool(const std::string& line)> deliver;
};

using events_actor = caf::typed_actor<
    // The spool actor, where final outcomes are released (done_atom, SpoolReleases). The one
    // late wiring: the spool is spawned with this actor (it sends the "received" events), so
    // this actor cannot be spawned with the spool. daemon/main.cpp sends it before anything is
    // injected or recovered; a final outcome written without it is not released.
    caf::reacts_to<spool_atom, caf::actor>,
    // An event from delivery; a synchronous bounce may put its address on the suppression list.
    caf::reacts_to<outcome_atom, Outcome>,
    // "received" events for recipients just spooled (one message per spool commit).
    caf::reacts_to<outcome_atom, ReceivedNotes>,
    // Events decided on elsewhere (feedback reports, recipients suppressed at injection): answered
    // (true) once they are written and queued for webhooks, with the next write (within 100 ms).
    caf::replies_to<report_atom, std::vector<Outcome>>::with<bool>,
    // A recipient id: its final status if this actor still has it; a message id: the final
    // statuses of its recipients still here (the spool has the others' in its history).
    caf::replies_to<status_atom, std::string>::with<RecipientStatuses>,
    // The event stream: a subscriber added (answered true once it is in the list, so a reader
    // told "subscribed" misses no later event), and removed by its id.
    caf::replies_to<subscribe_atom, EventSubscription>::with<bool>,
    caf::reacts_to<unsubscribe_atom, std::uint64_t>,
    // The last `limit` matching events of the in-memory ring (EventsOptions::recent_events), oldest first.
    caf::replies_to<recent_atom, events::EventFilter, std::uint64_t>::with<std::vector<std::string>>,
    // Write and release everything pending, answer (true), then quit.
    caf::replies_to<stop_atom>::with<bool>,
    // Internal: the write timer (100 ms after the first unwritten line, 1 s after a failed write).
    caf::reacts_to<tick_atom>,
    // A reload (SIGHUP): which synchronous bounces suppress their address from now on.
    caf::reacts_to<reload_atom, suppression::Policy>,
    // A reload: the webhook actor events go to from the next event on (invalid: none, the last
    // [[webhook]] was removed; a first one added starts it).
    caf::reacts_to<webhook_atom, webhook_actor>>;

struct EventsOptions {
  std::string event_log_path;               // "" = no log file
  std::size_t event_log_max_size = Config::Log::kDefaultEventLogMaxSize;  // rotated past this
  std::size_t event_log_keep = Config::Log::kDefaultEventLogKeep;
  // Final statuses remembered until the spool has them (a bound for when it does not take them).
  std::size_t max_final_statuses = 200000;
  // The last events kept in memory for GET /api/v1/events without follow and volleyctl message
  // (about 0.5 KiB each); older ones are in the event log only.
  std::size_t recent_events = 10000;
  webhook_actor webhooks;                   // invalid: no webhooks
  suppression_actor suppressions;           // invalid: synchronous bounces suppress nothing
  suppression::Policy suppression_policy;
};

events_actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::suppression::Policy)  // reloads
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::EventSubscription)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::events::EventFilter)
