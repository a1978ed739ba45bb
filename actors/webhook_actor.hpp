#pragma once
// The webhook sink: POSTs events, in batches, to the configured URLs, signed
// (core/events/webhook_signature), and never loses one because an endpoint was down. Every
// event an endpoint's filters accept goes to that endpoint's durable queue
// (storage/event_queue) before anything is sent; it leaves the queue only when a POST
// holding it was answered 2xx. Delivery is therefore at-least-once: a POST that timed out after
// the receiver took it, or one in flight at shutdown, is sent again (receivers dedupe on the
// events' own ids).
//
// Per endpoint: one POST in flight, oldest events first, up to max_batch per POST. Any answer
// but 2xx, a network error or a timeout is a failure, and the endpoint waits retry_first,
// doubling per consecutive failure up to retry_max, ±20 % jitter, then sends what is queued
// (new events included). A 4xx other than 408/429 is retried too (dropping events is never
// right) but logged as an error: it needs a person. Whatever is queued at start-up is sent.
//
// Detached (a thread of its own): the queue is RocksDB, and its writes and reads can stall
// (write stalls behind compaction, reads from SST files after a long outage), which must not
// hold a scheduler thread that delivery actors share. The HTTP work runs on the io_context;
// its completions come back to the actor as messages, so the actor never waits on the network.
//
// Protocol: webhook_actor below. Sent to metrics (when valid):
//   (webhook_atom, std::string endpoint, std::string result, std::uint64_t events_in_post,
//    std::uint64_t queue_depth_after)
//   result is "delivered" or "failed" for every finished POST; once per endpoint after start-up
//   it is "" with 0 events and the depth recovered from the queue.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"

#include "core/config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

// A [[webhook]] of the configuration, and what only tests set.
struct WebhookEndpoint : Config::Webhook {
  std::string ca_file;  // https: CA bundle to verify against; "" = system CAs
};

struct WebhookEvent {
  std::string type;
  std::string tenant;
  std::string json;  // one event object, sent as it is
};
using WebhookEvents = std::vector<WebhookEvent>;

using webhook_actor = caf::typed_actor<
    // Queue the events for every endpoint whose filters match, then send when idle. Answered
    // (true) once queued: the events actor then releases their spool records.
    caf::replies_to<event_atom, WebhookEvents>::with<bool>,
    // Stop sending, close the queue (true), quit.
    caf::replies_to<stop_atom>::with<bool>,
    // Internal, from the HTTP client: a POST finished (endpoint id, POST id, HTTP status or 0,
    // network error).
    caf::reacts_to<webhook_atom, std::uint64_t, std::uint64_t, std::uint32_t, std::string>,
    // Internal timers: an endpoint's retry is due (endpoint id, timer generation); events the
    // queue refused are appended again.
    caf::reacts_to<tick_atom, std::uint64_t, std::uint64_t>,
    caf::reacts_to<tick_atom>,
    // A reload (SIGHUP): the endpoints now, by name. One that stays takes other URLs, secrets,
    // filters, batch sizes or timeouts (with a POST in flight, once its answer is in); one added
    // starts with what is queued under its name; one removed stops, its pending events stay
    // queued on disk under its name (a warning says how many). The answer: "" when taken, else
    // why not (nothing was changed).
    caf::replies_to<reload_atom, std::vector<WebhookEndpoint>>::with<std::string>>;

struct WebhookOptions {
  std::string queue_path;
  std::vector<WebhookEndpoint> endpoints;
};

// Opens the queue and spawns the actor. Throws std::runtime_error (naming the endpoint) when
// the queue cannot be opened or an endpoint is invalid (bad URL, empty or duplicate name,
// max_batch 0, unreadable CA file). The io_context must outlive the actor.
webhook_actor spawn_webhook_actor(caf::actor_system& system, boost::asio::io_context& io,
                               WebhookOptions options, metrics_actor metrics);

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::WebhookEvents)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<volley::WebhookEndpoint>)
