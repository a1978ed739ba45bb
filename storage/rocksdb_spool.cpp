// The spool on RocksDB (one default column family, key prefixes per record kind).
#include "storage/rocksdb_spool.hpp"

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "core/spool/codec.hpp"
#include "core/spool/spool.hpp"
#include "storage/body_segments.hpp"
#include "storage/bounded_iterator.hpp"
#include "storage/rocksdb_open.hpp"
#include "storage/rocksdb_writer.hpp"
#include "storage/spool_options.hpp"
#include "storage/spool_keys.hpp"
#include "storage/torn_group.hpp"

namespace volley::spool {

namespace {

// in_key_order: commit() and release() put a batch's keys in key order, each prefix's together
// and the ids sorted (ids are time-ordered). RocksDB's memtable places each key starting from
// where the one before it went; a key next to that one is placed without a search from the
// skiplist's top. Keys alternating between prefixes made every insert such a search, about a
// fifth of the spool thread's CPU in the 10 KiB bench's profile.

// Unsynced writes in expire_idempotency() go out in slices of this many deletes.
constexpr std::size_t kExpireBatch = 1000;

class RocksSpool final : public Spool {
 public:
  RocksSpool(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<storage::BodySegments> bodies,
             std::chrono::milliseconds compaction_interval)
      : db_(std::move(db)), writer_(db_.get()), bodies_(std::move(bodies)), compaction_interval_(compaction_interval) {}

  ~RocksSpool() override {
    // The releases' deletes made durable, then the segments they emptied can go.
    if (db_->SyncWAL().ok()) bodies_->retire_emptied();
    auto s = db_->Close();
    if (!s.ok()) report("spool: close: " + s.ToString());
  }

  bool commit(const CommitBatch& batch, std::string* error) override {
    std::vector<std::string_view> bodies;
    bodies.reserve(batch.messages.size());
    for (const NewMessage* nm : batch.messages) {
      if (nm == nullptr || nm->message.id.empty()) return fail(error, "message without an id");
      for (const RecipientRecord& r : nm->recipients) {
        if (r.id.empty() || r.message_id != nm->message.id) {
          return fail(error, "recipient '" + r.id + "' does not belong to message " + nm->message.id);
        }
      }
      bodies.push_back(nm->wire_data);
    }
    // The bodies written and their sync started, the records written with a sync meanwhile, and
    // the group answered once both are durable: the records' checksums make the order safe
    // (storage/body_segments.hpp; a group cut short by a crash is dropped at open).
    std::vector<storage::BodyLocation> at;
    if (!bodies_->start_append(bodies, &at, error)) return false;

    rocksdb::WriteBatch wb;
    for (const auto& a : batch.idempotency) {
      wb.Put(make_key(kIdempotencyPrefix, a.key),
             encode_idempotency(IdempotencyEntry{batch.now_ms, a.response_json, a.request_digest}));
    }
    // In key order (see in_key_order).
    std::vector<std::size_t> order(batch.messages.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return batch.messages[a]->message.id < batch.messages[b]->message.id;
    });
    for (const std::size_t i : order) {
      wb.Put(make_key(kMessagePrefix, batch.messages[i]->message.id), encode_message(batch.messages[i]->message));
    }
    for (const std::size_t i : order) {
      wb.Put(make_key(kBodyLocationPrefix, batch.messages[i]->message.id), storage::encode_location(at[i]));
    }
    for (const std::size_t i : order) {
      for (const RecipientRecord& r : batch.messages[i]->recipients) {
        wb.Put(make_key(kRecipientPrefix, r.id), encode_recipient(r));
      }
    }
    if (wb.Count() == 0) return bodies_->finish_append(error);

    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = writer_.run([&] { return db_->Write(wo, &wb); });
    std::string sync_error;
    const bool synced = bodies_->finish_append(&sync_error);
    if (!s.ok()) return fail(error, "spool: synced write: " + s.ToString());
    if (!synced) {
      // Refused, so its records must not stay: delivered, they would be sent a second time when
      // the client sends the request again.
      unwrite(batch);
      return fail(error, sync_error);
    }
    for (std::size_t i = 0; i < batch.messages.size(); ++i) bodies_->hold(batch.messages[i]->message.id, at[i]);
    // This sync made every earlier unsynced delete durable too.
    bodies_->retire_emptied();
    return true;
  }

  void update_recipient(const RecipientRecord& r) override {
    if (r.id.empty()) return report("spool: update_recipient without an id");
    check(writer_.run([&] { return db_->Put(unsynced(), make_key(kRecipientPrefix, r.id), encode_recipient(r)); }),
          "update_recipient " + r.id);
  }

  void remove_recipient(const std::string& rcpt_id) override {
    check(writer_.run([&] { return db_->Delete(unsynced(), make_key(kRecipientPrefix, rcpt_id)); }),
          "remove_recipient " + rcpt_id);
  }

  void remove_message(const std::string& message_id) override {
    rocksdb::WriteBatch wb;
    std::vector<std::pair<std::string, storage::BodyLocation>> bodies;
    delete_messages(wb, {message_id}, bodies);
    if (check(writer_.run([&] { return db_->Write(unsynced(), &wb); }), "remove_message " + message_id))
      for (const auto& [id, at] : bodies) bodies_->forget(id, at);
  }

  void release(const std::vector<Release>& releases) override {
    if (releases.empty()) return;
    // In key order (see in_key_order): h/, then m/ and p/, then r/, each sorted.
    std::vector<const Release*> sorted;
    sorted.reserve(releases.size());
    for (const auto& r : releases) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](const Release* a, const Release* b) { return a->rcpt_id < b->rcpt_id; });
    rocksdb::WriteBatch wb;
    for (const Release* r : sorted) {
      if (!r->history.empty()) wb.Put(make_key(kHistoryPrefix, r->rcpt_id), r->history);
    }
    std::vector<std::string> removed;  // each message once: a body is forgotten once, or its segment goes early
    for (const Release* r : sorted) {
      if (r->remove_message) removed.push_back(r->message_id);
    }
    std::sort(removed.begin(), removed.end());
    removed.erase(std::unique(removed.begin(), removed.end()), removed.end());
    std::vector<std::pair<std::string, storage::BodyLocation>> bodies;
    delete_messages(wb, removed, bodies);
    for (const Release* r : sorted) {
      if (r->remove_recipient) wb.Delete(make_key(kRecipientPrefix, r->rcpt_id));
    }
    if (check(writer_.run([&] { return db_->Write(unsynced(), &wb); }),
              "release of " + std::to_string(releases.size()) + " recipients"))
      for (const auto& [id, at] : bodies) bodies_->forget(id, at);
  }

  std::string instance_secret(std::string* error) override {
    const std::string key = "k/instance-secret";
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.ok() && value.size() == 64) return value;
    if (!s.ok() && !s.IsNotFound()) return fail(error, "spool: instance secret: " + s.ToString()), std::string();
    std::random_device random;
    static constexpr char kHex[] = "0123456789abcdef";
    value.clear();
    for (int i = 0; i < 16; ++i) {
      const auto word = random();
      for (int b = 0; b < 4; ++b) value += kHex[(word >> (b * 4)) & 0xf];
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = writer_.run([&] { return db_->Put(wo, key, value); });
    if (!s.ok()) return fail(error, "spool: instance secret: " + s.ToString()), std::string();
    return value;
  }

  void put_history(const std::string& rcpt_id, const std::string& entry) override {
    check(writer_.run([&] { return db_->Put(unsynced(), make_key(kHistoryPrefix, rcpt_id), entry); }),
          "put_history " + rcpt_id);
  }

  std::optional<std::string> find_history(const std::string& rcpt_id) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), make_key(kHistoryPrefix, rcpt_id), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      report("spool: find_history " + rcpt_id + ": " + s.ToString());
      return std::nullopt;
    }
    return value;
  }

  std::vector<std::pair<std::string, std::string>> message_history(const std::string& message_id) override {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string prefix = make_key(kHistoryPrefix, message_id + "-");
    scan(prefix, [&](std::string_view key, std::string_view value) {
      out.emplace_back(std::string(key.substr(kHistoryPrefix.size())), std::string(value));
    });
    return out;
  }

  void expire_history(std::int64_t before_ms) override {
    // A message id starts with its time in milliseconds as 12 hex digits (core/util/ids).
    char end[13];
    std::snprintf(end, sizeof end, "%012llx",
                  static_cast<unsigned long long>(std::max<std::int64_t>(before_ms, 0)) & 0xffffffffffffull);
    check(writer_.run([&] {
            return db_->DeleteRange(unsynced(), db_->DefaultColumnFamily(), std::string(kHistoryPrefix),
                                    make_key(kHistoryPrefix, end));
          }),
          "expire_history");
  }

  std::optional<std::string> load_body(const std::string& message_id) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), make_key(kBodyLocationPrefix, message_id), &value);
    if (s.ok()) {
      const auto at = storage::decode_location(value);
      if (!at) {
        report("spool: corrupt record p/" + message_id);
        return std::nullopt;
      }
      std::string why;
      auto body = bodies_->read(*at, &why);
      if (!body) report("spool: load_body " + message_id + ": " + why);
      return body;
    }
    if (!s.IsNotFound()) {
      report("spool: load_body " + message_id + ": " + s.ToString());
      return std::nullopt;
    }
    if (!legacy_bodies_) return std::nullopt;
    std::string body;
    s = db_->Get(rocksdb::ReadOptions(), make_key(kBodyPrefix, message_id), &body);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      report("spool: load_body " + message_id + ": " + s.ToString());
      return std::nullopt;
    }
    return body;
  }

  std::optional<MessageRecord> find_message(const std::string& message_id) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), make_key(kMessagePrefix, message_id), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      report("spool: find_message " + message_id + ": " + s.ToString());
      return std::nullopt;
    }
    std::string why;
    auto m = decode_message(value, &why);
    if (!m) report("spool: corrupt record m/" + message_id + ": " + why);
    return m;
  }

  std::optional<RecipientRecord> find_recipient(const std::string& rcpt_id) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), make_key(kRecipientPrefix, rcpt_id), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      report("spool: find_recipient " + rcpt_id + ": " + s.ToString());
      return std::nullopt;
    }
    std::string why;
    auto r = decode_recipient(value, &why);
    if (!r) report("spool: corrupt record r/" + rcpt_id + ": " + why);
    return r;
  }

  std::vector<RecipientRecord> message_recipients(const std::string& message_id) override {
    std::vector<RecipientRecord> out;
    recipients_under(make_key(kRecipientPrefix, message_id + "-"),
                     [&](RecipientRecord&& r) { out.push_back(std::move(r)); });
    return out;
  }

  void for_each_message(const std::function<void(MessageRecord&&)>& fn) override {
    scan(kMessagePrefix, [&](std::string_view key, std::string_view value) {
      std::string why;
      if (auto m = decode_message(value, &why)) {
        fn(std::move(*m));
      } else {
        report("spool: skipping corrupt record " + std::string(key) + ": " + why);
      }
    });
  }

  void for_each_recipient(const std::function<void(RecipientRecord&&)>& fn) override {
    recipients_under(kRecipientPrefix, fn);
  }

  std::optional<std::string> find_idempotent(const std::string& key, std::int64_t not_before_ms,
                                             std::string* request_digest) override {
    std::string value;
    const std::string k = make_key(kIdempotencyPrefix, key);
    auto s = db_->Get(rocksdb::ReadOptions(), k, &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      report("spool: find_idempotent: " + s.ToString());
      return std::nullopt;
    }
    std::string why;
    auto e = decode_idempotency(value, &why);
    if (!e) {
      report("spool: ignoring corrupt record " + k + ": " + why);
      return std::nullopt;
    }
    if (e->at_ms < not_before_ms) return std::nullopt;
    if (request_digest) *request_digest = std::move(e->request_digest);
    return std::move(e->response_json);
  }

  std::size_t expire_idempotency(std::int64_t before_ms) override {
    std::size_t removed = 0;
    rocksdb::WriteBatch wb;
    auto flush = [&] {
      if (wb.Count() == 0) return;
      check(writer_.run([&] { return db_->Write(unsynced(), &wb); }), "expire_idempotency");
      wb.Clear();
    };
    scan(kIdempotencyPrefix, [&](std::string_view key, std::string_view value) {
      std::string why;
      auto e = decode_idempotency(value, &why);
      if (!e) report("spool: deleting corrupt record " + std::string(key) + ": " + why);
      if (e && e->at_ms >= before_ms) return;
      wb.Delete(rocksdb::Slice(key.data(), key.size()));
      ++removed;
      if (wb.Count() >= kExpireBatch) flush();
    });
    flush();
    return removed;
  }

  // At open: every body a record names, so that the segments know what they hold; then the
  // segments nothing names go. A scan that fails stops the open (start() would remove segments
  // whose records it did not see).
  // The newest group commit is checked first: a crash may have cut its syncs short
  // (storage/torn_group.hpp).
  bool start_bodies(std::string* error) {
    storage::NewestGroup newest;
    const bool read = scan(kBodyLocationPrefix, [&](std::string_view key, std::string_view value) {
      if (auto at = storage::decode_location(value)) {
        const std::string_view id = key.substr(kBodyLocationPrefix.size());
        bodies_->hold(std::string(id), *at);
        newest.see(id, *at);
      }
    });
    if (!read) return fail(error, "spool: the scan of body locations failed");
    const auto checked = newest.check(*bodies_);
    if (!checked.synced) return fail(error, "spool: the newest group's bodies: " + checked.error);
    if (!checked.torn.empty()) {
      const auto& torn = checked.torn;
      auto s = storage::drop_messages(*db_, torn);
      if (!s.ok()) return fail(error, "spool: dropping the group a crash cut short: " + s.ToString());
      for (const auto& [id, at] : newest.members()) bodies_->forget(id, at);
      report("spool: recovery: the last group commit before the crash was cut short (" + checked.error + "): its " +
             (torn.size() == 1 ? "message, never acknowledged, is dropped (" + torn.front() + ")"
                               : std::to_string(torn.size()) + " messages, never acknowledged, are dropped (first " +
                                     torn.front() + ", last " + torn.back() + ")"));
    } else if (!checked.error.empty()) {
      report("spool: recovery: the newest group's bodies could not all be checked; kept (" + checked.error + ")");
    }
    // The records RocksDB replayed from its log at open may have been read from the page cache
    // too, like the bodies synced above.
    if (auto s = db_->SyncWAL(); !s.ok() && !s.IsNotSupported())
      return fail(error, "spool: sync of the replayed log: " + s.ToString());
    legacy_bodies_ = any_under(kBodyPrefix);
    return bodies_->start(error);
  }

  void set_reporter(Reporter reporter) override { reporter_ = std::move(reporter); }

 private:
  static rocksdb::WriteOptions unsynced() {
    rocksdb::WriteOptions wo;
    wo.sync = false;
    return wo;
  }

  // Visits every key with prefix, in key order. The upper bound stops the iterator at the
  // prefix's end instead of letting it skip tombstones beyond it.
  template <class Fn>
  bool scan(std::string_view prefix, Fn&& visit) {
    const auto s = storage::scan_prefix(*db_, prefix, std::forward<Fn>(visit));
    if (s.ok()) return true;
    report("spool: scan of " + std::string(prefix) + ": " + s.ToString());
    return false;
  }

  // True when a key starts with prefix (one seek; true when the seek fails, to be safe).
  bool any_under(std::string_view prefix) {
    storage::BoundedIterator it(*db_, storage::prefix_successor(prefix));
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
    return it->Valid() || !it->status().ok();
  }

  // Every well-formed recipient record whose key starts with prefix; corrupt ones are reported.
  template <class Fn>
  void recipients_under(std::string_view prefix, Fn&& fn) {
    scan(prefix, [&](std::string_view key, std::string_view value) {
      std::string why;
      if (auto r = decode_recipient(value, &why)) {
        fn(std::move(*r));
      } else {
        report("spool: skipping corrupt record " + std::string(key) + ": " + why);
      }
    });
  }

  // A group whose bodies' sync failed after its records were written: the records go again, in a
  // synced write. If that fails too, the records stay, naming bytes no other group is written
  // over (finish_append): the refused messages may still be sent, from the page cache, or fail
  // to load after a power cut; no answered message is touched.
  void unwrite(const CommitBatch& batch) {
    rocksdb::WriteBatch wb;
    for (const auto& a : batch.idempotency) wb.Delete(make_key(kIdempotencyPrefix, a.key));
    for (const NewMessage* nm : batch.messages) {
      wb.Delete(make_key(kMessagePrefix, nm->message.id));
      wb.Delete(make_key(kBodyLocationPrefix, nm->message.id));
      for (const RecipientRecord& r : nm->recipients) wb.Delete(make_key(kRecipientPrefix, r.id));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    check(writer_.run([&] { return db_->Write(wo, &wb); }), "removing the records of a group whose bodies' sync failed");
  }

  // Deletes the messages' records and bodies (a segment's or, from older spools, their own), in
  // key order (in_key_order: the ids sorted, each prefix's keys together); each body's location
  // goes to *bodies, for forget() once the delete is written.
  void delete_messages(rocksdb::WriteBatch& wb, const std::vector<std::string>& sorted_ids,
                       std::vector<std::pair<std::string, storage::BodyLocation>>& bodies) {
    if (legacy_bodies_) {
      for (const auto& id : sorted_ids) wb.Delete(make_key(kBodyPrefix, id));
    }
    for (const auto& id : sorted_ids) wb.Delete(make_key(kMessagePrefix, id));
    std::string value;
    for (const auto& id : sorted_ids) {
      const std::string location_key = make_key(kBodyLocationPrefix, id);
      if (db_->Get(rocksdb::ReadOptions(), location_key, &value).ok()) {
        if (auto at = storage::decode_location(value)) bodies.emplace_back(id, *at);
      }
      wb.Delete(location_key);
    }
  }

  // Compaction of segments kept by a few long-lived bodies (a deferred message keeps its segment
  // for as long as it is retried): at most once per compaction interval, the live bodies of up to
  // four sealed segments that are over three quarters garbage, up to 8 MiB of them, are appended
  // to the active segment and their records rewritten in one synced write; the old segments are
  // then empty and go. The new bytes are durable before the records name them (append() waits for
  // the sync; a commit instead writes its records beside it).
  void compact() override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_compaction_ < compaction_interval_) return;
    last_compaction_ = now;
    constexpr std::uint64_t kMaxBytes = 8u << 20;
    std::vector<std::pair<std::string, storage::BodyLocation>> moving;  // id, old place
    std::vector<std::string> bodies;
    std::uint64_t bytes = 0;
    for (const auto& [segment, ids] : bodies_->sparse(4)) {
      for (const auto& id : ids) {
        std::string value;
        if (!db_->Get(rocksdb::ReadOptions(), make_key(kBodyLocationPrefix, id), &value).ok()) continue;
        const auto at = storage::decode_location(value);
        if (!at || at->segment != segment) continue;
        std::string why;
        auto body = bodies_->read(*at, &why);
        if (!body) {
          report("spool: compaction: " + id + ": " + why);
          continue;
        }
        bytes += body->size();
        moving.emplace_back(id, *at);
        bodies.push_back(std::move(*body));
      }
      if (bytes >= kMaxBytes) break;
    }
    if (moving.empty()) return;
    std::vector<std::string_view> views(bodies.begin(), bodies.end());
    std::vector<storage::BodyLocation> to;
    std::string error;
    if (!bodies_->append(views, &to, &error)) return report("spool: compaction: " + error);
    rocksdb::WriteBatch wb;
    for (std::size_t i = 0; i < moving.size(); ++i)
      wb.Put(make_key(kBodyLocationPrefix, moving[i].first), storage::encode_location(to[i]));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!check(writer_.run([&] { return db_->Write(wo, &wb); }), "compaction")) return;
    for (std::size_t i = 0; i < moving.size(); ++i) {
      bodies_->forget(moving[i].first, moving[i].second);
      bodies_->hold(moving[i].first, to[i]);
    }
    bodies_->retire_emptied();
  }

  // A database stopped by a full disk fails every write until it resumes: the first failure is
  // reported, the others counted and reported when writes work again, so a full disk does not
  // also flood the log (often on the same disk) with a line per deferred recipient.
  bool check(const rocksdb::Status& s, const std::string& what) {
    if (s.ok()) {
      if (failed_writes_ > 1)
        report("spool: writes work again (" + std::to_string(failed_writes_ - 1) + " more failed meanwhile)");
      failed_writes_ = 0;
      return true;
    }
    if (failed_writes_++ == 0) report("spool: " + what + ": " + s.ToString());
    return false;
  }

  bool fail(std::string* error, std::string why) {
    if (error) *error = std::move(why);
    return false;
  }

  void report(const std::string& problem) {
    if (reporter_) {
      reporter_(problem);
    } else {
      std::fprintf(stderr, "%s\n", problem.c_str());
    }
  }

  std::unique_ptr<rocksdb::DB> db_;
  storage::Writer writer_;
  std::unique_ptr<storage::BodySegments> bodies_;
  std::chrono::milliseconds compaction_interval_;
  // Whether the spool holds bodies written before segments (b/ keys, by versions before
  // 2f5395d): only then does releasing a message delete its b/ key. New spools never write one,
  // and a tombstone for a key that was never there still costs a memtable insert a message.
  bool legacy_bodies_ = true;
  std::chrono::steady_clock::time_point last_compaction_{};
  Reporter reporter_;
  std::size_t failed_writes_ = 0;  // unsynced writes failed in a row (see check())
};

}  // namespace

}  // namespace volley::spool

namespace volley::storage {

std::unique_ptr<spool::Spool> open_spool(const std::string& path, std::string* error, SpoolTuning tuning,
                                         spool::Spool::Reporter reporter) {
  auto db = open_db(path, spool_options(), "spool", error);
  if (!db) return nullptr;
  auto bodies = BodySegments::open(path + "/bodies", error, tuning.segment_bytes);
  if (!bodies) return nullptr;
  auto spool = std::make_unique<spool::RocksSpool>(std::move(db), std::move(bodies), tuning.compaction_interval);
  if (reporter) spool->set_reporter(std::move(reporter));
  if (!spool->start_bodies(error)) return nullptr;
  return spool;
}

}  // namespace volley::storage
