// Which messages get List-Unsubscribe and what the fields look like (core/unsubscribe/headers.hpp),
// and the per-recipient split (core/unsubscribe/split.hpp).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/unsubscribe/headers.hpp"
#include "core/unsubscribe/split.hpp"

using namespace volley::unsubscribe;
using nlohmann::json;
using Kind = Plan::Kind;

namespace {

const Endpoints kConfigured{"https://mta.example.com", "unsub.example.com"};
const Endpoints kNone{};
const std::string kPlain = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
const std::string kOwnHeader = "From: a@example.com\r\nList-Unsubscribe : <mailto:x@example.com>\r\n\r\nbody\r\n";

Plan plan(const json& request, bool campaign, const Endpoints& e = kConfigured, const std::string& message = kPlain) {
  auto result = plan_for(request, campaign, e, message);
  if (auto* err = std::get_if<PlanError>(&result)) FAIL("refused: " << err->code << ": " << err->message);
  return std::get<Plan>(result);
}

PlanError refusal(const json& request, bool campaign, const Endpoints& e = kConfigured,
                  const std::string& message = kPlain) {
  auto result = plan_for(request, campaign, e, message);
  REQUIRE(std::holds_alternative<PlanError>(result));
  return std::get<PlanError>(result);
}

}  // namespace

TEST_CASE("headers: a campaign gets Volley's headers only when [unsubscribe] is configured", "[unsubscribe]") {
  CHECK(plan(json::object(), true).kind == Kind::per_recipient);
  CHECK(plan(json::object(), false).kind == Kind::none);
  CHECK(plan(json::object(), true, kNone).kind == Kind::none);
  CHECK(plan({{"list_unsubscribe", nullptr}}, true).kind == Kind::per_recipient);
  // The application's own header stays, alone.
  CHECK(plan(json::object(), true, kConfigured, kOwnHeader).kind == Kind::none);
}

TEST_CASE("headers: list_unsubscribe true, false and the application's own", "[unsubscribe]") {
  CHECK(plan({{"list_unsubscribe", true}}, false).kind == Kind::per_recipient);
  CHECK(plan({{"list_unsubscribe", false}}, true).kind == Kind::none);
  const auto e = refusal({{"list_unsubscribe", true}}, false, kNone);
  CHECK(e.code == "unsubscribe_not_configured");
  CHECK(e.message.find("[unsubscribe]") != std::string::npos);

  const Plan own = plan({{"list_unsubscribe", {{"url", "https://app.example.com/u?id=1"}, {"mailto", "u@app.example.com"}}}}, true, kNone);
  CHECK(own == Plan{Kind::own, "https://app.example.com/u?id=1", "u@app.example.com"});
  CHECK(plan({{"list_unsubscribe", {{"mailto", "u@app.example.com"}}}}, false).kind == Kind::own);
}

TEST_CASE("headers: bad list_unsubscribe values are refused with their field", "[unsubscribe]") {
  CHECK(refusal({{"list_unsubscribe", "yes"}}, false).field == "list_unsubscribe");
  CHECK(refusal({{"list_unsubscribe", json::object()}}, false).code == "invalid_field");
  CHECK(refusal({{"list_unsubscribe", {{"url", "http://app.example.com/u"}}}}, false).field == "list_unsubscribe.url");
  CHECK(refusal({{"list_unsubscribe", {{"url", "https://app.example.com/a b"}}}}, false).code == "invalid_field");
  CHECK(refusal({{"list_unsubscribe", {{"url", "https://app.example.com/\r\nBcc: x"}}}}, false).code ==
        "header_injection");
  CHECK(refusal({{"list_unsubscribe", {{"mailto", "not an address"}}}}, false).field == "list_unsubscribe.mailto");
  CHECK(refusal({{"list_unsubscribe", {{"mailto", "a@b.example?subject=x"}}}}, false).code == "invalid_field");
  CHECK(refusal({{"list_unsubscribe", {{"url", 5}}}}, false).code == "invalid_field");
  CHECK(refusal({{"list_unsubscribe", {{"link", "https://x.example"}}}}, false).code == "unknown_field");
  CHECK(refusal({{"list_unsubscribe", true}}, false, kConfigured, kOwnHeader).field == "list_unsubscribe");
}

TEST_CASE("headers: the fields as written", "[unsubscribe]") {
  CHECK(header_fields("https://m.example/u/T", "u+x@unsub.example") ==
        "List-Unsubscribe: <https://m.example/u/T>,\r\n <mailto:u+x@unsub.example>\r\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  CHECK(header_fields("https://m.example/u/T", "") ==
        "List-Unsubscribe: <https://m.example/u/T>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  // No one-click without an https URL (RFC 8058 section 3.1).
  CHECK(header_fields("", "u@app.example") == "List-Unsubscribe: <mailto:u@app.example>\r\n");
  CHECK(header_fields("", "").empty());
  CHECK(one_click_url(kConfigured, "TOK") == "https://mta.example.com/u/TOK");
  CHECK(mailto_address(kConfigured, "u+id.tag") == "u+id.tag@unsub.example.com");
  CHECK(mailto_address(kNone, "u+id.tag").empty());
  CHECK(has_list_unsubscribe(kOwnHeader));
  CHECK_FALSE(has_list_unsubscribe(kPlain));
  CHECK_FALSE(has_list_unsubscribe("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n"));
  CHECK_FALSE(has_list_unsubscribe("From: a@b\r\n\r\nList-Unsubscribe: <mailto:x@y>\r\n"));
  CHECK(token_in_path("/u/abc") == std::optional<std::string_view>("abc"));
  CHECK_FALSE(token_in_path("/u/"));
  CHECK_FALSE(token_in_path("/api/v1/messages"));
}

TEST_CASE("split: one message per recipient, each with its own token", "[unsubscribe]") {
  const TokenKey key("instance secret");
  volley::spool::NewMessage m;
  m.message.id = "0194c3b2a1f0e9d8c7b6a5f4";
  m.message.tenant = "acme";
  m.message.campaign = "sale";
  m.wire_data = "Subject: x\r\n\r\n..dot\r\n.\r\n";
  m.message.message_size = 21;
  m.message.recipient_count = 3;
  for (std::uint32_t i : {0u, 2u, 5u}) {  // 1, 3 and 4 were suppressed
    volley::spool::RecipientRecord r;
    r.id = volley::spool::recipient_id(m.message.id, i);
    r.message_id = m.message.id;
    r.recipient = "r" + std::to_string(i) + "@example.org";
    m.recipients.push_back(r);
  }
  int next = 0;
  const auto parts = split_per_recipient(std::move(m), key, kConfigured, [&] {
    return "0194c3b2a1f0e9d8c7b6a5f" + std::to_string(++next);
  });
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].message.id == "0194c3b2a1f0e9d8c7b6a5f4");
  CHECK(parts[0].recipients.at(0).id == "0194c3b2a1f0e9d8c7b6a5f4-0");
  CHECK(parts[1].message.id == "0194c3b2a1f0e9d8c7b6a5f1");
  CHECK(parts[1].recipients.at(0).id == "0194c3b2a1f0e9d8c7b6a5f1-0");
  CHECK(parts[2].recipients.at(0).id == "0194c3b2a1f0e9d8c7b6a5f2-0");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    REQUIRE(p.recipients.size() == 1);
    CHECK(p.message.recipient_count == 1);
    CHECK(p.recipients[0].message_id == p.message.id);
    CHECK(p.message.message_size == p.wire_data.size() - 3);  // grown by the fields, as the wire form
    const std::string& wire = p.wire_data;
    CHECK(wire.rfind("List-Unsubscribe: <https://mta.example.com/u/", 0) == 0);
    CHECK(wire.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nSubject: x\r\n") != std::string::npos);
    const auto start = wire.find("/u/") + 3;
    const auto token = wire.substr(start, wire.find('>') - start);
    const auto r = key.read(token);
    REQUIRE(r);
    CHECK(*r == Recipient{"acme", p.recipients[0].id, p.recipients[0].recipient, "sale"});
    const std::string local = key.mailto_local_part(p.recipients[0].id);
    CHECK(wire.find("<mailto:" + local + "@unsub.example.com>") != std::string::npos);
  }
}
