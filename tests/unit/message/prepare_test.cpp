#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "core/message/raw_message.hpp"
#include "message_test_support.hpp"

using namespace volley;
using namespace volley::test;

namespace {

json basic() {
  return {{"from", "sender@example.com"}, {"to", {"rcpt@example.net"}}, {"subject", "Hello"}, {"text", "Hi there\n"}};
}

void check_line_limits(const std::string& m) {
  for (const auto& l : crlf_lines(m)) REQUIRE(l.size() <= 998);
  // Bare CR or LF never appear: every line end is CRLF.
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') REQUIRE((i + 1 < m.size() && m[i + 1] == '\n'));
    if (m[i] == '\n') REQUIRE((i > 0 && m[i - 1] == '\r'));
  }
  REQUIRE(m.size() >= 2);
  REQUIRE(m.substr(m.size() - 2) == "\r\n");
}

}  // namespace

TEST_CASE("text-only message: 7bit text/plain with the generated fields") {
  auto p = prepared(basic());
  const std::string& m = p.message;
  check_line_limits(m);
  CHECK(p.envelope_from == "sender@example.com");
  CHECK(p.recipients == std::vector<std::string>{"rcpt@example.net"});
  CHECK(header_value(m, "From") == "sender@example.com");
  CHECK(header_value(m, "To") == "rcpt@example.net");
  CHECK(header_value(m, "Subject") == "Hello");
  CHECK(header_value(m, "Date") == "Tue, 01 Jul 2025 12:00:00 +0000");
  CHECK(header_value(m, "MIME-Version") == "1.0");
  CHECK(header_value(m, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(header_value(m, "Content-Transfer-Encoding") == "7bit");
  CHECK(header_value(m, "Message-ID") == p.message_id);
  CHECK(p.message_id.size() == 1 + 32 + 1 + 8 + 1);
  CHECK(p.message_id.front() == '<');
  CHECK(p.message_id.substr(p.message_id.size() - 10) == "@mta.test>");
  CHECK(m.substr(m.find("\r\n\r\n") + 4) == "Hi there\r\n");
  CHECK_FALSE(p.body_8bit);
  CHECK_FALSE(p.needs_smtputf8);
  CHECK(p.metadata_json == "{}");
  CHECK(p.tags.empty());
  CHECK(p.campaign.empty());
}

TEST_CASE("message ids are fresh per message and the hostname is sanitised") {
  auto a = prepared(basic()), b = prepared(basic());
  CHECK(a.message_id != b.message_id);
  auto opts = fixed_options();
  opts.hostname = "bad host<>";
  CHECK(prepared(basic(), opts).message_id.find("@localhost>") != std::string::npos);
}

TEST_CASE("non-ASCII text is quoted-printable, long lines are soft-broken") {
  json r = basic();
  r["text"] = "Grüße aus Köln\n" + std::string(200, 'x') + "\n";
  auto p = prepared(r);
  CHECK(header_value(p.message, "Content-Transfer-Encoding") == "quoted-printable");
  CHECK(p.message.find("Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n") != std::string::npos);
  for (const auto& l : crlf_lines(p.message.substr(p.message.find("\r\n\r\n") + 4))) CHECK(l.size() <= 76);
  CHECK_FALSE(p.body_8bit);
}

TEST_CASE("ASCII text with an over-long line is quoted-printable, not 7bit") {
  json r = basic();
  r["text"] = std::string(1200, 'a');
  auto p = prepared(r);
  CHECK(header_value(p.message, "Content-Transfer-Encoding") == "quoted-printable");
  check_line_limits(p.message);
}

TEST_CASE("html only is text/html") {
  json r = basic();
  r.erase("text");
  r["html"] = "<p>Hi</p>";
  auto p = prepared(r);
  CHECK(header_value(p.message, "Content-Type") == "text/html; charset=utf-8");
}

TEST_CASE("text and html make multipart/alternative, plain first") {
  json r = basic();
  r["html"] = "<p>Hi there</p>";
  auto p = prepared(r);
  std::string ct = header_value(p.message, "Content-Type");
  CHECK(ct.rfind("multipart/alternative;", 0) == 0);
  auto plain = p.message.find("Content-Type: text/plain");
  auto html = p.message.find("Content-Type: text/html");
  CHECK(plain != std::string::npos);
  CHECK(html != std::string::npos);
  CHECK(plain < html);
  std::string boundary = ct.substr(ct.find("boundary=\"") + 10);
  boundary.pop_back();
  CHECK(p.message.find("\r\n--" + boundary + "--\r\n") != std::string::npos);
  check_line_limits(p.message);
}

TEST_CASE("attachments wrap the body in multipart/mixed, attachment-only messages work") {
  json r = basic();
  r["html"] = "<b>x</b>";
  r["attachments"] = {{{"filename", "a.bin"}, {"content", "AAEC/w=="}}};
  auto p = prepared(r);
  CHECK(header_value(p.message, "Content-Type").rfind("multipart/mixed;", 0) == 0);
  CHECK(p.message.find("Content-Type: multipart/alternative;") != std::string::npos);
  CHECK(p.message.find("Content-Type: application/octet-stream; name=\"a.bin\"\r\n") != std::string::npos);
  CHECK(p.message.find("Content-Disposition: attachment; filename=\"a.bin\"\r\n") != std::string::npos);
  CHECK(p.message.find("Content-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n") != std::string::npos);

  json only = {{"from", "s@example.com"},
               {"to", "r@example.com"},
               {"attachments", {{{"filename", "cal.ics"}, {"content_type", "Text/Calendar; method=REQUEST"}, {"content", ""}}}}};
  auto q = prepared(only);
  CHECK(header_value(q.message, "Content-Type").rfind("multipart/mixed;", 0) == 0);
  CHECK(q.message.find("Content-Type: text/calendar; method=REQUEST; name=\"cal.ics\"") != std::string::npos);
  CHECK(q.message.find("Content-Type: text/plain") == std::string::npos);
}

TEST_CASE("address forms: strings, objects, single values, display names") {
  json r = {{"from", {{"email", "sender@example.com"}, {"name", "Sender Name"}}},
            {"to", {{"email", "a@example.net"}, {"name", "Doe, Jane"}}},
            {"cc", {"c@example.net", {{"email", "d@example.net"}, {"name", "Dée"}}}},
            {"reply_to", "replies@example.com"},
            {"text", "x"}};
  auto p = prepared(r);
  CHECK(header_value(p.message, "From") == "Sender Name <sender@example.com>");
  CHECK(header_value(p.message, "To") == "\"Doe, Jane\" <a@example.net>");
  CHECK(header_value(p.message, "Cc") == "c@example.net, =?utf-8?B?RMOpZQ==?= <d@example.net>");
  CHECK(header_value(p.message, "Reply-To") == "replies@example.com");
  CHECK(p.recipients == std::vector<std::string>{"a@example.net", "c@example.net", "d@example.net"});
  CHECK(header_value(p.message, "Subject").empty());
}

TEST_CASE("bcc is an envelope recipient only, duplicates collapse in order") {
  json r = basic();
  r["to"] = {"a@example.net", "B@Example.NET"};
  r["cc"] = {"a@EXAMPLE.net", "c@example.net"};
  r["bcc"] = {"hidden@example.org", "b@example.net", "c@example.net"};
  auto p = prepared(r);
  // The domain is case-insensitive, the local part is not.
  CHECK(p.recipients ==
        std::vector<std::string>{"a@example.net", "B@Example.NET", "c@example.net", "hidden@example.org", "b@example.net"});
  CHECK(p.message.find("hidden@example.org") == std::string::npos);
  CHECK(p.message.find("Bcc") == std::string::npos);
  CHECK(header_value(p.message, "To") == "a@example.net, B@Example.NET");
}

TEST_CASE("bcc-only messages have no To field") {
  json r = {{"from", "s@example.com"}, {"bcc", {"h@example.org"}}, {"text", "x"}};
  auto p = prepared(r);
  CHECK(p.recipients == std::vector<std::string>{"h@example.org"});
  CHECK(header_value(p.message, "To").empty());
}

TEST_CASE("envelope_from: default, explicit, null reverse-path, invalid") {
  json r = basic();
  r["envelope_from"] = "bounces+123@example.com";
  CHECK(prepared(r).envelope_from == "bounces+123@example.com");
  r["envelope_from"] = "";
  CHECK(prepared(r).envelope_from.empty());
  r["envelope_from"] = "nope";
  auto e = refused(r);
  CHECK(e.code == "invalid_address");
  CHECK(e.field == "envelope_from");
  CHECK(e.message == "envelope_from: missing @");
}

TEST_CASE("8bit and SMTPUTF8 flags") {
  SECTION("ASCII everything") {
    auto p = prepared(basic());
    CHECK_FALSE(p.body_8bit);
    CHECK_FALSE(p.needs_smtputf8);
  }
  SECTION("non-ASCII recipient") {
    json r = basic();
    r["to"] = {"josé@example.net"};
    auto p = prepared(r);
    CHECK(p.needs_smtputf8);
    CHECK(p.body_8bit);  // the To field carries UTF-8 (RFC 6532)
  }
  SECTION("non-ASCII header address but ASCII envelope still needs SMTPUTF8") {
    json r = basic();
    r["from"] = "josé@example.com";
    r["envelope_from"] = "bounce@example.com";
    CHECK(prepared(r).needs_smtputf8);
  }
  SECTION("non-ASCII subject and body are encoded: 7bit clean") {
    json r = basic();
    r["subject"] = "Grüße";
    r["text"] = "Grüße";
    auto p = prepared(r);
    CHECK_FALSE(p.body_8bit);
    CHECK_FALSE(p.needs_smtputf8);
  }
}

TEST_CASE("custom headers: folded, encoded, reserved names refused") {
  json r = basic();
  r["headers"] = {{"X-Campaign-Ref", "abc-123"},
                  {"List-Unsubscribe", "<mailto:unsub@example.com>, <https://example.com/u/1>"},
                  {"X-Note", "Ünïcödé note"},
                  {"Message-ID", "<custom.1@example.com>"}};
  auto p = prepared(r);
  CHECK(header_value(p.message, "X-Campaign-Ref") == "abc-123");
  CHECK(header_value(p.message, "List-Unsubscribe") == "<mailto:unsub@example.com>, <https://example.com/u/1>");
  CHECK(header_value(p.message, "X-Note").rfind("=?utf-8?B?", 0) == 0);
  CHECK(p.message_id == "<custom.1@example.com>");
  CHECK(header_value(p.message, "Message-ID") == "<custom.1@example.com>");
  // Only one Message-ID field.
  CHECK(p.message.find("Message-ID:") == p.message.rfind("Message-ID:"));

  for (const char* name : {"From", "to", "CC", "Bcc", "Reply-To", "Subject", "Date", "MIME-Version", "Content-Type",
                           "Content-Transfer-Encoding", "Return-Path"}) {
    INFO(name);
    json bad = basic();
    bad["headers"] = {{name, "x"}};
    auto e = refused(bad);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == std::string("headers.") + name);
  }
  for (const char* id : {"no-brackets@example.com", "<no-at>", "<a b@example.com>", "<@example.com>", "<a@>"}) {
    INFO(id);
    json bad = basic();
    bad["headers"] = {{"Message-ID", id}};
    auto e = refused(bad);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == "headers.Message-ID");
  }
  for (const char* name : {"X Space", "X:Colon", "", "X-Ünï"}) {
    INFO(name);
    json bad = basic();
    bad["headers"] = {{name, "x"}};
    auto e = refused(bad);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == std::string("headers.") + name);
  }
  json bad = basic();
  bad["headers"] = {{"X-Num", 5}};
  CHECK(refused(bad).field == "headers.X-Num");
}

TEST_CASE("CR, LF or NUL in any header-bearing field is header_injection") {
  struct Case {
    std::string field;
    std::function<void(json&, const std::string&)> set;
  };
  std::vector<Case> cases = {
      {"subject", [](json& r, const std::string& v) { r["subject"] = "Hi" + v; }},
      {"from.name", [](json& r, const std::string& v) { r["from"] = {{"email", "s@example.com"}, {"name", "S" + v}}; }},
      {"from", [](json& r, const std::string& v) { r["from"] = "s@example.com" + v; }},
      {"to[1].name",
       [](json& r, const std::string& v) { r["to"] = {"a@example.net", {{"email", "b@example.net"}, {"name", "B" + v}}}; }},
      {"to[0].email", [](json& r, const std::string& v) { r["to"] = {{{"email", "a@example.net" + v}}}; }},
      {"to", [](json& r, const std::string& v) { r["to"] = "a@example.net" + v; }},
      {"cc[0].name", [](json& r, const std::string& v) { r["cc"] = {{{"email", "c@example.net"}, {"name", v + "C"}}}; }},
      {"bcc[0]", [](json& r, const std::string& v) { r["bcc"] = {v + "c@example.net"}; }},
      {"reply_to.name", [](json& r, const std::string& v) { r["reply_to"] = {{"email", "r@example.net"}, {"name", "R" + v}}; }},
      {"envelope_from", [](json& r, const std::string& v) { r["envelope_from"] = "b@example.com" + v; }},
      {"headers.X-Test", [](json& r, const std::string& v) { r["headers"] = {{"X-Test", "ok" + v}}; }},
      {"headers.X-Test" , [](json& r, const std::string& v) { r["headers"] = {{"X-Test" + v, "ok"}}; }},
      {"attachments[0].filename",
       [](json& r, const std::string& v) { r["attachments"] = {{{"filename", "a" + v + ".txt"}, {"content", ""}}}; }},
      {"attachments[0].content_type",
       [](json& r, const std::string& v) {
         r["attachments"] = {{{"filename", "a.txt"}, {"content_type", "text/plain" + v}, {"content", ""}}};
       }},
  };
  for (std::string evil : {std::string("\r\nBcc: victim@example.org"), std::string("\nX: y"), std::string("\r"),
                           std::string("\0", 1)}) {
    for (const auto& c : cases) {
      json r = basic();
      c.set(r, evil);
      std::string expected_field = c.field;
      if (c.field == "headers.X-Test" && r["headers"].begin().key() != "X-Test") expected_field = "headers." + r["headers"].begin().key();
      INFO(c.field << " with " << json(evil).dump());
      auto e = refused(r);
      CHECK(e.code == "header_injection");
      CHECK(e.field == expected_field);
      CHECK(e.http_status == 400);
    }
  }
}

TEST_CASE("request errors name the field") {
  SECTION("not an object") {
    auto e = refused(json::array());
    CHECK(e.code == "invalid_json");
  }
  SECTION("missing from") {
    json r = basic();
    r.erase("from");
    auto e = refused(r);
    CHECK(e.code == "missing_field");
    CHECK(e.field == "from");
  }
  SECTION("no recipients") {
    json r = basic();
    r.erase("to");
    auto e = refused(r);
    CHECK(e.code == "missing_field");
    CHECK(e.field == "to");
    r["to"] = json::array();
    CHECK(refused(r).field == "to");
  }
  SECTION("invalid address deep in a list") {
    json r = basic();
    r["to"] = {"a@example.net", "b@example.net", "broken"};
    auto e = refused(r);
    CHECK(e.code == "invalid_address");
    CHECK(e.field == "to[2]");
    CHECK(e.message == "to[2]: missing @");
    r["to"] = {"a@example.net", "b@example.net", {{"email", "x@-bad.example"}}};
    e = refused(r);
    CHECK(e.field == "to[2].email");
    CHECK(e.message == "to[2].email: domain label starts or ends with a hyphen");
    r["to"] = {"a@example.net", {{"name", "No Email"}}};
    e = refused(r);
    CHECK(e.code == "missing_field");
    CHECK(e.field == "to[1].email");
    r["to"] = {"a@example.net", 42};
    e = refused(r);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == "to[1]");
  }
  SECTION("angle-bracket form is refused with a hint") {
    json r = basic();
    r["from"] = "Sender <s@example.com>";
    auto e = refused(r);
    CHECK(e.code == "invalid_address");
    CHECK(e.message.find("display name goes in \"name\"") != std::string::npos);
  }
  SECTION("no content") {
    json r = basic();
    r.erase("text");
    auto e = refused(r);
    CHECK(e.code == "missing_field");
    CHECK(e.field == "text");
  }
  SECTION("wrong types") {
    for (const char* key : {"subject", "text", "html", "campaign", "envelope_from"}) {
      json r = basic();
      r[key] = 12;
      auto e = refused(r);
      CHECK(e.code == "invalid_field");
      CHECK(e.field == key);
    }
    json r = basic();
    r["tags"] = "one";
    CHECK(refused(r).field == "tags");
    r = basic();
    r["tags"] = {"ok", 3};
    CHECK(refused(r).field == "tags[1]");
    r = basic();
    r["metadata"] = json::array();
    CHECK(refused(r).field == "metadata");
    r = basic();
    r["attachments"] = {{{"filename", "x"}, {"content", 5}}};
    CHECK(refused(r).field == "attachments[0].content");
    r = basic();
    r["attachments"] = {{{"content", ""}}};
    CHECK(refused(r).field == "attachments[0].filename");
  }
  SECTION("control characters in a subject or name") {
    json r = basic();
    r["subject"] = "bell\x07";
    auto e = refused(r);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == "subject");
    r = basic();
    r["to"] = {{{"email", "a@example.net"}, {"name", "tab\tname"}}};
    CHECK(refused(r).field == "to[0].name");
  }
  SECTION("invalid UTF-8 in a value built in code") {
    json r = basic();
    r["subject"] = "bad \xff";
    auto e = refused(r);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == "subject");
    r = basic();
    r["metadata"] = {{"k", "bad \xff"}};
    CHECK(refused(r).field == "metadata");
  }
}

TEST_CASE("attachment content must be base64, content types are checked") {
  json r = basic();
  r["attachments"] = {{{"filename", "ok.txt"}, {"content", "aGk="}},
                      {{"filename", "bad.bin"}, {"content", "not base64!"}}};
  auto e = refused(r);
  CHECK(e.code == "invalid_field");
  CHECK(e.field == "attachments[1].content");
  CHECK(e.message == "attachments[1].content is not valid base64 (at offset 10)");
  CHECK(e.http_status == 400);

  for (const char* ct : {"text", "multipart/mixed", "message/rfc822", "a/b; x", "a/b; name=x", "tëxt/plain", "a/b c"}) {
    INFO(ct);
    r["attachments"] = {{{"filename", "f"}, {"content_type", ct}, {"content", ""}}};
    auto err = refused(r);
    CHECK(err.code == "invalid_field");
    CHECK(err.field == "attachments[0].content_type");
  }
  r["attachments"] = {{{"filename", "f"}, {"content_type", "Text/Plain; charset=\"iso-8859-1\""}, {"content", ""}}};
  CHECK(prepared(r).message.find("Content-Type: text/plain; charset=\"iso-8859-1\"; name=\"f\"") != std::string::npos);
}

TEST_CASE("size and recipient limits") {
  auto opts = fixed_options();
  opts.max_message_size = 2000;
  json r = basic();
  r["text"] = std::string(1900, 'a');  // fits before encoding, not after
  auto e = refused(r, opts);
  CHECK(e.code == "too_large");
  CHECK(e.http_status == 413);
  r["text"] = std::string(5000, 'a');  // refused before building
  CHECK(refused(r, opts).http_status == 413);
  r = basic();
  r["attachments"] = {{{"filename", "big"}, {"content", std::string(4000, 'A')}}};
  CHECK(refused(r, opts).http_status == 413);

  opts = fixed_options();
  opts.max_recipients = 3;
  r = basic();
  r["to"] = {"a@x.example", "b@x.example"};
  r["bcc"] = {"c@x.example", "d@x.example"};
  e = refused(r, opts);
  CHECK(e.code == "too_many_recipients");
  CHECK(e.field == "bcc");
  r["to"] = {"a@x.example", "b@x.example", "c@x.example", "d@x.example"};
  r.erase("bcc");
  CHECK(refused(r, opts).field == "to");
}

TEST_CASE("tags, metadata and campaign are carried") {
  json r = basic();
  r["tags"] = {"welcome", "onboarding"};
  r["metadata"] = {{"user_id", 42}, {"plan", "pro"}};
  r["campaign"] = "spring-2025";
  auto p = prepared(r);
  CHECK(p.tags == std::vector<std::string>{"welcome", "onboarding"});
  CHECK(json::parse(p.metadata_json) == r["metadata"]);
  CHECK(p.campaign == "spring-2025");
  r["tags"] = {""};
  CHECK(refused(r).field == "tags[0]");
  r["tags"] = {std::string(200, 't')};
  CHECK(refused(r).field == "tags[0]");
  r.erase("tags");
  r["campaign"] = "a\nb";
  CHECK(refused(r).field == "campaign");
}

TEST_CASE("header lines stay within 78 columns where they can, 998 always") {
  json r = basic();
  std::string subject;
  for (int i = 0; i < 50; ++i) subject += "Wörter und more words ";
  r["subject"] = subject;
  json to = json::array();
  for (int i = 0; i < 40; ++i) to.push_back({{"email", "user" + std::to_string(i) + "@example.net"}, {"name", "Ünïcode Nämé " + std::to_string(i)}});
  r["to"] = to;
  r["headers"] = {{"X-Long", std::string(1500, 'z')}, {"X-Words", subject}};
  r["attachments"] = {{{"filename", std::string(100, 'n') + "ö.pdf"}, {"content", "aGk="}}};
  auto p = prepared(r);
  check_line_limits(p.message);
  for (const auto& l : crlf_lines(header_section(p.message))) CHECK(l.size() <= 78);
}

// --- raw form ---------------------------------------------------------------------------------

namespace {
json raw_request(std::string raw) {
  return {{"from", "sender@example.com"}, {"to", {"rcpt@example.net"}}, {"raw", std::move(raw)}};
}
}  // namespace

TEST_CASE("raw messages pass through, with missing Date and Message-ID added") {
  std::string raw = "From: sender@example.com\nTo: rcpt@example.net\nSubject: raw\n\nline 1\nline 2";
  auto p = prepared(raw_request(raw));
  CHECK(p.message ==
        "From: sender@example.com\r\nTo: rcpt@example.net\r\nSubject: raw\r\n"
        "Date: Tue, 01 Jul 2025 12:00:00 +0000\r\nMessage-ID: " + p.message_id + "\r\n\r\nline 1\r\nline 2\r\n");
  CHECK(p.message_id.find("@mta.test>") != std::string::npos);
  CHECK(p.recipients == std::vector<std::string>{"rcpt@example.net"});
  CHECK(p.envelope_from == "sender@example.com");
}

TEST_CASE("a complete CRLF raw message is byte-for-byte unchanged") {
  std::string raw =
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\r\n\tb=abc\r\n"
      "From: sender@example.com\r\nDate: Mon, 30 Jun 2025 10:00:00 +0000\r\n"
      "Message-ID:\r\n <kept@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n.\r\n\r\n";
  auto p = prepared(raw_request(raw));
  CHECK(p.message == raw);
  CHECK(p.message_id == "<kept@example.com>");
  CHECK(p.body_8bit);
  CHECK_FALSE(p.needs_smtputf8);
}

TEST_CASE("raw: Bcc removed, bare CR in body normalised, UTF-8 headers need SMTPUTF8") {
  std::string raw = "From: s@example.com\r\nBcc: secret@example.org,\r\n  other@example.org\r\nSubject: Grüße\r\n\r\na\rb\r\n";
  auto p = prepared(raw_request(raw));
  CHECK(p.message.find("secret") == std::string::npos);
  CHECK(p.message.find("other@") == std::string::npos);
  CHECK(p.message.find("Bcc") == std::string::npos);
  CHECK(p.message.find("\r\n\r\na\r\nb\r\n") != std::string::npos);
  CHECK(p.needs_smtputf8);
}

TEST_CASE("raw form refusals") {
  struct Bad {
    std::string raw;
    std::string code;
    std::string message;
  };
  std::vector<Bad> bad = {
      {"From: a@example.com\r\nSubject: x", "invalid_field", "raw: no blank line between header and body"},
      {"\r\nbody", "invalid_field", "raw: message has no header fields"},
      {" folded: first\r\n\r\n", "invalid_field", "raw: message starts with a continuation line (line 1)"},
      {"From: a@example.com\r\nSubject: a\rBcc: x@y.example\r\n\r\n", "header_injection", "raw: bare CR in header (line 2)"},
      {std::string("From: a@example.com\r\nX: a\0b\r\n\r\n", 32), "header_injection", "raw: NUL in header (line 2)"},
      {"From: a@example.com\r\nnot a header\r\n\r\n", "invalid_field", "raw: header line is not a \"Name: value\" field (line 2)"},
      {"From: a@example.com\r\nBad Name: x\r\n\r\n", "invalid_field", "raw: invalid character in header field name (line 2)"},
      {"Subject: no from\r\n\r\nbody\r\n", "invalid_field", "raw: message has no From field"},
      {"From: a@example.com\r\nMessage-ID:  \r\n\r\n", "invalid_field", "raw: Message-ID field is empty"},
      {"From: a@example.com\r\nX: " + std::string(996, 'x') + "\r\n\r\n", "invalid_field", "raw: header line longer than 998 octets (line 2)"},
      {"From: a@example.com\r\n\r\nok\r\n" + std::string(999, 'b') + "\r\n", "invalid_field", "raw: body line longer than 998 octets (line 4)"},
      {std::string("From: a@example.com\r\n\r\nnul\0", 27), "invalid_field", "raw: NUL in body (line 3)"},
  };
  for (const auto& b : bad) {
    INFO(json(b.raw).dump());
    auto e = refused(raw_request(b.raw));
    CHECK(e.code == b.code);
    CHECK(e.field == "raw");
    CHECK(e.message == b.message);
  }
  std::string ok_998 = "From: a@example.com\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\n" + std::string(998, 'b') + "\r\n";
  CHECK(prepared(raw_request(ok_998)).message == ok_998);
}

TEST_CASE("raw cannot be mixed with builder fields and is size-limited") {
  for (const char* key : {"subject", "text", "html", "headers", "attachments", "reply_to"}) {
    json r = raw_request("From: a@example.com\r\n\r\nx\r\n");
    r[key] = "x";
    auto e = refused(r);
    CHECK(e.code == "invalid_field");
    CHECK(e.field == key);
  }
  json r = raw_request("From: a@example.com\r\n\r\nx\r\n");
  r["raw"] = 5;
  CHECK(refused(r).field == "raw");
  auto opts = fixed_options();
  opts.max_message_size = 100;
  r = raw_request("From: a@example.com\r\n\r\n" + std::string(90, 'x') + "\r\n");
  CHECK(refused(r, opts).http_status == 413);  // Date and Message-ID push it over
  r = raw_request(std::string(200, 'x'));
  CHECK(refused(r, opts).code == "too_large");
}

// The body pass works a line at a time; it must say exactly what the byte-at-a-time rule says:
// every CRLF, LF or bare CR becomes CRLF, a last line gets its line end, NUL and over-long lines
// are refused with their line number.
TEST_CASE("raw: the body's line ends normalised as a byte-at-a-time reference does") {
  auto reference = [](std::string_view body, std::size_t first_line, std::string* out) -> std::string {
    std::size_t len = 0, line = first_line;
    for (std::size_t i = 0; i < body.size(); ++i) {
      const char c = body[i];
      if (c == '\r' || c == '\n') {
        if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
        *out += "\r\n";
        len = 0;
        ++line;
        continue;
      }
      if (c == '\0') return "NUL in body (line " + std::to_string(line) + ")";
      if (++len > 998) return "body line longer than 998 octets (line " + std::to_string(line) + ")";
      *out += c;
    }
    if (len > 0) *out += "\r\n";
    return {};
  };
  const std::string header = "From: a@example.com\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\n";
  std::uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  const char alphabet[] = {'a', 'b', '\r', '\n', ' ', '.', '\0'};
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const std::size_t size = next() % 40;
    for (std::size_t i = 0; i < size; ++i) body += alphabet[next() % (round % 5 == 0 ? 7 : 6)];
    if (round % 97 == 0) body += std::string(990 + next() % 20, 'x');  // near the line limit
    std::string want;
    const std::string why = reference(body, 5, &want);
    message::RawMessage got;
    const auto problem = message::normalise_raw_message(header + body, "d", "<n@h>", &got);
    INFO(round);
    if (why.empty()) {
      REQUIRE_FALSE(problem);
      CHECK(got.message == header + want);
    } else {
      REQUIRE(problem);
      CHECK(problem->message == why);
    }
  }
}

// body_8bit of a built message is read from its headers alone (its parts are 7bit, quoted-printable
// or base64): it must still say whether any byte of the whole message is 8-bit.
TEST_CASE("8bit flag of built messages matches their bytes") {
  const auto any_8bit = [](const std::string& m) {
    return std::any_of(m.begin(), m.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  };
  std::vector<json> requests;
  const json senders[] = {"sender@example.com", {{"email", "sender@example.com"}, {"name", "Grüße"}},
                          "josé@example.com"};
  for (const char* to : {"rcpt@example.net", "josé@example.net"}) {
    for (const json& from : senders) {
      for (const char* text : {"plain\n", "Grüße\n", "\x7f control and tab\t\n"}) {
        json r = basic();
        r["to"] = {to};
        r["from"] = from;
        r["text"] = text;
        requests.push_back(r);
        r["html"] = std::string("<p>") + text + "</p>";
        requests.push_back(r);
        r["attachments"] = {{{"filename", "naïve.txt"}, {"content_type", "text/plain"}, {"content", "w7E="}}};
        requests.push_back(r);
      }
    }
  }
  for (const auto& r : requests) {
    INFO(r.dump());
    const auto p = prepared(r);
    CHECK(p.body_8bit == any_8bit(p.message));
  }
}
