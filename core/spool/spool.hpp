#pragma once
// The on-disk queue: the truth about what Volley still owes. Synchronous and not thread-safe;
// one owner (the spool actor's thread) calls it. The storage layer implements it on RocksDB
// (storage/rocksdb_spool.hpp: storage::open_spool).
//
// Keys: "m/<id>" message record, "p/<id>" where its wire body is (the storage layer keeps
// bodies in segment files; "b/<id>", the body itself, in spools written before that),
// "r/<rcpt id>" recipient record, "i/<idempotency key>" stored 202 answer with its time,
// "h/<rcpt id>" final event (history). A commit returns once its bodies and its records are
// durable; the records are written in one WriteBatch with sync=true (the fsync'd WAL makes them
// durable) while the bodies are synced beside them, and a commit a crash cut short between the
// two is dropped whole at open (the storage layer checks the newest commit's bodies against
// their checksums). Outcomes are written without sync: a lost update only means a recipient is
// tried again, never lost.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/spool/records.hpp"

namespace volley::spool {

// A recipient that is final: its record goes (when it was ever spooled), its final event is kept
// as history (when given), and its message with the body goes when it was the last recipient.
struct Release {
  std::string rcpt_id;
  std::string message_id;
  std::string history;
  bool remove_recipient = true;
  bool remove_message = false;
};

class Spool {
 public:
  virtual ~Spool() = default;

  // Writes every message of the batch (records, body, idempotency entries) in one synced
  // write. All or nothing. false and *error on failure (disk full, I/O error).
  virtual bool commit(const CommitBatch& batch, std::string* error) = 0;

  // Housekeeping of the body storage (the segments' compaction, storage/body_segments.hpp):
  // called by the owner after it has answered a commit's requests, so that it delays none of
  // them. Cheap when there is nothing to do; rate-limited by the storage.
  virtual void compact() = 0;

  // Outcome bookkeeping, not synced (see above).
  virtual void update_recipient(const RecipientRecord& r) = 0;
  virtual void remove_recipient(const std::string& rcpt_id) = 0;
  // Removes the message record and its body (after its last recipient is final).
  virtual void remove_message(const std::string& message_id) = 0;
  // Many releases in one unsynced write: one WAL append for what the events actor gathers every
  // 100 ms, instead of up to three per recipient (which showed as the spool thread's most
  // frequent system call at thousands of messages a second).
  virtual void release(const std::vector<Release>& releases) = 0;

  // A secret made once per spool (32 random bytes, hex) and kept in it: the key of the tags that
  // sign VERP addresses and X-Volley-ID, so a bounce for mail sent before a restart still
  // verifies. "" and *error when it cannot be read or written.
  virtual std::string instance_secret(std::string* error) = 0;

  // Delivery history: the final event of each recipient (delivered, bounced, expired, suppressed),
  // kept after the recipient leaves the queue so that its status outlives a restart and a bounce
  // or complaint arriving days later finds its message, tenant and campaign. Keyed
  // "h/<rcpt id>"; ids begin with their message's time, so expiry is one range delete.
  // Unsynced: a lost entry only makes a later report less precise.
  virtual void put_history(const std::string& rcpt_id, const std::string& entry) = 0;
  virtual std::optional<std::string> find_history(const std::string& rcpt_id) = 0;
  // Every entry of one message, by recipient id (a complaint names the message and an address).
  virtual std::vector<std::pair<std::string, std::string>> message_history(const std::string& message_id) = 0;
  // Deletes the entries of messages received before before_ms.
  virtual void expire_history(std::int64_t before_ms) = 0;

  virtual std::optional<std::string> load_body(const std::string& message_id) = 0;
  // One message's record, if it is still spooled.
  virtual std::optional<MessageRecord> find_message(const std::string& message_id) = 0;
  // One recipient's record, if it is still spooled (for status lookups).
  virtual std::optional<RecipientRecord> find_recipient(const std::string& rcpt_id) = 0;
  // The records of one message's recipients still spooled, in key order (for status lookups).
  virtual std::vector<RecipientRecord> message_recipients(const std::string& message_id) = 0;

  // Recovery: every message record and every recipient record, in key order.
  virtual void for_each_message(const std::function<void(MessageRecord&&)>& fn) = 0;
  virtual void for_each_recipient(const std::function<void(RecipientRecord&&)>& fn) = 0;

  // Idempotency: the stored 202 answer for key if written at or after not_before_ms, and the
  // digest of the request it answered in *request_digest (if given; "" for entries older than
  // digests).
  virtual std::optional<std::string> find_idempotent(const std::string& key, std::int64_t not_before_ms,
                                                     std::string* request_digest = nullptr) = 0;
  // Deletes idempotency entries older than before_ms; returns how many.
  virtual std::size_t expire_idempotency(std::int64_t before_ms) = 0;

  // Where problems nobody can act on in the moment go: a corrupt record skipped during
  // enumeration or lookup, a failed unsynced write. The default writes to stderr; the owner
  // routes them to its log. Called on the caller's thread.
  using Reporter = std::function<void(const std::string& problem)>;
  virtual void set_reporter(Reporter reporter) = 0;
};

}  // namespace volley::spool
