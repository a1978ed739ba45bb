#include "api/cancel_api.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "api/http_json.hpp"
#include "api/router_request.hpp"

namespace volley::api {

namespace {

using nlohmann::json;

constexpr auto kRouterTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxName = 128;  // message ids and campaign names (prepare.cpp's limit)

// "/api/v1/<collection>/<name>/cancel" -> name, "" when the path is not of that form.
std::string_view name_in(std::string_view path, std::string_view collection) {
  constexpr std::string_view kPrefix = "/api/v1/";
  constexpr std::string_view kSuffix = "/cancel";
  if (path.substr(0, kPrefix.size()) != kPrefix) return {};
  path.remove_prefix(kPrefix.size());
  if (path.substr(0, collection.size()) != collection || path.substr(collection.size(), 1) != "/") return {};
  path.remove_prefix(collection.size() + 1);
  if (path.size() <= kSuffix.size() || path.substr(path.size() - kSuffix.size()) != kSuffix) return {};
  path.remove_suffix(kSuffix.size());
  return path;
}

bool valid_id(std::string_view id) {
  return id.size() <= kMaxName && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
}

// A campaign name from the path (campaigns are free text, percent-encoded in a path); nullopt
// when the encoding is broken or the name could not be a campaign (prepare.cpp's rules).
std::optional<std::string> campaign_name(std::string_view s) {
  auto out = percent_decode(s);
  if (!out || out->empty() || out->size() > kMaxName) return std::nullopt;
  for (unsigned char c : *out)
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  return out;
}

// One request to the router (api/router_request.hpp).
template <class... Ts, class OnReply>
void ask_router(const CancelApiConfig& cfg, Responder respond, OnReply on_reply, Ts... args) {
  api::ask_router(*cfg.system, cfg.router, kRouterTimeout, std::move(respond), std::move(on_reply), std::move(args)...);
}

class CancelApi {
 public:
  CancelApi(CancelApiConfig cfg, Handler next) : cfg_(std::move(cfg)), next_(std::move(next)) {}

  void handle(HttpRequest&& req, Responder respond) const {
    const std::string_view path = req.path();
    const std::string_view message = name_in(path, "messages");
    const std::string_view campaign = name_in(path, "campaigns");
    if (message.empty() && campaign.empty()) return next_(std::move(req), std::move(respond));
    if (req.method != "POST") return respond(method_not_allowed("POST"));
    if (!message.empty()) return cancel_message(std::string(message), req.tenant, std::move(respond));
    auto name = campaign_name(campaign);
    if (!name)
      return respond(error_response(400, "invalid_field", "not a campaign name (at most 128 bytes, no control characters)",
                                    "campaign"));
    json answer = {{"campaign", *name}};
    ask_router(cfg_, respond, [respond, answer](std::uint64_t n) mutable {
      answer["cancelled"] = n;
      respond(json_response(200, answer.dump(-1, ' ', false, json::error_handler_t::replace)));
    }, cancel_atom::value, campaign_atom::value, req.tenant, *name);
  }

 private:
  void cancel_message(std::string id, std::string tenant, Responder respond) const {
    auto not_found = [id] { return error_response(404, "not_found", "no message with id " + id, "id"); };
    if (!valid_id(id)) return respond(not_found());
    ask_router(cfg_, respond, [respond, id, tenant, not_found, status = cfg_.status](std::uint64_t n) {
      if (n > 0) return respond(json_response(200, json{{"id", id}, {"cancelled", n}}.dump()));
      // Not held: known to this tenant (409) or not at all (404).
      if (!status) return respond(not_found());
      status(id, [respond, tenant, not_found](std::optional<StatusFound> found) {
        if (!found || found->json.empty() || found->tenant != tenant) return respond(not_found());
        respond(error_response(409, "not_scheduled",
                               "the message is not waiting for its send time: its first attempt was made or is "
                               "under way, or it was delivered or cancelled already"));
      });
    }, cancel_atom::value, tenant, id);
  }

  CancelApiConfig cfg_;
  Handler next_;
};

}  // namespace

Handler make_cancel_handler(CancelApiConfig config, Handler next) {
  return serve<CancelApi>(std::move(config), std::move(next));
}

}  // namespace volley::api
