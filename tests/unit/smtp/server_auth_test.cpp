// AUTH in the SMTP server machine (RFC 4954) and the SASL exchanges behind it: PLAIN with and
// without an initial response, LOGIN, cancelling, bad base64, AUTH before TLS, AUTH twice.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/smtp/sasl.hpp"
#include "core/smtp/server.hpp"

using namespace volley::smtp;

namespace {

// base64 of "\0user\0secret", "user", "secret", "authz\0user\0secret"
const std::string kPlain = "AHVzZXIAc2VjcmV0";
const std::string kUser = "dXNlcg==";
const std::string kSecret = "c2VjcmV0";
const std::string kPlainAuthz = "YXV0aHoAdXNlcgBzZWNyZXQ=";

// A session already in TLS (implicit TLS, as the submission listener's second port), after EHLO.
// Credentials surfaced are recorded as "auth:<mech> <authzid>|<user>|<password>" and answered
// by `verdict` (nullopt accepts).
struct AuthSession {
  SmtpServer s;
  std::string out;
  std::vector<std::string> events;
  std::optional<Reply> verdict;

  explicit AuthSession(bool tls = true, bool ehlo = true) : s(options()) {
    if (tls) s.on_tls_established();
    s.start();
    pump();
    if (ehlo) feed("EHLO client.test\r\n");
    out.clear();
  }
  static SmtpServer::Options options() {
    SmtpServer::Options o;
    o.hostname = "smtp.test";
    o.auth = true;
    o.starttls = true;
    return o;
  }
  void pump() {
    for (auto actions = s.take_actions(); !actions.empty(); actions = s.take_actions()) {
      for (auto& a : actions) {
        if (auto* w = std::get_if<Send>(&a)) {
          out += w->bytes;
        } else if (auto* r = std::get_if<AuthRequest>(&a)) {
          events.push_back("auth:" + r->mechanism + " " + r->authzid + "|" + r->username + "|" + r->password);
          s.answer(verdict);
        } else if (auto* m = std::get_if<MailRequest>(&a)) {
          events.push_back("mail:" + m->reverse_path);
          s.answer();
        }
      }
    }
  }
  std::string feed(std::string_view bytes) {
    out.clear();
    s.feed(bytes);
    pump();
    return out;
  }
};

}  // namespace

TEST_CASE("sasl: PLAIN with an initial response gives the credentials at once", "[smtp][sasl]") {
  SaslExchange x(SaslMechanism::plain);
  auto step = x.start(kPlainAuthz);
  REQUIRE(step.kind == SaslStep::Kind::done);
  CHECK(step.credentials.authzid == "authz");
  CHECK(step.credentials.username == "user");
  CHECK(step.credentials.password == "secret");
}

TEST_CASE("sasl: malformed responses are refused with 501", "[smtp][sasl]") {
  CHECK(SaslExchange(SaslMechanism::plain).start("not base64!").code == 501);
  CHECK(SaslExchange(SaslMechanism::plain).start("=").kind == SaslStep::Kind::failed);           // empty
  CHECK(SaslExchange(SaslMechanism::plain).start("dXNlcg==").kind == SaslStep::Kind::failed);    // no NULs
  CHECK(SaslExchange(SaslMechanism::plain).start("AABzZWNyZXQ=").kind == SaslStep::Kind::failed);  // no user
  CHECK(SaslExchange(SaslMechanism::login).respond("*").enhanced == "5.7.0");
  CHECK(parse_sasl_mechanism("plain") == SaslMechanism::plain);
  CHECK_FALSE(parse_sasl_mechanism("CRAM-MD5"));
}

TEST_CASE("auth: offered only once TLS is up", "[smtp][auth]") {
  AuthSession plain(false, false);
  const auto ehlo = plain.feed("EHLO client.test\r\n");
  CHECK(ehlo.find("AUTH") == std::string::npos);
  CHECK(ehlo.find("STARTTLS") != std::string::npos);
  CHECK(plain.feed("AUTH PLAIN " + kPlain + "\r\n") == "530 5.7.0 Must issue a STARTTLS command first\r\n");
  CHECK(plain.events.empty());
  CHECK_FALSE(plain.s.authenticated());

  AuthSession tls(true, false);
  const auto ehlo_tls = tls.feed("EHLO client.test\r\n");
  CHECK(ehlo_tls.find("AUTH PLAIN LOGIN\r\n") != std::string::npos);
  CHECK(ehlo_tls.find("STARTTLS") == std::string::npos);
}

TEST_CASE("auth: PLAIN with an initial response", "[smtp][auth]") {
  AuthSession a;
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "235 2.7.0 Authentication successful\r\n");
  CHECK(a.events == std::vector<std::string>{"auth:PLAIN |user|secret"});
  CHECK(a.s.authenticated());
}

TEST_CASE("auth: PLAIN without an initial response gets an empty challenge", "[smtp][auth]") {
  AuthSession a;
  CHECK(a.feed("AUTH PLAIN\r\n") == "334 \r\n");
  CHECK(a.feed(kPlain + "\r\n") == "235 2.7.0 Authentication successful\r\n");
  CHECK(a.events == std::vector<std::string>{"auth:PLAIN |user|secret"});
}

TEST_CASE("auth: LOGIN asks for the user name and the password", "[smtp][auth]") {
  AuthSession a;
  CHECK(a.feed("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(a.feed(kUser + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
  CHECK(a.feed(kSecret + "\r\n") == "235 2.7.0 Authentication successful\r\n");
  CHECK(a.events == std::vector<std::string>{"auth:LOGIN |user|secret"});
  // LOGIN with the user name as initial response (Outlook, some libraries)
  AuthSession b;
  CHECK(b.feed("AUTH LOGIN " + kUser + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
  CHECK(b.feed(kSecret + "\r\n") == "235 2.7.0 Authentication successful\r\n");
}

TEST_CASE("auth: '*' cancels, bad base64 is refused, and the session goes on", "[smtp][auth]") {
  AuthSession a;
  a.feed("AUTH LOGIN\r\n");
  CHECK(a.feed("*\r\n") == "501 5.7.0 Authentication cancelled\r\n");
  CHECK(a.feed("AUTH PLAIN\r\n") == "334 \r\n");
  CHECK(a.feed("@@@\r\n") == "501 5.5.2 Cannot decode the authentication response\r\n");
  CHECK(a.feed("AUTH CRAM-MD5\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
  CHECK(a.feed("NOOP\r\n") == "250 2.0.0 OK\r\n");
  CHECK(a.events.empty());
  CHECK_FALSE(a.s.authenticated());
}

TEST_CASE("auth: refused credentials get the owner's reply, AUTH twice is refused", "[smtp][auth]") {
  AuthSession a;
  a.verdict = Reply::synthetic(535, "5.7.8", "Authentication credentials invalid");
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "535 5.7.8 Authentication credentials invalid\r\n");
  CHECK_FALSE(a.s.authenticated());
  a.verdict.reset();
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "235 2.7.0 Authentication successful\r\n");
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "503 5.5.1 Already authenticated\r\n");
}

TEST_CASE("auth: a pipelined MAIL waits for the AUTH answer", "[smtp][auth]") {
  AuthSession a;
  a.s.feed("AUTH PLAIN " + kPlain + "\r\nMAIL FROM:<a@x.test>\r\n");
  a.pump();
  CHECK(a.out == "235 2.7.0 Authentication successful\r\n250 2.1.0 Sender OK\r\n");
  CHECK(a.events == std::vector<std::string>{"auth:PLAIN |user|secret", "mail:a@x.test"});
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "503 5.5.1 Already authenticated\r\n");
}

TEST_CASE("auth: not during a transaction, and not before EHLO", "[smtp][auth]") {
  AuthSession a;
  a.feed("MAIL FROM:<a@x.test>\r\n");
  CHECK(a.feed("AUTH PLAIN " + kPlain + "\r\n") == "503 5.5.1 AUTH not permitted during a mail transaction\r\n");
  AuthSession b(true, false);
  CHECK(b.feed("AUTH PLAIN " + kPlain + "\r\n") == "503 5.5.1 Send EHLO first\r\n");
}

TEST_CASE("auth: without Options::auth the command is not implemented", "[smtp][auth]") {
  SmtpServer::Options o;
  o.hostname = "mx.test";
  SmtpServer s(o);
  s.on_tls_established();
  s.start();
  s.take_actions();
  s.feed("EHLO c\r\nAUTH PLAIN " + kPlain + "\r\n");
  std::string out;
  for (auto& a : s.take_actions())
    if (auto* w = std::get_if<Send>(&a)) out += w->bytes;
  CHECK(out.find("AUTH") == std::string::npos);
  CHECK(out.find("502 5.5.1 Command not implemented") != std::string::npos);
}
