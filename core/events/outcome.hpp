#pragma once
// The event model: what happened to a recipient message, from delivery, injection or a report
// that came back, and the one JSON form of it. That JSON line is what the event log holds, what
// webhooks receive and, for a final event, the recipient's history record in the spool: its
// status after a restart, and what later bounces and complaints are matched with
// (core/feedback/correlate.hpp reads it back).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dkim/signature_info.hpp"
#include "core/smtp/stage.hpp"

namespace volley::events {

// delivered, deferred, bounced (a 5xx in the session), expired: from delivery;
// received, suppressed: from injection; async_bounce, complaint: from reports that came back;
// unsubscribe: a recipient's one-click or mailto unsubscribe (category: "one_click" or "mailto");
// cancelled: a scheduled recipient cancelled before its first attempt (POST .../cancel).
enum class OutcomeKind { delivered, deferred, bounced, expired, received, suppressed, async_bounce, complaint, unsubscribe,
                         cancelled };
const char* to_string(OutcomeKind k);

// Delivery is over for the recipient: its spool records can go.
inline bool is_final(OutcomeKind k) {
  return k == OutcomeKind::delivered || k == OutcomeKind::bounced || k == OutcomeKind::expired ||
         k == OutcomeKind::cancelled;
}
// The recipient's status will not change any more: a final outcome, or a recipient suppressed at
// injection (never spooled, but as final). Its event line becomes its history record.
inline bool ends_status(OutcomeKind k) { return is_final(k) || k == OutcomeKind::suppressed; }

// What events carry about a message beyond its envelope: shared by all its recipients, and
// absent (null) for the many messages that have neither tags, metadata nor DKIM signatures.
struct MessageExtras {
  std::vector<std::string> tags;
  std::string metadata_json = "{}";  // a JSON object
  dkim::SignatureInfos dkim;         // the signatures the message left with
};
using MessageExtrasPtr = std::shared_ptr<const MessageExtras>;

// How the session that delivered was protected (the delivered event's "tls").
struct TlsSummary {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // OpenSSL's name: "TLS_AES_256_GCM_SHA384"
  bool verified = false;  // the certificate verified (against the MX name, or DANE)
  std::string policy;   // what decided: "opportunistic", "required", "mta-sts", "dane", ...
  friend bool operator==(const TlsSummary&, const TlsSummary&) = default;
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::deferred;
  std::string rcpt_id;
  std::string message_id;
  std::string recipient;
  std::string domain;
  std::string tenant;
  std::string campaign;
  std::string mx_host;
  std::string pool;
  std::string source;    // the source address's name ("" before any connection)
  std::string reply;     // SMTP reply summary or local reason
  // bounced/expired: the bounce category; deferred: the kind of temporary failure (greylisted,
  // rate_limited, mailbox_full, other); async_bounce: the bounce category; complaint: the
  // feedback type.
  std::string category;
  std::uint32_t attempt = 0;
  std::int64_t received_at_ms = 0;
  std::int64_t at_ms = 0;
  std::int64_t next_attempt_ms = 0;  // deferred only
  MessageExtrasPtr extras;           // tags and metadata, when the message has any
  // async_bounce and complaint: the report's own fields as a JSON object ("" = none), e.g.
  // {"feedback_type":"abuse","source_ip":"192.0.2.1"} or {"status":"5.1.1","action":"failed"}.
  std::string report_json;
  // Final outcomes only: whether this was the message's last open recipient. The events actor
  // releases the spool records after the event line is written, so a crash between the two
  // repeats a delivery rather than losing its event.
  bool message_finished = false;
  // bounced, deferred: the SMTP command the reply answered (none: not known, or no reply). A
  // bounce at the greeting, EHLO, MAIL or DATA is not about this recipient's address, which is
  // then not suppressed, whatever the category (core/suppression/policy.hpp).
  smtp::Stage smtp_stage = smtp::Stage::none;
  // delivered: the session's TLS; none = clear text ("tls": null).
  std::optional<TlsSummary> tls;
};

// The event as one JSON object on one line (no newline): event, id, message_id, recipient,
// domain, tenant, at, received_at, and when set attempt, campaign, mx_host, pool, source, reply,
// category, smtp_stage, next_attempt_at (deferred only), dkim (delivered only: [] when unsigned),
// tls (delivered only: an object or null) and tags, in the sorted order of
// nlohmann's objects; then metadata (the message's object) and report (the report's object).
// Invalid UTF-8 in a string field is replaced, never refused: an event is always written.
std::string to_json(const Outcome& o);

}  // namespace volley::events
