#include "api/http_json.hpp"

#include <nlohmann/json.hpp>

namespace volley::api {

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            std::string_view field) {
  const nlohmann::json j = {{"error",
                             {{"code", std::string(code)},
                              {"message", std::string(message)},
                              {"field", std::string(field)}}}};
  // Messages may quote client input: never let invalid UTF-8 turn an answer into an exception.
  return json_response(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse method_not_allowed(std::string_view allow) {
  auto r = error_response(405, "method_not_allowed", "method not allowed here; allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace volley::api
