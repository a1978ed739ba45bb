#pragma once
// The event sink: appends one JSON line per recipient outcome to the event log, and remembers
// the latest status of each recipient message for GET /api/v1/messages/{id}. Detached (its own
// thread) because it writes files.
//   (spool_atom, caf::actor spool)             where final outcomes are released (given at start)
//   (received_atom, RecipientBatch)            recipients now queued (status only, no log line)
//   (outcome_atom, Outcome)                    an outcome: log line + status; a final one is
//                                              released in the spool after its line is written
//   (stop_atom) -> bool                        write and release everything pending, then quit
//   (status_atom, std::string rcpt_id) -> std::string   status JSON, "" when unknown
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
