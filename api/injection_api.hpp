#pragma once
// The injection API's routes on top of HttpServer:
//   POST /api/v1/messages          one message  -> 202 {"id","recipients":[{"email","id","status"}]}
//   POST /api/v1/messages/batch    {"messages":[...]} (<= max_batch), all or nothing
//                                  -> 202 {"messages":[<answer per message>]}
//   GET  /api/v1/messages/{id}     a recipient's status, from the status source
//   GET  /healthz                  200 {"status":"ok"}
//   GET  /metrics                  Prometheus text format
// A message may name its IP pool ("pool"); an unknown pool is 400 unknown_pool.
// A message is answered 202 only after the spool actor has durably committed it. Errors are
// {"error":{"code","message","field"}} with the status of volley::PrepareError, or 413/415/404/
// 405/503 from this layer.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>

#include "api/http_server.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/message/prepare.hpp"

namespace volley::api {

// Looks up one recipient id and answers once, from any thread, with its status JSON object or
// nullopt when the id is unknown.
using StatusLookup =
    std::function<void(std::string rcpt_id, std::function<void(std::optional<std::string> json)> answer)>;

struct InjectionApiConfig {
  caf::actor spool;  // receives (put_atom, InjectBatchPtr)
  PrepareOptions prepare;
  StatusLookup status;                          // empty: GET /api/v1/messages/{id} answers 503
  std::function<std::string()> render_metrics;  // empty: /metrics answers an empty page
  // Messages accepted by the API and handed to the spool but not yet committed (or failed).
  // The API increases it when it hands a batch over and decreases it when the spool answers;
  // share it to export it as a gauge. Created when null.
  std::shared_ptr<std::atomic<std::int64_t>> pending;
  // Above this many pending messages, injection answers 503 with Retry-After before doing any
  // work (parsing included): the spool is the bottleneck and queuing more only adds latency.
  std::int64_t max_pending = 50'000;
  std::size_t max_batch = 1'000;
  int retry_after_seconds = 1;
  // The pools a message may ask for ("pool"), and the rules that choose one when it does not.
  delivery::IpPools pools = delivery::IpPools::builtin("localhost");
};

Handler make_injection_handler(InjectionApiConfig config);

}  // namespace volley::api
