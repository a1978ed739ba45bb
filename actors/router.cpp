#include "actors/router.hpp"

#include <unordered_map>

#include "actors/delivery_actor.hpp"
#include "actors/messages.hpp"

namespace volley {

namespace {

struct Destination {
  caf::actor actor;
  std::uint64_t batches_sent = 0;
};

struct RouterState {
  DeliveryContextPtr ctx;
  std::unordered_map<std::string, Destination> destinations;
};

}  // namespace

caf::actor spawn_router(caf::actor_system& sys, DeliveryContext ctx) {
  return sys.spawn([](caf::stateful_actor<RouterState>* self, DeliveryContext ctx) -> caf::behavior {
    self->state.ctx = std::make_shared<const DeliveryContext>(ctx);
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
            if (!dest.actor) dest.actor = spawn_delivery_actor(self->system(), domain, st.ctx, self);
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
        [self](stop_atom) {
          for (auto& [domain, dest] : self->state.destinations) self->send(dest.actor, stop_atom::value);
          self->state.destinations.clear();
          self->quit();
        },
    };
  }, std::move(ctx));
}

}  // namespace volley
