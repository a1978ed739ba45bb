#pragma once
// What GET /api/v1/messages/{id} says about one recipient message. A final status comes from the
// events actor's memory; a recipient still queued or deferred is read from its spool record, so
// no actor keeps a per-recipient entry in memory for the whole queue.
#include <cstdint>
#include <optional>
#include <string>

#include "core/spool/records.hpp"

namespace volley {

struct RecipientStatus {
  std::string message_id;
  std::string recipient;
  const char* status = "queued";
  std::uint32_t attempts = 0;
  std::optional<std::int64_t> updated_at_ms;
  std::string reply;
  bool reply_is_last = true;  // "last_reply" (still trying) rather than "reply" (final)
  std::string category;
  std::optional<std::int64_t> next_attempt_ms;

  // The status of a recipient that is still spooled.
  static RecipientStatus from_record(const spool::RecipientRecord& r);

  // The JSON object for recipient id `id`.
  std::string render(const std::string& id) const;
};

}  // namespace volley
