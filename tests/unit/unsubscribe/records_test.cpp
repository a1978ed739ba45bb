// What an unsubscribe writes (core/unsubscribe/records.hpp) and which POST bodies are one-click
// unsubscribes (core/unsubscribe/one_click.hpp).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/unsubscribe/one_click.hpp"
#include "core/unsubscribe/records.hpp"

using namespace volley::unsubscribe;

namespace {
const Recipient kWho{"acme", "0194c3b2a1f0e9d8c7b6a5f4-2", "Jane@Example.org", "spring"};
}

TEST_CASE("records: the suppression entry and the event of an unsubscribe", "[unsubscribe]") {
  std::string why;
  const auto e = entry_for(kWho, kOneClick, 1000, &why);
  REQUIRE(e);
  CHECK(e->email == "jane@example.org");
  CHECK(e->tenant == "acme");
  CHECK(e->reason == "unsubscribe");
  CHECK(e->category == "spring");
  CHECK(e->source == "one_click");
  CHECK(e->description.find(kWho.rcpt_id) != std::string::npos);

  Recipient bad = kWho;
  bad.address = "no at sign";
  CHECK_FALSE(entry_for(bad, kMailto, 1000, &why));
  CHECK_FALSE(why.empty());

  const auto o = event_for(kWho, kMailto, 5000);
  const auto j = nlohmann::json::parse(volley::events::to_json(o));
  CHECK(j["event"] == "unsubscribe");
  CHECK(j["id"] == kWho.rcpt_id);
  CHECK(j["message_id"] == "0194c3b2a1f0e9d8c7b6a5f4");
  CHECK(j["recipient"] == "Jane@Example.org");
  CHECK(j["domain"] == "example.org");
  CHECK(j["tenant"] == "acme");
  CHECK(j["campaign"] == "spring");
  CHECK(j["category"] == "mailto");
  CHECK(j["received_at"] == 0x0194c3b2a1f0);
}

TEST_CASE("one-click: the bodies RFC 8058 sends, and nothing else", "[unsubscribe]") {
  CHECK(is_one_click_body("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"));
  CHECK(is_one_click_body("application/x-www-form-urlencoded; charset=utf-8", "List-Unsubscribe=One-Click\r\n"));
  CHECK(is_one_click_body("", "List-Unsubscribe=One-Click"));
  CHECK(is_one_click_body("application/x-www-form-urlencoded", "a=b&List-Unsubscribe=One-Click"));
  CHECK(is_one_click_body("multipart/form-data; boundary=XyZ",
                          "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"));

  CHECK_FALSE(is_one_click_body("application/x-www-form-urlencoded", ""));
  CHECK_FALSE(is_one_click_body("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click-Now"));
  CHECK_FALSE(is_one_click_body("application/x-www-form-urlencoded", "List-Unsubscribe=one-click"));
  CHECK_FALSE(is_one_click_body("application/x-www-form-urlencoded", "X-List-Unsubscribe=One-Click"));
  CHECK_FALSE(is_one_click_body("application/json", "List-Unsubscribe=One-Click"));
  CHECK_FALSE(is_one_click_body("multipart/form-data; boundary=XyZ",
                                "--XyZ\r\nContent-Disposition: form-data; name=\"Other\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"));
  CHECK_FALSE(is_one_click_body("multipart/form-data", "List-Unsubscribe=One-Click"));
}
