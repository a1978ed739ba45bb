#pragma once
// How daemon/main.cpp turns the configuration into each component's options, and the small
// bridges between components (suppressed recipients become events, a status lookup asks two
// actors). Used at start and again by a reload (daemon/reload.cpp).
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/delivery_context.hpp"
#include "actors/events_actor.hpp"
#include "actors/messages.hpp"
#include "actors/webhook_actor.hpp"
#include "api/disk_guard.hpp"
#include "api/injection_api.hpp"
#include "core/config/config.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "net/smtp_listener.hpp"

namespace boost::asio::ssl {
class context;
}

namespace volley {

// Shaping, pools, routes, DANE and ports of [delivery]; return paths and bounce rules are added by the caller.
DeliverySettings delivery_settings(const Config& cfg);
// key: the spool's instance secret, which signs VERP addresses and X-Volley-ID.
delivery::ReturnPaths return_paths(const Config& cfg, std::string key);
WebhookOptions webhook_options(const Config& cfg);
// What the bounce and feedback listener accepts: every return-path domain and [smtp_in] domains.
SmtpListenerOptions listener_options(const Config& cfg);
// Events for recipients left out at injection because their address is suppressed.
std::vector<Outcome> suppressed_events(std::vector<api::SuppressedRecipient>&& list);
// RocksDB's info logs, into volleyd's own log (never into LOG files on a disk that may fill).
void log_rocksdb_to_spdlog();
// The databases' filesystems, measured by the disk guard.
api::DiskGuardOptions disk_guard_options(const Config& cfg);
// GET /api/v1/messages/{id}: asks the events actor, then the spool.
api::StatusLookup status_lookup(caf::actor_system& sys, events_actor events, caf::actor spool);
// [http]'s HTTPS context, from its PEM files; null without them (plain HTTP). Throws
// std::runtime_error naming the file and OpenSSL's reason (net/tls_context.hpp).
std::shared_ptr<boost::asio::ssl::context> api_tls_context(const Config& cfg);
// The shipped bounce rules, with the operator's file (delivery.bounce_rules) tried first; or why
// the file cannot be used.
std::variant<std::shared_ptr<const delivery::ReplyClassifier>, std::string> load_classifier(const Config& cfg);

}  // namespace volley
