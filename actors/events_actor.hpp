#pragma once
// The event sink: appends one JSON line per recipient outcome to the event log, and remembers
// the final status of recent recipient messages for GET /api/v1/messages/{id} (a recipient not
// final yet is answered from its spool record).
// A scheduled actor, not a detached one: its only I/O is an append of buffered lines to the page
// cache (no fsync) at most every 100 ms or 64 KiB, which costs less than the thread wake-up a
// detached actor pays for every outcome sent to it.
//   (spool_atom, caf::actor spool)             where final outcomes are released (given at start)
//   (outcome_atom, Outcome)                    an outcome: log line + status; a final one is
//                                              released in the spool after its line is written
//   (stop_atom) -> bool                        write and release everything pending, then quit
//   (status_atom, std::string rcpt_id) -> std::string   final status JSON, "" when unknown
#include <cstddef>
#include <string>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

namespace volley {

struct EventsOptions {
  std::string event_log_path;            // "" = no log file
  std::size_t max_final_statuses = 200000;  // final statuses remembered (oldest forgotten first)
};

caf::actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts);

}  // namespace volley
