#pragma once
// What GET /api/v1/messages/{id} says about recipient messages. A recipient still queued or
// deferred is read from its spool record; a final one (delivered, bounced, expired, suppressed)
// from its final event, kept in the spool's history ("h/<rcpt id>") and, until the events actor
// has handed it to the spool, in that actor's memory. No actor keeps a per-recipient entry in
// memory for the whole queue.
//
// Every status carries its tenant, so the API can refuse another tenant's recipient without
// asking again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "core/spool/records.hpp"

namespace volley {

struct RecipientStatus {
  std::string id;  // the recipient id, "<message id>-<index>"
  std::string message_id;
  std::string tenant;
  std::string recipient;
  std::string status = "queued";
  std::uint32_t attempts = 0;
  std::optional<std::int64_t> updated_at_ms;
  std::string reply;
  bool reply_is_last = true;  // "last_reply" (still trying) rather than "reply" (final)
  std::string category;
  std::optional<std::int64_t> next_attempt_ms;
  std::optional<std::int64_t> send_at_ms;  // "scheduled": when it is first tried

  // The status of a recipient that is still spooled; tenant and send_at_ms are its message
  // record's. Not tried yet and send_at still ahead of now_ms: "scheduled".
  static RecipientStatus from_record(const spool::RecipientRecord& r, std::string tenant, std::int64_t send_at_ms = 0,
                                     std::int64_t now_ms = 0);
  // The status a final event line says (a history entry or the events actor's own line);
  // nullopt when it is not a final event about a recipient.
  static std::optional<RecipientStatus> from_final_event(const std::string& event_json);

  // The JSON object GET /api/v1/messages/{recipient id} answers.
  std::string render() const;
};
using RecipientStatuses = std::vector<RecipientStatus>;

// Whether a status request names a recipient ("<message id>-<index>") rather than a message.
bool names_recipient(const std::string& id);

// The statuses of `newer` (the events actor's), then those of `older` (the spool's) that `newer`
// does not have, ordered by recipient index.
RecipientStatuses merge_statuses(RecipientStatuses newer, RecipientStatuses older);

// The answer to GET /api/v1/messages/{id} from a non-empty status list: a recipient id's status
// object, or for a message id {"id","tenant","recipients":[<status object>...]}.
std::string render_answer(const std::string& id, const RecipientStatuses& statuses);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::RecipientStatuses)
