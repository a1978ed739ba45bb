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

JsonError error_of(std::string_view text, std::size_t depth = 64) {
  auto r = parse_request_json(text, depth);
  auto* e = std::get_if<JsonError>(&r);
  REQUIRE(e != nullptr);
  return *e;
}

std::string refused(std::string_view text, std::size_t depth = 64) {
  const auto e = error_of(text, depth);
  CHECK(e.code == "invalid_json");
  CHECK(e.path.empty());
  return e.message;
}

struct Case {
  std::string text;
  std::string path;
};

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

TEST_CASE("request JSON: a member name given twice is refused with its path, at any depth", "[json]") {
  const Case cases[] = {
      {R"({"to":["a@x.example"],"subject":"s","to":["b@y.example"]})", "to"},
      // The same name once unescaped: simdjson and nlohmann both compare unescaped names.
      {R"({"to":1,"t\u006f":2})", "to"},
      {"{\"\\u00e9\":1,\"\\u00c3\":2,\"\xc3\xa9\":3}", "\xc3\xa9"},  // U+00E9 escaped, then as UTF-8
      {R"({"from":"a","metadata":{"user_id":1,"plan":"x","user_id":2}})", "metadata.user_id"},
      {R"({"messages":[{"from":"a"},{"to":"b","from":"a","from":"c"}]})", "messages[1].from"},
      {R"([{"a":1},[{"b":{"c":[0,{"d":1,"d":1}]}}]])", "[1][0].b.c[1].d"},
      {R"({"a":{"x":1,"x":1},"a":2})", "a.x"},  // the first one in the text
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto e = error_of(c.text);
    CHECK(e.code == "duplicate_key");
    CHECK(e.path == c.path);
    CHECK(e.message.find(c.path) != std::string::npos);
  }
}

TEST_CASE("request JSON: repeated names are refused on the slow path too", "[json]") {
  // simdjson refuses integers beyond 64 bits (nlohmann makes them doubles): these documents are
  // answered by the fallback parser, which must refuse repeated names just the same.
  const std::string huge = "123456789012345678901234567890";
  const Case cases[] = {
      {R"({"huge":)" + huge + R"(,"to":["a"],"to":["b"]})", "to"},
      {R"({"to":1,"huge":)" + huge + R"(,"t\u006f":2})", "to"},
      {R"({"messages":[{"from":"a"},{"x":)" + huge + R"(,"from":"a","from":"c"}]})", "messages[1].from"},
      {R"([{"a":1},[{"b":{"c":[)" + huge + R"(,{"d":1,"d":1}]}}]])", "[1][0].b.c[1].d"},
      {R"({"metadata":{"user_id":1,"user_id":)" + huge + "}}", "metadata.user_id"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto e = error_of(c.text);
    CHECK(e.code == "duplicate_key");
    CHECK(e.path == c.path);
  }
  // Without the repeat, the same documents parse.
  CHECK(parsed(R"({"huge":)" + huge + R"(,"to":["a"],"cc":["b"]})")["cc"][0] == "b");
}

TEST_CASE("request JSON: names that differ, or repeat in different objects, are not duplicates", "[json]") {
  for (const std::string d : {R"({"To":1,"to":2,"tO":3})", R"({"a":{"x":1},"b":{"x":1},"x":{"x":{"x":1}}})",
                              R"([{"a":1},{"a":1}])", R"({"a\u0000":1,"a":2})", R"({"":1,"a":{"":2}})"}) {
    INFO(d);
    CHECK(parsed(d) == json::parse(d));
  }
}

TEST_CASE("request JSON: large objects are checked for repeats on both paths", "[json]") {
  for (const bool slow : {false, true}) {
    json big = json::object();
    for (int i = 0; i < 5000; ++i) big["k" + std::to_string(i)] = i;
    std::string text = big.dump();
    if (slow) text.insert(1, R"("huge":123456789012345678901234567890,)");
    INFO((slow ? "slow path" : "fast path"));
    CHECK(parsed(text).size() == (slow ? 5001u : 5000u));
    text.insert(text.size() - 1, R"(,"k4321":0)");
    const auto e = error_of(text);
    CHECK(e.code == "duplicate_key");
    CHECK(e.path == "k4321");
  }
}

TEST_CASE("request JSON: malformed text is invalid_json even when it also repeats a name", "[json]") {
  CHECK(error_of(R"({"a":1,"a":2)").code == "invalid_json");
  CHECK(error_of(R"({"a":1,"a":2,})").code == "invalid_json");
  CHECK(error_of(R"({"a":1,"a":2})").code == "duplicate_key");
  CHECK(error_of(R"({"a":1,"b":2)").path.empty());
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

// A body read with room for the read-ahead is parsed where it is: what lies past its end, whatever
// it holds (here the start of another document, quotes, a backslash, NULs), changes nothing.
TEST_CASE("request JSON: text parsed in place ignores the bytes readable after it", "[json]") {
  const std::string docs[] = {
      R"({"from":"a@b.example","to":["x@y.example"],"text":"line 1\nline 2"})",
      R"({"a":[1,2,{"b":"c"}]})",
      R"({"open":"string)",   // malformed: must still be refused, at the same place
      R"({"a":1} trailing)",  // likewise
      "",
  };
  const std::string tails[] = {std::string(volley::json::kReadAhead, '\0'),
                               std::string(volley::json::kReadAhead, '"'),
                               "\",\"x\":[{\"y\":\\" + std::string(volley::json::kReadAhead, ' '),
                               R"(}]}{"to":["other@z.example"]})" + std::string(volley::json::kReadAhead, '}')};
  for (const auto& d : docs) {
    const auto copied = parse_request_json(d, 64);
    for (const auto& tail : tails) {
      const std::string buffer = d + tail;
      INFO(d << " followed by " << tail);
      const auto in_place = parse_request_json(std::string_view(buffer.data(), d.size()), 64, tail.size());
      REQUIRE(in_place.index() == copied.index());
      if (const auto* doc = std::get_if<json>(&copied)) {
        CHECK(std::get<json>(in_place) == *doc);
      } else {
        CHECK(std::get<JsonError>(in_place).message == std::get<JsonError>(copied).message);
      }
    }
  }
}
