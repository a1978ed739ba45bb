#pragma once
// JSON answers in the shape every Volley API answer has; errors are
//   {"error":{"code":"...","message":"...","field":"..."}}
// with a machine-readable code, a message for people and the JSON path of the offending field
// ("" when the error is not about one field).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "net/http_server.hpp"

namespace volley::api {

// json_response() and error_response(): net/http_server.hpp (the server answers in this shape too).
// 405 with the Allow header: `allow` is the method the resource takes.
HttpResponse method_not_allowed(std::string_view allow);

// The Handler of an API object made of `args` (its config and the next handler): each copy of the
// Handler shares the one object, whose `handle(HttpRequest&&, Responder) const` answers.
template <class Api, class... Args>
Handler serve(Args&&... args) {
  auto api = std::make_shared<const Api>(std::forward<Args>(args)...);
  return [api](HttpRequest&& req, Responder respond) { api->handle(std::move(req), std::move(respond)); };
}

// ---- reading requests (shared by the API handlers) ----

// nlohmann's parser is iterative, but copying, dumping or comparing a value recurses: bodies
// nested deeper than this are refused before anything touches them.
inline constexpr std::size_t kMaxJsonDepth = 64;

// "application/json", any case, optionally with parameters ("; charset=utf-8").
bool is_json_media_type(std::optional<std::string_view> content_type);
// Parses a JSON request body into *out. nullopt on success, else the answer that refuses it:
// 415 unsupported_media_type for another Content-Type, 400 invalid_json (with the position),
// 400 duplicate_key (with the repeated member's path as the field).
std::optional<HttpResponse> parse_json_body(const HttpRequest& req, nlohmann::json* out,
                                            std::size_t max_depth = kMaxJsonDepth);
// The same for JSON text whatever its Content-Type: 400 invalid_json or duplicate_key.
// `readable_after`: bytes past the text's end that may be read (json::parse_request_json).
std::optional<HttpResponse> parse_json_text(std::string_view text, nlohmann::json* out,
                                            std::size_t max_depth = kMaxJsonDepth, std::size_t readable_after = 0);
// 400 unknown_field for the first member of `object` (whose path is `parent`) that `allowed`
// lacks (a volley::json::Members list's names()); nullopt when every member is known.
std::optional<HttpResponse> refuse_unknown_members(const nlohmann::json& object,
                                                   std::span<const std::string_view> allowed,
                                                   std::string_view parent = {});
// "%41b%2Bc" -> "Ab+c". nullopt for a malformed escape or an escaped NUL; '+' stays '+'.
std::optional<std::string> percent_decode(std::string_view s);
// The percent-decoded value of the first `name` parameter of the target's query string ('+'
// read as a space); nullopt when absent or undecodable.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

}  // namespace volley::api
