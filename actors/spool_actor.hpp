#pragma once
// The spool actor: the one owner of the on-disk spool, on a thread of its own (it blocks on
// fsync, so it must never occupy a scheduler worker).
//
// Group commit: it takes one put, then everything else already waiting in its mailbox (up to
// 512 messages or 8 MiB of bodies) and writes them all with one fsync. While that fsync runs,
// new requests pile up and the next write takes them all, so batches grow with load without
// any timer adding latency when the load is light.
//
// Protocol: spool_actor below (types in actors/messages.hpp and actors/recipient_status.hpp).
// It is a blocking actor (it waits on fsync), so CAF does not check its receive loop against
// spool_actor: a message added here must be added to SpoolWriter::run by hand (anything else
// is answered with unexpected_message).
//
// Sent by the actor:
//   to router:  (enqueue_atom, SpooledMessages): one per synced write (recovery: per 1,000
//               messages); each message's recipients share one QueuedMessagePtr.
//   to metrics: (commit_atom, double seconds, std::size_t messages, std::size_t recipients):
//   one per synced write.
//
// Back-pressure is the sender's: the API counts the messages it has put and not yet had
// answered (api/injection_api.cpp, InjectionApiConfig::pending / max_pending) and answers 503
// past its limit. It needs nothing from this actor beyond the promise that done() is called
// once per put, which also makes that count exact; a put lost with a dying actor is
// answered by the API when its batch is freed.
#include <chrono>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/recipient_status.hpp"
#include "actors/events_actor.hpp"
#include "actors/metrics_actor.hpp"
#include "core/spool/spool.hpp"
#include "core/config/config.hpp"

namespace volley {

using spool_actor = caf::typed_actor<
    // The batch's done() is called exactly once on this actor's thread: committed, replayed
    // (idempotency key seen within 24 h, in the spool or earlier in the same write, with the same
    // request digest: nothing is written), reused (the key answered a request with another digest:
    // nothing is written) or failed. After done(), the actor moves the messages out of the batch
    // (bodies go to delivery without a copy): the sender must not read batch->messages once it
    // has sent the put.
    caf::reacts_to<put_atom, InjectBatchPtr>,
    // Recipients that are final: their records go, and a message with its body when its last
    // recipient is among them; a release with history leaves it (the final event) under the
    // recipient id.
    caf::reacts_to<done_atom, SpoolReleases>,
    // (rcpt_id) Its delivered event (or, while it is still spooled, what its records say), ""
    // if none: what feedback reports are matched with.
    caf::replies_to<history_atom, std::string>::with<std::string>,
    // (message_id, recipient address) The same, found by message and address.
    caf::replies_to<history_atom, std::string, std::string>::with<std::string>,
    // A recipient's new delivery state.
    caf::reacts_to<defer_atom, spool::RecipientRecord>,
    // (message ids) Bodies read back for recipients that are due again (null where a body is
    // missing).
    caf::replies_to<load_atom, std::vector<std::string>>::with<LoadedBodies>,
    // (a recipient or message id) A recipient id: its status (from its history when final, else
    // its record); a message id: every recipient's it has. Empty when none is known.
    caf::replies_to<status_atom, std::string>::with<RecipientStatuses>,
    // Re-queues everything in the spool without reading a body (the answer: recipients
    // recovered), deletes messages with no recipients left and expires old idempotency keys.
    // Send it once at start-up, before the API accepts requests.
    caf::replies_to<recover_atom>::with<std::size_t>,
    // Writes what it has gathered, fails the puts still waiting, and quits.
    caf::reacts_to<stop_atom>>;

// Spawns the spool actor (detached). router, metrics and events may be invalid (nothing is
// sent). Delivery history older than history_retention is deleted (0: kept).
spool_actor spawn_spool_actor(caf::actor_system& system, std::unique_ptr<spool::Spool> spool,
                              caf::actor router, metrics_actor metrics, events_actor events = {},
                              std::chrono::milliseconds history_retention = Config::Events::kDefaultHistoryRetention);

}  // namespace volley
