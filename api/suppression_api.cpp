#include "api/suppression_api.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "api/disk_guard.hpp"
#include "api/http_json.hpp"
#include "core/json/members.hpp"
#include "core/message/address.hpp"

namespace volley::api {

namespace {

using nlohmann::json;
namespace sup = volley::suppression;

constexpr std::string_view kPath = "/api/v1/suppressions";
constexpr std::string_view kPrefix = "/api/v1/suppressions/";
constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;
constexpr std::size_t kMaxPost = 1000;

// The members of one entry, and of the body that carries several: anything else is 400
// unknown_field.
constexpr volley::json::Members kEntry{"email", "reason", "category", "description"};
constexpr volley::json::Members kEntries{"suppressions"};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json to_json(const sup::Entry& e) {
  return {{"email", e.email},         {"tenant", e.tenant},
          {"reason", e.reason},       {"category", e.category},
          {"source", e.source},       {"description", e.description},
          {"created_at", e.created_at_ms}, {"updated_at", e.updated_at_ms}};
}

std::string located(const std::string& prefix, volley::json::Member field) {
  return volley::json::member_path(prefix, field.name);
}

// An address as the injection API would accept it, normalised; else the 400 answer.
std::variant<std::string, HttpResponse> checked_address(std::string_view address, const std::string& field) {
  std::string why;
  if (!message::parse_address(address, &why)) {
    return error_response(400, "invalid_address", "invalid email address: " + why, field);
  }
  auto normal = sup::normalize_address(address, &why);
  if (!normal) return error_response(400, "invalid_address", "invalid email address: " + why, field);
  return std::move(*normal);
}

// An optional string field: absent -> fallback; not a string, too long or with control
// characters (it ends up in log lines and events) -> the 400 answer.
std::variant<std::string, HttpResponse> text_field(const json& item, volley::json::Member name, std::size_t max,
                                                   std::string fallback, const std::string& prefix) {
  const auto it = item.find(name.name);
  if (it == item.end() || it->is_null()) return fallback;
  const std::string field = located(prefix, name);
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max) {
    return error_response(400, "invalid_field",
                          field + " must be a string of at most " + std::to_string(max) + " bytes", field);
  }
  const auto& s = it->get_ref<const std::string&>();
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f)
      return error_response(400, "invalid_field", field + " may not contain control characters", field);
  }
  return s;
}

// Whose list a request reads or changes: its key's tenant's. An admin key may name another
// tenant with ?tenant= (a name as [[api_key]] tenant takes); any other key naming another is 403.
std::variant<std::string, HttpResponse> acting_tenant(const HttpRequest& req) {
  auto named = query_parameter(req.target, "tenant");
  if (!named || *named == req.tenant) return req.tenant;
  if (!req.admin) return error_response(403, "forbidden", "only an admin key may name another tenant", "tenant");
  const bool valid = !named->empty() && named->size() <= 64 && std::all_of(named->begin(), named->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (!valid)
    return error_response(400, "invalid_field", "tenant must be 1 to 64 letters, digits, '.', '_' or '-'", "tenant");
  return std::move(*named);
}

// One entry of a POST; prefix is "" for the single form, "suppressions[i]" otherwise.
std::variant<sup::Entry, HttpResponse> entry_of(const json& item, const std::string& tenant,
                                                const std::string& prefix) {
  if (!item.is_object()) {
    return error_response(400, "invalid_field",
                          (prefix.empty() ? std::string("the body") : prefix) + " must be a JSON object", prefix);
  }
  if (auto unknown = refuse_unknown_members(item, kEntry.names(), prefix)) return std::move(*unknown);
  sup::Entry e;
  e.tenant = tenant;
  e.source = "api";
  const auto email = item.find(kEntry("email").name);
  const std::string email_field = located(prefix, kEntry("email"));
  if (email == item.end() || email->is_null())
    return error_response(400, "missing_field", "email is required", email_field);
  if (!email->is_string()) return error_response(400, "invalid_field", "email must be a string", email_field);
  auto address = checked_address(email->get_ref<const std::string&>(), email_field);
  if (auto* err = std::get_if<HttpResponse>(&address)) return std::move(*err);
  e.email = std::get<std::string>(std::move(address));

  struct Text {
    volley::json::Member name;
    std::size_t max;
    const char* fallback;
    std::string* out;
  };
  for (const Text& t : {Text{kEntry("reason"), sup::kMaxReason, "manual", &e.reason},
                        Text{kEntry("category"), sup::kMaxCategory, "", &e.category},
                        Text{kEntry("description"), sup::kMaxDescription, "", &e.description}}) {
    auto value = text_field(item, t.name, t.max, t.fallback, prefix);
    if (auto* err = std::get_if<HttpResponse>(&value)) return std::move(*err);
    *t.out = std::get<std::string>(std::move(value));
  }
  if (e.reason.empty()) e.reason = "manual";
  return e;
}

class SuppressionApi {
 public:
  SuppressionApi(SuppressionApiConfig cfg, Handler next) : cfg_(std::move(cfg)), next_(std::move(next)) {}
  ~SuppressionApi() { worker_.join(); }
  SuppressionApi(const SuppressionApi&) = delete;
  SuppressionApi& operator=(const SuppressionApi&) = delete;

  // The list's reads and synced writes go to RocksDB: they run on a worker thread of their own,
  // never on the HTTP thread that carries every API connection.
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
    const bool collection = path == kPath;
    const bool one = !collection;
    if (collection && req.method != "GET" && req.method != "POST")
      return respond(method_not_allowed("GET, POST"));
    if (one && req.method != "GET" && req.method != "DELETE") return respond(method_not_allowed("GET, DELETE"));
    if (!cfg_.list)
      return respond(error_response(503, "suppressions_unavailable", "the suppression list is not available"));
    auto tenant = acting_tenant(req);
    if (auto* err = std::get_if<HttpResponse>(&tenant)) return respond(std::move(*err));
    req.tenant = std::get<std::string>(std::move(tenant));
    if (req.method != "GET" && cfg_.disk_guard && cfg_.disk_guard->refuse(GuardedEdge::suppressions))
      return respond(storage_full_response());
    if (collection) return req.method == "GET" ? list(req, std::move(respond)) : add(req, std::move(respond));

    const auto decoded = percent_decode(path.substr(kPrefix.size()));
    if (!decoded)
      return respond(error_response(400, "invalid_address", "the address in the path is not percent-encoded properly", "email"));
    auto address = checked_address(*decoded, "email");
    if (auto* err = std::get_if<HttpResponse>(&address)) return respond(std::move(*err));
    const auto& email = std::get<std::string>(address);
    if (req.method == "GET") {
      auto found = cfg_.list->find(req.tenant, email);
      if (!found) return respond(not_found(email));
      return respond(json_response(200, dump(to_json(*found))));
    }
    if (!cfg_.list->remove(req.tenant, email, true)) return respond(not_found(email));
    HttpResponse gone;
    gone.status = 204;
    gone.content_type.clear();
    respond(std::move(gone));
  }

  static HttpResponse not_found(const std::string& email) {
    return error_response(404, "not_found", email + " is not on the suppression list", "email");
  }

  void list(const HttpRequest& req, Responder respond) const {
    std::size_t limit = kDefaultLimit;
    if (auto given = query_parameter(req.target, "limit")) {
      const char* end = given->data() + given->size();
      const auto [ptr, ec] = std::from_chars(given->data(), end, limit);
      if (given->empty() || ec != std::errc() || ptr != end || limit == 0 || limit > kMaxLimit) {
        return respond(error_response(400, "invalid_field",
                                      "limit must be a whole number from 1 to " + std::to_string(kMaxLimit), "limit"));
      }
    }
    const std::string cursor = query_parameter(req.target, "cursor").value_or("");
    const auto page = cfg_.list->list(req.tenant, cursor, limit);
    json entries = json::array();
    for (const auto& e : page.entries) entries.push_back(to_json(e));
    json body = {{"suppressions", std::move(entries)}, {"next_cursor", nullptr}};
    if (page.next_cursor) body["next_cursor"] = *page.next_cursor;
    respond(json_response(200, dump(body)));
  }

  void add(const HttpRequest& req, Responder respond) const {
    json body;
    if (auto refused = parse_json_body(req, &body)) return respond(std::move(*refused));
    if (!body.is_object()) return respond(error_response(400, "invalid_json", "the body must be a JSON object"));

    std::vector<sup::Entry> entries;
    const auto many = body.find(kEntries("suppressions").name);
    if (many != body.end()) {
      if (auto unknown = refuse_unknown_members(body, kEntries.names())) return respond(std::move(*unknown));
      if (!many->is_array() || many->empty() || many->size() > kMaxPost) {
        return respond(error_response(
            400, "invalid_field", "suppressions must be an array of 1 to " + std::to_string(kMaxPost) + " entries",
            "suppressions"));
      }
      entries.reserve(many->size());
      for (std::size_t i = 0; i < many->size(); ++i) {
        auto e = entry_of((*many)[i], req.tenant, "suppressions[" + std::to_string(i) + "]");
        if (auto* err = std::get_if<HttpResponse>(&e)) return respond(std::move(*err));
        entries.push_back(std::get<sup::Entry>(std::move(e)));
      }
    } else {
      auto e = entry_of(body, req.tenant, "");
      if (auto* err = std::get_if<HttpResponse>(&e)) return respond(std::move(*err));
      entries.push_back(std::get<sup::Entry>(std::move(e)));
    }

    std::string error;
    auto added = cfg_.list->add(std::move(entries), /*sync=*/true, &error);
    if (!added) {
      // Input was validated above: what is left is the disk.
      return respond(error_response(503, "suppressions_unavailable", "the suppression list could not be written: " + error));
    }
    bool created = false;
    json stored = json::array();
    for (const auto& a : *added) {
      created = created || a.created;
      stored.push_back(to_json(a.entry));
      if (cfg_.on_added) cfg_.on_added(a.entry);
    }
    const int status = created ? 201 : 200;
    if (many != body.end()) return respond(json_response(status, dump(json{{"suppressions", std::move(stored)}})));
    respond(json_response(status, dump(stored.front())));
  }

  SuppressionApiConfig cfg_;
  Handler next_;
  mutable boost::asio::thread_pool worker_{1};
};

}  // namespace

Handler make_suppression_handler(SuppressionApiConfig cfg, Handler next) {
  return serve<SuppressionApi>(std::move(cfg), std::move(next));
}

}  // namespace volley::api
