#include <catch2/catch.hpp>

#include <string>

#include "core/util/log_fields.hpp"

using volley::util::log_fields;
using volley::util::parse_log_fields;

TEST_CASE("log fields: plain values bare, others quoted and escaped") {
  CHECK(log_fields("domain", "example.com", "count", 3).str() == " | domain=example.com count=3");
  CHECK(log_fields("error", "no space left", "empty", "").str() == R"( | error="no space left" empty="")");
  CHECK(log_fields("reply", "550 \"no\" a=b\\c").str() == R"( | reply="550 \"no\" a=b\\c")");
  CHECK(log_fields("peer", std::string("a\r\nb")).str() == R"( | peer="a\x0d\x0ab")");
  CHECK(log_fields("ms", 1.5).str() == " | ms=1.5");
  // As a log call's argument: formatted by fmt (only when the line is written).
  CHECK(fmt::format("spool: done{}", log_fields("n", 2, "error", "a b")) == R"(spool: done | n=2 error="a b")");
}

TEST_CASE("log fields: a long value is cut and says so") {
  const std::string line = log_fields("reply", std::string(2000, 'x')).str();
  CHECK(line.size() < 600);
  CHECK(line.ends_with("...\""));
}

TEST_CASE("log fields: parsed back into the sentence and the fields") {
  const std::string line = "delivery: TLSA lookup failed" +
                           log_fields("domain", "example.com", "error", "SERVFAIL from 127.0.0.1", "peer", "a\r\n\"b\"").str();
  const auto parsed = parse_log_fields(line);
  CHECK(parsed.text == "delivery: TLSA lookup failed");
  REQUIRE(parsed.fields.size() == 3);
  CHECK(parsed.fields[0] == std::pair<std::string, std::string>{"domain", "example.com"});
  CHECK(parsed.fields[1].second == "SERVFAIL from 127.0.0.1");
  CHECK(parsed.fields[2].second == "a\r\n\"b\"");
}

TEST_CASE("log fields: a line without a well-formed field list is all text") {
  for (const char* line : {"spool: recovered 3 messages", "a | b", "a | k=\"open", "a | =v", "a | k=v |",
                           "shell: a | grep x"}) {
    const auto parsed = parse_log_fields(line);
    CHECK(parsed.text == line);
    CHECK(parsed.fields.empty());
  }
  // Only the last mark counts: a " | " inside the sentence stays in it.
  const auto parsed = parse_log_fields("route a | b chosen | domain=x");
  CHECK(parsed.text == "route a | b chosen");
  CHECK(parsed.fields.size() == 1);
}
