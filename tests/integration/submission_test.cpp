// SMTP submission (RFC 6409) end to end: volleyd with [submission] and [[submission_user]],
// real clients (swaks, Python's smtplib) over STARTTLS and implicit TLS, the test's nsd for the
// DKIM keys, a real sink for delivery; what is refused, with which code; kill -9 after the 250.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/test_pki.hpp"
#include "dkim_keygen.hpp"
#include "dns_zone.hpp"
#include "sink_fixture.hpp"
#include "stored_message.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUser = "newsletter-app";
constexpr const char* kPassword = "s3cret submission password";

// `volleyd hash-password`, fed the password on stdin.
std::string hash_password(const TempDir& dir, const std::string& password) {
  const auto [status, output] = run_with_input({Volleyd::binary(), "hash-password"}, password + "\n", dir.path());
  INFO(output);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(output.rfind("$y$", 0) == 0);
  return output.substr(0, output.find('\n'));
}

// A volleyd with a submission listener on both ports, one user for acme.test (DKIM key "s1"),
// 127.0.0.2 trusted, and mail for sub.test routed to `sink_port`.
struct Setup {
  TempDir dir{"volley-it-submission"};
  std::uint16_t sink_port = free_port();
  std::uint16_t starttls_port = free_port();
  std::uint16_t implicit_port = free_port();
  std::string records;
  VolleydOptions opts;

  Setup() {
    records = keygen(dir, "acme.test", "s1", "ed25519") + "\n";
    TestPki pki;
    const auto leaf = pki.issue({"smtp.volley.test"});
    write_file(dir / "cert.pem", TestPki::chain_pem(leaf, pki.ca()));
    write_file(dir / "key.pem", leaf.key_pem());
    opts.routes.push_back(Route{"sub.test", "127.0.0.1", sink_port});
    opts.extra_toml = "[submission]\n"
                      "listen = \"127.0.0.1:" + std::to_string(starttls_port) + "\"\n"
                      "implicit_tls_listen = \"127.0.0.1:" + std::to_string(implicit_port) + "\"\n"
                      "hostname = \"smtp.volley.test\"\n"
                      "tls_certificate = \"" + (dir / "cert.pem").string() + "\"\n"
                      "tls_private_key = \"" + (dir / "key.pem").string() + "\"\n"
                      "trusted_networks = [\"127.0.0.2/32\"]\n"
                      "trusted_tenant = \"internal\"\n"
                      "auth_lockout = \"1h\"\n"
                      "[[submission_user]]\n"
                      "name = \"" + std::string(kUser) + "\"\n"
                      "password_hash = \"" + hash_password(dir, kPassword) + "\"\n"
                      "tenant = \"acme\"\n"
                      "sender_domains = [\"acme.test\", \"news.acme.test\"]\n"
                      "max_recipients = 3\n"
                      "[[dkim]]\ndomain = \"acme.test\"\nselector = \"s1\"\n"
                      "key_file = \"" + (dir / "keys" / "acme.test.s1.pem").string() + "\"\n";
  }
};

// The set-up running: nsd with the DKIM key, the sink, volleyd.
struct Running {
  Setup setup;
  NsdServer nsd{{test_zone(setup.records)}};
  SmtpSink sink{setup.dir / "sink", {"127.0.0.1"}, setup.sink_port};
  Volleyd volleyd;

  explicit Running(const std::string& more_toml = "") : volleyd(setup.dir / "volleyd", options(more_toml)) {}
  VolleydOptions options(const std::string& more_toml) {
    auto o = setup.opts;
    o.dns_port = nsd.port();
    o.smtp_port = 25;
    o.extra_toml += more_toml;
    return o;
  }
};

struct Run {
  int status = -1;
  std::string output;
};

Run swaks(const TempDir& dir, std::uint16_t port, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/timeout", "60", "swaks", "--server", "127.0.0.1", "--port",
                                std::to_string(port), "--timeout", "30", "--helo", "client.test"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [status, output] = run_with_input(argv, "", dir.path());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// tests/integration/submission_client.py: [code, text] per step.
json smtplib_steps(const TempDir& dir, std::uint16_t port, const std::string& tls, const json& steps,
                   const std::string& source = "127.0.0.1") {
  write_file(dir / "steps.json", steps.dump());
  const auto [status, output] =
      run_with_input({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) + "/tests/integration/submission_client.py",
                      "--port", std::to_string(port), "--tls", tls, "--source", source, (dir / "steps.json").string()},
                     "", dir.path());
  INFO(output);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto end = output.find_last_not_of('\n');
  const auto start = output.rfind('\n', end);
  return json::parse(output.substr(start == std::string::npos ? 0 : start + 1, end + 1));
}

std::string b64(const std::string& s) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                       static_cast<unsigned char>(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += abc[(n >> k) & 63];
  }
  if (i < s.size()) {
    unsigned n = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) n |= static_cast<unsigned char>(s[i + 1]) << 8;
    out += abc[(n >> 18) & 63];
    out += abc[(n >> 12) & 63];
    out += i + 1 < s.size() ? abc[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string auth_plain(const std::string& user, const std::string& password) {
  return "AUTH PLAIN " + b64(std::string(1, '\0') + user + std::string(1, '\0') + password);
}

std::string message(const std::string& from, const std::string& to, const std::string& subject) {
  return "From: App <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n\r\nHello from SMTP.\r\n";
}

// The stored message whose envelope names the recipient.
ReceivedMessage stored_for(const SmtpSink& sink, const std::string& recipient, std::chrono::seconds within = 30s) {
  return wait_for_stored(sink, recipient, within);
}

bool dkim_verifies(const TempDir& dir, std::uint16_t dns_port, const std::string& file) {
  const auto [status, output] = run_with_input({"/usr/bin/python3", std::string(VOLLEY_SOURCE_DIR) +
                                                "/tests/integration/dkim_verify.py", "--dns-port",
                                                std::to_string(dns_port), file},
                                               "", dir.path());
  INFO(output);
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto end = output.find_last_not_of('\n');
  const auto start = output.rfind('\n', end);
  const auto j = json::parse(output.substr(start == std::string::npos ? 0 : start + 1, end + 1));
  return j.at(file) == json::array({true});
}

}  // namespace

TEST_CASE("swaks submits with AUTH PLAIN over STARTTLS: the message is delivered, DKIM-signed, 250 after the spool",
          "[integration][submission]") {
  Running run;
  auto& [s, nsd, sink, volleyd] = run;

  const auto sent = swaks(s.dir, s.starttls_port,
                          {"--tls", "--auth", "PLAIN", "--auth-user", kUser, "--auth-password", kPassword, "--from",
                           "news@acme.test", "--to", "reader@sub.test", "--data",
                           "From: Acme <news@acme.test>\\nTo: <reader@sub.test>\\nSubject: submitted\\n\\n"
                           "Hello through submission.\\n"});
  INFO(sent.output);
  REQUIRE(sent.status == 0);
  CHECK_THAT(sent.output, Catch::Contains("250-AUTH PLAIN LOGIN"));
  CHECK_THAT(sent.output, Catch::Contains("235 2.7.0 Authentication successful"));
  CHECK_THAT(sent.output, Catch::Contains("250 2.0.0 Ok: queued as "));

  const auto stored = stored_for(sink, "reader@sub.test");
  INFO("volleyd log:\n" << volleyd.log());
  REQUIRE_FALSE(stored.name.empty());
  CHECK(stored.mail_from == "news@acme.test");
  // An MSA completes what is missing: Message-ID and Date.
  CHECK_THAT(stored.data, Catch::Contains("Message-ID: <"));
  CHECK_THAT(stored.data, Catch::Contains("Date: "));
  CHECK_THAT(stored.data, Catch::Contains("DKIM-Signature:"));
  CHECK(dkim_verifies(s.dir, nsd.port(), (sink.maildir() / (stored.name + ".eml")).string()));

  // The message is the tenant's: its delivered event says so, as for an HTTP injection.
  json delivered;
  wait_until(
      [&] {
        const auto e = events_for(volleyd.events(), "delivered", "reader@sub.test");
        if (!e.empty()) delivered = e.front();
        return !e.empty();
      },
      30s, 50ms);
  REQUIRE_FALSE(delivered.is_null());
  CHECK(delivered.value("tenant", "") == "acme");
  CHECK_THAT(sent.output, Catch::Contains("queued as " + delivered.value("message_id", "?")));

  const auto metrics = volleyd.client().get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(volley_submission_messages_total{tenant="acme",result="queued"} 1)"));
}

TEST_CASE("submission refuses with the right codes: AUTH before STARTTLS, wrong password, unknown user, wrong "
          "sender domain, unauthenticated relay, bare LF, too many recipients",
          "[integration][submission]") {
  Running run;
  auto& [s, nsd, sink, volleyd] = run;

  // AUTH in the clear: not offered, and refused when tried anyway.
  auto r = smtplib_steps(s.dir, s.starttls_port, "none", {auth_plain(kUser, kPassword), "MAIL FROM:<news@acme.test>"});
  CHECK(r[0][0] == 530);
  CHECK_THAT(r[0][1].get<std::string>(), Catch::Contains("5.7.0 Must issue a STARTTLS command first"));
  CHECK(r[1][0] == 530);  // and no MAIL without AUTH
  CHECK_THAT(r[1][1].get<std::string>(), Catch::Contains("5.7.0 Authentication required"));
  const auto clear = swaks(s.dir, s.starttls_port, {"--auth", "PLAIN", "--auth-user", kUser, "--auth-password",
                                                    kPassword, "--from", "news@acme.test", "--to", "x@sub.test"});
  CHECK(clear.status != 0);
  CHECK_THAT(clear.output, !Catch::Contains("250-AUTH"));

  // Wrong password and unknown user: 535 5.7.8, alike.
  const auto wrong = swaks(s.dir, s.starttls_port, {"--tls", "--auth", "PLAIN", "--auth-user", kUser,
                                                    "--auth-password", "not it", "--from", "news@acme.test", "--to",
                                                    "x@sub.test"});
  CHECK(wrong.status != 0);
  CHECK_THAT(wrong.output, Catch::Contains("535 5.7.8 Authentication credentials invalid"));
  const auto unknown = swaks(s.dir, s.starttls_port, {"--tls", "--auth", "LOGIN", "--auth-user", "nobody",
                                                      "--auth-password", kPassword, "--from", "news@acme.test", "--to",
                                                      "x@sub.test"});
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.output, Catch::Contains("535 5.7.8 Authentication credentials invalid"));

  // Unauthenticated relay over TLS, from an address that is not trusted.
  r = smtplib_steps(s.dir, s.starttls_port, "starttls", {"MAIL FROM:<news@acme.test>"});
  CHECK(r[0][0] == 530);

  // Authenticated, but a sender outside the user's domains: MAIL FROM, then From:.
  r = smtplib_steps(s.dir, s.starttls_port, "starttls",
                    {auth_plain(kUser, kPassword), "MAIL FROM:<ceo@evil.test>", "MAIL FROM:<news@acme.test>",
                     "RCPT TO:<x@sub.test>", {{"data", message("ceo@evil.test", "x@sub.test", "spoof")}}});
  CHECK(r[0][0] == 235);
  CHECK(r[1][0] == 550);
  CHECK_THAT(r[1][1].get<std::string>(), Catch::Contains("5.7.1"));
  CHECK(r[2][0] == 250);
  CHECK(r[3][0] == 250);
  CHECK(r[4][0] == 550);
  CHECK_THAT(r[4][1].get<std::string>(), Catch::Contains("5.7.1 From: domain evil.test is not allowed"));

  // A bare LF in DATA (SMTP smuggling), and the fourth recipient of a user allowed three.
  r = smtplib_steps(s.dir, s.starttls_port, "starttls",
                    {auth_plain(kUser, kPassword), "MAIL FROM:<news@acme.test>", "RCPT TO:<a@sub.test>",
                     {{"data", "From: news@acme.test\r\nTo: a@sub.test\r\nSubject: x\r\n\r\nline\n.\nMAIL FROM:<x@y>\r\n"}},
                     "MAIL FROM:<news@acme.test>", "RCPT TO:<a@sub.test>", "RCPT TO:<b@sub.test>",
                     "RCPT TO:<c@sub.test>", "RCPT TO:<d@sub.test>"});
  CHECK(r[3][0] == 554);
  CHECK_THAT(r[3][1].get<std::string>(), Catch::Contains("5.6.0 Message refused: bare LF at line 5"));
  CHECK(r[4][0] == 250);
  CHECK(r[7][0] == 250);
  CHECK(r[8][0] == 452);
  CHECK_THAT(r[8][1].get<std::string>(), Catch::Contains("4.5.3"));

  // Nothing of it was delivered.
  CHECK_FALSE(wait_until([&] { return !sink.messages().empty(); }, 2s, 50ms));
  const auto metrics = volleyd.client().get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains("volley_submission_auth_failures_total 2"));
  CHECK_THAT(metrics, Catch::Contains(R"(volley_submission_messages_total{tenant="acme",result="rejected"} 2)"));
}

TEST_CASE("smtplib over implicit TLS submits, a trusted network submits without AUTH, and five failures lock an "
          "address out",
          "[integration][submission]") {
  Running run;
  auto& [s, nsd, sink, volleyd] = run;

  // Python's smtplib.SMTP_SSL, login() and sendmail(): what an application does.
  auto r = smtplib_steps(s.dir, s.implicit_port, "implicit",
                         {{{"login", {kUser, kPassword}}},
                          {{"send", {{"from", "news@news.acme.test"}, {"to", {"implicit@sub.test"}},
                                     {"message", message("news@news.acme.test", "implicit@sub.test", "implicit")}}}}});
  CHECK(r[0][0] == 235);
  CHECK(r[1][0] == 250);
  INFO("volleyd log:\n" << volleyd.log());
  CHECK_FALSE(stored_for(sink, "implicit@sub.test").name.empty());

  // CHUNKING (RFC 3030): the message in three BDAT chunks, cut inside a line and before a line
  // that starts with a dot (BDAT content is not dot-stuffed); it arrives byte for byte.
  const std::string chunked = message("news@acme.test", "chunked@sub.test", "chunked") + ".starts with a dot\r\n";
  r = smtplib_steps(s.dir, s.implicit_port, "implicit",
                    {{{"login", {kUser, kPassword}}}, "MAIL FROM:<news@acme.test>", "RCPT TO:<chunked@sub.test>",
                     {{"bdat", {chunked.substr(0, 40), chunked.substr(40, chunked.size() - 60), chunked.substr(chunked.size() - 20)}}}});
  REQUIRE(r.size() == 4);
  CHECK(r[3][0] == 250);
  CHECK_THAT(r[3][1].get<std::string>(), Catch::Contains("2.0.0 Ok: queued as "));
  const auto delivered = read_file(sink.maildir() / (stored_for(sink, "chunked@sub.test").name + ".eml"));
  CHECK_THAT(delivered, Catch::EndsWith("Hello from SMTP.\r\n.starts with a dot\r\n"));

  // 127.0.0.2 is trusted: no AUTH needed, any sender; the mail is [submission] trusted_tenant's.
  r = smtplib_steps(s.dir, s.starttls_port, "starttls",
                    {"MAIL FROM:<monitor@internal.test>", "RCPT TO:<trusted@sub.test>",
                     {{"data", message("monitor@internal.test", "trusted@sub.test", "trusted")}}},
                    "127.0.0.2");
  CHECK(r[0][0] == 250);
  CHECK(r[2][0] == 250);
  CHECK_THAT(r[2][1].get<std::string>(), Catch::Contains("2.0.0 Ok: queued as "));
  CHECK_FALSE(stored_for(sink, "trusted@sub.test").name.empty());

  // Five wrong passwords in a row from 127.0.0.3 (each answered later than the one before),
  // then that address is locked out, even with the right password; 127.0.0.1 is not.
  json steps = json::array();
  for (int i = 0; i < 5; ++i) steps.push_back(auth_plain(kUser, "guess " + std::to_string(i)));
  steps.push_back(auth_plain(kUser, kPassword));
  const auto started = std::chrono::steady_clock::now();
  r = smtplib_steps(s.dir, s.implicit_port, "implicit", steps, "127.0.0.3");
  const auto took = std::chrono::steady_clock::now() - started;
  for (int i = 0; i < 5; ++i) CHECK(r[i][0] == 535);
  REQUIRE(r.size() == 6);
  CHECK(r[5][0] == 421);
  CHECK(took >= 11s);  // 0.5 + 1 + 2 + 4 + 4 s of delay
  r = smtplib_steps(s.dir, s.implicit_port, "implicit", {auth_plain(kUser, kPassword)}, "127.0.0.3");
  CHECK(r[0][0] == 421);
  r = smtplib_steps(s.dir, s.implicit_port, "implicit", {auth_plain(kUser, kPassword)}, "127.0.0.1");
  CHECK(r[0][0] == 235);

  const auto metrics = volleyd.client().get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains("volley_submission_auth_failures_total 5"));
  CHECK_THAT(metrics, Catch::Contains("volley_submission_auth_lockouts_total 1"));
  CHECK_THAT(metrics, Catch::Contains(R"(volley_submission_messages_total{tenant="internal",result="queued"} 1)"));
}

TEST_CASE("a suppressed recipient is accepted over SMTP and reported suppressed, as over HTTP",
          "[integration][submission]") {
  Running run("[[api_key]]\nname = \"acme-app\"\ntenant = \"acme\"\n"  // inject-secret-1
              "key_sha256 = \"835f6c88bfff60677c55929335f32e3380341c714c62d9baf5d84cca5cb82c11\"\n");
  auto& [s, nsd, sink, volleyd] = run;
  HttpClient acme("127.0.0.1", volleyd.http_port());
  acme.set_header("Authorization", "Bearer inject-secret-1");
  REQUIRE(acme.post_json("/api/v1/suppressions", R"({"email":"gone@sub.test"})").status == 201);

  const auto r = smtplib_steps(s.dir, s.starttls_port, "starttls",
                               {auth_plain(kUser, kPassword), "MAIL FROM:<news@acme.test>", "RCPT TO:<gone@sub.test>",
                                "RCPT TO:<here@sub.test>",
                                {{"data", message("news@acme.test", "here@sub.test", "partly suppressed")}}});
  CHECK(r[4][0] == 250);
  INFO("volleyd log:\n" << volleyd.log());
  CHECK_FALSE(stored_for(sink, "here@sub.test").name.empty());
  CHECK(wait_until([&] { return !events_for(volleyd.events(), "suppressed", "gone@sub.test").empty(); }, 10s, 50ms));
  for (const auto& m : sink.messages()) CHECK(m.rcpt_tos == std::vector<std::string>{"here@sub.test"});
}

TEST_CASE("kill -9 right after the 250: the submitted message is delivered after the restart",
          "[integration][submission][crash]") {
  Setup s;
  NsdServer nsd({test_zone(s.records)});
  s.opts.dns_port = nsd.port();
  s.opts.smtp_port = 25;
  s.opts.retry_first = "1s";
  Volleyd volleyd(s.dir / "volleyd", s.opts);
  // No sink yet: the message waits in the spool.
  const auto sent = swaks(s.dir, s.starttls_port,
                          {"--tls", "--auth", "LOGIN", "--auth-user", kUser, "--auth-password", kPassword, "--from",
                           "news@acme.test", "--to", "survivor@sub.test", "--header", "From: news@acme.test"});
  INFO(sent.output);
  REQUIRE(sent.status == 0);
  REQUIRE_THAT(sent.output, Catch::Contains("250 2.0.0 Ok: queued as "));
  volleyd.crash();

  SmtpSink sink(s.dir / "sink", {"127.0.0.1"}, s.sink_port);
  volleyd.start();  // the same spool
  INFO("volleyd log:\n" << volleyd.log());
  CHECK_FALSE(stored_for(sink, "survivor@sub.test", 60s).name.empty());
}
