// The submission server's own decisions: password hashes, the AUTH failure throttle and the
// message checks made before the HTTP intake takes over.
#include <catch2/catch.hpp>

#include "core/submission/auth_throttle.hpp"
#include "core/submission/message_check.hpp"
#include "core/submission/password.hpp"

using namespace volley::submission;
using namespace std::chrono_literals;

TEST_CASE("A password verifies against its yescrypt hash and no other", "[submission]") {
  std::string error;
  const auto hash = hash_password("correct horse", &error);
  REQUIRE(hash);
  CHECK(hash->rfind("$y$", 0) == 0);
  CHECK(verify_password("correct horse", *hash));
  CHECK_FALSE(verify_password("correct horsf", *hash));
  CHECK_FALSE(verify_password("", *hash));
  CHECK(*hash_password("correct horse", &error) != *hash);  // a new salt each time
  CHECK_FALSE(verify_password("x", "not a hash"));
  CHECK_FALSE(verify_password("x", ""));
  CHECK_FALSE(hash_password(std::string("a\0b", 3), &error));
  CHECK_FALSE(verify_password("anything", decoy_hash()));
}

TEST_CASE("sha512-crypt hashes verify too", "[submission]") {
  // python3 -c "import crypt; print(crypt.crypt('secret', '\$6\$saltsalt\$'))"
  const std::string hash =
      "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
  CHECK(verify_password("secret", hash));
  CHECK_FALSE(verify_password("Secret", hash));
}

TEST_CASE("Failed AUTHs grow the delay and the fifth in a row locks the address out", "[submission]") {
  AuthThrottle t(AuthThrottle::Options{.lockout = 60s});
  std::int64_t now = 1'000'000;
  CHECK(t.failed("192.0.2.1", now).delay == 500ms);
  CHECK(t.failed("192.0.2.1", now).delay == 1000ms);
  CHECK(t.failed("192.0.2.1", now).delay == 2000ms);
  const auto fourth = t.failed("192.0.2.1", now);
  CHECK(fourth.delay == 4000ms);
  CHECK_FALSE(fourth.locked_now);
  CHECK_FALSE(t.locked("192.0.2.1", now));
  const auto fifth = t.failed("192.0.2.1", now);
  CHECK(fifth.delay == 4000ms);
  CHECK(fifth.locked_now);
  CHECK(t.locked("192.0.2.1", now));
  CHECK(t.locked("192.0.2.1", now + 59'999));
  CHECK_FALSE(t.locked("192.0.2.2", now));  // another address is not affected
  CHECK_FALSE(t.locked("192.0.2.1", now + 60'000));
  CHECK(t.failed("192.0.2.1", now + 60'000).delay == 500ms);  // the lockout served, counting starts over
}

TEST_CASE("A successful AUTH clears its address", "[submission]") {
  AuthThrottle t;
  for (int i = 0; i < 4; ++i) t.failed("2001:db8::1", 0);
  t.succeeded("2001:db8::1");
  CHECK(t.failed("2001:db8::1", 0).delay == 500ms);
  CHECK_FALSE(t.locked("2001:db8::1", 0));
}

TEST_CASE("The throttle remembers a bounded number of addresses", "[submission]") {
  AuthThrottle t(AuthThrottle::Options{.max_tracked = 3});
  for (int i = 0; i < 10; ++i) t.failed("192.0.2." + std::to_string(i), i);
  CHECK(t.tracked() <= 3);
}

TEST_CASE("Bare LF and bare CR are found, CRLF is not", "[submission]") {
  CHECK_FALSE(bare_line_end("From: a@b\r\n\r\nbody\r\n"));
  CHECK(*bare_line_end("From: a@b\r\n\r\nbody\nmore\r\n") == "bare LF at line 3");
  CHECK(*bare_line_end("From: a@b\r\n\r\nbo\rdy\r\n") == "bare CR at line 3");
  CHECK(*bare_line_end("From: a@b\r") == "bare CR at line 1");
  CHECK(*bare_line_end("\n.\n") == "bare LF at line 1");
  CHECK_FALSE(bare_line_end(""));
}

TEST_CASE("The From: domain is read as DKIM signing reads it", "[submission]") {
  CHECK(header_from_domain("From: App <news@News.Acme.Example>\r\nTo: x@y\r\n\r\nhi\r\n") == "news.acme.example");
  CHECK(header_from_domain("From: a@acme.example\r\nFrom: b@evil.example\r\n\r\n") == "");
  CHECK(header_from_domain("To: x@y\r\n\r\nhi\r\n") == "");
  CHECK(header_from_domain("not a header\r\n\r\n") == "");
}

TEST_CASE("Sender domains match exactly, without case", "[submission]") {
  const std::vector<std::string> allowed{"acme.example", "news.acme.example"};
  CHECK(sender_domain_allowed("ACME.example", allowed));
  CHECK(sender_domain_allowed("news.acme.example", allowed));
  CHECK_FALSE(sender_domain_allowed("evil.acme.example", allowed));
  CHECK_FALSE(sender_domain_allowed("acme.example.evil", allowed));
  CHECK_FALSE(sender_domain_allowed("", allowed));
}
