#include "actors/router.hpp"

#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/delivery_actor.hpp"
#include "actors/messages.hpp"
#include "core/util/ids.hpp"

namespace volley {

namespace {

struct Destination {
  caf::actor actor;
  std::uint64_t batches_sent = 0;
};

struct RouterState {
  DeliveryContextPtr ctx;
  std::unordered_map<std::string, Destination> destinations;
  // The suspensions in force. Each version is immutable once sent: a change makes a new one.
  EgressControlPtr control = std::make_shared<const EgressControl>();
};

using RouterActor = caf::stateful_actor<RouterState>;

void publish(RouterActor* self, EgressControl next) {
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

// Asks every delivery actor the same question and hands fold the answers (those that came within
// the timeout) once all are in.
template <class T, class Fold>
void gather(RouterActor* self, caf::message question, std::chrono::seconds timeout, Fold fold) {
  auto& dests = self->state.destinations;
  auto answers = std::make_shared<std::vector<T>>();
  auto left = std::make_shared<std::size_t>(dests.size());
  if (dests.empty()) {
    fold(*answers);
    return;
  }
  for (auto& [domain, dest] : dests) {
    self->request(dest.actor, timeout, question)
        .then(
            [answers, left, fold](T& answer) mutable {
              answers->push_back(std::move(answer));
              if (--*left == 0) fold(*answers);
            },
            [answers, left, fold](const caf::error&) mutable {
              if (--*left == 0) fold(*answers);
            });
  }
}

}  // namespace

caf::actor spawn_router(caf::actor_system& sys, DeliveryContext ctx) {
  return sys.spawn([](RouterActor* self, DeliveryContext ctx) -> caf::behavior {
    self->state.ctx = std::make_shared<const DeliveryContext>(ctx);
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
            batch.front().message->remaining.store(static_cast<std::uint32_t>(batch.size()),
                                                   std::memory_order_release);
            for (auto& q : batch) by_domain[q.rcpt.domain].push_back(std::move(q));
          }
          for (auto& [domain, part] : by_domain) {
            auto& dest = st.destinations[domain];
            if (!dest.actor) {
              dest.actor = spawn_delivery_actor(self->system(), domain, st.ctx, self, st.control);
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
          if (scope.kind == QueueScope::Kind::domain) {
            auto it = st.destinations.find(scope.name);
            if (it == st.destinations.end()) {
              rp.deliver(std::uint64_t{0});  // no actor: nothing of this domain is queued
            } else {
              self->request(it->second.actor, std::chrono::seconds(60), bounce_atom::value, scope, reason)
                  .then([sum](std::uint64_t n) mutable { sum({n}); },
                        [sum](const caf::error&) mutable { sum({}); });
            }
          } else {
            gather<std::uint64_t>(self, caf::make_message(bounce_atom::value, scope, reason), std::chrono::seconds(60), sum);
          }
          return rp;
        },
        [self](queues_atom) -> caf::result<std::string> {
          auto rp = self->make_response_promise<std::string>();
          auto control = self->state.control;
          gather<std::string>(self, caf::make_message(queues_atom::value), std::chrono::seconds(10),
                              [rp, control](const std::vector<std::string>& queues) mutable {
                                // Suspended domains with nothing queued have no actor: list them too.
                                std::set<std::string> seen;
                                std::string out = "[";
                                for (const auto& q : queues) {
                                  if (out.size() > 1) out += ',';
                                  out += q;
                                  seen.insert(nlohmann::json::parse(q).value("domain", ""));
                                }
                                const std::int64_t now = now_unix_ms();
                                for (const auto& [domain, sus] : control->domains) {
                                  if (seen.count(domain) != 0 || !sus.active(now)) continue;
                                  nlohmann::json q = {{"domain", domain}, {"queued", 0}, {"connections", 0},
                                                      {"state", "suspended"},
                                                      {"suspended", {{"reason", sus.reason}, {"since_ms", sus.since_ms}}}};
                                  if (sus.until_ms != 0) q["suspended"]["until_ms"] = sus.until_ms;
                                  if (out.size() > 1) out += ',';
                                  out += q.dump();
                                }
                                rp.deliver(out + "]");
                              });
          return rp;
        },
        [self](stop_atom) {
          for (auto& [domain, dest] : self->state.destinations) self->send(dest.actor, stop_atom::value);
          self->state.destinations.clear();
          self->quit();
        },
    };
  }, std::move(ctx));
}

}  // namespace volley
