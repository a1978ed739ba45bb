#include "api/queue_admin_api.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "api/http_json.hpp"
#include "api/router_request.hpp"
#include "core/config/units.hpp"
#include "core/delivery/rate.hpp"
#include "core/json/members.hpp"
#include "core/message/address.hpp"
#include "core/util/ascii.hpp"
#include "core/util/ids.hpp"

namespace volley::api {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxReason = 500;
constexpr auto kRouterTimeout = std::chrono::seconds(90);  // longer than the router gives a bounce

// The members each action's body may have: anything else is 400 unknown_field.
constexpr volley::json::Members kSuspend{"reason", "duration"};
constexpr volley::json::Members kBounce{"reason"};
constexpr volley::json::Members<0> kResume{};

// "/api/v1/queues/example.com/suspend" -> {"queues", "example.com", "suspend"}
struct AdminPath {
  std::string_view collection;  // queues, pools, sources
  std::string_view name;        // "" for the collection itself
  std::string_view action;      // suspend, resume, bounce; "" for the collection
};

std::optional<AdminPath> split(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  AdminPath p;
  const auto slash = path.find('/');
  p.collection = path.substr(0, slash);
  if (p.collection != "queues" && p.collection != "pools" && p.collection != "sources") return std::nullopt;
  if (slash == std::string_view::npos) return p;
  path.remove_prefix(slash + 1);
  const auto last = path.rfind('/');
  if (last == std::string_view::npos) return AdminPath{p.collection, path, ""};
  return AdminPath{p.collection, path.substr(0, last), path.substr(last + 1)};
}

// One request to the router (api/router_request.hpp).
template <class... Ts, class OnReply>
void ask_router(const QueueAdminConfig& cfg, Responder respond, OnReply on_reply, Ts... args) {
  api::ask_router(*cfg.system, cfg.router, kRouterTimeout, std::move(respond), std::move(on_reply), std::move(args)...);
}

json limits_json(const delivery::SourceSnapshot& s) {
  return {{"max_connections", s.max_connections},
          {"max_connection_rate", delivery::format_rate(s.max_connection_rate)},
          {"max_message_rate", delivery::format_rate(s.max_message_rate)},
          {"max_messages_per_connection", s.max_messages_per_connection},
          {"max_recipients_per_transaction", s.max_recipients_per_transaction}};
}

json queue_json(const delivery::QueueSnapshot& q) {
  json out = {{"domain", q.domain}, {"queued", q.queued}, {"connections", q.connections}, {"state", q.state}};
  if (q.detailed) {
    out["ready"] = q.ready;
    out["deferred"] = q.deferred;
    out["in_flight"] = q.in_flight;
    out["oldest_age_seconds"] = q.oldest_age_seconds;
    json sources = json::array();
    for (const auto& src : q.sources) {
      json s = {{"source", src.source}, {"ready", src.ready}, {"connections", src.connections}};
      s["limits"] = limits_json(src);
      if (src.path) {
        s["path_connections"] = src.path->connections;
        s["current_max_connections"] = src.path->max_connections;
        s["current_message_rate"] = delivery::format_rate(src.path->message_rate);
        s["backoff_level"] = src.path->backoff_level;
      }
      sources.push_back(std::move(s));
    }
    out["sources"] = std::move(sources);
    if (q.rollup) out["rollup"] = *q.rollup;
    if (!q.provider.empty()) out["provider"] = q.provider;
  }
  if (q.suspended) {
    out["suspended"] = {{"reason", q.suspended->reason}, {"since_ms", q.suspended->since_ms}};
    if (q.suspended->until_ms != 0) out["suspended"]["until_ms"] = q.suspended->until_ms;
  }
  return out;
}

// The optional JSON body of an action: an object with no members but `allowed`, or nothing at all.
std::optional<json> action_body(const HttpRequest& req, Responder& respond, std::span<const std::string_view> allowed) {
  if (req.body.empty()) return json::object();
  json body;
  if (auto refused = parse_json_text(req.body, &body)) {
    respond(std::move(*refused));
    return std::nullopt;
  }
  if (!body.is_object()) {
    respond(error_response(400, "invalid_json", "the body must be a JSON object (or empty)"));
    return std::nullopt;
  }
  if (auto unknown = refuse_unknown_members(body, allowed)) {
    respond(std::move(*unknown));
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> reason_of(const json& body, volley::json::Member reason, Responder& respond) {
  auto it = body.find(reason.name);
  if (it == body.end()) return std::string();
  if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxReason) {
    respond(error_response(400, "invalid_field", "reason must be a string of at most 500 bytes", "reason"));
    return std::nullopt;
  }
  const auto& r = it->get_ref<const std::string&>();
  for (unsigned char c : r) {
    if (c < 0x20 || c == 0x7f) {  // it ends up in SMTP-like reply texts and log lines
      respond(error_response(400, "invalid_field", "reason may not contain control characters", "reason"));
      return std::nullopt;
    }
  }
  return r;
}

class QueueAdminApi {
 public:
  QueueAdminApi(QueueAdminConfig cfg, Handler next) : cfg_(std::move(cfg)), next_(std::move(next)) {}

  void handle(HttpRequest&& req, Responder respond) const {
    auto path = split(req.path());
    if (!path) return next_(std::move(req), std::move(respond));
    if (!req.admin)
      return respond(error_response(403, "forbidden", "this API key may not use queue control (admin = false)"));
    if (path->name.empty()) {
      if (path->collection != "queues") return respond(error_response(404, "not_found", "no such resource"));
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      return list(req, std::move(respond));
    }
    if (req.method != "POST") return respond(method_not_allowed("POST"));
    auto scope = scope_of(*path, respond);
    if (!scope) return;
    if (path->action == "suspend") return suspend(*scope, req, std::move(respond));
    if (path->action == "resume") return resume(*scope, req, std::move(respond));
    if (path->action == "bounce") {
      if (scope->kind == QueueScope::Kind::source)
        return respond(error_response(400, "unsupported",
                                      "a source has no queue of its own: bounce a domain's or a pool's queue"));
      return bounce(*scope, req, std::move(respond));
    }
    respond(error_response(404, "not_found", "unknown action \"" + std::string(path->action.substr(0, 32)) +
                                                 "\"; use suspend, resume or bounce"));
  }

 private:
  std::optional<QueueScope> scope_of(const AdminPath& p, Responder& respond) const {
    QueueScope scope;
    scope.name = std::string(p.name);
    if (p.collection == "queues") {
      std::string error;
      auto mailbox = message::parse_address("postmaster@" + scope.name, &error);
      if (!mailbox || scope.name.find('/') != std::string::npos) {
        respond(error_response(400, "invalid_domain", "not a domain name: " + error, "domain"));
        return std::nullopt;
      }
      scope.kind = QueueScope::Kind::domain;
      scope.name = mailbox->domain_key();
    } else if (p.collection == "pools") {
      if (!cfg_.pools->get()->pool(scope.name)) {
        respond(error_response(404, "not_found", "no IP pool named \"" + scope.name.substr(0, 64) + "\"", "pool"));
        return std::nullopt;
      }
      scope.kind = QueueScope::Kind::pool;
    } else {
      if (!cfg_.pools->get()->source(scope.name)) {
        respond(error_response(404, "not_found", "no source named \"" + scope.name.substr(0, 64) + "\"", "source"));
        return std::nullopt;
      }
      scope.kind = QueueScope::Kind::source;
    }
    return scope;
  }

  static const char* kind_name(QueueScope::Kind k) {
    return k == QueueScope::Kind::domain ? "domain" : k == QueueScope::Kind::pool ? "pool" : "source";
  }

  // ?domain= (one destination) and ?pool= (the destinations the pool's sources serve, with only
  // those sources): what volleyctl queues --domain/--pool ask for.
  void list(const HttpRequest& req, Responder respond) const {
    std::string domain = query_parameter(req.target, "domain").value_or("");
    for (auto& c : domain) c = util::ascii_lower(c);
    std::vector<std::string> pool_sources;
    const auto pool_name = query_parameter(req.target, "pool");
    if (pool_name) {
      const auto pools = cfg_.pools->get();  // this request's version (a reload may replace them)
      const auto* pool = pools->pool(*pool_name);
      if (!pool) return respond(error_response(404, "not_found", "no IP pool named \"" + pool_name->substr(0, 64) + "\"", "pool"));
      for (const auto& m : pool->members) pool_sources.push_back(m.source);
    }
    auto keep = [domain, pool_sources, by_pool = pool_name.has_value()](std::vector<delivery::QueueSnapshot> queues) {
      std::erase_if(queues, [&](delivery::QueueSnapshot& q) {
        if (!domain.empty() && q.domain != domain) return true;
        if (!by_pool) return false;
        std::erase_if(q.sources, [&](const delivery::SourceSnapshot& s) {
          return std::find(pool_sources.begin(), pool_sources.end(), s.source) == pool_sources.end();
        });
        return q.sources.empty();
      });
      return queues;
    };
    ask_router(cfg_, respond, [respond, cfg = cfg_, keep](const std::vector<delivery::QueueSnapshot>& all) {
      ask_router(cfg, respond, [respond, queues = keep(all)](std::uint64_t messages, std::uint64_t recipients) {
        respond(json_response(200, render_queues(queues, ScheduledCount{messages, recipients})));
      }, scheduled_atom::value);
    }, queues_atom::value);
  }

  void suspend(const QueueScope& scope, const HttpRequest& req, Responder respond) const {
    auto body = action_body(req, respond, kSuspend.names());
    if (!body) return;
    auto reason = reason_of(*body, kSuspend("reason"), respond);
    if (!reason) return;
    Suspension s;
    s.since_ms = now_unix_ms();
    s.reason = std::move(*reason);
    if (auto it = body->find(kSuspend("duration").name); it != body->end()) {
      std::optional<std::chrono::milliseconds> d;
      if (it->is_string()) d = parse_duration(it->get<std::string>());
      if (it->is_number_unsigned() && it->get<std::uint64_t>() <= 3650ull * 24 * 3600)
        d = std::chrono::seconds(it->get<std::uint64_t>());
      if (!d || d->count() <= 0) {
        return respond(error_response(400, "invalid_field",
                                      "duration must be like \"30m\", \"2h\", or a number of seconds", "duration"));
      }
      s.until_ms = s.since_ms + d->count();
    }
    json answer = {{kind_name(scope.kind), scope.name}, {"suspended", true}, {"reason", s.reason}};
    if (s.until_ms != 0) answer["until_ms"] = s.until_ms;
    ask_router(cfg_, respond, [respond, answer](bool) { respond(json_response(200, answer.dump())); },
               suspend_atom::value, scope, s);
  }

  void resume(const QueueScope& scope, const HttpRequest& req, Responder respond) const {
    if (!action_body(req, respond, kResume.names())) return;
    json answer = {{kind_name(scope.kind), scope.name}};
    ask_router(cfg_, respond, [respond, answer](bool was) mutable {
      answer["resumed"] = was;  // false: it was not suspended
      respond(json_response(200, answer.dump()));
    }, resume_atom::value, scope);
  }

  void bounce(const QueueScope& scope, const HttpRequest& req, Responder respond) const {
    auto body = action_body(req, respond, kBounce.names());
    if (!body) return;
    auto reason = reason_of(*body, kBounce("reason"), respond);
    if (!reason) return;
    json answer = {{kind_name(scope.kind), scope.name}};
    ask_router(cfg_, respond, [respond, answer](std::uint64_t n) mutable {
      answer["bounced"] = n;
      respond(json_response(200, answer.dump()));
    }, bounce_atom::value, scope, *reason);
  }

  QueueAdminConfig cfg_;
  Handler next_;
};

}  // namespace

std::string render_queues(const std::vector<delivery::QueueSnapshot>& queues, std::optional<ScheduledCount> scheduled) {
  json list = json::array();
  for (const auto& q : queues) list.push_back(queue_json(q));
  json out{{"queues", std::move(list)}};
  if (scheduled) out["scheduled"] = {{"messages", scheduled->messages}, {"recipients", scheduled->recipients}};
  return out.dump();
}

Handler make_queue_admin_handler(QueueAdminConfig config, Handler next) {
  return serve<QueueAdminApi>(std::move(config), std::move(next));
}

}  // namespace volley::api
