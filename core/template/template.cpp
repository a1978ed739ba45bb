#include "core/template/template.hpp"

#include <exception>
#include <unordered_map>
#include <utility>

#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>

namespace volley::templates {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameOctets) return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string at(std::size_t offset) { return " at offset " + std::to_string(offset); }

std::string shown(std::string_view tag) {
  return tag.size() > 80 ? std::string(tag.substr(0, 80)) + "..." : std::string(tag);
}

}  // namespace

std::optional<Template> Template::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Template> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.size() > kMaxTemplateOctets)
    return fail("the template is longer than " + std::to_string(kMaxTemplateOctets) + " octets");
  Template t;
  t.source_.assign(text);
  t.unescaped_.reserve(text.size() + 16);
  struct Open {
    std::string name;
    std::size_t offset;
  };
  std::vector<Open> open_sections;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    t.unescaped_.append(text.substr(pos, open - pos));
    const bool triple = text.compare(open, 3, "{{{") == 0;
    const std::string_view closer = triple ? "}}}" : "}}";
    const std::size_t body = open + (triple ? 3 : 2);
    const std::size_t close = text.find(closer, body);
    if (close == std::string_view::npos)
      return fail("the tag" + at(open) + " is not closed with " + std::string(closer));
    const std::size_t end = close + closer.size();
    const std::string_view whole = text.substr(open, end - open);
    std::string_view inner = trim(text.substr(body, close - body));
    pos = end;
    t.literal_ = false;

    Tag tag;
    char sigil = triple ? '&' : (inner.empty() ? '\0' : inner.front());
    if (!triple && (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '&' || sigil == '!' || sigil == '>' ||
                    sigil == '=' || sigil == '{'))
      inner = trim(inner.substr(1));
    else if (!triple)
      sigil = '\0';
    if (sigil == '!') {  // a comment
      t.unescaped_.append(whole);
      continue;
    }
    if (sigil == '>') return fail("partials are not supported: " + shown(whole) + at(open));
    if (sigil == '=') return fail("changing the delimiters is not supported: " + shown(whole) + at(open));
    if (!valid_name(inner))
      return fail("the tag " + shown(whole) + at(open) + " needs a name of 1 to " + std::to_string(kMaxNameOctets) +
                  " letters, digits, '_' or '-'");
    tag.name.assign(inner);
    switch (sigil) {
      case '#':
      case '^':
        tag.kind = sigil == '#' ? Tag::Kind::section : Tag::Kind::inverted;
        open_sections.push_back(Open{tag.name, open});
        t.unescaped_.append(whole);
        break;
      case '/':
        if (open_sections.empty()) return fail(shown(whole) + at(open) + " closes no section");
        if (open_sections.back().name != tag.name)
          return fail(shown(whole) + at(open) + " closes {{#" + open_sections.back().name + "}} (offset " +
                      std::to_string(open_sections.back().offset) + ")");
        open_sections.pop_back();
        tag.kind = Tag::Kind::close;
        t.unescaped_.append(whole);
        break;
      default:  // a variable: '&' and {{{ }}} are never escaped
        tag.kind = Tag::Kind::variable;
        tag.escaped = sigil == '\0';
        t.unescaped_.append("{{&").append(tag.name).append("}}");
        break;
    }
    t.tags_.push_back(std::move(tag));
  }
  if (!open_sections.empty()) {
    const Open& o = open_sections.back();
    return fail("the section {{#" + o.name + "}}" + at(o.offset) + " is not closed");
  }
  if (pos < text.size()) t.unescaped_.append(text.substr(pos));
  return t;
}

struct Substitutions::Impl {
  struct Info {
    bool truthy = false;
    std::size_t size = 0;
  };
  mstch::map values;
  std::unordered_map<std::string, Info> info;
};

Substitutions::Substitutions() : impl_(std::make_shared<Impl>()) {}

std::optional<Substitutions> Substitutions::from_json(const nlohmann::json& object, std::string* error,
                                                      std::string* field) {
  auto fail = [&](std::string where, std::string why) -> std::optional<Substitutions> {
    if (error) *error = std::move(why);
    if (field) *field = std::move(where);
    return std::nullopt;
  };
  if (object.is_null()) return Substitutions();
  if (!object.is_object()) return fail("", "substitutions must be an object");
  if (object.size() > kMaxSubstitutions)
    return fail("", "more than " + std::to_string(kMaxSubstitutions) + " substitutions");
  auto impl = std::make_shared<Impl>();
  for (const auto& [name, value] : object.items()) {
    if (!valid_name(name))
      return fail(name.substr(0, kMaxNameOctets), "a substitution's name is 1 to " + std::to_string(kMaxNameOctets) +
                                                      " letters, digits, '_' or '-'");
    Impl::Info info;
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      if (s.size() > kMaxValueOctets)
        return fail(name, "longer than " + std::to_string(kMaxValueOctets) + " octets");
      impl->values.emplace(name, s);
      info = {!s.empty(), s.size()};
    } else if (value.is_number()) {
      std::string s = value.dump();
      info = {true, s.size()};
      impl->values.emplace(name, std::move(s));
    } else if (value.is_boolean()) {
      const bool b = value.get<bool>();
      impl->values.emplace(name, b);
      info = {b, b ? 4u : 5u};
    } else if (value.is_null()) {
      impl->values.emplace(name, mstch::node(nullptr));
      info = {false, 0};
    } else {
      return fail(name, "a substitution is a string, a number, true, false or null");
    }
    impl->info.emplace(name, info);
  }
  Substitutions out;
  out.impl_ = std::move(impl);
  return out;
}

bool Substitutions::has(std::string_view name) const { return impl_->info.count(std::string(name)) != 0; }

bool Substitutions::truthy(std::string_view name) const {
  auto it = impl_->info.find(std::string(name));
  return it != impl_->info.end() && it->second.truthy;
}

std::size_t Substitutions::value_size(std::string_view name) const {
  auto it = impl_->info.find(std::string(name));
  return it == impl_->info.end() ? 0 : it->second.size;
}

class Renderer {
 public:
  static std::optional<std::string> run(const Template& tmpl, const Substitutions& subs, Output output,
                                        std::size_t max_octets, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<std::string> {
      if (error) *error = std::move(why);
      return std::nullopt;
    };
    // The strict check and a bound on the result's size, before mstch builds it: a value
    // escaped for HTML grows at most 6 times ("&quot;").
    std::size_t bound = tmpl.source_.size();
    std::vector<bool> outer;
    bool rendered = true;
    for (const Tag& tag : tmpl.tags_) {
      switch (tag.kind) {
        case Tag::Kind::section:
        case Tag::Kind::inverted: {
          const bool t = subs.truthy(tag.name);
          outer.push_back(rendered);
          rendered = rendered && (tag.kind == Tag::Kind::section ? t : !t);
          break;
        }
        case Tag::Kind::close:
          rendered = outer.back();
          outer.pop_back();
          break;
        case Tag::Kind::variable:
          if (!rendered) break;
          if (!subs.has(tag.name)) return fail("no substitution for {{" + tag.name + "}}");
          bound += subs.value_size(tag.name) * (output == Output::html && tag.escaped ? 6 : 1);
          break;
      }
    }
    if (bound > max_octets)
      return fail("the rendered text would be longer than " + std::to_string(max_octets) + " octets");
    std::string out;
    if (tmpl.literal_) {
      out = tmpl.source_;
    } else {
      try {
        out = mstch::render(output == Output::html ? tmpl.source_ : tmpl.unescaped_, subs.impl_->values);
      } catch (const std::exception& e) {
        return fail(std::string("the template could not be rendered: ") + e.what());
      }
    }
    if (output == Output::header && out.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return fail("the rendered header value contains CR, LF or NUL");
    return out;
  }
};

std::optional<std::string> render(const Template& tmpl, const Substitutions& subs, Output output,
                                  std::size_t max_octets, std::string* error) {
  return Renderer::run(tmpl, subs, output, max_octets, error);
}

}  // namespace volley::templates
