#pragma once
// What a reply or a failure means for one recipient: delivered, deferred until a next attempt,
// bounced, or expired. The policy reads the reply (reply_classifier.hpp: bounce category, kind
// of temporary failure) and the destination's retry schedule (retry.hpp); it decides, the caller
// reports and reschedules.
#include <cstdint>
#include <string>

#include "core/delivery/job.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "core/delivery/retry.hpp"
#include "core/smtp/reply.hpp"

namespace volley::delivery {

enum class Verdict { delivered, deferred, bounced, expired };

struct Decision {
  Verdict verdict = Verdict::deferred;
  std::string reply;     // the reply's summary, or the local reason
  // bounced, expired: the bounce category; deferred: the kind of temporary failure.
  std::string category;
  smtp::Stage stage = smtp::Stage::none;  // bounced, deferred: the command the reply answered
  std::int64_t next_attempt_ms = 0;       // deferred
  TempfailKind kind = TempfailKind::other;  // deferred
};

class OutcomePolicy {
 public:
  explicit OutcomePolicy(const ReplyClassifier& classifier) : classifier_(&classifier) {}

  // A server's reply to the recipient in a transaction (its attempt already counted).
  Decision on_reply(const smtp::Reply& reply, const RetryPolicy& retry, const PendingRcpt& rcpt,
                    std::int64_t received_at_ms, std::int64_t now_ms) const;
  // A temporary failure: deferred until the retry schedule's next attempt, or expired past the
  // maximum age. from_server: the reply came from a server that was reached (only then does it
  // say what kind of failure it is; a DNS or connection failure is "other").
  Decision on_temporary(const smtp::Reply& reply, bool from_server, const RetryPolicy& retry,
                        const PendingRcpt& rcpt, std::int64_t received_at_ms, std::int64_t now_ms) const;
  // A server's permanent refusal, classified by its reply and stage.
  Decision on_permanent(const smtp::Reply& reply) const;
  // A server's reply says the destination wants us to slow down ("421 too many connections").
  bool rate_limited(const smtp::Reply& reply) const;

  // Refused before reaching a server, for good (e.g. the domain has no mail server).
  static Decision refused(const smtp::Reply& reply, std::string category);
  // Held back (a suspension) until past the maximum queue age.
  static Decision held_too_long(const PendingRcpt& rcpt);
  // An operator bounced the queue.
  static Decision operator_bounce(const std::string& reason);

  const ReplyClassifier& classifier() const { return *classifier_; }

 private:
  const ReplyClassifier* classifier_;
};

}  // namespace volley::delivery
