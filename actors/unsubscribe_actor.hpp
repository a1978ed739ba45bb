#pragma once
// The unsubscribe writer (docs/unsubscribe.md): a recipient who used a List-Unsubscribe
// header, by RFC 8058 one-click POST (api/unsubscribe_api) or by mail to the mailto address
// (arriving on [smtp_in]), is put on its tenant's suppression list with reason "unsubscribe"
// (through the suppression actor, the list's one writer), gets an "unsubscribe" event (event
// log and webhooks, through the events actor) and is counted in volley_unsubscribes_total.
//
// Idempotent: an address already on the tenant's list for an unsubscribe, or one being written
// right now, is answered at once and writes nothing, so a provider's repeated POST (or a
// mailto after the POST) gives one entry and one event.
//
// A one-click token carries its recipient (core/unsubscribe/token.hpp); a mailto address names
// only the recipient id, looked up in the spool's delivery history.
#include <functional>
#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/events_actor.hpp"
#include "actors/feedback_actor.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/suppression_actor.hpp"
#include "core/unsubscribe/token.hpp"

namespace volley {

using unsub_atom = caf::atom_constant<caf::atom("unsub")>;

struct UnsubscribeRequest {
  unsubscribe::Recipient who;  // from a verified token
  std::string source;          // "one_click" or "mailto"
  // Called once, from the actor's thread: true once written (or when there was nothing to
  // write), false when the suppression could not be written (the client may retry).
  std::function<void(bool ok)> done;
};
using UnsubscribeRequestPtr = std::shared_ptr<UnsubscribeRequest>;

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::UnsubscribeRequestPtr)

namespace volley {

using unsubscribe_actor = caf::typed_actor<
    // One unsubscribe with a verified recipient: its done() as described above.
    caf::reacts_to<unsub_atom, UnsubscribeRequestPtr>,
    // A mail to u+<signed rcpt id>@<mailto_domain>: every such recipient that its history
    // finds unsubscribes; answered (the listener's 250) once written, or asked to retry when
    // the history could not be read. Other recipients are ignored (they went to the feedback
    // actor).
    caf::reacts_to<report_atom, InboundReportPtr>>;

struct UnsubscribeOptions {
  std::shared_ptr<const storage::SuppressionList> list;  // required: the idempotency check
  std::shared_ptr<const unsubscribe::TokenKey> key;      // required: mailto local parts
  std::string mailto_domain;                             // lower case; "" = no mailto
  suppression_actor suppressions;                        // required: writes the entries
  events_actor events;                                   // invalid: no events
  metrics_actor metrics;                                 // invalid: not counted
  caf::actor spool;                                      // (history_atom, rcpt id): mailto lookups
};

unsubscribe_actor spawn_unsubscribe_actor(caf::actor_system& sys, UnsubscribeOptions opts);

}  // namespace volley
