#pragma once
// The injection API's routes on top of HttpServer:
//   POST /api/v1/messages          one message  -> 202 {"id","recipients":[{"email","id","status"}]}
//   POST /api/v1/messages/batch    {"messages":[...]} (<= max_batch), all or nothing
//                                  -> 202 {"messages":[<answer per message>]}
//   GET  /api/v1/messages/{id}     a recipient's status, or a message's with all its recipients',
//                                  from the status source; another tenant's is 404 unless the
//                                  key is an admin key
//   GET  /healthz                  200 {"status":"ok"}
//   GET  /metrics                  Prometheus text format
// A message may name its IP pool ("pool"); an unknown pool is 400 unknown_pool.
// A recipient on its tenant's suppression list is not spooled: the answer lists it with
// "status":"suppressed" and the entry's "reason" (the others "queued"). Recipient ids keep
// their index in the message ("<id>-<i>"), so ids do not shift; the stored message counts only
// the recipients spooled, and a message without any is not spooled at all.
// A message is answered 202 only after the spool actor has durably committed it. Errors are
// {"error":{"code","message","field"}} with the status of volley::message::PrepareError, or 413/415/404/
// 405/503 from this layer.
// Idempotency-Key: a key is the tenant's and the endpoint's own; repeated within 24 h with the
// same body it gets the first answer again, with another body 422 idempotency_key_reused.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "api/message_intake.hpp"
#include "net/http_server.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/message/prepare.hpp"
#include "core/config/config.hpp"
#include "api/unsubscribe_injection.hpp"

namespace volley::storage {
class SuppressionList;
class TemplateStore;
}

#include "api/reloadable_pools.hpp"

namespace volley::api {

class DiskGuard;

// What a status lookup found: the JSON to answer and the tenant it belongs to.
struct StatusFound {
  std::string tenant;
  std::string json;
};

// Looks up a recipient id or a message id and answers once, from any thread, with the
// recipient's status (a message: all of its recipients') or nullopt when the id is unknown.
using StatusLookup =
    std::function<void(std::string id, std::function<void(std::optional<StatusFound> found)> answer)>;

struct InjectionApiConfig {
  caf::actor spool;  // receives (put_atom, InjectBatchPtr)
  message::PrepareOptions prepare;
  StatusLookup status;                          // empty: GET /api/v1/messages/{id} answers 503
  std::function<std::string()> render_metrics;  // empty: /metrics answers an empty page
  // Messages accepted by the API and handed to the spool but not yet committed (or failed).
  // The API increases it when it hands a batch over and decreases it when the spool answers;
  // share it to export it as a gauge. Created when null.
  std::shared_ptr<std::atomic<std::int64_t>> pending;
  // Above this many pending messages, injection answers 503 with Retry-After before doing any
  // work (parsing included): the spool is the bottleneck and queuing more only adds latency.
  std::int64_t max_pending = Config::Http::kDefaultMaxPending;
  std::size_t max_batch = 1'000;
  int retry_after_seconds = 1;
  // The pools a message may ask for ("pool"), and the rules that choose one when it does not.
  PoolsRef pools = pools_ref(delivery::IpPools::builtin("localhost"));
  // Recipients on their tenant's list are not spooled (null: no list). Read on the HTTP thread.
  std::shared_ptr<const storage::SuppressionList> suppressions;
  // The suppressed recipients of one request, called once after the spool committed its
  // messages (at once when it had none to spool); never for a refused or failed request, nor
  // for an idempotent replay. Called on the spool actor's thread or the HTTP thread: must not
  // block. May be empty.
  std::function<void(std::vector<SuppressedRecipient>)> on_suppressed;
  // While it says the disk is (nearly) full, injection answers 503 storage_full (null: never).
  std::shared_ptr<DiskGuard> disk_guard;
  // [unsubscribe]: List-Unsubscribe headers (null: not configured; docs/unsubscribe.md).
  std::shared_ptr<const UnsubscribeHeaders> unsubscribe;
  // Stored templates ("template": docs/templates.md; null: none). Read on the HTTP thread.
  std::shared_ptr<const storage::TemplateStore> templates;
};

Handler make_injection_handler(InjectionApiConfig config);

// HttpServerOptions::body_too_large for the API listener: a batch over the HTTP body limit is
// 413 too_large naming the batch limit (field "messages"), anything else the request body limit.
HttpResponse body_too_large(std::string_view target, std::size_t max_body_bytes);

}  // namespace volley::api
