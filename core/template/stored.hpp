#pragma once
// A stored template (PUT /api/v1/templates/{name}, docs/templates.md): its fields as the
// client gave them, checked to parse when stored, and their stored form (JSON, one RocksDB
// value per version).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace volley::templates {

inline constexpr std::size_t kMaxTemplateName = 64;
inline constexpr std::size_t kMaxTemplateHeaders = 50;

struct StoredTemplate {
  std::string name;
  std::uint32_t version = 0;
  std::int64_t created_at_ms = 0;
  std::optional<std::string> subject, text, html;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value template; in order
};

// [A-Za-z0-9_.-]{1,64}
bool valid_template_name(std::string_view name);

struct FieldError {
  std::string field, message;
};

// A PUT body {"subject", "text", "html", "headers"?}: text or html required, each field a
// template that parses (template.hpp), headers an object of names to string templates.
std::variant<StoredTemplate, FieldError> template_from_request(const nlohmann::json& body);

// The stored form, and what GET answers ({"name","version","created_at",...}).
std::string encode_template(const StoredTemplate& t);
std::optional<StoredTemplate> decode_template(std::string_view stored);
nlohmann::json template_json(const StoredTemplate& t);

}  // namespace volley::templates
