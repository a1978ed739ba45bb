// SIGTERM as an inbound SMTP client sees it (docs/lifecycle.md): a submission in the middle of
// DATA finishes (250, its message delivered once after the restart), an idle session gets
// 421 4.3.2 at once, new connections are refused, and a client that stalls past drain_timeout
// is cut without its half message ever being stored.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "../support/test_pki.hpp"
#include "receiver_fixture.hpp"
#include "smtp_talk.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool starts(const std::string& reply, const std::string& prefix) { return reply.rfind(prefix, 0) == 0; }

// volleyd with a submission listener (127.0.0.1 trusted: no AUTH, no TLS needed), the bounce
// listener [smtp_in], and mail for drain.test routed to a volley-receiver.
struct DrainRig {
  TempDir dir;
  SmtpReceiver receiver;
  std::uint16_t submission_port = free_port();
  std::uint16_t bounce_port = free_port();
  VolleydOptions opts;
  std::optional<Volleyd> volleyd;

  DrainRig(const std::string& name, const std::string& drain_timeout)
      : dir(name), receiver(dir / "receiver", "") {
    TestPki pki;
    const auto leaf = pki.issue({"smtp.volley.test"});
    write_file(dir / "cert.pem", TestPki::chain_pem(leaf, pki.ca()));
    write_file(dir / "key.pem", leaf.key_pem());
    opts.dns_port = 9;  // never asked: drain.test has a static route
    opts.smtp_port = 25;
    opts.routes.push_back(Route{"drain.test", "127.0.0.1", receiver.port()});
    opts.extra_toml = "[submission]\n"
                      "listen = \"127.0.0.1:" + std::to_string(submission_port) + "\"\n"
                      "hostname = \"smtp.volley.test\"\n"
                      "tls_certificate = \"" + (dir / "cert.pem").string() + "\"\n"
                      "tls_private_key = \"" + (dir / "key.pem").string() + "\"\n"
                      "trusted_networks = [\"127.0.0.1/32\"]\n"
                      "[smtp_in]\n"
                      "listen = \"127.0.0.1:" + std::to_string(bounce_port) + "\"\n"
                      "hostname = \"bounces.volley.test\"\n"
                      "domains = [\"bounces.volley.test\"]\n"
                      "[lifecycle]\n"
                      "drain_timeout = \"" + drain_timeout + "\"\n";
    volleyd.emplace(dir / "volleyd", opts);
  }

  // A greeted, EHLO'd session.
  std::unique_ptr<SmtpTalk> session(std::uint16_t port) const {
    auto t = std::make_unique<SmtpTalk>(port);
    REQUIRE(starts(t->reply(), "220 "));
    REQUIRE(starts(t->command("EHLO client.test"), "250"));
    return t;
  }

  // A submission session inside DATA for `recipient`, with the first half of its message sent.
  std::unique_ptr<SmtpTalk> half_submitted(const std::string& recipient) const {
    auto t = session(submission_port);
    REQUIRE(starts(t->command("MAIL FROM:<app@volley.test>"), "250 "));
    REQUIRE(starts(t->command("RCPT TO:<" + recipient + ">"), "250 "));
    REQUIRE(starts(t->command("DATA"), "354 "));
    t->send("From: App <app@volley.test>\r\nTo: <" + recipient + ">\r\nSubject: drained\r\n\r\nfirst half\r\n");
    return t;
  }

  // Waits for volleyd to exit by itself after the signal; its exit code.
  int exit_code(std::chrono::seconds within) {
    REQUIRE(wait_until([&] { return !volleyd->running(); }, within, 20ms));
    const auto status = volleyd->stop();
    REQUIRE(status);
    REQUIRE(WIFEXITED(*status));
    return WEXITSTATUS(*status);
  }

  // How many times the receiver took a message for `recipient`.
  int arrivals(const std::string& recipient) const {
    int n = 0;
    for (const auto& e : receiver.events("data"))
      for (const auto& r : e.value("recipients", json::array())) n += r == recipient;
    return n;
  }
};

// Connections after the signal: each one the kernel still accepts (before the acceptor closed)
// is greeted with the drain's 421; soon every one is refused. True once refused.
bool refuses_connections(std::uint16_t port) {
  return wait_until(
      [&] {
        try {
          SmtpTalk t(port);
          const auto greeting = t.reply();
          if (!greeting.empty() && !starts(greeting, "421 4.3.2 ")) FAIL("after SIGTERM a new connection got " << greeting);
          return false;
        } catch (const boost::system::system_error& e) {
          return e.code() == boost::asio::error::connection_refused;
        }
      },
      10s, 10ms);
}

}  // namespace

TEST_CASE("SIGTERM lets a submission in the middle of DATA finish: 250, then 421, and a restart delivers it once",
          "[integration][lifecycle][drain]") {
  DrainRig rig("volley-it-drain-inbound", "20s");
  auto client = rig.half_submitted("reader@drain.test");

  rig.volleyd->signal(SIGTERM);
  REQUIRE(wait_until([&] { return rig.volleyd->log().find("draining") != std::string::npos; }, 10s, 10ms));
  CHECK(refuses_connections(rig.submission_port));

  // The rest of the message: stored (synced) before its 250; the next command gets the 421.
  client->send("second half\r\n.\r\n");
  const auto answer = client->reply();
  INFO("volleyd log:\n" << rig.volleyd->log());
  CHECK(starts(answer, "250 2.0.0 "));
  CHECK(starts(client->command("MAIL FROM:<app@volley.test>"), "421 4.3.2 smtp.volley.test Service shutting down"));
  CHECK(client->closed());

  CHECK(rig.exit_code(30s) == 0);
  const auto log = rig.volleyd->log();
  CHECK(log.find("drain: inbound SMTP sessions: 1 let finish their transaction, 0 cut") != std::string::npos);
  CHECK(rig.arrivals("reader@drain.test") == 0);  // taken while draining: it waited in the spool

  rig.volleyd->start();
  REQUIRE(wait_until([&] { return !events_for(rig.volleyd->events(), "delivered", "reader@drain.test").empty(); }, 30s,
                     50ms));
  CHECK(rig.arrivals("reader@drain.test") == 1);
  CHECK(events_for(rig.volleyd->events(), "received", "reader@drain.test").size() == 1);
  const auto stored = rig.receiver.events("data");
  REQUIRE(stored.size() == 1);
}

TEST_CASE("SIGTERM: an idle SMTP session gets 421 4.3.2 at once and new connections are refused, on the submission "
          "and the bounce listener",
          "[integration][lifecycle][drain]") {
  DrainRig rig("volley-it-drain-idle", "20s");
  auto submission = rig.session(rig.submission_port);
  auto bounces = rig.session(rig.bounce_port);
  auto greeted = std::make_unique<SmtpTalk>(rig.submission_port);  // no EHLO yet
  REQUIRE(starts(greeted->reply(), "220 "));

  rig.volleyd->signal(SIGTERM);
  // Nothing sent: the 421 comes by itself, then the connection closes.
  CHECK(submission->reply() == "421 4.3.2 smtp.volley.test Service shutting down\r\n");
  CHECK(submission->closed());
  CHECK(bounces->reply() == "421 4.3.2 bounces.volley.test Service shutting down\r\n");
  CHECK(bounces->closed());
  CHECK(greeted->reply() == "421 4.3.2 smtp.volley.test Service shutting down\r\n");
  CHECK(greeted->closed());
  CHECK(refuses_connections(rig.submission_port));
  CHECK(refuses_connections(rig.bounce_port));

  CHECK(rig.exit_code(30s) == 0);
  CHECK(rig.volleyd->log().find("drain: inbound SMTP sessions: 0 let finish their transaction, 0 cut") !=
        std::string::npos);
}

TEST_CASE("SIGTERM cuts a client that stalls in DATA past drain_timeout: volleyd exits 0 in time and the half message "
          "is nowhere",
          "[integration][lifecycle][drain]") {
  DrainRig rig("volley-it-drain-stall", "2s");
  auto stalled = rig.half_submitted("half@drain.test");

  const auto signalled = std::chrono::steady_clock::now();
  rig.volleyd->signal(SIGTERM);
  CHECK(rig.exit_code(30s) == 0);
  const auto took = std::chrono::steady_clock::now() - signalled;
  INFO("exit after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took >= 2s);       // the transaction had its drain_timeout
  // A margin for the shutdown after it (slow under the sanitizers), far below the 10 min the
  // client would otherwise have had (its data_timeout).
  CHECK(took < 2s + 15s);
  const auto log = rig.volleyd->log();
  INFO(log);
  CHECK(log.find("drain: inbound SMTP sessions: 0 let finish their transaction, 1 cut at the 2 s deadline") !=
        std::string::npos);
  // The client was told (421) or simply closed on; it never got a 250.
  const auto told = stalled->reply();
  CHECK((told.empty() || starts(told, "421 4.3.2 ")));

  // After the restart: nothing was stored for it. A message injected afterwards is delivered,
  // and by then the spool had nothing else to send.
  rig.volleyd->start();
  CHECK(rig.volleyd->log().find("spool: recovered 0 recipient messages") != std::string::npos);
  auto http = rig.volleyd->client();
  inject(http, {{"from", "app@volley.test"}, {"to", {"after@drain.test"}}, {"subject", "after"}, {"text", "t\n"}});
  REQUIRE(wait_until([&] { return rig.arrivals("after@drain.test") == 1; }, 30s, 50ms));
  CHECK(rig.arrivals("half@drain.test") == 0);
  CHECK(events_for(rig.volleyd->events(), "received", "half@drain.test").empty());
}
