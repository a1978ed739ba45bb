#include "api/lifecycle_api.hpp"

#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/http_json.hpp"
#include "core/util/log_fields.hpp"

namespace volley::api {

namespace {

// What an operator would want to find again after an incident: everything that changes state
// under /api/v1/ except sending mail itself (injection is counted and has its own events).
bool audited(const HttpRequest& req) {
  if (req.method == "GET" || req.method == "HEAD") return false;
  const std::string_view path = req.path();
  if (!path.starts_with("/api/v1/")) return false;
  if (path == "/api/v1/messages" || path == "/api/v1/messages/batch") return false;
  return true;
}

}  // namespace

Handler make_drain_gate(std::shared_ptr<const std::atomic<bool>> draining, Handler next) {
  return [draining = std::move(draining), next = std::move(next)](HttpRequest&& req, Responder respond) {
    if (!draining->load(std::memory_order_relaxed) || req.path() == "/metrics")
      return next(std::move(req), std::move(respond));
    HttpResponse r = error_response(503, "draining", "volleyd is shutting down: send to another instance, or again after its restart");
    r.headers.emplace_back("Retry-After", "30");
    respond(std::move(r));
  };
}

Handler make_audit_handler(Handler next) {
  return [next = std::move(next)](HttpRequest&& req, Responder respond) {
    if (!audited(req)) return next(std::move(req), std::move(respond));
    auto line = std::make_shared<std::string>(fmt::format("audit: {} {}", req.method, req.target.substr(0, 300)));
    *line += util::log_fields("key", req.key_name.empty() ? "-" : req.key_name, "tenant", req.tenant, "admin", req.admin).str();
    next(std::move(req), [line, respond = std::move(respond)](HttpResponse r) {
      util::append_log_field(*line, "status", std::to_string(r.status));
      spdlog::info("{}", *line);
      respond(std::move(r));
    });
  };
}

Handler make_reload_handler(ReloadFn reload, Handler next) {
  return [reload = std::move(reload), next = std::move(next)](HttpRequest&& req, Responder respond) {
    if (req.path() != "/api/v1/reload") return next(std::move(req), std::move(respond));
    if (req.method != "POST") {
      HttpResponse r = error_response(405, "method_not_allowed", "use POST");
      r.headers.emplace_back("Allow", "POST");
      return respond(std::move(r));
    }
    if (!req.admin)
      return respond(error_response(403, "forbidden", "this API key may not reload the configuration (admin = false)"));
    const std::string who = "key=" + (req.key_name.empty() ? std::string("-") : req.key_name);
    reload(who, [respond = std::move(respond)](ReloadAnswer a) {
      if (!a.ok) return respond(error_response(422, "invalid_configuration", a.error));
      nlohmann::json body{{"reloaded", true}, {"changed", a.changed}, {"restart_required", a.restart_required}};
      respond(json_response(200, body.dump()));
    });
  };
}

}  // namespace volley::api
