#pragma once
// The DKIM signing stage between the injection API and the spool (docs/auth-dkim.md): each
// injected message is signed once, before its spool commit, on CAF worker threads (never the
// HTTP thread), and the spool stores the signed bytes, so every recipient, every retry and every
// restart sends the same signature. Present only when [[dkim]] keys are configured; otherwise
// the API sends batches to the spool actor directly.
//
// A few stateless workers behind one caf::actor_pool handle taken in turn: a batch goes to
// the next worker without an extra hop, and signing (RSA is the costly part) runs on as many
// threads as there are workers (detached actors: the scheduler's workers never wait behind it).
//
// Sent by a worker:
//   to the spool:   (put_atom, InjectBatchPtr): the batch, each message signed (signatures in
//                   front of NewMessage::wire_data, message_size grown, MessageRecord::dkim set).
//   to metrics:     (sign_atom, DkimSignStats): the figures of up to 64 signed messages, at
//                   most 250 ms after the first of them was signed.
// A batch that cannot be signed (OpenSSL failing) is not spooled: its done() is called with
// InjectOutcome::failed, so that mail is never sent unsigned by accident.
#include <cstddef>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "core/dkim/signer.hpp"
#include "core/util/reloadable.hpp"

namespace volley {

using dkim_signer_actor = caf::typed_actor<
    // A batch from the injection API: signed, then forwarded to the spool; the batch's done()
    // contract is the spool's (actors/spool_actor.hpp), or failed here.
    caf::reacts_to<put_atom, InjectBatchPtr>>;

struct DkimSignerOptions {
  // The keys, replaced by a reload (SIGHUP) between batches.
  std::shared_ptr<util::Reloadable<dkim::Signer>> signer;
  caf::actor spool;       // receives (put_atom, InjectBatchPtr)
  metrics_actor metrics;  // may be invalid
  std::size_t workers = 2;  // signing threads
};

// Signs every message of a batch (now: t=, seconds since the epoch). Returns false when OpenSSL
// failed: the batch is then left as it was.
bool sign_batch(const dkim::Signer& signer, InjectBatch& batch, std::int64_t now, DkimSignStats* stats);

// The pool of workers, as one handle that takes (put_atom, InjectBatchPtr). Exit it to stop it.
caf::actor spawn_dkim_signer(caf::actor_system& system, DkimSignerOptions options);

}  // namespace volley
