#pragma once
// Mustache templates for personalised messages (docs/templates.md): logic-less, rendered by
// Debian's libmstch. mstch renders whatever it is given without a word (an unclosed section
// renders nothing, a stray closing tag is dropped, "{{name" stays as text), so every template
// is first checked here by a small scan of its tags: sections must balance, and partials and
// delimiter changes, which this feature does not offer, are refused.
//
// Strict variables: a {{variable}} that would be rendered but has no substitution is an error,
// not an empty string ("Hello ," sent to a thousand people is the mistake this prevents). A
// section's name may be absent (it is then false), and variables inside a section that is not
// rendered are not required.
//
// Namespace volley::templates: "template" is a C++ keyword.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace volley::templates {

inline constexpr std::size_t kMaxTemplateOctets = 1024 * 1024;
inline constexpr std::size_t kMaxNameOctets = 64;  // a variable's or section's name
inline constexpr std::size_t kMaxSubstitutions = 200;
inline constexpr std::size_t kMaxValueOctets = 64 * 1024;

// One tag of a template, in order.
struct Tag {
  enum class Kind { variable, section, inverted, close };
  Kind kind = Kind::variable;
  std::string name;
  bool escaped = false;  // a variable written {{x}} (HTML-escaped in html)
};

// A template that parsed: what mstch renders, in two forms (variables HTML-escaped as written,
// or none escaped), and its tags for the strict check.
class Template {
 public:
  // nullopt and *error ("{{#items}} at offset 12 is not closed") when the text is not a
  // template this feature accepts.
  static std::optional<Template> parse(std::string_view text, std::string* error);

  const std::vector<Tag>& tags() const { return tags_; }
  const std::string& source() const { return source_; }

 private:
  friend class Renderer;
  std::string source_;    // as written: {{x}} escapes in HTML
  std::string unescaped_; // every {{x}} written {{&x}}
  std::vector<Tag> tags_;
  bool literal_ = true;  // no tag, not even a comment: mstch is not needed
};

// A personalisation's substitutions: a JSON object of names ([A-Za-z0-9_-]) to strings,
// numbers, booleans or null. Numbers render as JSON writes them; false, null and "" are false
// for sections.
class Substitutions {
 public:
  Substitutions();  // none
  // nullopt and *error when `object` is not such an object; *field gets the offending member's
  // path below "substitutions" ("" for the object itself, "first_name").
  static std::optional<Substitutions> from_json(const nlohmann::json& object, std::string* error, std::string* field);

  bool has(std::string_view name) const;
  bool truthy(std::string_view name) const;
  std::size_t value_size(std::string_view name) const;

 private:
  friend class Renderer;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// What a rendered field is: HTML escapes {{x}}; text and header do not; header refuses a
// result with CR, LF or NUL (a value must not add header lines).
enum class Output { text, html, header };

// The rendered text, or nullopt and *error ("no substitution for {{first_name}}"). A result
// longer than max_octets is refused before it is built.
std::optional<std::string> render(const Template& tmpl, const Substitutions& subs, Output output,
                                  std::size_t max_octets, std::string* error);

}  // namespace volley::templates
