// The SMTP client's STARTTLS (RFC 3207): when it asks for TLS, what it forgets after the
// handshake, what happens when TLS is required and cannot be had, and the command injection
// defence (bytes after the 220 in the same read).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/smtp/client.hpp"
#include "tests/unit/smtp/client_harness.hpp"

using namespace volley::smtp;
using volley::smtp::test::Acts;
using volley::smtp::test::describe;

namespace {

const std::string kEhloTls = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n";
const std::string kEhloNoTls = "250-mx.test\r\n250 PIPELINING\r\n";
const std::string kEhloAfterTls = "250-mx.test\r\n250-8BITMIME\r\n250 SIZE 5000\r\n";

struct Harness {
  SmtpClient c;
  explicit Harness(StartTlsUse use) : c(options(use)) {}
  static SmtpClient::Options options(StartTlsUse use) {
    SmtpClient::Options o;
    o.ehlo_name = "client.test";
    o.starttls = use;
    return o;
  }
  Acts take() {
    Acts out;
    for (const auto& a : c.take_actions()) out.push_back(describe(a));
    return out;
  }
  Acts server(std::string_view bytes) {
    c.on_bytes(bytes);
    return take();
  }
  // Connected, greeted, EHLO answered with ehlo.
  Acts greet(const std::string& ehlo) {
    c.on_connected();
    REQUIRE(take().empty());
    REQUIRE(server("220 mx.test ESMTP\r\n") == Acts{"write:EHLO client.test\r\n"});
    return server(ehlo);
  }
};

}  // namespace

TEST_CASE("starttls: offered and wanted, handshake, EHLO again with the capabilities forgotten") {
  for (auto use : {StartTlsUse::when_offered, StartTlsUse::required}) {
    Harness h(use);
    REQUIRE(h.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
    CHECK(h.c.phase() == ClientPhase::starttls);
    CHECK(h.c.timeout().has_value());
    CHECK(h.server("220 2.0.0 go ahead\r\n") == Acts{"starttls"});
    CHECK(h.c.phase() == ClientPhase::tls_handshake);
    CHECK(h.c.timeout() == std::chrono::seconds(60));
    CHECK_FALSE(h.c.tls_active());
    h.c.on_tls_established();
    CHECK(h.take() == Acts{"write:EHLO client.test\r\n"});
    CHECK(h.c.tls_active());
    CHECK_FALSE(h.c.capabilities().pipelining);  // nothing learnt in clear text is kept
    CHECK(h.c.capabilities().esmtp == false);
    // The EHLO under TLS offers STARTTLS again: not asked twice.
    CHECK(h.server("250-mx.test\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 SIZE 5000\r\n") == Acts{"ready"});
    CHECK(h.c.capabilities().eightbitmime);
    CHECK(h.c.capabilities().size_limit == 5000);
    CHECK(h.c.phase() == ClientPhase::idle);
  }
}

TEST_CASE("starttls: never asked when not wanted") {
  Harness h(StartTlsUse::never);
  CHECK(h.greet(kEhloTls) == Acts{"ready"});
  CHECK(h.c.capabilities().starttls);
  CHECK_FALSE(h.c.tls_active());
}

TEST_CASE("starttls: not offered goes on in clear text when opportunistic") {
  Harness h(StartTlsUse::when_offered);
  CHECK(h.greet(kEhloNoTls) == Acts{"ready"});
  CHECK_FALSE(h.c.tls_active());
}

TEST_CASE("starttls: not offered when required ends the session with a 4xx tls_required and QUIT") {
  Harness h(StartTlsUse::required);
  const auto acts = h.greet(kEhloNoTls);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0] == "failed:451 4.7.10 tls_required: STARTTLS not offered");
  CHECK(acts[1] == "write:QUIT\r\n");
  CHECK(h.server("221 bye\r\n") == Acts{"close"});
}

TEST_CASE("starttls: a server without ESMTP has no STARTTLS") {
  Harness h(StartTlsUse::required);
  REQUIRE(h.greet("502 no EHLO here\r\n") == Acts{"write:HELO client.test\r\n"});
  const auto acts = h.server("250 mx.test\r\n");
  REQUIRE(acts.size() == 2);
  CHECK(acts[0] == "failed:451 4.7.10 tls_required: no ESMTP, so no STARTTLS");

  Harness o(StartTlsUse::when_offered);
  REQUIRE(o.greet("502 no EHLO here\r\n") == Acts{"write:HELO client.test\r\n"});
  CHECK(o.server("250 mx.test\r\n") == Acts{"ready"});
}

TEST_CASE("starttls: refused goes on in clear text when opportunistic, ends it when required") {
  Harness o(StartTlsUse::when_offered);
  REQUIRE(o.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  CHECK(o.server("454 4.7.0 TLS not available\r\n") == Acts{"ready"});
  CHECK(o.c.capabilities().pipelining);  // the clear-text session's capabilities stand
  CHECK_FALSE(o.c.tls_active());

  Harness r(StartTlsUse::required);
  REQUIRE(r.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  const auto acts = r.server("454 4.7.0 TLS not available\r\n");
  REQUIRE(acts.size() == 2);
  CHECK(acts[0] == "failed:451 4.7.10 tls_required: STARTTLS refused: 454 4.7.0 TLS not available");
  CHECK(acts[1] == "write:QUIT\r\n");
}

TEST_CASE("starttls: a failed handshake ends the session without QUIT") {
  Harness o(StartTlsUse::when_offered);
  REQUIRE(o.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(o.server("220 go\r\n") == Acts{"starttls"});
  o.c.on_tls_failed("certificate verify failed");
  CHECK(o.take() == Acts{"failed:451 4.7.5 TLS handshake failed: certificate verify failed", "close"});
  CHECK(o.c.phase() == ClientPhase::closed);

  Harness r(StartTlsUse::required);
  REQUIRE(r.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(r.server("220 go\r\n") == Acts{"starttls"});
  r.c.on_tls_failed("wrong version number");
  CHECK(r.take() == Acts{"failed:451 4.7.10 tls_required: TLS handshake failed: wrong version number", "close"});
}

TEST_CASE("starttls: handshake timeout and lost connection are handshake failures") {
  Harness t(StartTlsUse::required);
  REQUIRE(t.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(t.server("220 go\r\n") == Acts{"starttls"});
  t.c.on_timeout();
  CHECK(t.take() == Acts{"failed:451 4.7.10 tls_required: TLS handshake failed: timed out", "close"});

  Harness l(StartTlsUse::when_offered);
  REQUIRE(l.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(l.server("220 go\r\n") == Acts{"starttls"});
  l.c.on_closed("reset by peer");
  CHECK(l.take() == Acts{"failed:451 4.7.5 TLS handshake failed: connection lost: reset by peer", "close"});
  // Late calls change nothing.
  l.c.on_tls_established();
  l.c.on_tls_failed("again");
  CHECK(l.take().empty());
}

TEST_CASE("starttls: bytes after the 220 in the same read are command injection") {
  for (const std::string extra : {"250 injected\r\n", "250-partial", "garbage without end", "\r\n"}) {
    Harness h(StartTlsUse::when_offered);
    REQUIRE(h.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
    const auto acts = h.server("220 go ahead\r\n" + extra);
    REQUIRE(acts.size() == 2);
    CHECK(acts[0].rfind("failed:451 4.5.0 protocol error: data received after the STARTTLS reply", 0) == 0);
    CHECK(acts[1] == "close");
    CHECK(h.c.phase() == ClientPhase::closed);
  }
}

TEST_CASE("starttls: clear text fed during the handshake is a protocol error") {
  Harness h(StartTlsUse::when_offered);
  REQUIRE(h.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(h.server("220 go\r\n") == Acts{"starttls"});
  const auto acts = h.server("250 hello\r\n");
  REQUIRE(acts.size() == 2);
  CHECK(acts[0] == "failed:451 4.5.0 protocol error: data received during the TLS handshake");
}

TEST_CASE("starttls: quit during the handshake waits for it, then QUITs under TLS") {
  Harness h(StartTlsUse::when_offered);
  REQUIRE(h.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(h.server("220 go\r\n") == Acts{"starttls"});
  h.c.quit();
  CHECK(h.take().empty());
  h.c.on_tls_established();
  CHECK(h.take() == Acts{"write:EHLO client.test\r\n"});
  CHECK(h.server(kEhloAfterTls) == Acts{"write:QUIT\r\n"});
}

TEST_CASE("starttls: a transaction under TLS uses the capabilities announced under TLS") {
  Harness h(StartTlsUse::when_offered);
  REQUIRE(h.greet(kEhloTls) == Acts{"write:STARTTLS\r\n"});
  REQUIRE(h.server("220 go\r\n") == Acts{"starttls"});
  h.c.on_tls_established();
  REQUIRE(h.take() == Acts{"write:EHLO client.test\r\n"});
  REQUIRE(h.server(kEhloAfterTls) == Acts{"ready"});
  Transaction t;
  t.mail_from = "a@b.test";
  t.rcpts = {"c@d.test"};
  t.wire_data = std::make_shared<const std::string>("hi\r\n.\r\n");
  t.message_size = 7;
  h.c.start(t);
  // No PIPELINING under TLS: MAIL alone, with SIZE (announced under TLS).
  CHECK(h.take() == Acts{"write:MAIL FROM:<a@b.test> SIZE=7\r\n"});
}
