#include "api/personalization.hpp"

#include <memory>
#include <optional>
#include <utility>

#include "core/json/members.hpp"
#include "core/template/stored.hpp"
#include "core/template/template.hpp"
#include "core/util/ascii.hpp"
#include "storage/template_store.hpp"

namespace volley::api {

namespace {

using nlohmann::json;
using templates::Output;
using templates::Substitutions;
using templates::Template;

// The members this layer reads off a message request; prepare_message never sees them.
constexpr volley::json::Members kExpanded{"personalizations", "template", "template_version", "substitutions"};
// What a personalisation may hold.
constexpr volley::json::Members kPersonalization{"to", "cc", "bcc", "substitutions", "metadata", "headers", "subject"};

// A refusal carried out of the expansion (turned into the 400 before expand_request returns).
struct Refusal {
  std::string code, message, field;
};

[[noreturn]] void refuse(std::string code, std::string field, std::string message) {
  throw Refusal{std::move(code), std::move(message), std::move(field)};
}

std::string path(const std::string& parent, std::string_view name) {
  return volley::json::member_path(parent, name);
}

using TemplatePtr = std::shared_ptr<const Template>;  // shared by every personalisation

TemplatePtr parse(const json& value, const std::string& field) {
  if (!value.is_string()) refuse("invalid_field", field, field + " must be a string");
  std::string error;
  auto t = Template::parse(value.get_ref<const std::string&>(), &error);
  if (!t) refuse("invalid_template", field, field + ": " + error);
  return std::make_shared<const Template>(std::move(*t));
}

// The templates a message is rendered from, each with the field its errors name.
struct Fields {
  TemplatePtr subject, text, html;
  std::vector<std::pair<std::string, TemplatePtr>> headers;  // in order; names unique (any case)
};

void set_header(std::vector<std::pair<std::string, TemplatePtr>>& headers, const std::string& name, TemplatePtr t) {
  for (auto& [n, existing] : headers) {
    if (util::ascii_iequals(n, name)) {
      existing = std::move(t);
      return;
    }
  }
  headers.emplace_back(name, std::move(t));
}

void read_headers(const json& object, const std::string& field, std::vector<std::pair<std::string, TemplatePtr>>& out) {
  if (!object.is_object()) refuse("invalid_field", field, field + " must be an object of name: value");
  for (const auto& [name, value] : object.items()) set_header(out, name, parse(value, field + "." + name));
}

Fields stored_fields(const json& request, const storage::TemplateStore* store, const std::string& tenant,
                     const std::string& prefix) {
  const std::string field = path(prefix, kExpanded("template").name);
  const json& name = request.at(kExpanded("template").name);
  if (!name.is_string() || !templates::valid_template_name(name.get_ref<const std::string&>()))
    refuse("invalid_field", field, "template must be a template's name: 1 to 64 of A-Z a-z 0-9 _ . -");
  for (const char* other : {"subject", "text", "html"}) {
    if (request.contains(other))
      refuse("invalid_field", path(prefix, other), std::string(other) + " cannot be combined with template");
  }
  std::optional<std::uint32_t> version;
  if (auto v = request.find(kExpanded("template_version").name); v != request.end()) {
    if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > 0xffffffffLL)
      refuse("invalid_field", path(prefix, "template_version"), "template_version must be a positive integer");
    version = v->get<std::uint32_t>();
  }
  const std::string& wanted = name.get_ref<const std::string&>();
  auto stored = store ? store->get(tenant, wanted, version) : std::nullopt;
  if (!stored)
    refuse("unknown_template", field,
           "no template named \"" + wanted + "\"" + (version ? " with version " + std::to_string(*version) : ""));
  Fields f;
  if (stored->subject) f.subject = parse(json(*stored->subject), field);
  if (stored->text) f.text = parse(json(*stored->text), field);
  if (stored->html) f.html = parse(json(*stored->html), field);
  for (const auto& [n, v] : stored->headers) set_header(f.headers, n, parse(json(v), field));
  return f;
}

Fields request_fields(const json& request, const std::string& prefix) {
  Fields f;
  if (auto it = request.find("subject"); it != request.end()) f.subject = parse(*it, path(prefix, "subject"));
  if (auto it = request.find("text"); it != request.end()) f.text = parse(*it, path(prefix, "text"));
  if (auto it = request.find("html"); it != request.end()) f.html = parse(*it, path(prefix, "html"));
  return f;
}

Substitutions substitutions(const json& values, const std::string& field) {
  std::string error, member;
  auto s = Substitutions::from_json(values, &error, &member);
  if (!s) {
    const std::string where = member.empty() ? field : field + "." + member;
    refuse("invalid_field", where, where + ": " + error);
  }
  return std::move(*s);
}

std::string render(const Template& t, const Substitutions& subs, Output output, std::size_t max_octets,
                   const std::string& field) {
  std::string error;
  auto out = templates::render(t, subs, output, max_octets, &error);
  if (!out) {
    const bool injection = output == Output::header && error.find("CR, LF") != std::string::npos;
    refuse(injection ? "header_injection" : "template_error", field, field + ": " + error);
  }
  return std::move(*out);
}

// One message request: `base` with the rendered fields. Errors name `where` + the field, except
// a shared template's that come from a stored template (named "template").
json rendered(json base, const Fields& f, const Substitutions& subs, std::size_t max_octets, const std::string& where) {
  if (f.subject) base["subject"] = render(*f.subject, subs, Output::header, max_octets, path(where, "subject"));
  if (f.text) base["text"] = render(*f.text, subs, Output::text, max_octets, path(where, "text"));
  if (f.html) base["html"] = render(*f.html, subs, Output::html, max_octets, path(where, "html"));
  if (!f.headers.empty()) {
    json headers = json::object();
    for (const auto& [name, t] : f.headers)
      headers[name] = render(*t, subs, Output::header, max_octets, path(where, "headers." + name));
    base["headers"] = std::move(headers);
  }
  return base;
}

Expansion expand(const json& request, const storage::TemplateStore* store, const std::string& tenant,
                 const std::string& prefix, std::size_t max_octets) {
  Expansion out;
  const bool has_template = request.contains(kExpanded("template").name);
  const auto personalizations = request.find(kExpanded("personalizations").name);
  const bool personalized = personalizations != request.end();
  if (!has_template && !personalized) return out;  // prepare refuses a lone "substitutions"

  Fields shared = has_template ? stored_fields(request, store, tenant, prefix) : request_fields(request, prefix);
  if (auto it = request.find("headers"); it != request.end())
    read_headers(*it, path(prefix, "headers"), shared.headers);
  const json no_values = json::object();
  const auto base_values = request.find(kExpanded("substitutions").name);
  const json& shared_values = base_values == request.end() ? no_values : *base_values;

  json base = request;
  for (auto name : kExpanded.names()) base.erase(std::string(name));
  for (const char* name : {"subject", "text", "html", "headers"}) base.erase(name);

  if (!personalized) {
    out.requests.push_back(rendered(std::move(base), shared,
                                    substitutions(shared_values, path(prefix, "substitutions")), max_octets, prefix));
    out.prefixes.push_back(prefix);
    return out;
  }

  const std::string list_field = path(prefix, "personalizations");
  if (!personalizations->is_array() || personalizations->empty())
    refuse("invalid_field", list_field, "personalizations must be a non-empty array of objects");
  if (personalizations->size() > kMaxPersonalizations)
    refuse("too_many_personalizations", list_field,
           std::to_string(personalizations->size()) + " personalizations; at most " +
               std::to_string(kMaxPersonalizations));
  for (const char* r : {"to", "cc", "bcc"}) {
    if (request.contains(r))
      refuse("ambiguous_recipients", path(prefix, r),
             std::string(r) + " cannot be combined with personalizations: give each personalization its recipients");
  }
  if (!shared_values.is_object()) substitutions(shared_values, path(prefix, "substitutions"));  // refuses
  const auto base_metadata = request.find("metadata");
  out.personalized = true;
  out.requests.reserve(personalizations->size());
  out.prefixes.reserve(personalizations->size());
  for (std::size_t i = 0; i < personalizations->size(); ++i) {
    const json& p = (*personalizations)[i];
    const std::string where = volley::json::index_path(list_field, i);
    if (!p.is_object()) refuse("invalid_field", where, where + " must be an object");
    if (auto unknown = volley::json::unknown_member(p, where, kPersonalization.names()))
      refuse("unknown_field", std::move(unknown->field), std::move(unknown->message));

    json values = shared_values;
    if (auto s = p.find("substitutions"); s != p.end()) {
      if (!s->is_object()) substitutions(*s, path(where, "substitutions"));  // refuses
      values.update(*s);
    }
    json one = base;
    for (const char* r : {"to", "cc", "bcc"}) {
      if (auto it = p.find(r); it != p.end()) one[r] = *it;
    }
    if (auto md = p.find("metadata"); md != p.end()) {
      if (!md->is_object()) refuse("invalid_field", path(where, "metadata"), "metadata must be an object");
      json merged = base_metadata != request.end() && base_metadata->is_object() ? *base_metadata : json::object();
      merged.update(*md);
      one["metadata"] = std::move(merged);
    }
    // A personalisation's own subject and headers replace the shared ones.
    const Fields* fields = &shared;
    Fields own;
    if (p.contains("subject") || p.contains("headers")) {
      own.text = shared.text;
      own.html = shared.html;
      own.subject = p.contains("subject") ? parse(p["subject"], path(where, "subject")) : shared.subject;
      own.headers = shared.headers;
      if (auto h = p.find("headers"); h != p.end()) read_headers(*h, path(where, "headers"), own.headers);
      fields = &own;
    }
    out.requests.push_back(rendered(std::move(one), *fields, substitutions(values, path(where, "substitutions")),
                                    max_octets, where));
    out.prefixes.push_back(where);
  }
  return out;
}

}  // namespace

std::variant<Expansion, HttpResponse> expand_request(const json& request, const storage::TemplateStore* store,
                                                     const std::string& tenant, const std::string& field_prefix,
                                                     std::size_t max_octets) {
  if (!request.is_object()) return Expansion{};  // prepare says what is wrong with it
  try {
    return expand(request, store, tenant, field_prefix, max_octets);
  } catch (const Refusal& r) {
    return error_response(400, r.code, r.message, r.field);
  }
}

}  // namespace volley::api
