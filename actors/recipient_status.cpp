#include "actors/recipient_status.hpp"

#include <nlohmann/json.hpp>

namespace volley {

RecipientStatus RecipientStatus::from_record(const spool::RecipientRecord& r) {
  RecipientStatus s;
  s.message_id = r.message_id;
  s.recipient = r.recipient;
  s.status = r.state == spool::RecipientState::deferred ? "deferred" : "queued";
  s.attempts = r.attempts;
  s.reply = r.last_reply;
  if (r.state == spool::RecipientState::deferred && r.next_attempt_ms != 0) s.next_attempt_ms = r.next_attempt_ms;
  return s;
}

std::string RecipientStatus::render(const std::string& id) const {
  nlohmann::json j{{"id", id},
                   {"message_id", message_id},
                   {"recipient", recipient},
                   {"status", status},
                   {"attempts", attempts}};
  if (updated_at_ms) j["updated_at"] = *updated_at_ms;
  if (!reply.empty()) j[reply_is_last ? "last_reply" : "reply"] = reply;
  if (!category.empty()) j["category"] = category;
  if (next_attempt_ms) j["next_attempt_at"] = *next_attempt_ms;
  return j.dump();
}

}  // namespace volley
