// prepare_message refuses every member that a request, an address or an attachment does not
// have, naming its path: a typo or a feature Volley does not have must not be dropped silently.
#include <catch2/catch.hpp>

#include <array>
#include <string_view>

#include "message_test_support.hpp"

using namespace volley;
using namespace volley::test;

namespace {

json basic() {
  return {{"from", "sender@example.com"}, {"to", {"rcpt@example.net"}}, {"subject", "Hello"}, {"text", "Hi\n"}};
}

void check_unknown(const json& request, const std::string& field) {
  CAPTURE(request.dump());
  const auto e = refused(request);
  CHECK(e.http_status == 400);
  CHECK(e.code == "unknown_field");
  CHECK(e.field == field);
  CHECK(e.message.find("unknown field " + field) == 0);
}

}  // namespace

TEST_CASE("unknown request members are refused, not ignored") {
  SECTION("a typo of a known member") {
    json r = basic();
    r.erase("subject");
    r["subjet"] = "Hello";
    check_unknown(r, "subjet");
    // Before any other check: the typo is the likely cause of what else is wrong.
    r = basic();
    r.erase("from");
    r["form"] = "sender@example.com";
    check_unknown(r, "form");
  }
  SECTION("features Volley does not have") {
    for (const char* feature : {"send_at", "template_id", "substitutions"}) {
      json r = basic();
      r[feature] = {{"any", "value"}};
      check_unknown(r, feature);
      r[feature] = nullptr;  // null is still a member the client sent
      check_unknown(r, feature);
    }
  }
  SECTION("the message lists the members that are known") {
    json r = basic();
    r["subjet"] = "x";
    const auto e = refused(r);
    CHECK(e.message.find("subject") != std::string::npos);
    CHECK(e.message.find("attachments") != std::string::npos);
  }
  SECTION("in the raw form too") {
    json r = {{"from", "sender@example.com"}, {"to", "rcpt@example.net"}, {"raw", "From: a@example.com\r\n\r\nx\r\n"}};
    CHECK(prepared(r).recipients.size() == 1);
    r["send_at"] = 1;
    check_unknown(r, "send_at");
  }
}

TEST_CASE("unknown members of addresses and attachments are refused with their path") {
  json r = basic();
  r["from"] = {{"email", "sender@example.com"}, {"nmae", "Sender"}};
  check_unknown(r, "from.nmae");

  r = basic();
  r["to"] = {"a@example.net", {{"email", "b@example.net"}, {"name", "B"}, {"type", "to"}}};
  check_unknown(r, "to[1].type");
  for (const char* list : {"cc", "bcc", "reply_to"}) {
    r = basic();
    r[list] = {{"email", "c@example.net"}, {"mail", "typo"}};
    check_unknown(r, std::string(list) + ".mail");
  }

  r = basic();
  r["attachments"] = {{{"filename", "a.txt"}, {"content", "aGk="}},
                      {{"filename", "logo.png"}, {"content", "aGk="}, {"cid", "logo@x"}}};
  check_unknown(r, "attachments[1].cid");
  r["attachments"][1].erase("cid");
  r["attachments"][1]["contentId"] = "logo@x";
  check_unknown(r, "attachments[1].contentId");
}

TEST_CASE("headers and metadata take any names, caller members are allowed only when named") {
  json r = basic();
  r["headers"] = {{"X-Campaign-Subjet", "x"}, {"send_at", "y"}};
  r["metadata"] = {{"send_at", 1}, {"template_id", {{"nested", "anything"}}}};
  const auto p = prepared(r);
  CHECK(json::parse(p.metadata_json) == r["metadata"]);

  r = basic();
  r["pool"] = "bulk";
  check_unknown(r, "pool");
  constexpr std::array<std::string_view, 1> kPool{"pool"};
  auto ok = prepare_message(r, fixed_options(), kPool);
  CHECK(std::holds_alternative<PreparedMessage>(ok));
  r["pool_name"] = "bulk";
  auto bad = prepare_message(r, fixed_options(), kPool);
  REQUIRE(std::holds_alternative<PrepareError>(bad));
  CHECK(std::get<PrepareError>(bad).field == "pool_name");
  CHECK(std::get<PrepareError>(bad).message.find("pool") != std::string::npos);
}
