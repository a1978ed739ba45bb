#pragma once
// The metrics actor: the one writer of Volley's Prometheus counters. Every outcome, commit and
// queue change is reported to it by message, so the hot path never takes a metrics lock.
//   (outcome_atom, Outcome)                                   per recipient outcome
//   (commit_atom, double seconds, size_t messages, size_t recipients)  per synced spool write
//   (enqueue_atom, std::string domain, std::string pool)      messages arrived for a destination
//   (gauge_atom, std::string domain, uint64 depth, uint64 connections)
// A destination's outcome series are created at zero when its first message arrives, and all
// its series are dropped once it has been idle for idle_series_ttl (core/metrics/idle_destinations.hpp).
#include <chrono>
#include <functional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include "core/delivery/ip_pool.hpp"
#include "core/config/config.hpp"

namespace volley {

struct MetricsOptions {
  std::chrono::milliseconds idle_series_ttl = Config::Metrics::kDefaultIdleSeriesTtl;  // 0: kept for ever
  // The sources of each pool: a destination's zero series are made for each source of the pool
  // its messages use.
  delivery::IpPools pools = delivery::IpPools::builtin("localhost");
  std::string version;     // volley_build_info{version}
  std::string build_type;  // volley_build_info{build_type}: Release, Debug, ...
};

struct MetricsHandle {
  caf::actor actor;
  // Renders the Prometheus text exposition format, process_* metrics included (read from /proc
  // at each call); safe to call from any thread.
  std::function<std::string()> render;
};

MetricsHandle spawn_metrics_actor(caf::actor_system& sys, MetricsOptions options = {});

}  // namespace volley
