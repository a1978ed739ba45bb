#pragma once
// The event sink: one event model for everything that happens to a recipient message
// (received, delivered, deferred, bounced, expired, suppressed, async_bounce, complaint). Each
// event is a JSON line in the rotated event log and, when webhooks are configured, goes to the
// webhook actor's disk queue. A final event (delivered, bounced, expired, suppressed) goes to the
// spool as the recipient's history, where GET /api/v1/messages/{id} finds it; until then its
// status is answered from here (a recipient not final yet is answered from its spool record).
//
// A scheduled actor, not a detached one: its only I/O is an append of buffered lines to the page
// cache (no fsync) at most every 100 ms or 64 KiB, which costs less than the thread wake-up a
// detached actor pays for every outcome sent to it.
//
// Ordering that keeps events from being lost: a final outcome's spool records are released only
// after its line is written and the webhook actor has queued it. A crash in between repeats a
// delivery (and its event) rather than losing the event.
//   (spool_atom, caf::actor spool)             where final outcomes are released (given at start)
//   (suppress_atom, caf::actor feedback)       where synchronous bounces go (it suppresses hard ones)
//   (outcome_atom, Outcome)                    an event from delivery
//   (outcome_atom, ReceivedNotes)              "received" events for recipients just spooled
//   (report_atom, std::vector<Outcome>) -> bool  events written and queued for webhooks at once
//                                              (feedback, suppression): answered once they are
//   (stop_atom) -> bool                        write and release everything pending, then quit
//   (status_atom, std::string id) -> RecipientStatuses  final statuses not yet in the spool: a
//                                              recipient id's, or every recipient's of a message id
#include <cstddef>
#include <string>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>
#include "core/config/config.hpp"

namespace volley {

struct EventsOptions {
  std::string event_log_path;               // "" = no log file
  std::size_t event_log_max_size = Config::Log::kDefaultEventLogMaxSize;  // rotated past this
  std::size_t event_log_keep = Config::Log::kDefaultEventLogKeep;
  // Final statuses remembered until the spool has them (a bound for when it does not take them).
  std::size_t max_final_statuses = 200000;
  caf::actor webhooks;                      // invalid: no webhooks
};

caf::actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts);

}  // namespace volley
