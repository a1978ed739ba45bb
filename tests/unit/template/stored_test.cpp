#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/template/stored.hpp"

using namespace volley::templates;
using nlohmann::json;

TEST_CASE("template names") {
  CHECK(valid_template_name("welcome"));
  CHECK(valid_template_name("Welcome_v2.de-DE"));
  CHECK_FALSE(valid_template_name(""));
  CHECK_FALSE(valid_template_name("a/b"));
  CHECK_FALSE(valid_template_name(std::string(65, 'a')));
}

TEST_CASE("a stored template is checked and round-trips") {
  auto r = template_from_request(
      {{"subject", "Hi {{name}}"}, {"text", "Hello {{name}}"}, {"headers", {{"X-Campaign", "{{campaign}}"}}}});
  REQUIRE(std::holds_alternative<StoredTemplate>(r));
  auto t = std::get<StoredTemplate>(r);
  t.name = "welcome";
  t.version = 3;
  t.created_at_ms = 1234;
  auto back = decode_template(encode_template(t));
  REQUIRE(back);
  CHECK(back->name == "welcome");
  CHECK(back->version == 3);
  CHECK(*back->subject == "Hi {{name}}");
  CHECK_FALSE(back->html);
  REQUIRE(back->headers.size() == 1);
  CHECK(back->headers[0].second == "{{campaign}}");
  CHECK(template_json(*back)["headers"]["X-Campaign"] == "{{campaign}}");
  CHECK_FALSE(decode_template("not json"));
}

TEST_CASE("a stored template that does not parse is refused with its field") {
  auto field_of = [](const json& body) {
    auto r = template_from_request(body);
    REQUIRE(std::holds_alternative<FieldError>(r));
    return std::get<FieldError>(r).field;
  };
  CHECK(field_of({{"subject", "x"}, {"html", "{{#a}}"}}) == "html");
  CHECK(field_of({{"subject", "x"}}) == "text");
  CHECK(field_of({{"text", "x"}, {"subjet", "x"}}) == "subjet");
  CHECK(field_of({{"text", "x"}, {"headers", {{"X-A", "{{/b}}"}}}}) == "headers.X-A");
  CHECK(field_of({{"text", "x"}, {"headers", {{"Bad Name", "v"}}}}) == "headers.Bad Name");
}
