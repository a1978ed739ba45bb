// The built message read back by an independent parser (Python's email package): what it
// decodes must be exactly what the request asked for.
#include <catch2/catch.hpp>

#include "core/message/transfer_encoding.hpp"
#include "message_test_support.hpp"

using namespace volley;
using namespace volley::test;

namespace {

std::string b64(const std::string& bytes) { return message::base64_encode(bytes); }

// A text part as it travels (and as Python's get_content() returns it): CRLF line ends,
// ending in one.
std::string as_sent(const std::string& s) {
  std::string out = message::to_crlf(s);
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

void require_no_defects(const json& parsed) {
  INFO(parsed.dump(2));
  REQUIRE(parsed["header_defects"].empty());
  for (const auto& p : parsed["parts"]) REQUIRE(p["defects"].empty());
  REQUIRE(parsed["bare_lf"] == 0);
  REQUIRE(parsed["max_line"].get<int>() <= 998);
}

}  // namespace

TEST_CASE("round trip: html + text + two attachments, non-ASCII everywhere") {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  binary += std::string("\r\n\n\r\0\0=?", 8);
  std::string pdfish = "%PDF-1.4\n" + std::string(3000, '\x9c') + "\n%%EOF";
  std::string subject = "Grüße aus Köln — 日本語のテキスト and a long tail of plain words to force folding here";
  std::string text = "Hallo Zoë,\n\nThis line ends with spaces   \nA line with = signs and\ttabs.\n" +
                     std::string(150, 'x') + "\n.\nFrom the start\nДобрый день!\n";
  std::string html = "<html><body><p>Grüße, <b>Zoë</b> — ✓</p>" + std::string(120, 'y') + "</body></html>";

  json req = {
      {"from", {{"email", "absender@example.com"}, {"name", "Jürgen Müller"}}},
      {"to", {{{"email", "zoe@example.net"}, {"name", "Zoë Ångström"}},
              "plain@example.net",
              {{"email", "quote@example.net"}, {"name", "Doe, \"JD\" John"}}}},
      {"cc", {{{"email", "cc@example.org"}, {"name", "Ĉu Ĉi"}}}},
      {"bcc", {"hidden@example.org"}},
      {"reply_to", {{"email", "reply@example.com"}, {"name", "Support Team"}}},
      {"subject", subject},
      {"text", text},
      {"html", html},
      {"headers", {{"X-Mailer-Ref", "volley-test"}, {"X-Unicode", "Ünïcödé wörds in a custom header"}}},
      {"attachments",
       {{{"filename", "bytes.bin"}, {"content_type", "application/octet-stream"}, {"content", b64(binary)}},
        {{"filename", "Überweisung März 2025 — Rechnung №42 (final version).pdf"},
         {"content_type", "application/pdf"},
         {"content", b64(pdfish)}}}},
  };
  auto p = prepared(req);
  json parsed = parse_with_python(p.message);
  require_no_defects(parsed);
  INFO(parsed.dump(2));

  const json& h = parsed["headers"];
  CHECK(h["subject"] == subject);
  CHECK(h["from"] == json::array({{{"name", "Jürgen Müller"}, {"email", "absender@example.com"}}}));
  CHECK(h["to"] == json::array({{{"name", "Zoë Ångström"}, {"email", "zoe@example.net"}},
                                {{"name", ""}, {"email", "plain@example.net"}},
                                {{"name", "Doe, \"JD\" John"}, {"email", "quote@example.net"}}}));
  CHECK(h["cc"] == json::array({{{"name", "Ĉu Ĉi"}, {"email", "cc@example.org"}}}));
  CHECK(h["reply-to"] == json::array({{{"name", "Support Team"}, {"email", "reply@example.com"}}}));
  CHECK_FALSE(h.contains("bcc"));
  CHECK(h["x-mailer-ref"] == "volley-test");
  CHECK(h["x-unicode"] == "Ünïcödé wörds in a custom header");
  CHECK(h["message-id"] == p.message_id);
  CHECK(h["date"] == "Tue, 01 Jul 2025 12:00:00 +0000");
  CHECK(h["mime-version"] == "1.0");

  const json& parts = parsed["parts"];
  REQUIRE(parts.size() == 6);
  CHECK(parts[0]["content_type"] == "multipart/mixed");
  CHECK(parts[1]["content_type"] == "multipart/alternative");
  CHECK(parts[2]["content_type"] == "text/plain");
  CHECK(parts[2]["charset"] == "utf-8");
  CHECK(parts[2]["text"] == as_sent(text));
  CHECK(parts[3]["content_type"] == "text/html");
  CHECK(parts[3]["text"] == as_sent(html));
  CHECK(parts[4]["content_type"] == "application/octet-stream");
  CHECK(parts[4]["disposition"] == "attachment");
  CHECK(parts[4]["filename"] == "bytes.bin");
  CHECK(parts[4]["bytes_b64"] == b64(binary));
  CHECK(parts[5]["content_type"] == "application/pdf");
  CHECK(parts[5]["filename"] == "Überweisung März 2025 — Rechnung №42 (final version).pdf");
  CHECK(parts[5]["bytes_b64"] == b64(pdfish));

  CHECK(p.recipients == std::vector<std::string>{"zoe@example.net", "plain@example.net", "quote@example.net",
                                                 "cc@example.org", "hidden@example.org"});
  CHECK_FALSE(p.body_8bit);
  CHECK_FALSE(p.needs_smtputf8);
}

TEST_CASE("round trip: each MIME shape") {
  SECTION("text only, 7bit") {
    auto p = prepared({{"from", "a@example.com"}, {"to", "b@example.net"}, {"subject", "plain"}, {"text", "one\ntwo"}});
    json parsed = parse_with_python(p.message);
    require_no_defects(parsed);
    REQUIRE(parsed["parts"].size() == 1);
    CHECK(parsed["parts"][0]["content_type"] == "text/plain");
    CHECK(parsed["parts"][0]["cte"] == "7bit");
    CHECK(parsed["parts"][0]["text"] == "one\r\ntwo\r\n");
  }
  SECTION("html only, quoted-printable") {
    std::string html = "<p>Ça va? " + std::string(200, 'w') + "</p>";
    auto p = prepared({{"from", "a@example.com"}, {"to", "b@example.net"}, {"html", html}});
    json parsed = parse_with_python(p.message);
    require_no_defects(parsed);
    REQUIRE(parsed["parts"].size() == 1);
    CHECK(parsed["parts"][0]["content_type"] == "text/html");
    CHECK(parsed["parts"][0]["cte"] == "quoted-printable");
    CHECK(parsed["parts"][0]["text"] == html + "\r\n");
    CHECK_FALSE(parsed["headers"].contains("subject"));
  }
  SECTION("attachment only, empty attachment, ASCII filename with quotes") {
    auto p = prepared({{"from", "a@example.com"},
                       {"to", "b@example.net"},
                       {"attachments",
                        {{{"filename", "say \"hi\".txt"}, {"content_type", "text/plain"}, {"content", b64("hi\n")}},
                         {{"filename", "empty"}, {"content", ""}}}}});
    json parsed = parse_with_python(p.message);
    require_no_defects(parsed);
    const json& parts = parsed["parts"];
    REQUIRE(parts.size() == 3);
    CHECK(parts[0]["content_type"] == "multipart/mixed");
    CHECK(parts[1]["filename"] == "say \"hi\".txt");
    CHECK(parts[1]["bytes_b64"] == b64("hi\n"));
    CHECK(parts[2]["filename"] == "empty");
    CHECK(parts[2]["bytes_b64"] == "");
  }
  SECTION("UTF-8 addresses (RFC 6532) in headers") {
    auto p = prepared({{"from", {{"email", "jürgen@bücher.example"}, {"name", "Jürgen"}}},
                       {"to", "用户@例子.广告"},
                       {"text", "x"}});
    CHECK(p.needs_smtputf8);
    CHECK(p.body_8bit);
    CHECK(p.envelope_from == "jürgen@bücher.example");
    json parsed = parse_with_python(p.message);
    CHECK(parsed["headers"]["from"][0]["email"] == "jürgen@bücher.example");
    CHECK(parsed["headers"]["from"][0]["name"] == "Jürgen");
    CHECK(parsed["headers"]["to"][0]["email"] == "用户@例子.广告");
  }
}

TEST_CASE("round trip: raw message keeps its content") {
  std::string raw =
      "From: Raw Sender <raw@example.com>\nTo: r@example.net\nSubject: =?utf-8?B?R3LDvMOfZQ==?=\n"
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
      "Grüße\nzweite Zeile\n";
  auto p = prepared({{"from", "raw@example.com"}, {"to", "r@example.net"}, {"raw", raw}});
  json parsed = parse_with_python(p.message);
  require_no_defects(parsed);
  CHECK(parsed["headers"]["subject"] == "Grüße");
  CHECK(parsed["headers"]["message-id"] == p.message_id);
  CHECK(parsed["parts"][0]["text"] == "Grüße\r\nzweite Zeile\r\n");
  CHECK(p.body_8bit);
}
