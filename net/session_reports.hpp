#pragma once
// The SMTP sessions' reports to their owners, gathered per turn of the I/O loop: the reports
// made while the loop handles one batch of ready sockets go out as one CAF message per owner
// (after those handlers, through one post to the io_context) instead of one message per report.
// Each message to an actor that sleeps wakes a scheduler thread, and the owner then moves its
// work on once per batch rather than once per report. A session's reports stay in their order.
#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "net/smtp_session.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

struct SessionReport {
  std::uint64_t id;  // the session's id with its owner
  SessionEvent event;
};
using SessionReports = std::vector<SessionReport>;

// Queues `ev` for `owner` on io's reporter (one per io_context, made on first use; safe from
// any thread). The owner receives (session_atom, SessionReports).
void report_session_event(boost::asio::io_context& io, const caf::actor& owner, std::uint64_t id, SessionEvent ev);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::SessionReports)
