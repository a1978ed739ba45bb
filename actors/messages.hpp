#pragma once
// The messages actors exchange: atoms and the types they carry. Everything here stays inside
// one process, so types are allowed as "unsafe" (not serialisable) CAF message types; large
// payloads travel as shared_ptr<const T> so a body is never copied between actors.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "core/delivery/suspensions.hpp"
#include "core/dkim/signature_info.hpp"
#include "core/dns/mx.hpp"
#include "core/dns/records.hpp"
#include "core/tls/inputs.hpp"
#include "core/events/outcome.hpp"
#include "core/spool/records.hpp"

namespace volley {

// ---- atoms (CAF 0.17: at most 10 characters) ----
using put_atom = caf::atom_constant<caf::atom("put")>;
using enqueue_atom = caf::atom_constant<caf::atom("enqueue")>;
using resolve_atom = caf::atom_constant<caf::atom("resolve")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using defer_atom = caf::atom_constant<caf::atom("defer")>;
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using gauge_atom = caf::atom_constant<caf::atom("gauge")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using spool_atom = caf::atom_constant<caf::atom("spool")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using suspend_atom = caf::atom_constant<caf::atom("suspend")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using bounce_atom = caf::atom_constant<caf::atom("bounce")>;
using queues_atom = caf::atom_constant<caf::atom("queues")>;
using control_atom = caf::atom_constant<caf::atom("control")>;
using pace_atom = caf::atom_constant<caf::atom("pace")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;  // delivery: the connection cache's gate
using webhook_atom = caf::atom_constant<caf::atom("webhook")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using suppress_atom = caf::atom_constant<caf::atom("suppress")>;
using txt_atom = caf::atom_constant<caf::atom("txt")>;    // dns: TXT lookup
using tlsa_atom = caf::atom_constant<caf::atom("tlsa")>;  // dns: TLSA lookup (DANE)
using sts_atom = caf::atom_constant<caf::atom("sts")>;    // MTA-STS policy of a domain
using sign_atom = caf::atom_constant<caf::atom("sign")>;  // DKIM signing of injected mail
using tls_atom = caf::atom_constant<caf::atom("tls")>;    // metrics: an outbound TLS result
// Scheduling (issue 16): cancel a held message or campaign; the held counts; a campaign's cancel.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using scheduled_atom = caf::atom_constant<caf::atom("scheduled")>;
using campaign_atom = caf::atom_constant<caf::atom("campaign")>;
// Lifecycle (issue 17): SIGTERM's drain of delivery, SIGHUP's new settings.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;

// ---- injection: API -> spool actor ----
struct InjectOutcome {
  // reused: the idempotency key answered another request (its digest differs): nothing written.
  enum class Kind { committed, replayed, failed, reused } kind = Kind::failed;
  std::string replay_json;  // replayed: the first answer given for this idempotency key
  std::string error;        // failed: why (the API answers 503)
};

// One HTTP request's messages. `done` is called exactly once, from the spool actor's thread,
// after the synced write (or its failure); it must not block (post to the io_context).
struct InjectBatch {
  std::vector<spool::NewMessage> messages;
  std::string idempotency_key;  // "" = none; already scoped to the tenant and endpoint
  std::string response_json;    // stored with the key
  std::string request_digest;   // stored with the key; a repeat with another digest is refused
  std::function<void(InjectOutcome)> done;
};
using InjectBatchPtr = std::shared_ptr<InjectBatch>;

// ---- router -> metrics: what only a look at every queue tells (every 15 s) ----
struct QueueSurvey {
  // Seconds since the oldest queued recipient message of each destination with queued work
  // was received.
  std::vector<std::pair<std::string, std::int64_t>> oldest_age_seconds;
  // Per source, over every destination: open connections, and the highest backoff level of any
  // of its egress paths (0: every path at its configured limits).
  std::map<std::string, std::pair<std::uint64_t, std::uint32_t>> sources;
};

// ---- DKIM signer -> metrics ----
// What one batch's signing did: every signature made, and the time each signed message took.
struct DkimSignStats {
  dkim::SignatureInfos signatures;
  std::vector<double> message_seconds;
};

// ---- spool -> router -> delivery ----
// A message body in SMTP wire form (smtp::to_wire_data), shared read-only by every recipient
// and attempt that sends it.
using BodyPtr = std::shared_ptr<const std::string>;
using LoadedBodies = std::vector<BodyPtr>;  // answer to (load_atom, ids): one per id, null if gone

// What events carry about a message beyond its envelope (core/events/outcome.hpp).
using events::MessageExtras;
using events::MessageExtrasPtr;
// Null when the record has no tags and empty metadata.
MessageExtrasPtr extras_of(const spool::MessageRecord& record);

// A spooled message as delivery sees it: read-only, shared by all its recipients. It keeps only
// what sending and events need (tags, metadata and the Message-ID header stay in the spool
// record): a million queued messages are held in memory, so every field costs.
//
// The body is not part of it. A body is held (BodyPtr) only by work about to be sent or being
// sent; a deferred recipient drops it and it is read back from the spool when the recipient is
// due again, so a million deferred messages cost their records in memory, not their bodies.
// While anyone holds a body, other domains' recipients of the same message find it here
// instead of reading it again.

struct QueuedMessage {
  explicit QueuedMessage(spool::MessageRecord&& record);

  std::string id;
  std::string envelope_from;  // "" = null reverse-path
  std::string tenant;
  std::string campaign;
  std::string pool;  // "" = the default pool
  MessageExtrasPtr extras;
  std::int64_t received_at_ms = 0;
  std::uint64_t message_size = 0;
  bool body_8bit = false;
  bool needs_smtputf8 = false;
  std::int64_t send_at_ms = 0;  // not tried before (0: at once); the router holds it till then
  // Recipients of this message not yet final, across all domains: set by the router, counted
  // down by delivery actors; whoever reaches zero tells the spool to drop the message.
  mutable std::atomic<std::uint32_t> remaining{0};

  BodyPtr body() const { return body_.load(std::memory_order_acquire).lock(); }
  void share_body(const BodyPtr& body) const { body_.store(body, std::memory_order_release); }

 private:
  mutable std::atomic<std::weak_ptr<const std::string>> body_;
};
using QueuedMessagePtr = std::shared_ptr<const QueuedMessage>;

// One recipient of a spooled message, owned by its domain's delivery actor.
struct QueuedRecipient {
  QueuedMessagePtr message;
  spool::RecipientRecord rcpt;
  BodyPtr body;  // null: read from the spool when the recipient is due (after recovery)
};
using RecipientBatch = std::vector<QueuedRecipient>;

// Several spooled messages, one RecipientBatch each: what one group commit (or one slice of
// recovery) hands to the router in a single message. One message per commit rather than per
// spooled message: every message crossing threads can cost a wake-up, and those dominated the
// profile once parsing was fast.
using SpooledMessages = std::vector<RecipientBatch>;

// A recipient that is final: its spool record goes, and the message (with its body) too when it
// was the message's last open recipient.
struct SpoolRelease {
  std::string rcpt_id;
  std::string message_id;
  bool message_finished = false;
  // The final event, kept as the recipient's history: its status after a restart, and what
  // bounces and complaints that come later are matched with.
  std::string history;
  bool spooled = true;  // false: never spooled (suppressed at injection): only history is written
};
using SpoolReleases = std::vector<SpoolRelease>;

// ---- queue control: API -> router -> delivery actors (core/delivery/suspensions.hpp) ----
using delivery::EgressControl;
using delivery::EgressControlPtr;
using delivery::QueueScope;
using delivery::Suspension;

// ---- events: what happened to a recipient message (delivery, injection, feedback) ----
// The event model is core's (core/events/outcome.hpp); actors name it without the namespace.
using events::Outcome;
using events::OutcomeKind;

// A recipient just spooled, for its "received" event (the spool actor sends these per commit).
struct ReceivedNote {
  QueuedMessagePtr message;
  std::string rcpt_id;
  std::string recipient;
  std::string domain;
};
using ReceivedNotes = std::vector<ReceivedNote>;

// ---- DNS ----
// request: (resolve_atom, std::string domain) -> dns::MxResolution (actors/dns_actor.hpp)
// request: (txt_atom, name) -> dns::TxtResolution; (tlsa_atom, host, port) -> dns::TlsaResolution

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::InjectBatchPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::DkimSignStats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::QueueSurvey)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::QueuedMessagePtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::RecipientBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::SpooledMessages)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::SpoolReleases)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::LoadedBodies)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::Outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::ReceivedNotes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::Outcome>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::QueueScope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::Suspension)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::EgressControlPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::dns::MxResolution)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::dns::TxtResolution)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::dns::TlsaResolution)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::tls::StsPolicy)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::spool::RecipientRecord)
