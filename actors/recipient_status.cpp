#include "actors/recipient_status.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace volley {

namespace {

using nlohmann::json;

json to_json(const RecipientStatus& s) {
  json j{{"id", s.id},
         {"message_id", s.message_id},
         {"tenant", s.tenant},
         {"recipient", s.recipient},
         {"status", s.status},
         {"attempts", s.attempts}};
  if (s.updated_at_ms) j["updated_at"] = *s.updated_at_ms;
  if (!s.reply.empty()) j[s.reply_is_last ? "last_reply" : "reply"] = s.reply;
  if (!s.category.empty()) j["category"] = s.category;
  if (s.next_attempt_ms) j["next_attempt_at"] = *s.next_attempt_ms;
  if (s.send_at_ms) j["send_at"] = *s.send_at_ms;
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The index after the last '-' of a recipient id (ids that have none sort last).
std::uint64_t index_of(const std::string& id) {
  const auto dash = id.rfind('-');
  std::uint64_t index = std::numeric_limits<std::uint64_t>::max();
  if (dash != std::string::npos) std::from_chars(id.data() + dash + 1, id.data() + id.size(), index);
  return index;
}

}  // namespace

RecipientStatus RecipientStatus::from_record(const spool::RecipientRecord& r, std::string tenant,
                                             std::int64_t send_at_ms, std::int64_t now_ms) {
  RecipientStatus s;
  s.id = r.id;
  s.message_id = r.message_id;
  s.tenant = std::move(tenant);
  s.recipient = r.recipient;
  s.status = r.state == spool::RecipientState::deferred ? "deferred" : "queued";
  s.attempts = r.attempts;
  s.reply = r.last_reply;
  if (r.state == spool::RecipientState::deferred && r.next_attempt_ms != 0) s.next_attempt_ms = r.next_attempt_ms;
  if (r.state != spool::RecipientState::deferred && r.attempts == 0 && send_at_ms > now_ms) {
    s.status = "scheduled";
    s.send_at_ms = send_at_ms;
  }
  return s;
}

std::optional<RecipientStatus> RecipientStatus::from_final_event(const std::string& event_json) {
  const auto j = json::parse(event_json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&j](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  RecipientStatus s;
  s.status = str("event");
  if (s.status != "delivered" && s.status != "bounced" && s.status != "expired" && s.status != "suppressed" &&
      s.status != "cancelled")
    return std::nullopt;
  s.id = str("id");
  if (s.id.empty()) return std::nullopt;
  s.message_id = str("message_id");
  s.tenant = str("tenant");
  s.recipient = str("recipient");
  if (const auto it = j.find("attempt"); it != j.end() && it->is_number_unsigned())
    s.attempts = it->get<std::uint32_t>();
  if (const auto it = j.find("at"); it != j.end() && it->is_number_integer()) s.updated_at_ms = it->get<std::int64_t>();
  s.reply = str("reply");
  s.reply_is_last = false;
  s.category = str("category");
  return s;
}

std::string RecipientStatus::render() const { return dump(to_json(*this)); }

bool names_recipient(const std::string& id) { return id.find('-') != std::string::npos; }

RecipientStatuses merge_statuses(RecipientStatuses newer, RecipientStatuses older) {
  std::unordered_set<std::string> known;
  for (const auto& s : newer) known.insert(s.id);
  for (auto& s : older) {
    if (known.count(s.id) == 0) newer.push_back(std::move(s));
  }
  std::stable_sort(newer.begin(), newer.end(), [](const RecipientStatus& a, const RecipientStatus& b) {
    return index_of(a.id) < index_of(b.id);
  });
  return newer;
}

std::string render_answer(const std::string& id, const RecipientStatuses& statuses) {
  if (statuses.empty()) return {};
  if (names_recipient(id)) return statuses.front().render();
  json list = json::array();
  for (const auto& s : statuses) list.push_back(to_json(s));
  return dump(json{{"id", id}, {"tenant", statuses.front().tenant}, {"recipients", std::move(list)}});
}

}  // namespace volley
