#pragma once
// Which events a reader of the event stream (GET /api/v1/events) sees: its tenant's only unless
// it holds an admin key (the tenant wall), and optionally only some types, one destination
// domain or one message. Pure logic, so the wall is tested without a daemon.
#include <string>
#include <string_view>
#include <vector>

namespace volley::events {

struct EventFilter {
  std::string tenant;               // "" = every tenant's (admin keys only)
  std::vector<std::string> types;   // "delivered", "deferred", ...; empty = every type
  std::string domain;               // the recipient's domain, lower case; "" = any
  std::string id;                   // a message id or a recipient id ("<message id>-<n>"); "" = any
};

// What an event is matched on (the event's own fields).
struct EventKey {
  std::string_view type, tenant, domain, rcpt_id, message_id;
};

bool matches(const EventFilter& f, const EventKey& e);

}  // namespace volley::events
