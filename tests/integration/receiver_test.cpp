// volley-receiver, the scriptable SMTP receiver of the load tests, driven over loopback by a
// plain SMTP client: each behaviour of its script, and what /stats and the log say per client IP.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "receiver_fixture.hpp"
#include "smtp_talk.hpp"

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

bool starts(const std::string& reply, const std::string& prefix) { return reply.rfind(prefix, 0) == 0; }

// A greeted, EHLO'd session.
std::unique_ptr<SmtpTalk> session(const SmtpReceiver& rx, const std::string& from_ip = "127.0.0.1") {
  auto t = std::make_unique<SmtpTalk>(rx.port(), from_ip);
  REQUIRE(starts(t->reply(), "220 "));
  REQUIRE(starts(t->command("EHLO client.test"), "250-"));
  return t;
}

std::int64_t counter(const nlohmann::json& stats, const std::string& ip, const std::string& name) {
  return stats.at("clients").at(ip).at(name).get<std::int64_t>();
}

}  // namespace

TEST_CASE("volley-receiver accepts, and counts and logs per client IP", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", "", {"127.0.0.1:0", "127.0.0.1:0"});
  REQUIRE(rx.addresses().size() == 2);
  CHECK(rx.port(0) != rx.port(1));

  {
    auto t = session(rx, "127.0.0.2");
    CHECK(t->transaction("s@x.test", {"a@a.test", "b@b.test"}) ==
          std::vector<std::string>{"250 2.1.5 Recipient OK\r\n", "250 2.1.5 Recipient OK\r\n",
                                   "250 2.0.0 Message accepted\r\n"});
    CHECK(t->transaction("s@x.test", {"c@a.test"}).back() == "250 2.0.0 Message accepted\r\n");
    CHECK(starts(t->command("QUIT"), "221 "));
  }
  {
    auto t = session(rx, "127.0.0.3");
    CHECK(t->transaction("", {"d@a.test"}).back() == "250 2.0.0 Message accepted\r\n");
  }

  auto stats = rx.stats();
  CHECK(stats.at("connections") == 2);
  CHECK(stats.at("messages") == 3);
  CHECK(stats.at("domains").at("a.test").at("accepted") == 3);
  CHECK(counter(stats, "127.0.0.2", "connections") == 1);
  CHECK(counter(stats, "127.0.0.2", "messages") == 2);
  CHECK(stats["clients"]["127.0.0.2"]["domains"]["b.test"]["accepted"] == 1);
  CHECK(counter(stats, "127.0.0.3", "messages") == 1);

  // The second session ends when the test's socket closes; the log says so once it is flushed.
  REQUIRE(wait_until([&] { return rx.events("close").size() == 2; }, 10s));
  const auto connects = rx.events("connect");
  REQUIRE(connects.size() == 2);
  CHECK(connects[0].at("client") == "127.0.0.2");
  CHECK(connects[0].at("local") == rx.addresses()[0]);
  CHECK(connects[0].at("ts").is_number_integer());
  const auto data = rx.events("data");
  REQUIRE(data.size() == 3);
  CHECK(data[0].at("ehlo") == "client.test");
  CHECK(data[0].at("sender") == "s@x.test");
  CHECK(data[0].at("recipients") == nlohmann::json{"a@a.test", "b@b.test"});
  CHECK(data[0].at("code") == 250);
  CHECK(data[2].at("client") == "127.0.0.3");
  CHECK(rx.events("rcpt").size() == 4);
}

TEST_CASE("volley-receiver rejects by domain and by address, at RCPT or at the end of data",
          "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", R"(
[[rule]]
match = "bad.test"
action = "reject"
reply = "550 5.1.1 No such user"

[[rule]]
match = "OK@bad.test"
action = "accept"

[[rule]]
match = "spam.test"
action = "reject"
stage = "end_of_data"
reply = "554 5.7.1 Looks like spam"

[default]
action = "tempfail"
times = 1000
reply = "450 4.2.0 Not today"
)");
  auto t = session(rx, "127.0.0.2");
  CHECK(t->transaction("s@x.test", {"x@bad.test", "ok@BAD.test"}) ==
        std::vector<std::string>{"550 5.1.1 No such user\r\n", "250 2.1.5 Recipient OK\r\n",
                                 "250 2.0.0 Message accepted\r\n"});
  CHECK(t->transaction("s@x.test", {"x@spam.test"}) ==
        std::vector<std::string>{"250 2.1.5 Recipient OK\r\n", "554 5.7.1 Looks like spam\r\n"});
  CHECK(t->transaction("s@x.test", {"x@other.test"}) ==
        std::vector<std::string>{"450 4.2.0 Not today\r\n", "554 5.5.1 No valid recipients\r\n"});

  const auto stats = rx.client_stats("127.0.0.2");
  CHECK(stats["domains"]["bad.test"]["rejected"] == 1);
  CHECK(stats["domains"]["bad.test"]["accepted"] == 1);
  CHECK(stats["domains"]["spam.test"]["rejected"] == 1);
  CHECK(stats["domains"]["other.test"]["deferred"] == 1);
  CHECK(stats["messages"] == 1);
}

TEST_CASE("volley-receiver answers a chosen reply at every SMTP stage", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SECTION("the greeting") {
    SmtpReceiver rx(dir / "rx", "[refuse]\ngreeting = \"554 5.7.1 No SMTP service here\"\n");
    SmtpTalk t(rx.port());
    CHECK(t.reply() == "554 5.7.1 No SMTP service here\r\n");
    CHECK(t.closed());
    REQUIRE(wait_until([&] { return rx.events("connect").size() == 1; }, 10s));
    CHECK(rx.events("connect")[0].at("code") == 554);
    CHECK(rx.stats().at("refused_connections") == 1);
  }
  SECTION("EHLO and HELO") {
    SmtpReceiver rx(dir / "rx", "[refuse]\nehlo = \"501 5.0.0 Invalid domain name\"\n");
    SmtpTalk t(rx.port());
    REQUIRE(starts(t.reply(), "220 "));
    CHECK(t.command("EHLO client.test") == "501 5.0.0 Invalid domain name\r\n");
    CHECK(t.command("HELO client.test") == "501 5.0.0 Invalid domain name\r\n");
    CHECK(starts(t.command("MAIL FROM:<s@x.test>"), "503 5.5.1"));  // never greeted
    REQUIRE(wait_until([&] { return rx.events("ehlo").size() == 2; }, 10s));
    CHECK(rx.events("ehlo")[0].at("code") == 501);
    CHECK(rx.events("ehlo")[1].at("command") == "HELO");
  }
  SECTION("MAIL FROM") {
    SmtpReceiver rx(dir / "rx", "[refuse]\nmail = \"553 5.1.0 <s@x.test> does not exist\"\n");
    auto t = session(rx);
    CHECK(t->transaction("s@x.test", {"r@a.test"}) == std::vector<std::string>{"553 5.1.0 <s@x.test> does not exist\r\n"});
    REQUIRE(wait_until([&] { return rx.events("mail").size() == 1; }, 10s));
    CHECK(rx.events("mail")[0].at("code") == 553);
    CHECK(rx.stats().at("rate_limited") == 0);  // a scripted refusal, not the rate limit
  }
  SECTION("RCPT, the DATA command and the end of data, per recipient") {
    SmtpReceiver rx(dir / "rx", R"(
[[rule]]
match = "rcpt.test"
action = "reject"
reply = "550 5.1.1 No such user"

[[rule]]
match = "data.test"
action = "reject"
stage = "data"
reply = "554 5.7.1 Not from you"

[[rule]]
match = "eod.test"
action = "reject"
stage = "end_of_data"
reply = "554 5.7.1 Looks like spam"
)");
    auto t = session(rx, "127.0.0.2");
    CHECK(t->transaction("s@x.test", {"x@rcpt.test"}) ==
          std::vector<std::string>{"550 5.1.1 No such user\r\n", "554 5.5.1 No valid recipients\r\n"});
    CHECK(t->transaction("s@x.test", {"x@data.test", "y@other.test"}) ==
          std::vector<std::string>{"250 2.1.5 Recipient OK\r\n", "250 2.1.5 Recipient OK\r\n",
                                   "554 5.7.1 Not from you\r\n"});
    CHECK(t->transaction("s@x.test", {"x@eod.test"}) ==
          std::vector<std::string>{"250 2.1.5 Recipient OK\r\n", "554 5.7.1 Looks like spam\r\n"});
    CHECK(t->transaction("s@x.test", {"z@other.test"}).back() == "250 2.0.0 Message accepted\r\n");
    const auto stats = rx.client_stats("127.0.0.2");
    CHECK(stats["domains"]["rcpt.test"]["rejected"] == 1);
    CHECK(stats["domains"]["data.test"]["rejected"] == 1);
    CHECK(stats["domains"]["other.test"]["rejected"] == 1);  // refused with its transaction
    CHECK(stats["domains"]["eod.test"]["rejected"] == 1);
    CHECK(stats["messages"] == 1);
    // Every DATA command is logged once this script answers some (354 when accepted).
    REQUIRE(wait_until([&] { return rx.events("data_command").size() == 3; }, 10s));
    CHECK(rx.events("data_command")[0].at("code") == 554);
    CHECK(rx.events("data_command")[1].at("code") == 354);
  }
  SECTION("every session at the DATA command and at the end of data") {
    SmtpReceiver rx(dir / "rx", "[refuse]\ndata = \"451 4.3.0 Come back later\"\n");
    auto t = session(rx);
    CHECK(t->transaction("s@x.test", {"r@a.test"}).back() == "451 4.3.0 Come back later\r\n");
    SmtpReceiver eod(dir / "eod", "[refuse]\nend_of_data = \"554 5.6.0 Message refused\"\n");
    auto u = session(eod);
    CHECK(u->transaction("s@x.test", {"r@a.test"}).back() == "554 5.6.0 Message refused\r\n");
  }
  SECTION("an unknown stage or a positive reply is refused with the file and line") {
    for (const auto& [script, error] : std::vector<std::pair<std::string, std::string>>{
             {"[refuse]\nhelo = \"501 bad\"\n", "bad.toml:2: helo: unknown stage"},
             {"[refuse]\nmail = \"250 fine\"\n", "bad.toml:2: mail: expected a 4xx or 5xx reply"},
             {"[[rule]]\nmatch = \"a.test\"\naction = \"accept\"\nstage = \"data\"\n",
              "bad.toml:4: stage: only reject and tempfail"},
             {"[[rule]]\nmatch = \"a.test\"\naction = \"reject\"\nstage = \"mail\"\n",
              "bad.toml:4: stage: expected one of rcpt, data, end_of_data"}}) {
      INFO(script);
      write_file(dir / "bad.toml", script);
      ChildProcess p({SmtpReceiver::binary(), "--listen", "127.0.0.1:0", "--script", (dir / "bad.toml").string()},
                     dir / "out.log");
      const auto status = p.wait_for(30s);
      REQUIRE(status.has_value());
      CHECK(WEXITSTATUS(*status) == 2);
      CHECK(p.log().find(error) != std::string::npos);
    }
  }
}

TEST_CASE("volley-receiver tempfails a recipient N times, then accepts it", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", R"(
[[rule]]
match = "flaky@a.test"
action = "tempfail"
times = 2
reply = "451 4.3.0 Try again"
)");
  auto t = session(rx);
  CHECK(t->transaction("s@x.test", {"flaky@a.test", "fine@a.test"}) ==
        std::vector<std::string>{"451 4.3.0 Try again\r\n", "250 2.1.5 Recipient OK\r\n",
                                 "250 2.0.0 Message accepted\r\n"});
  CHECK(t->transaction("s@x.test", {"flaky@a.test"}).front() == "451 4.3.0 Try again\r\n");
  // The count is per recipient, not per session.
  auto u = session(rx);
  CHECK(u->transaction("s@x.test", {"flaky@a.test"}) ==
        std::vector<std::string>{"250 2.1.5 Recipient OK\r\n", "250 2.0.0 Message accepted\r\n"});
  CHECK(rx.stats()["domains"]["a.test"] ==
        nlohmann::json{{"accepted", 2}, {"rejected", 0}, {"deferred", 2}, {"dropped", 0}});
}

TEST_CASE("volley-receiver greylists a triplet until its period has passed", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", R"(
[default]
action = "greylist"
seconds = 1
)");
  const auto t0 = std::chrono::steady_clock::now();
  auto t = session(rx, "127.0.0.2");
  CHECK(t->transaction("s@x.test", {"r@a.test"}).front() == "451 4.7.1 Greylisted, please retry later\r\n");
  // Retried as an MTA would, until accepted: not before a second has passed since the first try.
  std::string last;
  const bool accepted = wait_until(
      [&] {
        last = t->transaction("s@x.test", {"r@a.test"}).front();
        return starts(last, "250");
      },
      10s, 100ms);
  INFO("last reply: " << last);
  REQUIRE(accepted);
  CHECK(std::chrono::steady_clock::now() - t0 >= 1s);
  // Another sender, or the same one from another IP, is another triplet.
  CHECK(starts(t->transaction("other@x.test", {"r@a.test"}).front(), "451 4.7.1"));
  auto u = session(rx, "127.0.0.3");
  CHECK(starts(u->transaction("s@x.test", {"r@a.test"}).front(), "451 4.7.1"));
}

TEST_CASE("volley-receiver refuses connections beyond max_concurrent with 421", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SECTION("per client IP") {
    SmtpReceiver rx(dir / "rx", "max_concurrent_per_ip = 2\n");
    auto a = session(rx, "127.0.0.2");
    auto b = session(rx, "127.0.0.2");
    SmtpTalk c(rx.port(), "127.0.0.2");
    CHECK(c.reply() == "421 4.7.0 receiver.test too many connections\r\n");
    CHECK(c.closed());
    auto other = session(rx, "127.0.0.3");  // another IP has its own allowance
    CHECK(starts(a->command("QUIT"), "221"));
    // Once the receiver has closed the first session, a new one from the IP is greeted.
    REQUIRE(wait_until([&] { return counter(rx.stats(), "127.0.0.2", "concurrent") == 1; }, 10s));
    SmtpTalk d(rx.port(), "127.0.0.2");
    CHECK(starts(d.reply(), "220 "));
    const auto stats = rx.stats();
    CHECK(counter(stats, "127.0.0.2", "connections") == 4);
    CHECK(counter(stats, "127.0.0.2", "refused_connections") == 1);
    CHECK(counter(stats, "127.0.0.2", "peak_concurrent") == 2);
  }
  SECTION("in all") {
    SmtpReceiver rx(dir / "rx", "max_concurrent = 1\n");
    auto a = session(rx, "127.0.0.2");
    SmtpTalk b(rx.port(), "127.0.0.3");
    CHECK(starts(b.reply(), "421 4.7.0"));
    CHECK(b.closed());
    REQUIRE(wait_until([&] { return rx.events("connect").size() == 2; }, 10s));
    CHECK(rx.events("connect")[1].at("code") == 421);
  }
}

TEST_CASE("volley-receiver limits the message rate per client IP", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SECTION("451 beyond the rate") {
    // One message per 5 s: the second MAIL comes well before the next one is allowed.
    SmtpReceiver rx(dir / "rx", "rate = 0.2\n");
    auto t = session(rx, "127.0.0.2");
    CHECK(starts(t->command("MAIL FROM:<s@x.test>"), "250"));
    CHECK(starts(t->command("RSET"), "250"));
    CHECK(t->command("MAIL FROM:<s@x.test>") == "451 4.7.0 rate limited\r\n");
    auto u = session(rx, "127.0.0.3");
    CHECK(starts(u->command("MAIL FROM:<s@x.test>"), "250"));
    CHECK(counter(rx.stats(), "127.0.0.2", "rate_limited") == 1);
    CHECK(counter(rx.stats(), "127.0.0.3", "rate_limited") == 0);
  }
  SECTION("or 421 and close") {
    SmtpReceiver rx(dir / "rx", "rate = 0.2\nrate_action = \"close\"\n");
    auto t = session(rx, "127.0.0.2");
    CHECK(starts(t->command("MAIL FROM:<s@x.test>"), "250"));
    CHECK(starts(t->command("RSET"), "250"));
    CHECK(starts(t->command("MAIL FROM:<s@x.test>"), "421 4.7.0"));
    CHECK(t->closed());
  }
}

TEST_CASE("volley-receiver drops the connection in the middle of DATA", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", R"(
[[rule]]
match = "drop.test"
action = "drop"
after_bytes = 100
)");
  auto t = session(rx, "127.0.0.2");
  CHECK(starts(t->command("MAIL FROM:<s@x.test>"), "250"));
  CHECK(starts(t->command("RCPT TO:<r@drop.test>"), "250"));
  CHECK(starts(t->command("DATA"), "354"));
  t->send(std::string(1000, 'x') + "\r\n");
  CHECK(t->closed());
  REQUIRE(wait_until([&] { return rx.events("drop").size() == 1; }, 10s));
  CHECK(rx.events("drop")[0].at("bytes").get<int>() >= 100);
  CHECK(rx.events("data").empty());
  const auto stats = rx.client_stats("127.0.0.2");
  CHECK(stats["dropped"] == 1);
  CHECK(stats["messages"] == 0);
  CHECK(stats["domains"]["drop.test"]["dropped"] == 1);
}

TEST_CASE("volley-receiver delays its replies as scripted", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", R"(
delay_ms = 200

[[rule]]
match = "slow.test"
action = "accept"
delay_ms = 400
)");
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  SmtpTalk t(rx.port());
  CHECK(starts(t.reply(), "220"));
  CHECK(Clock::now() - start >= 200ms);
  CHECK(starts(t.command("EHLO c"), "250"));
  CHECK(starts(t.command("MAIL FROM:<s@x.test>"), "250"));
  start = Clock::now();
  CHECK(starts(t.command("RCPT TO:<r@slow.test>"), "250"));
  CHECK(Clock::now() - start >= 600ms);
}

TEST_CASE("volley-receiver closes its sessions and flushes its log on SIGTERM", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  SmtpReceiver rx(dir / "rx", "");
  auto t = session(rx, "127.0.0.2");
  CHECK(starts(t->command("MAIL FROM:<s@x.test>"), "250"));
  const auto status = rx.stop();
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(t->closed());
  const auto closes = rx.events("close");
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].at("reason") == "receiver stopping");
  CHECK(rx.events("mail").size() == 1);
}

TEST_CASE("volley-receiver refuses a script it does not understand", "[integration][receiver]") {
  TempDir dir("volley-it-receiver");
  write_file(dir / "bad.toml", "[[rule]]\nmatch = \"a.test\"\naction = \"acept\"\n");
  ChildProcess p({SmtpReceiver::binary(), "--listen", "127.0.0.1:0", "--script", (dir / "bad.toml").string()},
                 dir / "out.log");
  const auto status = p.wait_for(30s);
  REQUIRE(status.has_value());
  CHECK(WEXITSTATUS(*status) == 2);
  CHECK(p.log().find("bad.toml:3: action: expected one of accept, reject") != std::string::npos);
}
