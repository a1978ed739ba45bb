#pragma once
// The API listener's part in the daemon's lifecycle (issue 17, docs/operations.md):
// - the drain gate: once shutdown begins, every request but /metrics is answered 503 (a load
//   balancer's /healthz probe sees it too), so clients go elsewhere while transactions finish;
// - the audit trail: each request that changes state (queue control, suppressions, templates,
//   cancels, reload) leaves one log line naming the API key that made it and the answer's status;
// - POST /api/v1/reload: reads the configuration file again, as SIGHUP does (admin keys only).
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/http_server.hpp"

namespace volley::api {

Handler make_drain_gate(std::shared_ptr<const std::atomic<bool>> draining, Handler next);

// Inside the authentication handler: it reads HttpRequest::key_name.
Handler make_audit_handler(Handler next);

struct ReloadAnswer {
  bool ok = false;
  std::vector<std::string> changed;           // sections now in force (e.g. "shaping", "api_key")
  std::vector<std::string> restart_required;  // sections that changed but take a restart
  std::string error;                          // !ok: every problem, with file, line and key
};
// Runs a reload off the io thread and calls `done` (from any thread) with what happened.
using ReloadFn = std::function<void(std::string who, std::function<void(ReloadAnswer)> done)>;

Handler make_reload_handler(ReloadFn reload, Handler next);

}  // namespace volley::api
