#pragma once
// One request from an HTTP handler to the delivery router, answered through the handler's
// Responder: the queue-control and cancel endpoints ask the router and must never block the
// connection's strand while it answers.
#include <chrono>
#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "net/http_server.hpp"

namespace volley::api {

// Runs `args` as one request to `router` on a short-lived actor and calls on_reply with the
// router's answer, or answers 503 router_unavailable when it does not come within `timeout`.
// The Responder may be called from any thread. (Spawn arguments, not captures: CAF 0.17 trips
// UBSan on argument-less actor functions, see the spool actor.)
template <class... Ts, class OnReply>
void ask_router(caf::actor_system& system, const router_actor& router, std::chrono::seconds timeout, Responder respond,
                OnReply on_reply, Ts... args) {
  system.spawn(
      [](caf::event_based_actor* self, router_actor to, std::chrono::seconds wait, Responder answer, OnReply reply,
         Ts... request) {
        self->request(to, wait, std::move(request)...).then(reply, [answer](const caf::error& err) {
          answer(error_response(503, "router_unavailable", "the delivery router did not answer: " + to_string(err)));
        });
      },
      router, timeout, std::move(respond), std::move(on_reply), std::move(args)...);
}

}  // namespace volley::api
