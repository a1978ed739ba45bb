#pragma once
// The bounce and feedback processor: what comes back after sending becomes events and
// suppressions.
//   - A report received by the [smtp_in] listener is parsed (core/feedback/report.hpp: DSN,
//     ARF, known non-standard bounces) and tied to the recipient message it is about
//     (core/feedback/correlate.hpp). The delivery history in the spool gives that message's
//     tenant, campaign, tags, metadata, pool and source. Each failed recipient of a DSN becomes
//     an async_bounce event, an ARF report a complaint event.
//   - This actor sees those events first, so it asks core/suppression/policy.hpp whether they
//     suppress their address (hard bounce categories; complaints but not-spam) and has the
//     suppression actor write the entries.
// One way: listener -> feedback -> (spool history, suppression) -> events; nothing is sent back
// to it but answers. The report is answered (the listener then says 250) once its suppressions
// are written and its events written and queued for webhooks; a report that matches nothing,
// or that nobody can parse, is logged and answered too (a bounce must not bounce). A history
// lookup that fails asks the sender to retry.
//
// Detached: parsing a report (GMime) can take a while on a large message, and must not hold a
// scheduler thread that delivery actors share.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/events_actor.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/suppression_actor.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "core/delivery/return_path.hpp"
#include "core/suppression/policy.hpp"

namespace volley {

struct InboundReport {
  std::string peer;
  std::string reverse_path;
  std::vector<std::string> recipients;
  std::string content;
  // Called once, from the actor's thread: ok, or the reason to ask the sender to retry.
  std::function<void(bool ok, std::string why)> answer;
};
using InboundReportPtr = std::shared_ptr<InboundReport>;

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::InboundReportPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const volley::delivery::ReplyClassifier>)  // reloads

namespace volley {

using feedback_actor = caf::typed_actor<
    // A message the listener accepted: its answer is called once the report is dealt with.
    caf::reacts_to<report_atom, InboundReportPtr>,
    // A reload (SIGHUP): new bounce rules (null: the shipped ones) and suppression policy.
    caf::reacts_to<reload_atom, std::shared_ptr<const delivery::ReplyClassifier>, suppression::Policy>>;

struct FeedbackOptions {
  delivery::ReturnPaths return_paths;
  std::shared_ptr<const delivery::ReplyClassifier> classifier;  // null: the shipped rules
  suppression::Policy suppression_policy;
  caf::actor spool;                  // history lookups: (history_atom, rcpt id | message id, recipient)
  events_actor events;               // where the events go
  suppression_actor suppressions;    // invalid: nothing is suppressed
  metrics_actor metrics;             // (outcome_atom, Outcome) per event
  bool own_thread = true;            // false: on the scheduler (deterministic tests)
};

feedback_actor spawn_feedback_actor(caf::actor_system& sys, FeedbackOptions opts);

}  // namespace volley
