#include "actors/router.hpp"

#include <memory>
#include <set>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/util/ids.hpp"

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
};

using RouterSelf = router_actor::stateful_pointer<RouterState>;

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

router_actor::behavior_type router_behavior(RouterSelf self, DeliveryContext ctx) {
  self->state.ctx = std::make_shared<const DeliveryContext>(std::move(ctx));
  // A delivery actor that ends while the router still routes to it failed: forget it so the
  // next batch for its domain gets a new one. What it held stays in the spool (a restart
  // re-reads it).
  self->set_down_handler([self](caf::down_msg& down) {
    auto& dests = self->state.destinations;
    for (auto it = dests.begin(); it != dests.end(); ++it) {
      if (caf::actor_cast<caf::actor_addr>(it->second.actor) != down.source) continue;
      spdlog::error("delivery actor for {} ended: {}; its queued recipients stay in the spool until a restart",
                    it->first, self->system().render(down.reason));
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
        auto& st = self->state;
        // One batch per destination domain for the whole commit: a delivery actor gets one
        // message however many of its recipients arrived together. A message's recipients
        // stay next to each other in a part, in spooling order.
        std::unordered_map<std::string, RecipientBatch> by_domain;
        for (auto& batch : spooled) {
          if (batch.empty()) continue;
          batch.front().message->remaining.store(static_cast<std::uint32_t>(batch.size()), std::memory_order_release);
          for (auto& q : batch) by_domain[q.rcpt.domain].push_back(std::move(q));
        }
        for (auto& [domain, part] : by_domain) {
          auto& dest = st.destinations[domain];
          if (!dest.actor) {
            dest.actor = spawn_delivery_actor(self->system(), domain, st.ctx,
                                              caf::actor_cast<delivery_parent>(self), st.control);
            self->monitor(dest.actor);
          }
          ++dest.batches_sent;
          self->send(dest.actor, enqueue_atom::value, std::move(part));
        }
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
