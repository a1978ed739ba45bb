#include "core/json/request_json.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using volley::json::JsonError;
using volley::json::parse_request_json;
using nlohmann::json;

namespace {

json parsed(std::string_view text, std::size_t depth = 64) {
  auto r = parse_request_json(text, depth);
  if (auto* e = std::get_if<JsonError>(&r)) FAIL("refused: " << e->message);
  return std::get<json>(std::move(r));
}

std::string refused(std::string_view text, std::size_t depth = 64) {
  auto r = parse_request_json(text, depth);
  auto* e = std::get_if<JsonError>(&r);
  REQUIRE(e != nullptr);
  return e->message;
}

}  // namespace

TEST_CASE("request JSON: the fast path builds the document nlohmann would", "[json]") {
  const char* docs[] = {
      R"({"from":"a@b.example","to":["x@y.example","z@w.example"],"subject":"hi","text":"line 1\nline 2\r\n"})",
      R"({"n":0,"neg":-42,"big":18446744073709551615,"f":1.5e3,"t":true,"f2":false,"z":null})",
      R"({"esc":"quote \" backslash \\ slash \/ tab \t uni \u00e9 \ud83d\ude00 nul \u0000"})",
      R"({"nested":{"a":[1,[2,[3,{"b":{}}]],[]],"c":{}}})",
      R"(["top", "level", "array"])",
      R"("just a string")",
      "  {\"ws\" :\n\t[ 1 , 2 ]\r\n}  ",
      "{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
  };
  for (const char* d : docs) {
    INFO(d);
    CHECK(parsed(d) == json::parse(d));
  }
}

TEST_CASE("request JSON: a duplicate key keeps its last value, as nlohmann does", "[json]") {
  const char* d = R"({"a":1,"a":2})";
  CHECK(parsed(d) == json::parse(d));
  CHECK(parsed(d)["a"] == 2);
}

TEST_CASE("request JSON: what simdjson refuses but nlohmann accepts is still accepted", "[json]") {
  // Larger than any 64-bit integer: simdjson says BIGINT_ERROR, nlohmann makes it a double.
  const char* d = R"({"huge":123456789012345678901234567890})";
  CHECK(parsed(d) == json::parse(d));
}

TEST_CASE("request JSON: malformed text is refused with its byte position", "[json]") {
  const auto msg = refused(R"({"from": "a@b.example", "to": [)");
  CHECK(msg.find("malformed JSON at byte 32") != std::string::npos);
  CHECK(msg.find("column 32") != std::string::npos);
  CHECK(refused("").find("malformed JSON") == 0);
  CHECK(refused("{\"a\":1}x").find("malformed JSON at byte 8") == 0);
  CHECK(refused("{\"a\":\"\xff\"}").find("malformed JSON") == 0);  // invalid UTF-8
  CHECK(refused("{\"a\":\"raw\ncontrol\"}").find("malformed JSON") == 0);
  CHECK(refused("{'a':1}").find("malformed JSON at byte 2") == 0);
}

TEST_CASE("request JSON: nesting deeper than the limit is refused without recursion", "[json]") {
  const std::string ok = std::string(8, '[') + std::string(8, ']');
  CHECK(parsed(ok, 8) == json::parse(ok));
  const std::string deep = std::string(9, '[') + std::string(9, ']');
  CHECK(refused(deep, 8) == "JSON nested deeper than 8 levels");
  const std::string hostile = R"({"m":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(refused(hostile, 64) == "JSON nested deeper than 64 levels");
  // Brackets inside strings are not nesting.
  const std::string in_string = R"({"s":")" + std::string(100, '[') + R"("})";
  CHECK(parsed(in_string, 4)["s"].get<std::string>().size() == 100);
}

TEST_CASE("request JSON: the parser is reused across documents of growing and shrinking size", "[json]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const std::size_t n = (rng() % 3 == 0) ? rng() % 200000 : rng() % 100;
    std::string text(n, 'x');
    for (auto& c : text)
      if (rng() % 50 == 0) c = '\n';
    const json doc = {{"text", text}, {"i", i}};
    CHECK(parsed(doc.dump()) == doc);
  }
}
