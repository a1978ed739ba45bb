#include <catch2/catch.hpp>

#include <algorithm>

#include "core/delivery/return_path.hpp"

using volley::delivery::looks_like_message_id;
using volley::delivery::looks_like_recipient_id;
using volley::delivery::ReturnPathRule;
using volley::delivery::ReturnPaths;

namespace {
const std::string kId = "0194c3b2a1f0e9d8c7b6a5f4-3";

ReturnPaths paths(std::string key = "instance-secret") {
  return ReturnPaths({{"example.com", "bounce.example.com", "bounces"}, {"*", "rp.volley.test", "b"}}, std::move(key));
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return (c >= 'a' && c <= 'z') ? char(c - 32) : c; });
  return s;
}
}  // namespace

TEST_CASE("return path: the sender's domain picks its rule, else the catch-all, a null sender none") {
  auto p = paths();
  REQUIRE(p.for_sender("news@Example.COM") != nullptr);
  CHECK(p.for_sender("news@Example.COM")->domain == "bounce.example.com");
  CHECK(p.for_sender("a@other.org")->domain == "rp.volley.test");
  CHECK(p.for_sender("") == nullptr);
  CHECK(ReturnPaths({{"example.com", "bounce.example.com", "bounces"}}, "k").for_sender("a@other.org") == nullptr);
  CHECK(ReturnPaths().for_sender("a@example.com") == nullptr);
  CHECK(p.bounce_domains() == std::vector<std::string>{"bounce.example.com", "rp.volley.test"});
}

TEST_CASE("return path: a VERP address carries the signed recipient id and reads back") {
  auto p = paths();
  const auto* rule = p.for_sender("news@example.com");
  const auto address = p.address(*rule, kId);
  REQUIRE(address.rfind("bounces+" + kId + ".", 0) == 0);
  CHECK(address.size() == std::string("bounces+").size() + kId.size() + 11 + std::string("@bounce.example.com").size());
  CHECK(p.recipient_id(address) == kId);
  CHECK(p.recipient_id(upper(address)) == kId);  // some bounce paths change the case
  CHECK(p.recipient_id("anything+" + p.signed_id(kId) + "@rp.volley.test") == kId);
}

TEST_CASE("return path: ids without the right tag, or not ours, read back as nothing") {
  auto p = paths();
  const auto signed_id = p.signed_id(kId);
  CHECK(p.verified_id(signed_id) == kId);
  // Another recipient of the same message, guessed from one's own id: no valid tag.
  const std::string guessed = "0194c3b2a1f0e9d8c7b6a5f4-0";
  CHECK(p.recipient_id("bounces+" + guessed + signed_id.substr(kId.size()) + "@bounce.example.com") == "");
  CHECK(p.recipient_id("bounces+" + kId + "@bounce.example.com") == "");  // unsigned
  CHECK(paths("another-instance").recipient_id("bounces+" + signed_id + "@bounce.example.com") == "");
  CHECK(p.recipient_id("bounces+" + signed_id + "@elsewhere.example") == "");
  CHECK(p.recipient_id("bounces@bounce.example.com") == "");
  CHECK(p.recipient_id("no-at-sign") == "");
  CHECK(p.recipient_id("") == "");
  // A message id signs and verifies the same way (X-Volley-ID of a multi-recipient transaction).
  CHECK(p.verified_id(p.signed_id("0194c3b2a1f0e9d8c7b6a5f4")) == "0194c3b2a1f0e9d8c7b6a5f4");
  CHECK(p.verified_id("0194c3b2a1f0e9d8c7b6a5f4") == "");
  CHECK(looks_like_recipient_id(kId));
  CHECK(looks_like_message_id("0194c3b2a1f0e9d8c7b6a5f4"));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5f4-"));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5f4-12345678901"));
  CHECK_FALSE(looks_like_recipient_id("0194c3b2a1f0e9d8c7b6a5fg-1"));
}
