#pragma once
// The suppression writer: the one actor that puts on the suppression list the addresses that
// outcomes call for. It does not decide: whoever sees an outcome first asks
// core/suppression/policy.hpp (the events actor for synchronous bounces from delivery, the
// feedback actor for asynchronous bounces and complaints) and sends the entry here. Nothing is
// sent back but the answer to a request, so suppression stays on the one-way path
//   delivery -> events -> suppression,   listener -> feedback -> suppression, then -> events.
// Entries are written in the order they arrive: a bounce is suppressed after the bounces that
// happened before it.
//
// Detached: the list is RocksDB, whose writes can stall behind compaction, which must not hold
// a scheduler thread that delivery actors share. Writes are unsynced: RocksDB's log survives a
// crash of volleyd, and the outcome that caused the entry is in the event log either way.
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <caf/replies_to.hpp>

#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "storage/suppression_list.hpp"

namespace volley {

using suppression_actor = caf::typed_actor<
    // One entry (a synchronous hard bounce): written, and counted in volley_suppressed_total.
    caf::reacts_to<suppress_atom, suppression::Entry>,
    // A report's entries: answered (true) once written, so that the report's events, and the
    // listener's 250 after them, come after its suppressions. A write that fails is logged, not
    // retried: the event still tells of it.
    caf::replies_to<suppress_atom, std::vector<suppression::Entry>>::with<bool>>;

struct SuppressionOptions {
  std::shared_ptr<storage::SuppressionList> list;  // required
  metrics_actor metrics;                               // counts each entry written
  bool own_thread = true;  // false: on the scheduler (deterministic tests)
};

suppression_actor spawn_suppression_actor(caf::actor_system& sys, SuppressionOptions opts);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::suppression::Entry)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::suppression::Entry>)
