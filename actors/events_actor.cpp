#include "actors/events_actor.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"

namespace volley {

namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr auto kFlushDelay = std::chrono::milliseconds(100);

// A recipient's latest status, kept as data and rendered as JSON only when someone asks: most
// statuses are never looked up, so the hot path should not serialise them.
struct RecipientStatus {
  std::string message_id;
  std::string recipient;
  const char* status = "queued";
  std::uint32_t attempts = 0;
  std::optional<std::int64_t> updated_at_ms;
  std::string reply;
  bool reply_is_last = true;  // "last_reply" (still trying) rather than "reply" (final)
  std::string category;
  std::optional<std::int64_t> next_attempt_ms;

  std::string render(const std::string& id) const {
    nlohmann::json j{{"id", id},
                     {"message_id", message_id},
                     {"recipient", recipient},
                     {"status", status},
                     {"attempts", attempts}};
    if (updated_at_ms) j["updated_at"] = *updated_at_ms;
    if (!reply.empty()) j[reply_is_last ? "last_reply" : "reply"] = reply;
    if (!category.empty()) j["category"] = category;
    if (next_attempt_ms) j["next_attempt_at"] = *next_attempt_ms;
    return j.dump();
  }
};

struct EventsState {
  EventsOptions opts;
  std::FILE* log = nullptr;
  std::string buffer;
  bool flush_pending = false;
  caf::actor spool;
  // Final outcomes whose lines are in `buffer`: released in the spool after the write.
  std::vector<std::tuple<std::string, std::string, bool>> to_release;
  std::unordered_map<std::string, RecipientStatus> status;  // rcpt id -> latest status
  std::deque<std::string> final_order;                   // eviction order of final statuses

  ~EventsState() {
    if (log) std::fclose(log);
  }

  // Writes the buffered lines to the kernel (they survive a crash of this process), then lets
  // the spool forget the recipients they report.
  void flush(caf::event_based_actor* self) {
    if (log && !buffer.empty()) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), log) != buffer.size() || std::fflush(log) != 0)
        spdlog::error("event log {}: write failed: {}", opts.event_log_path, std::strerror(errno));
    }
    buffer.clear();
    if (spool)
      for (auto& [rcpt_id, message_id, finished] : to_release)
        self->send(spool, done_atom::value, std::move(rcpt_id), std::move(message_id), finished);
    to_release.clear();
  }

  void remember_final(const std::string& id) {
    final_order.push_back(id);
    while (final_order.size() > opts.max_final_statuses) {
      status.erase(final_order.front());
      final_order.pop_front();
    }
  }
};

nlohmann::json to_json(const Outcome& o) {
  nlohmann::json j{{"event", to_string(o.kind)},
                   {"id", o.rcpt_id},
                   {"message_id", o.message_id},
                   {"recipient", o.recipient},
                   {"domain", o.domain},
                   {"tenant", o.tenant},
                   {"attempt", o.attempt},
                   {"at", o.at_ms},
                   {"received_at", o.received_at_ms}};
  if (!o.campaign.empty()) j["campaign"] = o.campaign;
  if (!o.mx_host.empty()) j["mx_host"] = o.mx_host;
  if (!o.reply.empty()) j["reply"] = o.reply;
  if (!o.category.empty()) j["category"] = o.category;
  if (o.kind == OutcomeKind::deferred) j["next_attempt_at"] = o.next_attempt_ms;
  return j;
}

}  // namespace

caf::actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts) {
  return sys.spawn<caf::detached>([](caf::stateful_actor<EventsState>* self, EventsOptions opts) -> caf::behavior {
    auto& st = self->state;
    st.opts = opts;
    if (!opts.event_log_path.empty()) {
      std::error_code ec;
      auto parent = std::filesystem::path(opts.event_log_path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      st.log = std::fopen(opts.event_log_path.c_str(), "ae");
      if (!st.log) spdlog::error("event log {}: cannot open: {}", opts.event_log_path, std::strerror(errno));
    }
    return {
        [self](spool_atom, caf::actor spool) { self->state.spool = std::move(spool); },
        [self](received_atom, const RecipientBatch& batch) {
          for (const auto& r : batch) {
            RecipientStatus st;
            st.message_id = r.rcpt.message_id;
            st.recipient = r.rcpt.recipient;
            st.status = r.rcpt.state == spool::RecipientState::deferred ? "deferred" : "queued";
            st.attempts = r.rcpt.attempts;
            st.reply = r.rcpt.last_reply;
            self->state.status[r.rcpt.id] = std::move(st);
          }
        },
        [self](outcome_atom, const Outcome& o) {
          auto& st = self->state;
          auto line = to_json(o);
          st.buffer += line.dump();
          st.buffer += '\n';
          RecipientStatus status;
          status.message_id = o.message_id;
          status.recipient = o.recipient;
          status.status = to_string(o.kind);
          status.attempts = o.attempt;
          status.updated_at_ms = o.at_ms;
          status.reply = o.reply;
          status.reply_is_last = o.kind == OutcomeKind::deferred;
          status.category = o.category;
          if (o.kind == OutcomeKind::deferred) status.next_attempt_ms = o.next_attempt_ms;
          st.status[o.rcpt_id] = std::move(status);
          if (o.kind != OutcomeKind::deferred) {
            st.remember_final(o.rcpt_id);
            st.to_release.emplace_back(o.rcpt_id, o.message_id, o.message_finished);
          }
          if (st.buffer.size() >= kFlushBytes) {
            st.flush(self);
          } else if (!st.flush_pending) {
            st.flush_pending = true;
            self->delayed_send(self, kFlushDelay, tick_atom::value);
          }
        },
        [self](tick_atom) {
          self->state.flush_pending = false;
          self->state.flush(self);
        },
        [self](status_atom, const std::string& id) -> std::string {
          auto it = self->state.status.find(id);
          return it == self->state.status.end() ? std::string{} : it->second.render(id);
        },
        [self](stop_atom) {
          self->state.flush(self);
          self->quit();
          return true;
        },
    };
  }, std::move(opts));
}

}  // namespace volley
