#pragma once
// Personalised messages and stored templates at injection (docs/templates.md). A message
// request that names a stored template ("template", "template_version") or has
// "personalizations" is expanded here into plain message requests, one per personalisation,
// with subject, text, html and header values rendered from its substitutions
// (core/template); each then goes through prepare like any other request. A request with
// neither is left as it is: its text is never read as a template.
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_server.hpp"

namespace volley::storage {
class TemplateStore;
}

namespace volley::api {

inline constexpr std::size_t kMaxPersonalizations = 1000;

struct Expansion {
  std::vector<nlohmann::json> requests;  // empty: use the request as it is
  std::vector<std::string> prefixes;     // each request's path in the body, for error fields
  bool personalized = false;             // had "personalizations": one answer per message
};

// The expanded requests, or the 400 that refuses the request (a template that does not parse
// or lacks a substitution names the personalisation and field: "personalizations[3].subject").
// store null: no stored templates ("template" is then refused). max_octets bounds each
// rendered field.
std::variant<Expansion, HttpResponse> expand_request(const nlohmann::json& request, const storage::TemplateStore* store,
                                                     const std::string& tenant, const std::string& field_prefix,
                                                     std::size_t max_octets);

}  // namespace volley::api
