#pragma once
// What the spool holds. A message is stored once (envelope, metadata and body) and shared by
// all of its recipients; each recipient has its own small record with its own delivery state,
// so a recipient's outcome never rewrites the body.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dkim/signature_info.hpp"

namespace volley::spool {

struct MessageRecord {
  std::string id;              // message id (also the prefix of its recipient ids)
  std::string envelope_from;   // "" = null reverse-path
  std::string tenant = "default";
  std::string campaign;
  std::vector<std::string> tags;
  std::string metadata_json = "{}";
  std::string message_id_header;  // Message-ID value, with <>
  std::int64_t received_at_ms = 0;
  std::uint64_t message_size = 0;  // bytes of the RFC 5322 message (for SIZE=)
  bool body_8bit = false;
  bool needs_smtputf8 = false;
  std::uint32_t recipient_count = 0;
  std::string pool;  // IP pool chosen at injection; "" = the default pool at delivery time
  dkim::SignatureInfos dkim;  // the DKIM signatures in front of the stored body (none: unsigned)
  std::int64_t send_at_ms = 0;  // "send_at": not tried before this (0: at once; core/schedule)

  bool operator==(const MessageRecord&) const = default;
};

enum class RecipientState : std::uint8_t { queued = 0, deferred = 1 };

struct RecipientRecord {
  std::string id;          // recipient message id, unique: "<message id>-<index>"
  std::string message_id;  // MessageRecord::id
  std::string recipient;   // addr-spec
  std::string domain;      // lower-cased routing domain
  RecipientState state = RecipientState::queued;
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;  // 0 = as soon as possible
  std::string last_reply;            // summary of the last reply, "" before the first attempt

  bool operator==(const RecipientRecord&) const = default;
};

// A recipient's id is its message's id, "-", and its index in the message: "<message id>-<index>".
std::string recipient_id(std::string_view message_id, std::uint32_t index);
// The index in r.id, or nullopt when r.id is not r.message_id + "-" + a decimal index.
std::optional<std::uint32_t> recipient_index(const RecipientRecord& r);

// One injected message as the API hands it to the spool: written in one synced batch.
struct NewMessage {
  MessageRecord message;
  std::vector<RecipientRecord> recipients;
  std::string wire_data;  // smtp::to_wire_data() of the message (stuffed, CRLF.CRLF)
};

// An idempotency key with the 202 answer to repeat and a digest of the request it answered (a
// repeat with another request is refused rather than answered).
struct IdempotentAnswer {
  std::string key;
  std::string response_json;
  std::string request_digest = {};  // (a default, so {key, answer} still initialises one)
};

// What one synced write holds: the messages of many concurrent requests (group commit) and the
// idempotency keys of those requests with the 202 answers to repeat.
struct CommitBatch {
  std::vector<const NewMessage*> messages;
  std::vector<IdempotentAnswer> idempotency;
  std::int64_t now_ms = 0;  // stored with each key
};

}  // namespace volley::spool
