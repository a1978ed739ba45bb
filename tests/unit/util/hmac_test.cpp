#include <catch2/catch.hpp>

#include "core/util/hex.hpp"
#include "core/util/hmac.hpp"

using namespace volley::util;

// RFC 4231's test case 2, and HMAC with an empty key and empty data (a known value).
TEST_CASE("hmac_sha256 gives the RFC 4231 answers, and takes an empty key") {
  CHECK(to_hex(as_bytes(hmac_sha256("Jefe", "what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(as_bytes(hmac_sha256("", ""))) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("to_hex writes two lower-case digits a byte") {
  CHECK(to_hex(std::string_view("\x00\x0f\xa0\xff", 4)) == "000fa0ff");
  std::string s = "x:";
  append_hex(s, "AB");
  CHECK(s == "x:4142");
}
