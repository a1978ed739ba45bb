#include "api/template_api.hpp"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "api/disk_guard.hpp"
#include "api/http_json.hpp"
#include "core/template/stored.hpp"
#include "storage/template_store.hpp"

namespace volley::api {

namespace {

using nlohmann::json;
using templates::StoredTemplate;

constexpr std::string_view kPath = "/api/v1/templates";
constexpr std::string_view kPrefix = "/api/v1/templates/";
constexpr std::size_t kMaxListed = 1000;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse not_found(std::string_view name, std::optional<std::uint32_t> version = std::nullopt) {
  return error_response(404, "not_found",
                        "no template named \"" + std::string(name.substr(0, 64)) + "\"" +
                            (version ? " with version " + std::to_string(*version) : ""),
                        "name");
}

class TemplateApi {
 public:
  TemplateApi(TemplateApiConfig cfg, Handler next) : cfg_(std::move(cfg)), next_(std::move(next)) {}
  ~TemplateApi() { worker_.join(); }
  TemplateApi(const TemplateApi&) = delete;
  TemplateApi& operator=(const TemplateApi&) = delete;

  // The destructor joins the worker, so the tasks it runs may use `this`.
  void handle(HttpRequest&& req, Responder respond) const {
    const std::string_view path = req.path();
    const bool ours = path == kPath || (path.size() > kPrefix.size() && path.substr(0, kPrefix.size()) == kPrefix);
    if (!ours) return next_(std::move(req), std::move(respond));
    boost::asio::post(worker_, [this, req = std::move(req), respond = std::move(respond)]() mutable {
      serve(std::move(req), std::move(respond));
    });
  }

 private:
  void serve(HttpRequest&& req, Responder respond) const {
    const std::string_view path = req.path();
    if (path == kPath) {
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      if (!cfg_.store) return respond(unavailable());
      json list = json::array();
      for (const auto& t : cfg_.store->list(req.tenant, kMaxListed)) list.push_back(templates::template_json(t));
      return respond(json_response(200, dump(json{{"templates", std::move(list)}})));
    }
    if (req.method != "GET" && req.method != "PUT" && req.method != "DELETE")
      return respond(method_not_allowed("GET, PUT, DELETE"));
    const std::string name(path.substr(kPrefix.size()));
    if (!templates::valid_template_name(name)) {
      if (req.method == "GET" || req.method == "DELETE") return respond(not_found(name));
      return respond(error_response(400, "invalid_field", "a template's name is 1 to 64 of A-Z a-z 0-9 _ . -", "name"));
    }
    if (!cfg_.store) return respond(unavailable());
    if (req.method != "GET" && cfg_.disk_guard && cfg_.disk_guard->refuse(GuardedEdge::suppressions))
      return respond(storage_full_response());
    if (req.method == "GET") return get(req, name, std::move(respond));
    if (req.method == "DELETE") {
      std::string error;
      if (!cfg_.store->remove(req.tenant, name, &error)) {
        if (!error.empty()) return respond(unavailable(error));
        return respond(not_found(name));
      }
      HttpResponse gone;
      gone.status = 204;
      gone.content_type.clear();
      return respond(std::move(gone));
    }
    json body;
    if (auto refused = parse_json_body(req, &body)) return respond(std::move(*refused));
    auto checked = templates::template_from_request(body);
    if (auto* err = std::get_if<templates::FieldError>(&checked)) {
      const bool unknown = err->message.rfind("unknown member", 0) == 0;
      return respond(error_response(400, unknown ? "unknown_field" : "invalid_template", err->message, err->field));
    }
    auto t = std::get<StoredTemplate>(std::move(checked));
    t.name = name;
    std::string error;
    auto stored = cfg_.store->put(req.tenant, std::move(t), &error);
    if (!stored) return respond(unavailable(error));
    respond(json_response(201, dump(templates::template_json(*stored))));
  }

  void get(const HttpRequest& req, const std::string& name, Responder respond) const {
    std::optional<std::uint32_t> version;
    if (auto given = query_parameter(req.target, "version")) {
      std::uint32_t v = 0;
      const char* end = given->data() + given->size();
      const auto [ptr, ec] = std::from_chars(given->data(), end, v);
      if (given->empty() || ec != std::errc() || ptr != end || v == 0)
        return respond(error_response(400, "invalid_field", "version must be a positive whole number", "version"));
      version = v;
    }
    auto found = cfg_.store->get(req.tenant, name, version);
    if (!found) return respond(not_found(name, version));
    respond(json_response(200, dump(templates::template_json(*found))));
  }

  static HttpResponse unavailable(const std::string& why = "") {
    return error_response(503, "templates_unavailable",
                          "stored templates are not available" + (why.empty() ? "" : ": " + why));
  }

  TemplateApiConfig cfg_;
  Handler next_;
  mutable boost::asio::thread_pool worker_{1};
};

}  // namespace

Handler make_template_handler(TemplateApiConfig cfg, Handler next) {
  return serve<TemplateApi>(std::move(cfg), std::move(next));
}

}  // namespace volley::api
