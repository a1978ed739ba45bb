#pragma once
// The metrics actor: the one writer of Volley's Prometheus counters. Every outcome, commit and
// queue change is reported to it by message, so the hot path never takes a metrics lock.
//   (outcome_atom, Outcome)                                   per recipient outcome
//   (commit_atom, double seconds, std::size_t messages)       per synced spool write
//   (gauge_atom, std::string domain, uint64 depth, uint64 connections)
#include <functional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

namespace volley {

struct MetricsHandle {
  caf::actor actor;
  // Renders the Prometheus text exposition format; safe to call from any thread.
  std::function<std::string()> render;
};

MetricsHandle spawn_metrics_actor(caf::actor_system& sys);

}  // namespace volley
