#pragma once
// From a parsed report (core/feedback/report.hpp) to the events it gives, tied to the recipient
// messages they are about. Pure: the feedback actor looks each event's message up in the spool's
// history between report_events() and apply_history(), and writes the events.
//
// Where a report points: the VERP address it came to (the envelope recipient of the report),
// else the quoted original's X-Volley-ID (signed), else the original's VERP Return-Path. Each
// failed recipient of a DSN becomes an async_bounce event (classified like a synchronous
// bounce), an ARF report one complaint event.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery/reply_classifier.hpp"
#include "core/delivery/return_path.hpp"
#include "core/events/outcome.hpp"
#include "core/feedback/report.hpp"

namespace volley::feedback {

// The recipient message a report names: rcpt_id when it names one, else message_id (the
// X-Volley-ID of a message sent to several recipients in one transaction, which the event's
// recipient then picks out), else neither.
struct Located {
  std::string rcpt_id;
  std::string message_id;
};

// `envelope_recipients`: the RCPT TO addresses the report came to; `report_recipients`: how many
// recipients the report says failed (a VERP transaction has one, so a DSN of one recipient that
// came to one VERP address is about that recipient, whatever the report calls the address:
// forwarding may have changed it).
Located locate(const delivery::ReturnPaths& paths, const std::vector<std::string>& envelope_recipients,
               const OriginalHeaders& original, std::size_t report_recipients);

// One event a report gives, with where to find its message in the spool's history. The event's
// rcpt_id and message_id are already set from `where` when it names something.
struct ReportEvent {
  events::Outcome event;
  Located where;
};

// The events of a report: one per failed DSN recipient (several resolving to one recipient
// message give one event), one for an ARF report, none for anything else (a DSN of delayed or
// delivered recipients, an unrecognised message). Times (at_ms) are left to the caller.
std::vector<ReportEvent> report_events(const Report& report, const std::vector<std::string>& envelope_recipients,
                                       const delivery::ReturnPaths& paths, const delivery::ReplyClassifier& classifier);

// Fills the event with what a history record (a final event line, core/events/outcome.hpp, or
// the spool's account of a queued recipient in the same fields) says about its message: ids,
// tenant, campaign, pool, source, mx_host, received_at, tags and metadata, and the recipient as
// sent. Anything but a JSON object leaves the event as it was.
void apply_history(events::Outcome& event, std::string_view history_record);

// The feedback types of RFC 5965 and its updates; anything else is "other" and nothing "abuse"
// (report text is hostile, and the type becomes a metric label).
std::string feedback_type(const std::string& reported);

}  // namespace volley::feedback
