#include "actors/router.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

struct Destination {
  delivery_actor actor;
  std::uint64_t batches_sent = 0;
};

struct RouterState {
  DeliveryContextPtr ctx;
  std::unordered_map<std::string, Destination> destinations;
  // The suspensions in force. Each version is immutable once sent: a change makes a new one.
  EgressControlPtr control = std::make_shared<const EgressControl>();
  // Scheduled messages (send_at, sending windows) not yet due: one entry per message, with
  // those of its recipients not tried yet. One timer for the earliest (a generation counter
  // ignores timers that a sooner one replaced: delayed_send cannot be cancelled).
  schedule::Hold<RecipientBatch> held;
  std::uint64_t held_recipients = 0;
  std::int64_t timer_at = 0;  // 0: none armed
  std::uint64_t timer_generation = 0;
  bool draining = false;  // shutdown: nothing more is routed
};

using RouterSelf = router_actor::stateful_pointer<RouterState>;

// Sends each recipient to its destination domain's delivery actor: one batch per domain for
// the whole call, a delivery actor gets one message however many of its recipients arrived
// together. A message's recipients stay next to each other in a part, in spooling order.
void route(RouterSelf self, SpooledMessages& spooled) {
  auto& st = self->state;
  std::unordered_map<std::string, RecipientBatch> by_domain;
  for (auto& batch : spooled)
    for (auto& q : batch) by_domain[q.rcpt.domain].push_back(std::move(q));
  for (auto& [domain, part] : by_domain) {
    auto& dest = st.destinations[domain];
    if (!dest.actor) {
      dest.actor = spawn_delivery_actor(self->system(), domain, st.ctx, caf::actor_cast<delivery_parent>(self),
                                        st.control);
      self->monitor(dest.actor);
    }
    ++dest.batches_sent;
    self->send(dest.actor, enqueue_atom::value, std::move(part));
  }
}

void report_held(RouterSelf self) {
  auto& st = self->state;
  if (st.ctx->metrics)
    self->send(st.ctx->metrics, scheduled_atom::value, static_cast<std::uint64_t>(st.held.size()), st.held_recipients);
}

// Arms the timer for the earliest held message unless one at or before it is armed.
void arm(RouterSelf self) {
  auto& st = self->state;
  const auto next = st.held.next_due();
  if (!next || (st.timer_at != 0 && st.timer_at <= *next)) return;
  st.timer_at = *next;
  const auto wait = std::chrono::milliseconds(std::max<std::int64_t>(0, *next - now_unix_ms()));
  self->delayed_send(self, wait, tick_atom::value, ++st.timer_generation);
}

// Keeps the recipients of a message that is not due yet (and not tried yet: a recovered
// recipient that was tried is past its send_at), in the hold; true when any were kept.
bool hold_if_scheduled(RouterSelf self, RecipientBatch& batch, std::int64_t now) {
  auto& st = self->state;
  const QueuedMessage& m = *batch.front().message;
  const schedule::TenantWindow* window = nullptr;
  if (st.ctx->windows) {
    auto it = st.ctx->windows->find(m.tenant);
    if (it != st.ctx->windows->end()) window = &it->second;
  }
  if (m.send_at_ms == 0 && !window) return false;
  const std::int64_t due = schedule::first_attempt_at(m.send_at_ms, window, now);
  if (due == 0) return false;
  RecipientBatch later;
  std::erase_if(batch, [&later](QueuedRecipient& q) {
    if (q.rcpt.attempts != 0) return false;
    later.push_back(std::move(q));
    return true;
  });
  if (later.empty()) return false;
  st.held_recipients += later.size();
  st.held.hold(due, m.id, std::move(later));
  return true;
}

// Cancelled recipients: their event (final: the events actor then releases their spool records).
void cancel(RouterSelf self, std::vector<RecipientBatch>& taken) {
  auto& st = self->state;
  const std::int64_t now = now_unix_ms();
  for (auto& batch : taken) {
    st.held_recipients -= batch.size();
    for (auto& q : batch) {
      const QueuedMessage& m = *q.message;
      Outcome o;
      o.kind = OutcomeKind::cancelled;
      o.rcpt_id = q.rcpt.id;
      o.message_id = m.id;
      o.recipient = q.rcpt.recipient;
      o.domain = q.rcpt.domain;
      o.tenant = m.tenant;
      o.campaign = m.campaign;
      o.pool = m.pool;
      o.reply = "cancelled before its first attempt";
      o.received_at_ms = m.received_at_ms;
      o.at_ms = now;
      o.extras = m.extras;
      o.message_finished = m.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
      if (st.ctx->metrics) self->send(st.ctx->metrics, outcome_atom::value, o);
      if (st.ctx->events) {
        self->send(st.ctx->events, outcome_atom::value, o);
      } else if (st.ctx->spool) {
        caf::anon_send(st.ctx->spool, done_atom::value, SpoolReleases{{o.rcpt_id, o.message_id, o.message_finished, {}}});
      }
    }
  }
  report_held(self);
}

void publish(RouterSelf self, EgressControl next) {
  auto& st = self->state;
  st.control = std::make_shared<const EgressControl>(std::move(next));
  for (auto& [domain, dest] : st.destinations) self->send(dest.actor, control_atom::value, st.control);
}

std::map<std::string, Suspension>& scopes_of(EgressControl& c, QueueScope::Kind kind) {
  return kind == QueueScope::Kind::domain ? c.domains : kind == QueueScope::Kind::pool ? c.pools : c.sources;
}

// The current control without the timed suspensions that have ended.
EgressControl current(const RouterState& st) {
  EgressControl c = *st.control;
  const std::int64_t now = now_unix_ms();
  for (auto* scopes : {&c.domains, &c.pools, &c.sources})
    std::erase_if(*scopes, [now](const auto& entry) { return !entry.second.active(now); });
  return c;
}

// Asks every delivery actor the same question (ask(actor) sends it) and hands fold the answers
// (those that came within the timeout) once all are in.
template <class T, class Ask, class Fold>
void gather(RouterSelf self, Ask ask, Fold fold) {
  auto& dests = self->state.destinations;
  auto answers = std::make_shared<std::vector<T>>();
  auto left = std::make_shared<std::size_t>(dests.size());
  if (dests.empty()) {
    fold(*answers);
    return;
  }
  for (auto& [domain, dest] : dests) {
    ask(dest.actor).then(
        [answers, left, fold](T& answer) mutable {
          answers->push_back(std::move(answer));
          if (--*left == 0) fold(*answers);
        },
        [answers, left, fold](const caf::error&) mutable {
          if (--*left == 0) fold(*answers);
        });
  }
}

// Suspended domains with nothing queued have no actor: they are listed too, without details.
void add_suspended_domains(std::vector<delivery::QueueSnapshot>& queues, const EgressControl& control) {
  std::set<std::string> seen;
  for (const auto& q : queues) seen.insert(q.domain);
  const std::int64_t now = now_unix_ms();
  for (const auto& [domain, sus] : control.domains) {
    if (seen.count(domain) != 0 || !sus.active(now)) continue;
    delivery::QueueSnapshot q;
    q.domain = domain;
    q.detailed = false;
    q.state = "suspended";
    q.suspended = sus;
    queues.push_back(std::move(q));
  }
}

// What metrics cannot count as events go by: the oldest queued message per destination, and per
// source its connections and worst backoff over every destination. A snapshot per delivery actor
// every kSurveyEvery costs a walk over its queue, far below the delivery work it describes.
constexpr auto kSurveyEvery = std::chrono::seconds(15);

void survey(RouterSelf self) {
  if (!self->state.ctx->metrics) return;
  gather<delivery::QueueSnapshot>(
      self, [self](const delivery_actor& a) { return self->request(a, std::chrono::seconds(10), queues_atom::value); },
      [metrics = self->state.ctx->metrics](std::vector<delivery::QueueSnapshot>& queues) {
        QueueSurvey s;
        for (const auto& q : queues) {
          if (q.queued != 0) s.oldest_age_seconds.emplace_back(q.domain, q.oldest_age_seconds);
          for (const auto& src : q.sources) {
            auto& [conns, level] = s.sources[src.source];
            conns += src.connections;
            if (src.path) level = std::max(level, src.path->backoff_level);
          }
        }
        caf::anon_send(metrics, gauge_atom::value, std::move(s));
      });
}

router_actor::behavior_type router_behavior(RouterSelf self, DeliveryContext ctx) {
  self->state.ctx = std::make_shared<const DeliveryContext>(std::move(ctx));
  self->delayed_send(self, kSurveyEvery, gauge_atom::value);
  // A delivery actor that ends while the router still routes to it failed: forget it so the
  // next batch for its domain gets a new one. What it held stays in the spool (a restart
  // re-reads it).
  self->set_down_handler([self](caf::down_msg& down) {
    auto& dests = self->state.destinations;
    for (auto it = dests.begin(); it != dests.end(); ++it) {
      if (caf::actor_cast<caf::actor_addr>(it->second.actor) != down.source) continue;
      spdlog::error("router: delivery actor ended; its queued recipients stay in the spool until a restart{}",
                    util::log_fields("domain", it->first, "error", self->system().render(down.reason)));
      dests.erase(it);
      return;
    }
  });
  return {
      [self](spool_atom, caf::actor spool) {
        auto updated = std::make_shared<DeliveryContext>(*self->state.ctx);
        updated->spool = std::move(spool);
        self->state.ctx = std::move(updated);
      },
      [self](enqueue_atom, SpooledMessages& spooled) {
        if (self->state.draining) return;  // spooled: the next start delivers them
        const std::int64_t now = now_unix_ms();
        bool held = false;
        for (auto& batch : spooled) {
          if (batch.empty()) continue;
          batch.front().message->remaining.store(static_cast<std::uint32_t>(batch.size()), std::memory_order_release);
          held = hold_if_scheduled(self, batch, now) || held;
        }
        route(self, spooled);
        if (held) {
          arm(self);
          report_held(self);
        }
      },
      [self](tick_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation || st.draining) return;
        st.timer_at = 0;
        SpooledMessages due = st.held.release_due(now_unix_ms());
        for (const auto& batch : due) st.held_recipients -= batch.size();
        route(self, due);
        arm(self);
        report_held(self);
      },
      [self](cancel_atom, const std::string& tenant, const std::string& message_id) {
        auto taken = self->state.held.take(
            message_id, [&tenant](const RecipientBatch& b) { return b.front().message->tenant == tenant; });
        std::uint64_t n = 0;
        for (const auto& b : taken) n += b.size();
        cancel(self, taken);
        return n;
      },
      [self](cancel_atom, campaign_atom, const std::string& tenant, const std::string& campaign) {
        auto taken = self->state.held.take_all([&](const RecipientBatch& b) {
          return b.front().message->tenant == tenant && b.front().message->campaign == campaign;
        });
        const auto n = static_cast<std::uint64_t>(taken.size());
        cancel(self, taken);
        return n;
      },
      [self](scheduled_atom) {
        return caf::make_result(static_cast<std::uint64_t>(self->state.held.size()), self->state.held_recipients);
      },
      [self](idle_atom, const std::string& domain, std::uint64_t batches_received) {
        auto& st = self->state;
        auto it = st.destinations.find(domain);
        // Only stop it if it has seen every batch sent: a batch in flight keeps it alive.
        if (it == st.destinations.end() || it->second.batches_sent != batches_received) return;
        self->send(it->second.actor, stop_atom::value);
        st.destinations.erase(it);
      },
      [self](suspend_atom, const QueueScope& scope, const Suspension& suspension) {
        EgressControl next = current(self->state);
        scopes_of(next, scope.kind)[scope.name] = suspension;
        publish(self, std::move(next));
        return true;
      },
      [self](resume_atom, const QueueScope& scope) {
        EgressControl next = current(self->state);
        const bool was = scopes_of(next, scope.kind).erase(scope.name) != 0;
        publish(self, std::move(next));
        return was;
      },
      [self](bounce_atom, const QueueScope& scope, const std::string& reason) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        auto rp = self->make_response_promise<std::uint64_t>();
        auto sum = [rp](const std::vector<std::uint64_t>& counts) mutable {
          std::uint64_t total = 0;
          for (auto n : counts) total += n;
          rp.deliver(total);
        };
        constexpr auto kTimeout = std::chrono::seconds(60);
        if (scope.kind == QueueScope::Kind::domain) {
          auto it = st.destinations.find(scope.name);
          if (it == st.destinations.end()) {
            rp.deliver(std::uint64_t{0});  // no actor: nothing of this domain is queued
          } else {
            self->request(it->second.actor, kTimeout, bounce_atom::value, scope, reason)
                .then([sum](std::uint64_t n) mutable { sum({n}); }, [sum](const caf::error&) mutable { sum({}); });
          }
        } else {
          gather<std::uint64_t>(
              self,
              [self, scope, reason](const delivery_actor& a) {
                return self->request(a, kTimeout, bounce_atom::value, scope, reason);
              },
              sum);
        }
        return rp;
      },
      [self](queues_atom) -> caf::result<std::vector<delivery::QueueSnapshot>> {
        auto rp = self->make_response_promise<std::vector<delivery::QueueSnapshot>>();
        gather<delivery::QueueSnapshot>(
            self,
            [self](const delivery_actor& a) { return self->request(a, std::chrono::seconds(10), queues_atom::value); },
            [rp, control = self->state.control](std::vector<delivery::QueueSnapshot>& queues) mutable {
              add_suspended_domains(queues, *control);
              rp.deliver(std::move(queues));
            });
        return rp;
      },
      [self](gauge_atom) {
        if (self->state.draining) return;
        survey(self);
        self->delayed_send(self, kSurveyEvery, gauge_atom::value);
      },
      [self](drain_atom) -> caf::result<bool> {
        self->state.draining = true;
        auto rp = self->make_response_promise<bool>();
        gather<bool>(
            self, [self](const delivery_actor& a) { return self->request(a, caf::infinite, drain_atom::value); },
            [rp](std::vector<bool>&) mutable { rp.deliver(true); });
        return rp;
      },
      [self](reload_atom, ReloadedDelivery& reloaded) {
        auto& st = self->state;
        auto updated = std::make_shared<DeliveryContext>(*st.ctx);
        updated->settings = std::move(reloaded.settings);
        updated->windows = std::move(reloaded.windows);
        st.ctx = std::move(updated);
        for (auto& [domain, dest] : st.destinations) self->send(dest.actor, reload_atom::value, st.ctx);
        if (st.ctx->metrics) self->send(st.ctx->metrics, reload_atom::value, st.ctx->settings.pools);
      },
      [self](stop_atom) {
        for (auto& [domain, dest] : self->state.destinations) self->send(dest.actor, stop_atom::value);
        self->state.destinations.clear();
        self->quit();
      },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& sys, DeliveryContext ctx) {
  return sys.spawn(router_behavior, std::move(ctx));
}

}  // namespace volley
