#include "actors/spool_actor.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/recipient_status.hpp"
#include "core/util/ascii.hpp"
#include "core/util/ids.hpp"
#include "core/util/address_domain.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

// Caps of one group commit. 512 messages is past the knee of the measured fsync curve
// (batch 256 ≈ 47k msg/s); 8 MiB bounds the latency one write adds for the requests in it.
constexpr std::size_t kMaxBatchMessages = 512;
constexpr std::size_t kMaxBatchBytes = 8u << 20;

// Recovery hands messages to the router in slices of this many, so delivery starts while the
// rest of the spool is still being read.
constexpr std::size_t kRecoverySlice = 1000;

constexpr std::int64_t kIdempotencyWindowMs = 24 * 3600 * 1000;
// Keys older than the window are invisible to lookups anyway; deleting them is housekeeping.
constexpr std::int64_t kExpiryIntervalMs = 3600 * 1000;

struct SpoolActorInit {
  std::unique_ptr<spool::Spool> spool;
  caf::actor router;
  metrics_actor metrics;
  events_actor events;
  std::int64_t history_retention_ms = 0;
};



class SpoolWriter {
 public:
  SpoolWriter(caf::blocking_actor* self, SpoolActorInit init)
      : self_(self),
        spool_(std::move(init.spool)),
        router_(std::move(init.router)),
        metrics_(std::move(init.metrics)),
        events_(std::move(init.events)),
        history_retention_ms_(init.history_retention_ms) {
    spool_->set_reporter([](const std::string& problem) { spdlog::warn("{}", problem); });
  }

  void run() {
    // The same handlers serve the blocking wait for work and the non-blocking drain.
    auto on_put = [this](put_atom, InjectBatchPtr& batch) { gather(std::move(batch)); };
    auto on_done = [this](done_atom, SpoolReleases& releases) {
      std::vector<spool::Release> ops;
      ops.reserve(releases.size());
      for (auto& r : releases)
        ops.push_back(spool::Release{std::move(r.rcpt_id), std::move(r.message_id), std::move(r.history), r.spooled,
                                     r.message_finished});
      spool_->release(ops);
      spool_->compact();  // when traffic stops, releases alone empty the segments
    };
    // A report may come back before the delivered event has been released into the history
    // (the events actor writes every 100 ms): then the records still in the queue answer.
    auto on_history = [this](history_atom, const std::string& rcpt_id) -> std::string {
      if (auto entry = spool_->find_history(rcpt_id)) return delivered(*entry) ? *entry : std::string();
      auto r = spool_->find_recipient(rcpt_id);
      return r ? live_entry(r->message_id, r->id, r->recipient) : std::string();
    };
    // A report that names the message and the address, not the recipient message: only an
    // address the message was delivered to matches (a report cannot name another one).
    auto on_history_of = [this](history_atom, const std::string& message_id, const std::string& recipient) {
      for (auto& [id, entry] : spool_->message_history(message_id)) {
        const auto j = nlohmann::json::parse(entry, nullptr, false);
        if (delivered(j) && util::ascii_iequals(j.value("recipient", ""), recipient)) return entry;
      }
      return std::string();
    };
    auto on_defer = [this](defer_atom, const spool::RecipientRecord& r) {
      spool_->update_recipient(r);
    };
    auto on_recover = [this](recover_atom) -> std::size_t { return recover(); };
    auto on_load = [this](load_atom, const std::vector<std::string>& ids) -> LoadedBodies {
      LoadedBodies out;
      out.reserve(ids.size());
      for (const auto& id : ids) {
        auto body = spool_->load_body(id);
        out.push_back(body ? std::make_shared<const std::string>(std::move(*body)) : nullptr);
      }
      return out;
    };
    auto on_status = [this](status_atom, const std::string& id) -> RecipientStatuses { return statuses(id); };
    auto on_stop = [this](stop_atom) { running_ = false; };
    // Anything else is dropped with an error to its sender, so it never lingers in the mailbox
    // (a blocking actor's default is to leave unmatched messages there).
    auto on_other = caf::others >> [](caf::message_view& x) -> caf::result<caf::message> {
      spdlog::warn("spool: unexpected message{}", util::log_fields("types", to_string(x.content())));
      return caf::sec::unexpected_message;
    };

    while (running_) {
      self_->receive(on_put, on_done, on_defer, on_recover, on_load, on_status, on_history, on_history_of, on_stop,
                     on_other);
      if (gathered_.empty() && duplicates_.empty()) continue;
      bool idle = false;
      while (!idle && running_ && gathered_messages_ < kMaxBatchMessages &&
             gathered_bytes_ < kMaxBatchBytes) {
        self_->receive(
            on_put, on_done, on_defer, on_recover, on_load, on_status, on_history, on_history_of, on_stop, on_other,
            caf::after(std::chrono::seconds(0)) >> [&] { idle = true; });
      }
      write_gathered();
    }
    fail_waiting_puts();
  }

 private:
  void gather(InjectBatchPtr batch) {
    if (!batch) return;
    const std::string& key = batch->idempotency_key;
    if (!key.empty()) {
      if (keys_in_write_.count(key) != 0) {
        // Same key as a request in this very write: it gets that request's answer (or is refused
        // when it is another request), once the write has succeeded.
        duplicates_.push_back(std::move(batch));
        return;
      }
      std::string digest;
      if (auto stored = spool_->find_idempotent(key, now_unix_ms() - kIdempotencyWindowMs, &digest)) {
        answer(*batch, repeat_of(*batch, std::move(*stored), digest));
        return;
      }
      keys_in_write_.emplace(key, StoredAnswer{batch->response_json, batch->request_digest});
    }
    gathered_messages_ += batch->messages.size();
    for (const auto& m : batch->messages) gathered_bytes_ += m.wire_data.size();
    gathered_.push_back(std::move(batch));
  }

  void write_gathered() {
    spool::CommitBatch commit;
    commit.now_ms = now_unix_ms();
    for (const auto& batch : gathered_) {
      for (const auto& m : batch->messages) commit.messages.push_back(&m);
      if (!batch->idempotency_key.empty()) {
        commit.idempotency.push_back({batch->idempotency_key, batch->response_json, batch->request_digest});
      }
    }

    std::string error;
    bool ok = true;
    if (!gathered_.empty()) {
      const auto started = std::chrono::steady_clock::now();
      ok = spool_->commit(commit, &error);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      if (ok && metrics_) {
        std::size_t recipients = 0;
        for (const auto* m : commit.messages) recipients += m->recipients.size();
        caf::anon_send(metrics_, commit_atom::value, took.count(), commit.messages.size(), recipients);
      }
      if (!ok) {
        spdlog::error("spool: group commit failed; its messages are refused{}",
                      util::log_fields("messages", commit.messages.size(), "error", error));
      }
    }

    for (const auto& batch : gathered_) {
      answer(*batch, ok ? InjectOutcome{InjectOutcome::Kind::committed, {}, {}}
                        : InjectOutcome{InjectOutcome::Kind::failed, {}, error});
    }
    for (const auto& dup : duplicates_) {
      const StoredAnswer& first = keys_in_write_.at(dup->idempotency_key);
      answer(*dup, ok ? repeat_of(*dup, first.response_json, first.request_digest)
                      : InjectOutcome{InjectOutcome::Kind::failed, {}, error});
    }
    if (ok) {
      SpooledMessages spooled;
      spooled.reserve(commit.messages.size());
      for (const auto& batch : gathered_) {
        for (auto& m : batch->messages) add_route(spooled, std::move(m));
      }
      if (events_) send_received(spooled);
      send_to_router(std::move(spooled));
      spool_->compact();
    }

    gathered_.clear();
    duplicates_.clear();
    keys_in_write_.clear();
    gathered_messages_ = 0;
    gathered_bytes_ = 0;
    if (commit.now_ms - last_expiry_ms_ >= kExpiryIntervalMs) expire(commit.now_ms);
  }

  // Adds a spooled message to what goes to the router: one body, shared by all its recipients.
  void add_route(SpooledMessages& out, spool::NewMessage&& m) {
    auto queued = std::make_shared<QueuedMessage>(std::move(m.message));
    auto body = std::make_shared<const std::string>(std::move(m.wire_data));
    queued->share_body(body);
    add_route(out, std::move(queued), std::move(m.recipients), body);
  }

  // body may be null: delivery reads it back (load_atom) when a recipient is due.
  std::size_t add_route(SpooledMessages& out, QueuedMessagePtr message,
                        std::vector<spool::RecipientRecord>&& rcpts, const BodyPtr& body) {
    if (rcpts.empty()) return 0;
    RecipientBatch batch;
    batch.reserve(rcpts.size());
    for (auto& r : rcpts) batch.push_back(QueuedRecipient{message, std::move(r), body});
    out.push_back(std::move(batch));
    return rcpts.size();
  }

  // A request whose key has an answer already: that answer again if it is the same request,
  // refused if it is another (digests of entries from before digests are "": taken as the same).
  static InjectOutcome repeat_of(const InjectBatch& batch, std::string response_json, const std::string& digest) {
    if (!digest.empty() && digest != batch.request_digest) return {InjectOutcome::Kind::reused, {}, {}};
    return {InjectOutcome::Kind::replayed, std::move(response_json), {}};
  }

  // Feedback ties reports to mail that was delivered: the other final events the history keeps
  // (bounced, expired, suppressed) match no report. Entries are event lines; a line without an
  // "event" is not one Volley wrote and matches nothing either.
  static bool delivered(const nlohmann::json& entry) {
    const auto event = entry.is_object() ? entry.find("event") : entry.end();
    return event != entry.end() && *event == "delivered";
  }
  static bool delivered(const std::string& entry) { return delivered(nlohmann::json::parse(entry, nullptr, false)); }

  // GET /api/v1/messages/{id}: a recipient's status, or every recipient's of a message. A final
  // status is in the history; an open one is the recipient's record, with its message's tenant.
  RecipientStatuses statuses(const std::string& id) {
    RecipientStatuses finals;
    RecipientStatuses open;
    if (names_recipient(id)) {
      if (auto entry = spool_->find_history(id)) {
        if (auto s = RecipientStatus::from_final_event(*entry)) finals.push_back(std::move(*s));
      } else if (auto r = spool_->find_recipient(id)) {
        const auto m = owner_of(r->message_id);
        open.push_back(RecipientStatus::from_record(*r, m.tenant, m.send_at_ms, now_unix_ms()));
      }
    } else {
      for (const auto& [rcpt_id, entry] : spool_->message_history(id)) {
        if (auto s = RecipientStatus::from_final_event(entry)) finals.push_back(std::move(*s));
      }
      auto records = spool_->message_recipients(id);
      const Owner m = records.empty() ? Owner{} : owner_of(id);
      const std::int64_t now = now_unix_ms();
      for (const auto& r : records) open.push_back(RecipientStatus::from_record(r, m.tenant, m.send_at_ms, now));
    }
    return merge_statuses(std::move(finals), std::move(open));
  }

  // What a recipient's status needs of its message record: the tenant ("" when the record is
  // gone: its recipients are then shown to admin keys only) and send_at.
  struct Owner {
    std::string tenant;
    std::int64_t send_at_ms = 0;
  };
  Owner owner_of(const std::string& message_id) {
    auto m = spool_->find_message(message_id);
    return m ? Owner{std::move(m->tenant), m->send_at_ms} : Owner{};
  }

  // A history entry made from a message still spooled ("" when it is not).
  std::string live_entry(const std::string& message_id, const std::string& rcpt_id, const std::string& recipient) {
    // Called with a recipient record's own id and address, never with an address from a report.
    auto m = spool_->find_message(message_id);
    if (!m) return {};
    nlohmann::json j{{"id", rcpt_id},
                     {"message_id", m->id},
                     {"recipient", recipient},
                     {"domain", util::domain_of(recipient)},
                     {"tenant", m->tenant},
                     {"received_at", m->received_at_ms}};
    if (!m->campaign.empty()) j["campaign"] = m->campaign;
    if (!m->pool.empty()) j["pool"] = m->pool;
    if (!m->tags.empty()) j["tags"] = m->tags;
    auto metadata = nlohmann::json::parse(m->metadata_json, nullptr, false);
    if (metadata.is_object() && !metadata.empty()) j["metadata"] = std::move(metadata);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  // "received" events: recipients written by this commit (not those re-read at recovery).
  void send_received(const SpooledMessages& spooled) {
    ReceivedNotes notes;
    for (const auto& batch : spooled) {
      for (const auto& q : batch) notes.push_back(ReceivedNote{q.message, q.rcpt.id, q.rcpt.recipient, q.rcpt.domain});
    }
    if (!notes.empty()) caf::anon_send(events_, outcome_atom::value, std::move(notes));
  }

  void send_to_router(SpooledMessages&& spooled) {
    if (!spooled.empty() && router_) caf::anon_send(router_, enqueue_atom::value, std::move(spooled));
  }

  void answer(InjectBatch& batch, InjectOutcome outcome) {
    if (!batch.done) return;
    // A throwing callback is the API's bug; it must not take the spool down with it.
    try {
      batch.done(std::move(outcome));
    } catch (const std::exception& e) {
      spdlog::error("spool: done callback threw{}", util::log_fields("error", e.what()));
    } catch (...) {
      spdlog::error("spool: done callback threw");
    }
  }

  std::size_t recover() {
    const std::int64_t now = now_unix_ms();
    const std::size_t expired = expire(now);

    // Recipients first, ordered by message id (key order already is, for Volley's ids), then
    // the messages streamed past them: one message record in memory at a time, no index.
    std::vector<spool::RecipientRecord> rcpts;
    spool_->for_each_recipient([&](spool::RecipientRecord&& r) { rcpts.push_back(std::move(r)); });
    auto by_message = [](const spool::RecipientRecord& a, const spool::RecipientRecord& b) {
      return a.message_id < b.message_id;
    };
    if (!std::is_sorted(rcpts.begin(), rcpts.end(), by_message))
      std::stable_sort(rcpts.begin(), rcpts.end(), by_message);

    SpooledMessages spooled;
    std::size_t recovered = 0;
    std::size_t requeued_messages = 0;
    std::size_t orphans = 0;
    std::size_t stranded = 0;
    std::size_t next = 0;  // first recipient not yet matched to a message
    auto strand_until = [&](const std::string* message_id) {
      while (next < rcpts.size() && (!message_id || rcpts[next].message_id < *message_id)) {
        std::size_t end = next;
        while (end < rcpts.size() && rcpts[end].message_id == rcpts[next].message_id) ++end;
        spdlog::error("spool: recovery: recipients without a message record are stranded{}",
                      util::log_fields("message_id", rcpts[next].message_id, "recipients", end - next));
        stranded += end - next;
        next = end;
      }
    };
    spool_->for_each_message([&](spool::MessageRecord&& m) {
      strand_until(&m.id);
      std::vector<spool::RecipientRecord> mine;
      while (next < rcpts.size() && rcpts[next].message_id == m.id) mine.push_back(std::move(rcpts[next++]));
      if (mine.empty()) {
        // Every recipient was final but the crash came before the message was deleted.
        spool_->remove_message(m.id);
        ++orphans;
        return;
      }
      // Bodies stay on disk: delivery reads each one when its recipients are due.
      auto queued = std::make_shared<QueuedMessage>(std::move(m));
      recovered += add_route(spooled, std::move(queued), std::move(mine), nullptr);
      ++requeued_messages;
      if (spooled.size() >= kRecoverySlice) send_to_router(std::exchange(spooled, {}));
    });
    strand_until(nullptr);
    send_to_router(std::move(spooled));
    rcpts = {};
    spdlog::info("spool: recovery done{}",
                 util::log_fields("requeued_recipients", recovered, "requeued_messages", requeued_messages,
                                  "orphans_deleted", orphans, "stranded_recipients", stranded,
                                  "idempotency_keys_expired", expired));
    return recovered;
  }

  std::size_t expire(std::int64_t now) {
    last_expiry_ms_ = now;
    if (history_retention_ms_ > 0) spool_->expire_history(now - history_retention_ms_);
    return spool_->expire_idempotency(now - kIdempotencyWindowMs);
  }

  // Puts that arrived after stop: answer them rather than leave their requests hanging.
  void fail_waiting_puts() {
    bool idle = false;
    while (!idle) {
      self_->receive(
          [this](put_atom, InjectBatchPtr& batch) {
            if (batch) answer(*batch, {InjectOutcome::Kind::failed, {}, "spool is shutting down"});
          },
          caf::others >> [](caf::message_view&) -> caf::result<caf::message> {
            return caf::sec::request_receiver_down;
          },
          caf::after(std::chrono::seconds(0)) >> [&] { idle = true; });
    }
  }

  caf::blocking_actor* self_;
  std::unique_ptr<spool::Spool> spool_;
  caf::actor router_;
  metrics_actor metrics_;
  events_actor events_;
  std::int64_t history_retention_ms_ = 0;
  bool running_ = true;
  std::int64_t last_expiry_ms_ = 0;

  // The write being gathered.
  std::vector<InjectBatchPtr> gathered_;
  std::vector<InjectBatchPtr> duplicates_;                      // answered after the write
  struct StoredAnswer {
    std::string response_json;
    std::string request_digest;
  };
  std::unordered_map<std::string, StoredAnswer> keys_in_write_;  // key -> its first request's
  std::size_t gathered_messages_ = 0;
  std::size_t gathered_bytes_ = 0;
};

void run_spool_actor(caf::blocking_actor* self, std::shared_ptr<SpoolActorInit> init) {
  SpoolWriter writer(self, std::move(*init));
  writer.run();
}

}  // namespace

spool_actor spawn_spool_actor(caf::actor_system& system, std::unique_ptr<spool::Spool> spool,
                              caf::actor router, metrics_actor metrics, events_actor events,
                              std::chrono::milliseconds history_retention) {
  // CAF keeps the spawn arguments as long as any handle to the actor lives. Moving the state
  // out on start means the spool is closed and the other actors' handles are released as soon
  // as the actor quits, not when its last handle goes. (It is an argument, not a lambda
  // capture, because CAF 0.17 dereferences a null argument tuple for argument-less functions,
  // which UBSan reports.)
  auto init = std::make_shared<SpoolActorInit>(
      SpoolActorInit{std::move(spool), std::move(router), std::move(metrics), std::move(events),
                     history_retention.count()});
  return caf::actor_cast<spool_actor>(system.spawn<caf::detached>(run_spool_actor, std::move(init)));
}

}  // namespace volley
