#include "core/events/webhook_signature.hpp"

#include <catch2/catch.hpp>

using namespace volley::events;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test cases 1 and 2") {
  CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("the signature covers <timestamp>.<body> and is framed as v1=<hex>") {
  const auto h = sign("Jefe", "ya want for nothing?", 1700000000);
  CHECK(h.timestamp == "1700000000");
  CHECK(h.signature == "v1=" + hmac_sha256_hex("Jefe", "1700000000.ya want for nothing?"));
  // The same bytes split differently between timestamp and body must not verify.
  CHECK_FALSE(verify("Jefe", "0.ya want for nothing?", "170000000", h.signature, 170000000));
}

TEST_CASE("verify accepts a fresh, untouched request and nothing else") {
  const std::string body = R"({"events":[{"type":"delivered"}]})";
  const auto h = sign("s3cret", body, 1700000000);
  CHECK(verify("s3cret", body, h.timestamp, h.signature, 1700000000));
  CHECK(verify("s3cret", body, h.timestamp, h.signature, 1700000000 + 300));
  CHECK(verify("s3cret", body, h.timestamp, h.signature, 1700000000 - 300));  // our clock behind
  CHECK_FALSE(verify("s3cret", body, h.timestamp, h.signature, 1700000000 + 301));
  CHECK_FALSE(verify("s3cret", body, h.timestamp, h.signature, 1700000000 + 61, 60));
  CHECK_FALSE(verify("other", body, h.timestamp, h.signature, 1700000000));
  CHECK_FALSE(verify("s3cret", body + " ", h.timestamp, h.signature, 1700000000));
  CHECK_FALSE(verify("s3cret", body, "1700000001", h.signature, 1700000000));
  CHECK_FALSE(verify("s3cret", body, "17000x0000", h.signature, 1700000000));
  CHECK_FALSE(verify("s3cret", body, "", h.signature, 1700000000));
  CHECK_FALSE(verify("s3cret", body, h.timestamp, h.signature.substr(3), 1700000000));  // no v1=
  CHECK_FALSE(verify("s3cret", body, h.timestamp, h.signature.substr(0, 60), 1700000000));
  std::string upper = h.signature;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  CHECK_FALSE(verify("s3cret", body, h.timestamp, upper, 1700000000));  // lower-case hex only
}

TEST_CASE("verify accepts any of several v1 signatures (secret rotation)") {
  const std::string body = "{}";
  const auto h = sign("new", body, 1700000000);
  const auto old = sign("old", body, 1700000000);
  CHECK(verify("new", body, h.timestamp, old.signature + ", " + h.signature, 1700000000));
  CHECK(verify("old", body, h.timestamp, old.signature + "," + h.signature, 1700000000));
  CHECK_FALSE(verify("third", body, h.timestamp, old.signature + "," + h.signature, 1700000000));
}
