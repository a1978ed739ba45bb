#include "actors/suppression_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

void write(const SuppressionOptions& opts, suppression::Entry e) {
  std::string error;
  if (!opts.list->add(e, false, &error)) {
    spdlog::error("suppression: not written{}", util::log_fields("address", e.email, "tenant", e.tenant, "error", error));
    return;
  }
  if (opts.metrics) caf::anon_send(opts.metrics, suppress_atom::value, std::move(e.source));
}

suppression_actor::behavior_type behaviour(SuppressionOptions opts) {
  auto shared = std::make_shared<SuppressionOptions>(std::move(opts));
  return {
      [shared](suppress_atom, suppression::Entry& e) { write(*shared, std::move(e)); },
      [shared](suppress_atom, std::vector<suppression::Entry>& entries) {
        for (auto& e : entries) write(*shared, std::move(e));
        return true;
      },
  };
}

}  // namespace

suppression_actor spawn_suppression_actor(caf::actor_system& sys, SuppressionOptions opts) {
  if (opts.own_thread) return sys.spawn<caf::detached>(behaviour, std::move(opts));
  return sys.spawn(behaviour, std::move(opts));
}

}  // namespace volley
