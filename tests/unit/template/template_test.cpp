#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/template/template.hpp"

using namespace volley::templates;
using nlohmann::json;

namespace {

constexpr std::size_t kMax = 1 << 20;

Template parsed(std::string_view text) {
  std::string error;
  auto t = Template::parse(text, &error);
  INFO(error);
  REQUIRE(t);
  return *t;
}

std::string parse_error(std::string_view text) {
  std::string error;
  auto t = Template::parse(text, &error);
  REQUIRE_FALSE(t);
  return error;
}

Substitutions subs(const json& j) {
  std::string error, field;
  auto s = Substitutions::from_json(j, &error, &field);
  INFO(error);
  REQUIRE(s);
  return *s;
}

std::string rendered(std::string_view text, const json& values, Output output = Output::text) {
  std::string error;
  auto out = render(parsed(text), subs(values), output, kMax, &error);
  INFO(error);
  REQUIRE(out);
  return *out;
}

std::string render_error(std::string_view text, const json& values, Output output = Output::text,
                         std::size_t max = kMax) {
  std::string error;
  auto out = render(parsed(text), subs(values), output, max, &error);
  REQUIRE_FALSE(out);
  return error;
}

}  // namespace

TEST_CASE("substitutions fill variables, numbers as JSON writes them") {
  CHECK(rendered("Hello {{first_name}}, you have {{ n }} new messages ({{ratio}})",
                 {{"first_name", "Ana"}, {"n", 3}, {"ratio", 0.5}}) == "Hello Ana, you have 3 new messages (0.5)");
  CHECK(rendered("no tags at all", json::object()) == "no tags at all");
  CHECK(rendered("{{! a comment }}x", json::object()) == "x");
}

TEST_CASE("html escapes double-brace variables, triple braces and & do not") {
  const json v = {{"name", "<b>Ana & \"Bo\"</b>"}};
  const std::string html = rendered("<p>{{name}}</p>", v, Output::html);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("&lt;b&gt;Ana &amp; &quot;Bo&quot;") != std::string::npos);
  CHECK(rendered("{{{name}}}|{{&name}}", v, Output::html) == "<b>Ana & \"Bo\"</b>|<b>Ana & \"Bo\"</b>");
}

TEST_CASE("text, subject and headers are not escaped") {
  const json v = {{"name", "<b>Ana & Bo</b>"}};
  CHECK(rendered("Hi {{name}}", v, Output::text) == "Hi <b>Ana & Bo</b>");
  CHECK(rendered("Hi {{name}}", v, Output::header) == "Hi <b>Ana & Bo</b>");
}

TEST_CASE("sections and inverted sections follow booleans, null and empty strings") {
  const json v = {{"vip", true}, {"basic", false}, {"none", nullptr}, {"empty", ""}, {"name", "Ana"}};
  CHECK(rendered("{{#vip}}VIP {{name}}{{/vip}}{{#basic}}basic{{/basic}}", v) == "VIP Ana");
  CHECK(rendered("{{^none}}a{{/none}}{{^empty}}b{{/empty}}{{^absent}}c{{/absent}}{{^vip}}d{{/vip}}", v) == "abc");
}

TEST_CASE("a missing variable is an error unless its section is not rendered") {
  CHECK(render_error("Hello {{first_name}}", json::object()) == "no substitution for {{first_name}}");
  CHECK(rendered("{{#company}}at {{company_name}}{{/company}}.", json::object()) == ".");
  CHECK(render_error("{{^company}}{{fallback}}{{/company}}", json::object()) == "no substitution for {{fallback}}");
}

TEST_CASE("templates that do not parse are refused with where") {
  CHECK(parse_error("{{#items}}unclosed") == "the section {{#items}} at offset 0 is not closed");
  CHECK(parse_error("x{{/items}}") == "{{/items}} at offset 1 closes no section");
  CHECK(parse_error("{{#a}}{{#b}}{{/a}}{{/b}}").find("closes {{#b}}") != std::string::npos);
  CHECK(parse_error("Hello {{name").find("is not closed") != std::string::npos);
  CHECK(parse_error("{{{name}}").find("not closed with }}}") != std::string::npos);
  CHECK(parse_error("{{> footer}}").find("partials are not supported") != std::string::npos);
  CHECK(parse_error("{{=<% %>=}}").find("delimiters") != std::string::npos);
  CHECK(parse_error("{{}}").find("needs a name") != std::string::npos);
  CHECK(parse_error("{{a.b}}").find("needs a name") != std::string::npos);
  CHECK(parse_error(std::string(kMaxTemplateOctets + 1, 'x')).find("longer than") != std::string::npos);
}

TEST_CASE("a header value that would get CR or LF is refused") {
  CHECK(render_error("X {{v}}", {{"v", "a\r\nBcc: victim@example.org"}}, Output::header) ==
        "the rendered header value contains CR, LF or NUL");
  CHECK(render_error("X {{v}}", {{"v", std::string("a\0b", 3)}}, Output::header) ==
        "the rendered header value contains CR, LF or NUL");
  CHECK(rendered("X {{v}}", {{"v", "a\nb"}}, Output::text) == "X a\nb");
}

TEST_CASE("substitutions must be a flat object of scalars") {
  std::string error, field;
  CHECK_FALSE(Substitutions::from_json(json::array(), &error, &field));
  CHECK(error == "substitutions must be an object");
  CHECK_FALSE(Substitutions::from_json({{"list", json::array()}}, &error, &field));
  CHECK(field == "list");
  CHECK_FALSE(Substitutions::from_json({{"bad name", "x"}}, &error, &field));
  CHECK(field == "bad name");
  CHECK_FALSE(Substitutions::from_json({{"big", std::string(kMaxValueOctets + 1, 'x')}}, &error, &field));
  CHECK(Substitutions::from_json(nullptr, &error, &field));
}

TEST_CASE("a result over the bound is refused before it is built") {
  json v = {{"v", std::string(1000, 'x')}};
  std::string text;
  for (int i = 0; i < 100; ++i) text += "{{v}}";
  CHECK(render_error(text, v, Output::text, 50'000).find("longer than 50000") != std::string::npos);
  CHECK(rendered(text, v).size() == 100'000);
}
