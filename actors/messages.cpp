#include "actors/messages.hpp"

namespace volley {

QueuedMessage::QueuedMessage(spool::MessageRecord&& record)
    : id(std::move(record.id)),
      envelope_from(std::move(record.envelope_from)),
      tenant(std::move(record.tenant)),
      campaign(std::move(record.campaign)),
      pool(std::move(record.pool)),
      received_at_ms(record.received_at_ms),
      message_size(record.message_size),
      body_8bit(record.body_8bit),
      needs_smtputf8(record.needs_smtputf8) {}

const Suspension* EgressControl::find(QueueScope::Kind kind, const std::string& name, std::int64_t now_ms) const {
  const auto& scopes = kind == QueueScope::Kind::domain ? domains : kind == QueueScope::Kind::pool ? pools : sources;
  auto it = scopes.find(name);
  return it != scopes.end() && it->second.active(now_ms) ? &it->second : nullptr;
}

const char* to_string(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::delivered: return "delivered";
    case OutcomeKind::deferred: return "deferred";
    case OutcomeKind::bounced: return "bounced";
    case OutcomeKind::expired: return "expired";
  }
  return "unknown";
}

}  // namespace volley
