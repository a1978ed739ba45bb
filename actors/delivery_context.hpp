#pragma once
// What every delivery actor is given: its settings and the actors it reports to.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/actor_timers.hpp"
#include "actors/dns_actor.hpp"
#include "actors/egress_path.hpp"
#include "core/delivery/body_budget.hpp"
#include "actors/events_actor.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/mta_sts_actor.hpp"
#include "actors/tls_report_actor.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "core/delivery/return_path.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/shaping.hpp"
#include "core/config/config.hpp"
#include "core/schedule/hold.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

class SessionCache;
class TlsClientContext;

struct StaticRouteTarget {
  std::string host;  // IP literal, or a name resolved through DNS (its A/AAAA)
  std::uint16_t port = 25;
  friend bool operator==(const StaticRouteTarget&, const StaticRouteTarget&) = default;
};

struct DeliverySettings {
  std::uint16_t smtp_port = Config::Delivery::kDefaultSmtpPort;
  std::chrono::seconds connect_timeout = Config::Delivery::kDefaultConnectTimeout;
  bool chunking = true;  // BDAT where offered with PIPELINING (smtp::SmtpClient::Options::use_chunking)
  std::chrono::seconds reap_after{60};       // an empty delivery actor stops after this
  std::unordered_map<std::string, StaticRouteTarget> routes;  // lower-cased domain -> smarthost
  // Where mail leaves from, and how hard each destination may be fed (connections, rates,
  // retry schedules), per source and destination.
  delivery::IpPools pools = delivery::IpPools::builtin("localhost");
  delivery::ShapingPolicy shaping;
  // What replies mean (bounce categories, kinds of temporary failure); null: the shipped rules.
  std::shared_ptr<const delivery::ReplyClassifier> classifier;
  // Bodies that queued work may keep in memory beyond what sessions need next, across all
  // domains. Past it, queued work lets go of its body and reads it back from the spool when due:
  // a backlog costs its records in memory, not its bodies.
  std::int64_t queued_body_budget = 256ll << 20;
  // VERP: senders whose mail leaves with a return path naming the recipient message (then one
  // recipient per transaction).
  delivery::ReturnPaths return_paths;
  // DANE (RFC 7672): TLSA records are asked for the MX hosts of secure MX answers.
  bool dane = false;
  // How long an MX host whose opportunistic TLS handshake failed gets clear text only.
  std::chrono::seconds tls_broken_for{3600};
  // With a connection cache: how long a session idles with its own destination before it is
  // parked for any destination with the same MX host (net/session_cache.hpp). Short, so that
  // domains with one message each share connections; long enough that a busy destination's
  // sessions, idle for a moment between messages, stay its own.
  std::chrono::milliseconds park_after{200};
};

// Bytes of bodies held under DeliverySettings::queued_body_budget, shared by delivery actors.
using BodyBudget = delivery::BodyBudget;

struct DeliveryContext {
  DeliverySettings settings;
  boost::asio::io_context* io = nullptr;  // where SMTP sessions run
  dns_actor dns;
  caf::actor spool;
  metrics_actor metrics;
  events_actor events;
  std::shared_ptr<BodyBudget> body_budget = std::make_shared<BodyBudget>(0);
  std::shared_ptr<EgressPaths> paths = std::make_shared<EgressPaths>();
  std::shared_ptr<TlsClientContext> tls;  // null: no STARTTLS at all
  std::shared_ptr<SessionCache> session_cache;  // null: sessions are never shared between domains
  mta_sts_actor mta_sts;                  // invalid: no MTA-STS
  tls_report_actor tls_reports;           // invalid: no TLS reporting (RFC 8460)
  std::shared_ptr<const schedule::TenantWindows> windows;  // tenants' sending windows (null: none)
  // The delivery actors' timers and request timeouts (actors/actor_timers.hpp: not CAF's clock;
  // null: CAF's, as unit tests on CAF's deterministic scheduler need).
  std::shared_ptr<ActorTimers> timers;
};
using DeliveryContextPtr = std::shared_ptr<const DeliveryContext>;

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::DeliveryContextPtr)  // a reload hands delivery actors new settings
