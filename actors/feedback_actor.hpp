#pragma once
// The bounce and feedback processor: what comes back after sending becomes events and
// suppressions.
//   - A report received by the [smtp_in] listener is parsed (core/feedback: DSN, ARF, known
//     non-standard bounces) and tied to the recipient message it is about: the VERP address it
//     was sent to, else the X-Volley-ID or the VERP Return-Path of the quoted original. The
//     delivery history in the spool gives that message's tenant, campaign, tags, metadata, pool
//     and source. Each failed recipient of a DSN becomes an async_bounce event (classified like
//     a synchronous bounce), an ARF report a complaint event.
//   - Hard bounces (the configured categories, synchronous or not) and complaints (any feedback
//     type but not-spam) put the address on its tenant's suppression list.
// Detached: suppression writes go to RocksDB. The report is answered (the listener then says
// 250) once its events are written and queued for webhooks; a report that matches nothing, or
// that nobody can parse, is logged and answered too (a bounce must not bounce).
//   (report_atom, InboundReportPtr)   a message the listener accepted
//   (suppress_atom, Outcome)          a synchronous bounce (from the events actor)
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "core/delivery/reply_classifier.hpp"
#include "core/delivery/return_path.hpp"

namespace volley {

namespace suppression {
class SuppressionList;
}

struct InboundReport {
  std::string peer;
  std::string reverse_path;
  std::vector<std::string> recipients;
  std::string content;
  // Called once, from the actor's thread: ok, or the reason to ask the sender to retry.
  std::function<void(bool ok, std::string why)> answer;
};
using InboundReportPtr = std::shared_ptr<InboundReport>;

struct FeedbackOptions {
  delivery::ReturnPaths return_paths;
  std::shared_ptr<const delivery::ReplyClassifier> classifier;  // null: the shipped rules
  std::shared_ptr<suppression::SuppressionList> suppressions;   // null: nothing is suppressed
  std::vector<std::string> suppress_categories;                 // bounce categories that suppress
  bool suppress_complaints = true;
  caf::actor spool, events, metrics;
};

caf::actor spawn_feedback_actor(caf::actor_system& sys, FeedbackOptions opts);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::InboundReportPtr)
