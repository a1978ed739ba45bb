#include "core/events/outcome.hpp"

#include <string_view>

#include <nlohmann/json.hpp>

namespace volley::events {

const char* to_string(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::delivered: return "delivered";
    case OutcomeKind::deferred: return "deferred";
    case OutcomeKind::bounced: return "bounced";
    case OutcomeKind::expired: return "expired";
    case OutcomeKind::received: return "received";
    case OutcomeKind::suppressed: return "suppressed";
    case OutcomeKind::async_bounce: return "async_bounce";
    case OutcomeKind::complaint: return "complaint";
    case OutcomeKind::unsubscribe: return "unsubscribe";
    case OutcomeKind::cancelled: return "cancelled";
  }
  return "unknown";
}

// Metadata and report are JSON objects already (checked at injection, built by Volley): spliced
// in rather than parsed again.
std::string to_json(const Outcome& o) {
  nlohmann::json j{{"event", to_string(o.kind)},
                   {"id", o.rcpt_id},
                   {"message_id", o.message_id},
                   {"recipient", o.recipient},
                   {"domain", o.domain},
                   {"tenant", o.tenant},
                   {"at", o.at_ms},
                   {"received_at", o.received_at_ms}};
  if (o.attempt > 0) j["attempt"] = o.attempt;
  if (!o.campaign.empty()) j["campaign"] = o.campaign;
  if (!o.mx_host.empty()) j["mx_host"] = o.mx_host;
  if (!o.pool.empty()) j["pool"] = o.pool;
  if (!o.source.empty()) j["source"] = o.source;
  if (!o.reply.empty()) j["reply"] = o.reply;
  if (!o.category.empty()) j["category"] = o.category;
  if (o.smtp_stage != smtp::Stage::none) j["smtp_stage"] = smtp::to_string(o.smtp_stage);
  if (o.kind == OutcomeKind::deferred) j["next_attempt_at"] = o.next_attempt_ms;
  if (o.kind == OutcomeKind::delivered) {
    j["tls"] = o.tls ? nlohmann::json{{"version", o.tls->version},
                                      {"cipher", o.tls->cipher},
                                      {"verified", o.tls->verified},
                                      {"policy", o.tls->policy}}
                     : nlohmann::json(nullptr);
  }
  if (o.extras && !o.extras->tags.empty()) j["tags"] = o.extras->tags;
  if (o.kind == OutcomeKind::delivered) {
    auto& signatures = j["dkim"] = nlohmann::json::array();
    if (o.extras)
      for (const auto& d : o.extras->dkim)
        signatures.push_back({{"domain", d.domain}, {"selector", d.selector}, {"algorithm", d.algorithm}});
  }
  std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto splice = [&out](std::string_view name, const std::string& object) {
    if (object.empty() || object == "{}") return;
    out.pop_back();  // '}'
    out += ",\"";
    out += name;
    out += "\":";
    out += object;
    out += '}';
  };
  if (o.extras) splice("metadata", o.extras->metadata_json);
  splice("report", o.report_json);
  return out;
}

}  // namespace volley::events
