#include "core/template/stored.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/template/template.hpp"

namespace volley::templates {

namespace {

using nlohmann::json;

bool header_name_char(char c) { return c > 0x20 && c < 0x7f && c != ':'; }

}  // namespace

bool valid_template_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxTemplateName && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::variant<StoredTemplate, FieldError> template_from_request(const json& body) {
  if (!body.is_object()) return FieldError{"", "the body must be an object with \"subject\", \"text\", \"html\""};
  StoredTemplate t;
  std::string error;
  auto text_field = [&](const char* name, std::optional<std::string>& out) -> std::optional<FieldError> {
    const auto it = body.find(name);
    if (it == body.end()) return std::nullopt;
    if (!it->is_string()) return FieldError{name, std::string(name) + " must be a string"};
    if (!Template::parse(it->get_ref<const std::string&>(), &error)) return FieldError{name, error};
    out = it->get<std::string>();
    return std::nullopt;
  };
  for (const auto& [key, value] : body.items()) {
    if (key != "subject" && key != "text" && key != "html" && key != "headers")
      return FieldError{key.substr(0, 64), "unknown member; a template has subject, text, html and headers"};
  }
  if (auto e = text_field("subject", t.subject)) return *e;
  if (auto e = text_field("text", t.text)) return *e;
  if (auto e = text_field("html", t.html)) return *e;
  if (!t.text && !t.html) return FieldError{"text", "a template needs text or html"};
  if (const auto it = body.find("headers"); it != body.end()) {
    if (!it->is_object()) return FieldError{"headers", "headers must be an object of names to strings"};
    if (it->size() > kMaxTemplateHeaders)
      return FieldError{"headers", "more than " + std::to_string(kMaxTemplateHeaders) + " headers"};
    for (const auto& [name, value] : it->items()) {
      const std::string field = "headers." + name.substr(0, 100);
      if (name.empty() || name.size() > 100 || !std::all_of(name.begin(), name.end(), header_name_char))
        return FieldError{field, "not a header field name"};
      if (!value.is_string()) return FieldError{field, field + " must be a string"};
      if (!Template::parse(value.get_ref<const std::string&>(), &error)) return FieldError{field, error};
      t.headers.emplace_back(name, value.get<std::string>());
    }
  }
  return t;
}

json template_json(const StoredTemplate& t) {
  json j = {{"name", t.name}, {"version", t.version}, {"created_at", t.created_at_ms}};
  if (t.subject) j["subject"] = *t.subject;
  if (t.text) j["text"] = *t.text;
  if (t.html) j["html"] = *t.html;
  if (!t.headers.empty()) {
    json h = json::object();
    for (const auto& [name, value] : t.headers) h[name] = value;
    j["headers"] = std::move(h);
  }
  return j;
}

std::string encode_template(const StoredTemplate& t) {
  json j = template_json(t);
  // Header order matters to no one, but keep it: an array of pairs.
  if (!t.headers.empty()) j["headers"] = t.headers;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<StoredTemplate> decode_template(std::string_view stored) {
  const json j = json::parse(stored, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    StoredTemplate t;
    t.name = j.at("name").get<std::string>();
    t.version = j.at("version").get<std::uint32_t>();
    t.created_at_ms = j.at("created_at").get<std::int64_t>();
    if (j.contains("subject")) t.subject = j["subject"].get<std::string>();
    if (j.contains("text")) t.text = j["text"].get<std::string>();
    if (j.contains("html")) t.html = j["html"].get<std::string>();
    if (j.contains("headers")) t.headers = j["headers"].get<std::vector<std::pair<std::string, std::string>>>();
    return t;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace volley::templates
