#pragma once
// The event stream for operators and applications (docs/volleyctl.md, api/openapi.yaml):
//   GET /api/v1/events?follow=1[&type=T,...][&domain=D][&id=ID]
//       answers 200 application/x-ndjson, chunked, one event a line (the JSON the event log and
//       webhooks carry) as the events happen, until the client closes. The headers are sent
//       only once the subscription is in place: a reader that has them misses no later event.
//       A reader more than 1 MiB behind is dropped (the connection closes).
//   GET /api/v1/events[?type=...&domain=...&id=...&limit=N]
//       the last N (default 100, at most 10,000) matching events of the events actor's in-memory
//       ring (its last 10,000 events), oldest first: {"events":[...]}.
// A tenant's key sees only that tenant's events; an admin key (or no keys configured) sees all.
// Anything else goes to `next`.
#include <caf/fwd.hpp>

#include "actors/events_actor.hpp"
#include "net/http_server.hpp"

namespace volley::api {

struct EventsApiConfig {
  caf::actor_system* system = nullptr;
  events_actor events;
};

Handler make_events_handler(EventsApiConfig config, Handler next);

}  // namespace volley::api
