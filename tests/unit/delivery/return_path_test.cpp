#include <catch2/catch.hpp>

#include "core/delivery/return_path.hpp"

using volley::delivery::looks_like_recipient_id;
using volley::delivery::ReturnPathRule;
using volley::delivery::ReturnPaths;

namespace {
const std::string kId = "0194c3b2a1f0e9d8c7b6a5f4-3";

ReturnPaths paths() {
  return ReturnPaths({{"example.com", "bounce.example.com", "bounces"}, {"*", "rp.volley.test", "b"}});
}
}  // namespace

TEST_CASE("return path: the sender's domain picks its rule, else the catch-all; a null sender none") {
  auto p = paths();
  REQUIRE(p.for_sender("news@Example.COM") != nullptr);
  CHECK(p.for_sender("news@Example.COM")->domain == "bounce.example.com");
  CHECK(p.for_sender("a@other.org")->domain == "rp.volley.test");
  CHECK(p.for_sender("") == nullptr);
  CHECK(ReturnPaths({{"example.com", "bounce.example.com", "bounces"}}).for_sender("a@other.org") == nullptr);
  CHECK(ReturnPaths().for_sender("a@example.com") == nullptr);
  CHECK(p.bounce_domains() == std::vector<std::string>{"bounce.example.com", "rp.volley.test"});
}

TEST_CASE("return path: a VERP address carries the recipient id and reads back") {
  auto p = paths();
  const auto* rule = p.for_sender("news@example.com");
  const auto address = ReturnPaths::address(*rule, kId);
  CHECK(address == "bounces+" + kId + "@bounce.example.com");
  CHECK(p.recipient_id(address) == kId);
  CHECK(p.recipient_id("BOUNCES+0194C3B2A1F0E9D8C7B6A5F4-3@Bounce.Example.Com") == kId);
  CHECK(p.recipient_id("anything+" + kId + "@rp.volley.test") == kId);
}

TEST_CASE("return path: addresses that are not ours or carry no id read back as nothing") {
  auto p = paths();
  CHECK(p.recipient_id("bounces+" + kId + "@elsewhere.example") == "");
  CHECK(p.recipient_id("bounces@bounce.example.com") == "");
  CHECK(p.recipient_id("bounces+nothex@bounce.example.com") == "");
  CHECK(p.recipient_id("bounces+0194c3b2a1f0e9d8c7b6a5f4@bounce.example.com") == "");
  CHECK(p.recipient_id("no-at-sign") == "");
  CHECK(p.recipient_id("") == "");
  CHECK(looks_like_recipient_id(kId));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5f4-"));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5f4-12345678901"));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5fg-1"));
}
