#pragma once
// What every delivery actor is given: its settings and the actors it reports to.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>

#include "core/delivery/retry.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

struct StaticRouteTarget {
  std::string host;  // IP literal, or a name resolved through DNS (its A/AAAA)
  std::uint16_t port = 25;
};

struct DeliverySettings {
  std::uint16_t smtp_port = 25;
  std::string ehlo_name = "localhost";
  std::size_t max_connections = 8;
  std::size_t max_messages_per_connection = 1000;
  std::chrono::seconds idle_timeout{10};     // an idle session is closed after this
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds reap_after{60};       // an empty delivery actor stops after this
  delivery::RetryPolicy retry;
  std::unordered_map<std::string, StaticRouteTarget> routes;  // lower-cased domain -> smarthost
};

struct DeliveryContext {
  DeliverySettings settings;
  boost::asio::io_context* io = nullptr;  // where SMTP sessions run
  caf::actor dns;
  caf::actor spool;
  caf::actor metrics;
  caf::actor events;
};
using DeliveryContextPtr = std::shared_ptr<const DeliveryContext>;

}  // namespace volley
