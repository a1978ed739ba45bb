// SmtpListener against real clients on loopback: a raw socket client (smtp_test_client.hpp) and
// swaks, the listener on its own io_context thread.
#include "smtp_test_client.hpp"  // first: <utility> before Boost.Asio

#include <sys/wait.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <catch2/catch.hpp>

#include "core/smtp/inbound_recipient.hpp"
#include "net/smtp_listener.hpp"

using namespace volley;
using volley::smtp::inbound_recipient_allowed;
using volley::test::IoThread;
using volley::test::SmtpTestClient;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Messages the listener handed over. Answers at once (`ok`, `text`) unless told to hold them,
// in which case the test answers from its own thread.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<InboundMessage, std::function<void(bool, std::string)>>> got;
  int calls = 0;
  bool hold = false;
  bool ok = true;
  std::string text;

  InboundHandler handler() {
    return [this](InboundMessage&& m, std::function<void(bool, std::string)> answer) {
      std::unique_lock lock(mu);
      ++calls;
      if (!hold) {
        const bool answer_ok = ok;
        const std::string answer_text = text;
        got.emplace_back(std::move(m), nullptr);
        lock.unlock();
        cv.notify_all();
        answer(answer_ok, answer_text);
        return;
      }
      got.emplace_back(std::move(m), std::move(answer));
      lock.unlock();
      cv.notify_all();
    };
  }
  std::pair<InboundMessage, std::function<void(bool, std::string)>> take() {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, 10s, [&] { return !got.empty(); })) throw std::runtime_error("no message arrived");
    auto m = std::move(got.front());
    got.pop_front();
    return m;
  }
  int call_count() {
    std::lock_guard lock(mu);
    return calls;
  }
};

SmtpListenerOptions bounce_options() {
  SmtpListenerOptions o;
  o.hostname = "mx.volley.test";
  o.accept_domains = {"bounce.example.com", "FBL.example.com"};
  return o;
}

// The listener on its own io thread; stopped and joined on destruction.
struct Harness {
  Harness(SmtpListenerOptions options, Inbox& inbox) : listener(io.io, std::move(options), inbox.handler()) {
    listener.start({"127.0.0.1", 0});
  }
  ~Harness() { listener.stop(); }
  std::uint16_t port() const { return listener.port(); }

  IoThread io;  // declared first: outlives the listener
  SmtpListener listener;
};

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "volley-smtp-in-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& content) const {
    const auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path path;
};

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command, bounded by `timeout` inside the command itself.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string swaks(std::uint16_t port, const std::string& args) {
  return "timeout 20 swaks --server 127.0.0.1 --port " + std::to_string(port) + " --timeout 10 " + args;
}

// An SMTP conversation up to an open transaction with one recipient.
void begin(SmtpTestClient& c, const std::string& from = "", const std::string& to = "bounces+abc@bounce.example.com") {
  REQUIRE(c.reply().rfind("220 mx.volley.test", 0) == 0);
  REQUIRE(c.command("EHLO client.test").rfind("250", 0) == 0);
  REQUIRE(c.command("MAIL FROM:<" + from + ">").rfind("250", 0) == 0);
  REQUIRE(c.command("RCPT TO:<" + to + ">").rfind("250", 0) == 0);
}

}  // namespace

TEST_CASE("inbound recipients: plain local part at an accepted domain only", "[smtp_listener]") {
  const std::vector<std::string> domains{"bounce.example.com"};
  CHECK(inbound_recipient_allowed("bounces+0123-abc=x.y@bounce.example.com", domains));
  CHECK(inbound_recipient_allowed("Fbl.Report@BOUNCE.example.COM", domains));
  CHECK(inbound_recipient_allowed("postmaster", domains));
  CHECK_FALSE(inbound_recipient_allowed("victim@elsewhere.example", domains));
  CHECK_FALSE(inbound_recipient_allowed("victim%elsewhere.example@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("elsewhere.example!victim@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("\"victim@elsewhere.example\"@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("\"plain\"@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("a..b@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed(".a@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("a@bounce.example.com.", domains));
  CHECK_FALSE(inbound_recipient_allowed("a@sub.bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("a@[127.0.0.1]", domains));
  CHECK_FALSE(inbound_recipient_allowed("@bounce.example.com", domains));
  CHECK_FALSE(inbound_recipient_allowed("a@bounce.example.com", {}));
}

TEST_CASE("a bounce reaches the handler with its envelope and unstuffed content", "[smtp_listener]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);
  SmtpTestClient c(h.port());
  REQUIRE(c.reply().rfind("220 mx.volley.test", 0) == 0);
  const auto ehlo = c.command("EHLO client.test");
  CHECK(ehlo.find("PIPELINING") != std::string::npos);
  CHECK(ehlo.find("SIZE 10485760") != std::string::npos);
  CHECK(ehlo.find("STARTTLS") == std::string::npos);  // no certificate configured
  // Pipelined (RFC 2920): the whole envelope in one write, replies in order.
  c.send("MAIL FROM:<>\r\nRCPT TO:<bounces+abc@Bounce.Example.com>\r\nRCPT TO:<fbl@fbl.example.com>\r\nDATA\r\n");
  CHECK(c.reply().rfind("250", 0) == 0);
  CHECK(c.reply().rfind("250", 0) == 0);
  CHECK(c.reply().rfind("250", 0) == 0);
  CHECK(c.reply().rfind("354", 0) == 0);
  c.send("Subject: Delivery Status Notification\r\n\r\n..leading dot\r\nbody\r\n.\r\n");
  CHECK(c.reply().rfind("250 2.0.0", 0) == 0);

  auto [m, answer] = inbox.take();
  CHECK(m.peer.rfind("127.0.0.1:", 0) == 0);
  CHECK(m.helo == "client.test");
  CHECK(m.reverse_path.empty());
  CHECK(m.recipients == std::vector<std::string>{"bounces+abc@Bounce.Example.com", "fbl@fbl.example.com"});
  CHECK(m.content == "Subject: Delivery Status Notification\r\n\r\n.leading dot\r\nbody\r\n");
  CHECK_FALSE(m.tls);

  // The session goes on: a second transaction with an ordinary sender.
  CHECK(c.command("MAIL FROM:<mailer-daemon@mx.example.org>").rfind("250", 0) == 0);
  CHECK(c.command("RCPT TO:<bounces+def@bounce.example.com>").rfind("250", 0) == 0);
  CHECK(c.command("DATA").rfind("354", 0) == 0);
  CHECK(c.command("x\r\n.").rfind("250", 0) == 0);
  CHECK(inbox.take().first.reverse_path == "mailer-daemon@mx.example.org");
  CHECK(c.command("QUIT").rfind("221", 0) == 0);
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("swaks delivers a DSN with the null sender", "[smtp_listener]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);
  TempDir dir;
  const auto data = dir.file("dsn.eml",
                             "From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail\r\n\r\n"
                             "marker-5f2c\r\n.dot line\r\n");
  const auto r = run(swaks(h.port(), "--from '<>' --to bounces+xyz@bounce.example.com --data @" + data));
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto [m, answer] = inbox.take();
  CHECK(m.reverse_path.empty());
  CHECK(m.recipients == std::vector<std::string>{"bounces+xyz@bounce.example.com"});
  CHECK(m.content.find("marker-5f2c\r\n.dot line\r\n") != std::string::npos);
}

TEST_CASE("the listener is no open relay", "[smtp_listener]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);

  SECTION("swaks to another domain fails with 550 5.7.1") {
    const auto r = run(swaks(h.port(), "--from sender@example.org --to victim@elsewhere.example"));
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("550 5.7.1") != std::string::npos);
  }
  SECTION("percent hacks, bang paths, quoted local parts and source routes are refused") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    REQUIRE(c.command("EHLO client.test").rfind("250", 0) == 0);
    REQUIRE(c.command("MAIL FROM:<>").rfind("250", 0) == 0);
    for (const char* to : {"victim%elsewhere.example@bounce.example.com", "elsewhere.example!victim@bounce.example.com",
                           "\"victim@elsewhere.example\"@bounce.example.com", "@bounce.example.com:victim@elsewhere.example",
                           "victim@bounce.example.com.elsewhere.example"}) {
      INFO(to);
      CHECK(c.command(std::string("RCPT TO:<") + to + ">").rfind("550 5.7.1", 0) == 0);
    }
    CHECK(c.command("DATA").rfind("554", 0) == 0);  // no recipient was taken
    CHECK(c.command("QUIT").rfind("221", 0) == 0);
  }
  CHECK(inbox.call_count() == 0);
}

TEST_CASE("a handler that answers false gives the client 451, from any thread", "[smtp_listener]") {
  Inbox inbox;
  SECTION("answered at once") {
    inbox.ok = false;
    inbox.text = "spool busy";
    Harness h(bounce_options(), inbox);
    SmtpTestClient c(h.port());
    begin(c);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    CHECK(c.command("x\r\n.") == "451 4.3.0 spool busy\r\n");
    // The session stays usable: the sender may retry the transaction.
    CHECK(c.command("MAIL FROM:<>").rfind("250", 0) == 0);
  }
  SECTION("answered later from the test thread; a late answer to a gone session is harmless") {
    inbox.hold = true;
    Harness h(bounce_options(), inbox);
    SmtpTestClient c(h.port());
    begin(c);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    c.send("x\r\n.\r\nNOOP\r\n");  // the NOOP waits behind the message's answer
    auto [m, answer] = inbox.take();
    answer(false, "try\r\nagain");  // no reply splitting
    answer(true, "");               // ignored: answered already
    CHECK(c.reply() == "451 4.3.0 try  again\r\n");
    CHECK(c.reply().rfind("250", 0) == 0);

    SmtpTestClient d(h.port());
    begin(d);
    CHECK(d.command("DATA").rfind("354", 0) == 0);
    d.send("y\r\n.\r\n");
    auto held = inbox.take();
    d.close();
    // Reaches a session that is gone or going: nothing to do, nothing to crash.
    held.second(true, "");
    CHECK(c.command("NOOP").rfind("250", 0) == 0);
  }
}

TEST_CASE("a handler that does not answer in time gives 451, its late answer changes nothing", "[smtp_listener]") {
  Inbox inbox;
  inbox.hold = true;
  auto o = bounce_options();
  o.command_timeout = 1s;
  Harness h(o, inbox);
  SmtpTestClient c(h.port());
  begin(c);
  CHECK(c.command("DATA").rfind("354", 0) == 0);
  c.send("x\r\n.\r\n");
  auto [m, answer] = inbox.take();
  CHECK(c.reply(5s).rfind("451 4.3.0", 0) == 0);
  CHECK(c.command("MAIL FROM:<>").rfind("250", 0) == 0);
  // Must not be taken as the answer to anything that follows.
  answer(false, "late");
  CHECK(c.command("RCPT TO:<bounces+b@bounce.example.com>").rfind("250", 0) == 0);
  CHECK(c.command("QUIT").rfind("221", 0) == 0);
}

TEST_CASE("messages over the size limit get 552", "[smtp_listener]") {
  Inbox inbox;
  auto o = bounce_options();
  o.max_message_size = 1000;
  Harness h(o, inbox);
  SmtpTestClient c(h.port());
  begin(c);
  CHECK(c.command("RSET").rfind("250", 0) == 0);
  CHECK(c.command("MAIL FROM:<> SIZE=5000").rfind("552 5.3.4", 0) == 0);
  CHECK(c.command("MAIL FROM:<> SIZE=500").rfind("250", 0) == 0);
  CHECK(c.command("RCPT TO:<bounces+a@bounce.example.com>").rfind("250", 0) == 0);
  CHECK(c.command("DATA").rfind("354", 0) == 0);
  c.send(std::string(2000, 'x') + "\r\n.\r\n");
  CHECK(c.reply().rfind("552 5.3.4", 0) == 0);
  CHECK(inbox.call_count() == 0);
}

TEST_CASE("STARTTLS with a certificate made at test time", "[smtp_listener]") {
  TempDir dir;
  const auto cert = (dir.path / "cert.pem").string();
  const auto key = (dir.path / "key.pem").string();
  const auto gen = run("timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " +
                       key + " -out " + cert);
  INFO(gen.output);
  REQUIRE(gen.status == 0);

  Inbox inbox;
  auto o = bounce_options();
  o.tls_certificate_file = cert;
  o.tls_private_key_file = key;
  Harness h(o, inbox);

  SECTION("offered in EHLO; commands pipelined behind STARTTLS are dropped") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    CHECK(c.command("EHLO client.test").find("STARTTLS") != std::string::npos);
    c.send("STARTTLS\r\nMAIL FROM:<>\r\n");
    CHECK(c.reply().rfind("220 2.0.0", 0) == 0);
    // The plaintext MAIL must not be answered: the server now waits for a TLS ClientHello (a
    // negative result needs some wait; 300 ms is ample on loopback).
    CHECK_THROWS_WITH(c.reply(300ms), Catch::Contains("timed out"));
  }
  SECTION("a message over TLS arrives with tls=true") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    REQUIRE(c.command("EHLO client.test").rfind("250", 0) == 0);
    REQUIRE(c.command("STARTTLS").rfind("220 2.0.0", 0) == 0);
    c.start_tls();
    // RFC 3207: the session starts over, and STARTTLS is not offered twice.
    CHECK(c.command("MAIL FROM:<>").rfind("503", 0) == 0);
    const auto ehlo = c.command("EHLO client.test");
    CHECK(ehlo.rfind("250", 0) == 0);
    CHECK(ehlo.find("STARTTLS") == std::string::npos);
    CHECK(c.command("MAIL FROM:<>").rfind("250", 0) == 0);
    CHECK(c.command("RCPT TO:<fbl@fbl.example.com>").rfind("250", 0) == 0);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    CHECK(c.command("Subject: report\r\n\r\nmarker-tls\r\n.").rfind("250", 0) == 0);
    auto [m, answer] = inbox.take();
    CHECK(m.tls);
    CHECK(m.helo == "client.test");
    CHECK(m.recipients == std::vector<std::string>{"fbl@fbl.example.com"});
    CHECK(m.content == "Subject: report\r\n\r\nmarker-tls\r\n");
    CHECK(c.command("QUIT").rfind("221", 0) == 0);
  }
  SECTION("a failed handshake closes the session") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    REQUIRE(c.command("EHLO client.test").rfind("250", 0) == 0);
    REQUIRE(c.command("STARTTLS").rfind("220 2.0.0", 0) == 0);
    c.send("this is not a ClientHello\r\n");
    CHECK(c.closed_by_peer(5s));
  }
}

TEST_CASE("a bad certificate or key makes start() throw", "[smtp_listener]") {
  TempDir dir;
  Inbox inbox;
  IoThread io;
  auto o = bounce_options();
  o.tls_certificate_file = dir.file("cert.pem", "not a certificate\n");
  o.tls_private_key_file = dir.file("key.pem", "not a key\n");
  SmtpListener bad_cert(io.io, o, inbox.handler());
  CHECK_THROWS_WITH(bad_cert.start({"127.0.0.1", 0}), Catch::Contains("TLS certificate") && Catch::Contains("cert.pem"));

  o.tls_private_key_file.clear();
  SmtpListener half(io.io, o, inbox.handler());
  CHECK_THROWS_WITH(half.start({"127.0.0.1", 0}), Catch::Contains("both"));

  SmtpListener bad_address(io.io, bounce_options(), inbox.handler());
  // Malformed addresses never get here (the config reader refuses them); one not on this host does.
  CHECK_THROWS_AS(bad_address.start({"192.0.2.1", 0}), std::runtime_error);
}

TEST_CASE("an idle client is closed with 421", "[smtp_listener]") {
  Inbox inbox;
  auto o = bounce_options();
  o.command_timeout = 1s;
  o.data_timeout = 1s;
  Harness h(o, inbox);

  SECTION("between commands") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    CHECK(c.reply(5s).rfind("421 4.4.2", 0) == 0);
    CHECK(c.closed_by_peer(5s));
  }
  SECTION("in the middle of DATA: nothing reaches the handler") {
    SmtpTestClient c(h.port());
    begin(c);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    c.send("Subject: half a message\r\n");
    CHECK(c.reply(5s).rfind("421 4.4.2", 0) == 0);
    CHECK(c.closed_by_peer(5s));
    CHECK(inbox.call_count() == 0);
  }
}

// The reply the server sends within `within`, or nullopt when it sends none.
std::optional<std::string> reply_within(SmtpTestClient& c, std::chrono::milliseconds within) {
  try {
    return c.reply(within);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

// A slow-loris client: one byte of `bytes` (repeated) every `pace`, until the server answers or
// `max_bytes` are sent. Returns the answer and how long the client trickled.
std::pair<std::optional<std::string>, std::chrono::steady_clock::duration> trickle(
    SmtpTestClient& c, char byte, std::chrono::milliseconds pace, int max_bytes) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < max_bytes; ++i) {
    c.send(std::string(1, byte));
    if (auto r = reply_within(c, pace)) return {r, std::chrono::steady_clock::now() - start};
  }
  return {std::nullopt, std::chrono::steady_clock::now() - start};
}

TEST_CASE("a client trickling bytes is cut off at the deadline, not kept alive by each byte", "[smtp_listener]") {
  Inbox inbox;
  auto o = bounce_options();
  o.command_timeout = 1s;
  o.data_timeout = 2s;
  Harness h(o, inbox);

  SECTION("one command line, a byte every 200 ms") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    c.send("NOOP ");
    // Forty bytes at 200 ms would take 8 s: an idle timer re-armed by every byte never fires.
    const auto [answer, took] = trickle(c, 'x', 200ms, 40);
    REQUIRE(answer);
    CHECK(answer->rfind("421 4.4.2", 0) == 0);
    CHECK(took < 4s);
    CHECK(c.closed_by_peer(5s));
  }
  SECTION("the whole DATA phase, a byte every 200 ms") {
    SmtpTestClient c(h.port());
    begin(c);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    const auto [answer, took] = trickle(c, 'x', 200ms, 60);
    REQUIRE(answer);
    CHECK(answer->rfind("421 4.4.2", 0) == 0);
    CHECK(took < 6s);
    CHECK(c.closed_by_peer(5s));
    CHECK(inbox.call_count() == 0);
  }
  SECTION("a client that answers each reply in time keeps its session") {
    SmtpTestClient c(h.port());
    REQUIRE(c.reply().rfind("220", 0) == 0);
    // Three commands spread over more than one command_timeout in all, each within its own.
    for (int i = 0; i < 3; ++i) {
      CHECK_FALSE(reply_within(c, 500ms));
      CHECK(c.command("NOOP").rfind("250", 0) == 0);
    }
  }
}

TEST_CASE("a client gone mid-transaction leaves nothing behind", "[smtp_listener]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);
  {
    SmtpTestClient c(h.port());
    begin(c);
    CHECK(c.command("DATA").rfind("354", 0) == 0);
    c.send("Subject: cut off\r\n");
  }
  SmtpTestClient c(h.port());
  begin(c, "", "bounces+second@bounce.example.com");
  CHECK(c.command("DATA").rfind("354", 0) == 0);
  CHECK(c.command("whole\r\n.").rfind("250", 0) == 0);
  CHECK(inbox.take().first.recipients == std::vector<std::string>{"bounces+second@bounce.example.com"});
  CHECK(inbox.call_count() == 1);
}

TEST_CASE("connections beyond the limit get 421 and are closed", "[smtp_listener]") {
  Inbox inbox;
  auto o = bounce_options();
  o.max_connections = 2;
  Harness h(o, inbox);
  SmtpTestClient a(h.port()), b(h.port());
  REQUIRE(a.reply().rfind("220", 0) == 0);
  REQUIRE(b.reply().rfind("220", 0) == 0);
  SmtpTestClient refused(h.port());
  CHECK(refused.reply().rfind("421 4.7.0", 0) == 0);
  CHECK(refused.closed_by_peer(5s));
  // The server counts a session out before closing its socket, so once `a` sees the close a
  // new connection is sure to be admitted.
  CHECK(a.command("QUIT").rfind("221", 0) == 0);
  CHECK(a.closed_by_peer(5s));
  SmtpTestClient c(h.port());
  CHECK(c.reply().rfind("220", 0) == 0);
  CHECK(h.listener.connection_count() == 2);
}

TEST_CASE("stop() says 421 to open sessions and closes them", "[smtp_listener]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);
  SmtpTestClient c(h.port());
  REQUIRE(c.reply().rfind("220", 0) == 0);
  h.listener.stop();
  CHECK(c.reply().rfind("421 4.3.2", 0) == 0);
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("drain(): an idle session gets 421 at once, a message the handler holds is answered 250 then 421",
          "[smtp_listener][drain]") {
  Inbox inbox;
  inbox.hold = true;
  Harness h(bounce_options(), inbox);
  SmtpTestClient idle(h.port());
  REQUIRE(idle.reply().rfind("220", 0) == 0);
  REQUIRE(idle.command("EHLO client.test").rfind("250", 0) == 0);
  SmtpTestClient busy(h.port());
  begin(busy);
  REQUIRE(busy.command("DATA").rfind("354", 0) == 0);
  busy.send("Subject: x\r\n\r\nbody\r\n.\r\n");
  auto [message, answer] = inbox.take();  // stored by the handler, not answered yet

  h.listener.drain();
  CHECK(idle.reply() == "421 4.3.2 mx.volley.test Service shutting down\r\n");
  CHECK(idle.closed_by_peer(5s));
  CHECK_FALSE(h.listener.wait_drained(std::chrono::steady_clock::now()));  // busy is still open

  answer(true, "");
  CHECK(busy.reply().rfind("250 ", 0) == 0);
  CHECK(busy.reply() == "421 4.3.2 mx.volley.test Service shutting down\r\n");
  CHECK(busy.closed_by_peer(5s));
  CHECK(h.listener.wait_drained(std::chrono::steady_clock::now() + 5s));
  CHECK(h.listener.drain_counts().finished == 1);
  CHECK(h.listener.drain_counts().cut == 0);
}

TEST_CASE("stop() after drain() cuts a transaction still in flight and counts it", "[smtp_listener][drain]") {
  Inbox inbox;
  Harness h(bounce_options(), inbox);
  SmtpTestClient c(h.port());
  begin(c);
  REQUIRE(c.command("DATA").rfind("354", 0) == 0);
  c.send("Subject: x\r\n\r\nhalf of it\r\n");
  h.listener.drain();
  CHECK_FALSE(h.listener.wait_drained(std::chrono::steady_clock::now()));
  h.listener.stop();
  CHECK(c.reply().rfind("421 4.3.2", 0) == 0);
  CHECK(c.closed_by_peer(5s));
  CHECK(h.listener.wait_drained(std::chrono::steady_clock::now() + 5s));
  CHECK(h.listener.drain_counts().finished == 0);
  CHECK(h.listener.drain_counts().cut == 1);
  CHECK(inbox.call_count() == 0);  // the half message never reached the handler
}
