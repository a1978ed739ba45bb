#pragma once
// The metrics actor: the one writer of Volley's Prometheus counters. Every outcome, commit and
// queue change is reported to it by message (metrics_actor below), so the hot path never takes a
// metrics lock.
// A destination's outcome series are created at zero when its first message arrives, and all
// its series are dropped once it has been idle for idle_series_ttl (core/metrics/idle_destinations.hpp).
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <cstddef>
#include <cstdint>

#include <caf/fwd.hpp>
#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <caf/replies_to.hpp>

#include "actors/messages.hpp"

#include "core/delivery/ip_pool.hpp"
#include "core/config/config.hpp"

namespace volley {

class SessionCache;


using metrics_actor = caf::typed_actor<
    // Per recipient outcome (delivery, feedback, recipients suppressed at injection).
    caf::reacts_to<outcome_atom, Outcome>,
    // Per synced spool write: seconds it took, messages and recipients it spooled.
    caf::reacts_to<commit_atom, double, std::size_t, std::size_t>,
    // Messages arrived for a destination domain and pool: its series exist from now on.
    caf::reacts_to<enqueue_atom, std::string, std::string>,
    // A destination's queue depth and open connections.
    caf::reacts_to<gauge_atom, std::string, std::uint64_t, std::uint64_t>,
    // Every queue looked at by the router (volley_queue_oldest_age_seconds,
    // volley_source_connections, volley_source_backoff_level).
    caf::reacts_to<gauge_atom, QueueSurvey>,
    // Scheduled messages held by the router, and their recipients (volley_scheduled_*).
    caf::reacts_to<scheduled_atom, std::uint64_t, std::uint64_t>,
    // A webhook POST finished (endpoint, "delivered" | "failed" | "" at start-up, events in it,
    // queue depth after).
    caf::reacts_to<webhook_atom, std::string, std::string, std::uint64_t, std::uint64_t>,
    // An address put on a suppression list, by source ("bounce", "async_bounce", "complaint", "api").
    caf::reacts_to<suppress_atom, std::string>,
    // Outbound TLS: a session's result ("encrypted", "verified", "clear", "failed"; "" = none) and
    // a policy failure (policy label and reason; "" = none).
    caf::reacts_to<tls_atom, std::string, std::string, std::string>,
    // A TLS report (RFC 8460) sent: method ("mailto", "https") and result ("ok", "failed").
    caf::reacts_to<tls_atom, std::string, std::string>,
    // One batch's DKIM signing: the signatures made and the seconds each signed message took.
    caf::reacts_to<sign_atom, DkimSignStats>,
    // A reload (SIGHUP): the sources and pools now (volley_source_* of a removed source go).
    caf::reacts_to<reload_atom, delivery::IpPools>,
    // Ignored (callers may stop every actor alike); exit it to stop it.
    caf::reacts_to<stop_atom>,
    // Internal: the sweep of idle destinations' series.
    caf::reacts_to<tick_atom>>;

struct MetricsOptions {
  std::chrono::milliseconds idle_series_ttl = Config::Metrics::kDefaultIdleSeriesTtl;  // 0: kept for ever
  // The sources of each pool: a destination's zero series are made for each source of the pool
  // its messages use.
  delivery::IpPools pools = delivery::IpPools::builtin("localhost");
  std::string version;     // volley_build_info{version}
  std::string build_type;  // volley_build_info{build_type}: Release, Debug, ...
  // volley_connection_cache_*: read at each scrape (null: no connection cache).
  std::shared_ptr<const SessionCache> session_cache;
};

struct MetricsHandle {
  metrics_actor actor;
  // Renders the Prometheus text exposition format, process_* metrics included (read from /proc
  // at each call); safe to call from any thread.
  std::function<std::string()> render;
};

MetricsHandle spawn_metrics_actor(caf::actor_system& sys, MetricsOptions options = {});

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::delivery::IpPools)  // reloads
