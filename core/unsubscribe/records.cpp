#include "core/unsubscribe/records.hpp"

#include <string>

#include "core/util/address_domain.hpp"

namespace volley::unsubscribe {

std::optional<suppression::Entry> entry_for(const Recipient& r, std::string_view source, std::int64_t now_ms,
                                            std::string* error) {
  auto email = suppression::normalize_address(r.address, error);
  if (!email) return std::nullopt;
  suppression::Entry e;
  e.email = std::move(*email);
  e.tenant = r.tenant;
  e.reason = kReason;
  e.category = r.campaign.substr(0, suppression::kMaxCategory);
  e.source = source;
  e.description = "unsubscribed (" + std::string(source) + ") from recipient message " + r.rcpt_id;
  e.created_at_ms = now_ms;
  e.updated_at_ms = now_ms;
  if (auto why = suppression::check_entry(e)) {
    if (error) *error = *why;
    return std::nullopt;
  }
  return e;
}

events::Outcome event_for(const Recipient& r, std::string_view source, std::int64_t now_ms) {
  events::Outcome o;
  o.kind = events::OutcomeKind::unsubscribe;
  o.rcpt_id = r.rcpt_id;
  o.message_id = r.rcpt_id.substr(0, r.rcpt_id.find('-'));
  o.recipient = r.address;
  o.domain = util::domain_of(r.address);
  o.tenant = r.tenant;
  o.campaign = r.campaign;
  o.category = source;
  o.at_ms = now_ms;
  // A message id starts with its receipt time: 12 hex digits of milliseconds (core/util/ids.hpp).
  o.received_at_ms = static_cast<std::int64_t>(std::stoull(o.message_id.substr(0, 12), nullptr, 16));
  return o;
}

}  // namespace volley::unsubscribe
