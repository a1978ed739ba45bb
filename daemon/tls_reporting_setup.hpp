#pragma once
// The TLS report actor (RFC 8460) from [tls_reporting], for main: spawned before the router
// (delivery actors report to it), told where to inject its mails once the spool exists, and
// stopped after the router so the last sessions' outcomes are saved.
#include <caf/fwd.hpp>

#include "actors/tls_report_actor.hpp"
#include "core/config/config.hpp"

namespace volley {

// Invalid when reporting is off. Throws std::runtime_error when it cannot start.
tls_report_actor start_tls_reporting(caf::actor_system& sys, boost::asio::io_context& io, const Config& cfg,
                                     dns_actor dns, metrics_actor metrics);
// Saves the aggregate and stops the actor (nothing when invalid).
void stop_tls_reporting(caf::actor_system& sys, const tls_report_actor& reports);

}  // namespace volley
