#include "core/delivery/outcome_policy.hpp"

#include "core/delivery/classify.hpp"
#include "core/smtp/client.hpp"

namespace volley::delivery {

Decision OutcomePolicy::on_reply(const smtp::Reply& reply, const RetryPolicy& retry, const PendingRcpt& rcpt,
                                 std::int64_t received_at_ms, std::int64_t now_ms) const {
  switch (disposition(reply)) {
    case Disposition::delivered: return Decision{Verdict::delivered, reply.summary(), "", smtp::Stage::none, 0, {}};
    case Disposition::bounced: return on_permanent(reply);
    case Disposition::deferred: break;
  }
  return on_temporary(reply, true, retry, rcpt, received_at_ms, now_ms);
}

Decision OutcomePolicy::on_temporary(const smtp::Reply& reply, bool from_server, const RetryPolicy& retry,
                                     const PendingRcpt& rcpt, std::int64_t received_at_ms,
                                     std::int64_t now_ms) const {
  // A greylisting reply means nothing unless it came from a server we reached; Volley's own
  // tls_required (no MX host it may use, core/smtp/client.hpp) is classified wherever it arose.
  const bool ours = reply.text().rfind(smtp::kTlsRequiredText, 0) == 0;
  const auto kind = reply.transient() && (from_server || ours) ? classifier_->classify_temporary(reply).kind
                                                                : TempfailKind::other;
  Decision d;
  d.reply = reply.summary();
  auto next = next_attempt_ms(retry, kind, rcpt.attempts, rcpt.greylist_retries, received_at_ms, now_ms);
  if (!next) {
    d.verdict = Verdict::expired;
    d.reply = "gave up after " + std::to_string(rcpt.attempts) + " attempts; last reply: " + d.reply;
    d.category = "message-expired";
    return d;
  }
  d.verdict = Verdict::deferred;
  d.kind = kind;
  d.category = std::string(to_string(kind));
  d.stage = reply.stage;
  d.next_attempt_ms = *next;
  return d;
}

Decision OutcomePolicy::on_permanent(const smtp::Reply& reply) const {
  return Decision{Verdict::bounced, reply.summary(), classifier_->classify_permanent(reply).category, reply.stage, 0,
                  {}};
}

bool OutcomePolicy::rate_limited(const smtp::Reply& reply) const {
  return reply.transient() && classifier_->classify_temporary(reply).kind == TempfailKind::rate_limited;
}

Decision OutcomePolicy::refused(const smtp::Reply& reply, std::string category) {
  return Decision{Verdict::bounced, reply.summary(), std::move(category), smtp::Stage::none, 0, {}};
}

Decision OutcomePolicy::held_too_long(const PendingRcpt& rcpt) {
  return Decision{Verdict::expired,
                  "gave up after " + std::to_string(rcpt.attempts) + " attempts: held past the maximum queue age",
                  "message-expired", smtp::Stage::none, 0, {}};
}

Decision OutcomePolicy::operator_bounce(const std::string& reason) {
  return Decision{Verdict::bounced,
                  "554 5.0.0 bounced by an operator" + (reason.empty() ? std::string() : ": " + reason), "other",
                  smtp::Stage::none, 0, {}};
}

}  // namespace volley::delivery
