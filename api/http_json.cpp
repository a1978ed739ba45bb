#include "api/http_json.hpp"

#include <variant>

#include <nlohmann/json.hpp>

#include "core/json/members.hpp"
#include "core/json/request_json.hpp"
#include "core/util/ascii.hpp"

namespace volley::api {

HttpResponse method_not_allowed(std::string_view allow) {
  auto r = error_response(405, "method_not_allowed", "method not allowed here; allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = util::ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string_view v = *content_type;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (v.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (util::ascii_lower(v[i]) != kJson[i]) return false;
  }
  return true;
}

std::optional<HttpResponse> parse_json_body(const HttpRequest& req, nlohmann::json* out, std::size_t max_depth) {
  if (!is_json_media_type(req.header("content-type"))) {
    return error_response(415, "unsupported_media_type", "Content-Type must be application/json", "Content-Type");
  }
  // The server reads bodies with room for the parser's read-ahead (net/http_request_body.hpp).
  return parse_json_text(req.body, out, max_depth, req.body.capacity() - req.body.size());
}

std::optional<HttpResponse> parse_json_text(std::string_view text, nlohmann::json* out, std::size_t max_depth,
                                            std::size_t readable_after) {
  auto parsed = volley::json::parse_request_json(text, max_depth, readable_after);
  if (auto* err = std::get_if<volley::json::JsonError>(&parsed)) {
    return error_response(400, err->code, err->message, err->path);
  }
  *out = std::get<nlohmann::json>(std::move(parsed));
  return std::nullopt;
}

std::optional<HttpResponse> refuse_unknown_members(const nlohmann::json& object,
                                                   std::span<const std::string_view> allowed,
                                                   std::string_view parent) {
  auto unknown = volley::json::unknown_member(object, parent, allowed);
  if (!unknown) return std::nullopt;
  return error_response(400, "unknown_field", unknown->message, unknown->field);
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {  // each pass consumes one parameter
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = param.find('=');
    if (param.substr(0, eq) != name) continue;
    std::string value(eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1));
    for (char& c : value) {
      if (c == '+') c = ' ';
    }
    return percent_decode(value);
  }
  return std::nullopt;
}

}  // namespace volley::api
