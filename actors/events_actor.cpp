#include "actors/events_actor.hpp"

#include <algorithm>
#include <optional>
#include <map>
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/event_log.hpp"
#include "core/events/recent_ring.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr auto kFlushDelay = std::chrono::milliseconds(100);
constexpr auto kRetryDelay = std::chrono::seconds(1);
// The webhook actor appends to its disk queue; past this something is wrong with it, and the
// spool records are released anyway rather than kept forever (the event log has the lines).
constexpr auto kWebhookQueueTimeout = std::chrono::seconds(60);
// The recent-events ring's bytes per event it is to hold: a delivered event's line is 400-700
// bytes; longer ones (a bounce's reply) mean fewer events held, never more memory.
constexpr std::size_t kRecentBytesPerEvent = 640;

// The fields a filter matches on, from an event line of the ring.
bool line_matches(const events::EventFilter& filter, std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) return false;
  auto field = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string();
  };
  const std::string type = field("event"), tenant = field("tenant"), domain = field("domain"), id = field("id"),
                    message_id = field("message_id");
  return matches(filter, events::EventKey{type, tenant, domain, id, message_id});
}

struct EventsState {
  EventsOptions opts;
  std::unique_ptr<EventLog> log;
  std::string buffer;
  WebhookEvents for_webhooks;
  bool flush_pending = false;
  bool retry_pending = false;  // a write failed; tried again by a tick
  caf::actor spool;
  // Final outcomes whose lines are in `buffer`: released in the spool after the write.
  SpoolReleases to_release;
  // Reports waiting for their lines to be written and queued.
  std::vector<caf::typed_response_promise<bool>> waiting;
  // rcpt id -> final status, until the spool has it in its history (ordered: a message's
  // recipients are one range).
  std::map<std::string, RecipientStatus> status;
  std::size_t flushes_in_flight = 0;  // waiting for the webhook actor to queue their events
  bool stopping = false;
  std::optional<events::RecentRing> recent;  // made with opts (recent_events)
  std::vector<EventSubscription> subscribers;

  // Every event passes here once; with no reader it costs a copy into the ring.
  void publish(const Outcome& o, const std::string& line) {
    recent->add(line);
    if (subscribers.empty()) return;
    const events::EventKey key{to_string(o.kind), o.tenant, o.domain, o.rcpt_id, o.message_id};
    const std::string with_end = line + '\n';
    std::erase_if(subscribers, [&](const EventSubscription& s) {
      return matches(s.filter, key) && !s.deliver(with_end);  // false: gone or too slow
    });
  }

  void remember_final(RecipientStatus s) {
    const std::string id = s.id;
    status[id] = std::move(s);
    // Ids begin with their message's time: past the bound, the oldest messages' go first.
    while (status.size() > opts.max_final_statuses) status.erase(status.begin());
  }
};

using Self = events_actor::stateful_pointer<EventsState>;

// Writes the buffered lines to the kernel (they survive a crash of this process) and hands them
// to the webhook queue; once that is done, the spool forgets the recipients they report and the
// reports waiting are answered.
void flush(Self self) {
  auto& st = self->state;
  if (!st.buffer.empty() && !st.log->append(st.buffer)) {
    // Disk full or an I/O error: keep the lines, their releases and the reports waiting, and try
    // again. The spool keeps the recipients meanwhile (a crash repeats them, never loses them).
    if (!st.retry_pending) {
      st.retry_pending = true;
      self->delayed_send(self, kRetryDelay, tick_atom::value);
    }
    return;
  }
  st.buffer.clear();
  auto releases = std::make_shared<SpoolReleases>(std::move(st.to_release));
  auto waiting = std::make_shared<std::vector<caf::typed_response_promise<bool>>>(std::move(st.waiting));
  st.to_release.clear();
  st.waiting.clear();
  ++st.flushes_in_flight;
  auto finish = [self, releases, waiting] {
    auto& st = self->state;
    if (st.spool && !releases->empty()) {
      // From now on the spool answers for these recipients: a status request reaches it after
      // this release, so it finds them in the history.
      for (const auto& r : *releases) st.status.erase(r.rcpt_id);
      caf::anon_send(st.spool, done_atom::value, std::move(*releases));
    }
    for (auto& rp : *waiting) rp.deliver(true);
    if (--st.flushes_in_flight == 0 && st.stopping) self->quit();
  };
  if (!st.opts.webhooks || st.for_webhooks.empty()) {
    st.for_webhooks.clear();
    finish();
    return;
  }
  self->request(st.opts.webhooks, kWebhookQueueTimeout, event_atom::value, std::move(st.for_webhooks))
      .then([finish](bool) { finish(); },
            [finish](const caf::error& err) {
              spdlog::error("events: webhook queue did not take events; they are in the event log only{}",
                            util::log_fields("error", to_string(err)));
              finish();
            });
  st.for_webhooks.clear();
}

// Writes at once past 64 KiB of lines, else within 100 ms.
void schedule_flush(Self self) {
  auto& st = self->state;
  if (st.buffer.size() >= kFlushBytes) {
    flush(self);
  } else if (!st.flush_pending) {
    st.flush_pending = true;
    self->delayed_send(self, kFlushDelay, tick_atom::value);
  }
}

// Final statuses are kept here until the spool has them in its history; a deferred recipient's
// status is its spool record.
RecipientStatus final_status(const Outcome& o) {
  RecipientStatus status;
  status.id = o.rcpt_id;
  status.message_id = o.message_id;
  status.tenant = o.tenant;
  status.recipient = o.recipient;
  status.status = to_string(o.kind);
  status.attempts = o.attempt;
  status.updated_at_ms = o.at_ms;
  status.reply = o.reply;
  status.reply_is_last = false;
  status.category = o.category;
  return status;
}

void add(Self self, const Outcome& o) {
  auto& st = self->state;
  std::string line = events::to_json(o);
  st.buffer += line;
  st.buffer += '\n';
  st.publish(o, line);
  const bool last_word = events::ends_status(o.kind);
  // The final event line is the recipient's history record.
  std::string history = last_word ? line : std::string();
  if (st.opts.webhooks) st.for_webhooks.push_back(WebhookEvent{to_string(o.kind), o.tenant, std::move(line)});
  if (!last_word) return;
  st.remember_final(final_status(o));
  st.to_release.push_back(
      SpoolRelease{o.rcpt_id, o.message_id, o.message_finished, std::move(history), events::is_final(o.kind)});
}

Outcome received_event(const ReceivedNote& n) {
  const auto& m = *n.message;
  Outcome o;
  o.kind = OutcomeKind::received;
  o.rcpt_id = n.rcpt_id;
  o.message_id = m.id;
  o.recipient = n.recipient;
  o.domain = n.domain;
  o.tenant = m.tenant;
  o.campaign = m.campaign;
  o.pool = m.pool;
  o.received_at_ms = m.received_at_ms;
  o.at_ms = m.received_at_ms;
  o.extras = m.extras;
  return o;
}

events_actor::behavior_type behaviour(Self self, EventsOptions opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.log = std::make_unique<EventLog>(st.opts.event_log_path, st.opts.event_log_max_size, st.opts.event_log_keep);
  st.recent.emplace(st.opts.recent_events, st.opts.recent_events * kRecentBytesPerEvent);
  return {
      [self](spool_atom, caf::actor spool) { self->state.spool = std::move(spool); },
      [self](reload_atom, suppression::Policy& policy) { self->state.opts.suppression_policy = std::move(policy); },
      [self](webhook_atom, webhook_actor& webhooks) { self->state.opts.webhooks = std::move(webhooks); },
      [self](outcome_atom, const Outcome& o) {
        add(self, o);
        auto& st = self->state;
        // Sent before the line is written: the address is listed no later than the event is seen.
        if (st.opts.suppressions && suppression::suppresses(o, st.opts.suppression_policy))
          self->send(st.opts.suppressions, suppress_atom::value, *suppression::entry_for(o, st.opts.suppression_policy));
        schedule_flush(self);
      },
      [self](outcome_atom, const ReceivedNotes& notes) {
        for (const auto& n : notes) add(self, received_event(n));
        schedule_flush(self);
      },
      [self](report_atom, const std::vector<Outcome>& events) -> caf::typed_response_promise<bool> {
        for (const auto& o : events) add(self, o);
        auto rp = self->make_response_promise<bool>();
        self->state.waiting.push_back(rp);
        schedule_flush(self);
        return rp;
      },
      [self](status_atom, const std::string& id) -> RecipientStatuses {
        const auto& status = self->state.status;
        RecipientStatuses out;
        if (names_recipient(id)) {
          if (auto it = status.find(id); it != status.end()) out.push_back(it->second);
          return out;
        }
        const std::string prefix = id + "-";
        for (auto it = status.lower_bound(prefix); it != status.end() && it->first.rfind(prefix, 0) == 0; ++it)
          out.push_back(it->second);
        return out;
      },
      [self](subscribe_atom, EventSubscription& sub) {
        self->state.subscribers.push_back(std::move(sub));
        return true;
      },
      [self](unsubscribe_atom, std::uint64_t id) {
        std::erase_if(self->state.subscribers, [id](const EventSubscription& s) { return s.id == id; });
      },
      [self](recent_atom, const events::EventFilter& filter, std::uint64_t limit) {
        std::vector<std::string> out;
        self->state.recent->newest_first([&](std::string_view line) {
          if (line_matches(filter, line)) out.emplace_back(line);
          return out.size() < limit;
        });
        std::reverse(out.begin(), out.end());
        return out;
      },
      [self](stop_atom) -> caf::typed_response_promise<bool> {
        // Answered, and the actor quits, once everything written has been queued and released.
        auto rp = self->make_response_promise<bool>();
        self->state.waiting.push_back(rp);
        self->state.stopping = true;
        flush(self);
        return rp;
      },
      [self](tick_atom) {
        self->state.flush_pending = false;
        self->state.retry_pending = false;
        flush(self);
      },
  };
}

}  // namespace

events_actor spawn_events_actor(caf::actor_system& sys, EventsOptions opts) {
  return sys.spawn(behaviour, std::move(opts));
}

}  // namespace volley
