#include "actors/events_actor.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/recipient_status.hpp"

namespace volley {

namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr auto kFlushDelay = std::chrono::milliseconds(100);

struct EventsState {
  EventsOptions opts;
  std::FILE* log = nullptr;
  std::string buffer;
  bool flush_pending = false;
  caf::actor spool;
  // Final outcomes whose lines are in `buffer`: released in the spool after the write.
  SpoolReleases to_release;
  std::unordered_map<std::string, RecipientStatus> status;  // rcpt id -> final status
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
    if (spool && !to_release.empty()) self->send(spool, done_atom::value, std::move(to_release));
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

// Writes at once past 64 KiB of lines, else within 100 ms.
void schedule_flush(caf::stateful_actor<EventsState>* self) {
  auto& st = self->state;
  if (st.buffer.size() >= kFlushBytes) {
    st.flush(self);
  } else if (!st.flush_pending) {
    st.flush_pending = true;
    self->delayed_send(self, kFlushDelay, tick_atom::value);
  }
}

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
  if (!o.pool.empty()) j["pool"] = o.pool;
  if (!o.source.empty()) j["source"] = o.source;
  if (!o.reply.empty()) j["reply"] = o.reply;
  if (!o.category.empty()) j["category"] = o.category;
  if (o.kind == OutcomeKind::deferred) j["next_attempt_at"] = o.next_attempt_ms;
  return j;
}

}  // namespace

caf::actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts) {
  return sys.spawn([](caf::stateful_actor<EventsState>* self, EventsOptions opts) -> caf::behavior {
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
        [self](outcome_atom, const Outcome& o) {
          auto& st = self->state;
          auto line = to_json(o);
          st.buffer += line.dump();
          st.buffer += '\n';
          // Only final statuses are kept here; a deferred recipient's status is its spool record.
          if (o.kind == OutcomeKind::deferred) {
            schedule_flush(self);
            return;
          }
          RecipientStatus status;
          status.message_id = o.message_id;
          status.recipient = o.recipient;
          status.status = to_string(o.kind);
          status.attempts = o.attempt;
          status.updated_at_ms = o.at_ms;
          status.reply = o.reply;
          status.reply_is_last = false;
          status.category = o.category;
          st.status[o.rcpt_id] = std::move(status);
          st.remember_final(o.rcpt_id);
          st.to_release.push_back(SpoolRelease{o.rcpt_id, o.message_id, o.message_finished});
          schedule_flush(self);
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
