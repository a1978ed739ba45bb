#include "core/suppression/policy.hpp"

namespace volley::suppression {

using events::OutcomeKind;

bool suppresses(const events::Outcome& o, const Policy& policy) {
  if (o.tenant.empty() || o.recipient.empty()) return false;
  switch (o.kind) {
    case OutcomeKind::complaint: return policy.complaints && o.category != "not-spam";
    case OutcomeKind::bounced:
      return smtp::about_recipient(o.smtp_stage) && policy.bounce_categories.count(o.category) != 0;
    case OutcomeKind::async_bounce: return policy.bounce_categories.count(o.category) != 0;
    case OutcomeKind::delivered:
    case OutcomeKind::deferred:
    case OutcomeKind::expired:
    case OutcomeKind::received:
    case OutcomeKind::suppressed:
    case OutcomeKind::cancelled:
    case OutcomeKind::unsubscribe: return false;  // the unsubscribe actor writes its own entry
  }
  return false;
}

std::optional<Entry> entry_for(const events::Outcome& o, const Policy& policy) {
  if (!suppresses(o, policy)) return std::nullopt;
  Entry e;
  e.tenant = o.tenant;
  e.email = o.recipient;
  e.category = o.category;
  if (o.kind == OutcomeKind::complaint) {
    e.reason = "complaint";
    e.source = "complaint";
    e.description = "feedback type " + o.category;
  } else {
    e.reason = "hard_bounce";
    e.source = o.kind == OutcomeKind::async_bounce ? "async_bounce" : "bounce";
    e.description = o.reply.substr(0, kMaxDescription);
  }
  return e;
}

}  // namespace volley::suppression
