// The SMTP server machine's drain (SmtpServer::drain, volleyd's SIGTERM): a session between
// transactions is told 421 and hung up, one inside a transaction finishes it first.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/smtp/server.hpp"

using namespace volley::smtp;

namespace {

const std::string k421 = "421 4.3.2 mx.test Service shutting down\r\n";

Reply shutting_down() { return Reply::synthetic(421, "4.3.2", "mx.test Service shutting down"); }

// A session whose requests wait for the test (answer()), with what it wrote and whether it hung up.
struct Draining {
  SmtpServer s;
  std::string out;
  std::vector<std::string> requests;  // "mail", "rcpt", "message:<content>"
  bool hangup = false;

  explicit Draining(bool start = true) : s(options()) {
    if (start) {
      s.start();
      pump();
      out.clear();
    }
  }
  static SmtpServer::Options options() {
    SmtpServer::Options o;
    o.hostname = "mx.test";
    o.chunking = true;
    return o;
  }
  void pump() {
    for (auto& a : s.take_actions()) {
      if (auto* w = std::get_if<Send>(&a)) {
        out += w->bytes;
      } else if (std::holds_alternative<MailRequest>(a)) {
        requests.push_back("mail");
      } else if (std::holds_alternative<RcptRequest>(a)) {
        requests.push_back("rcpt");
      } else if (auto* m = std::get_if<MessageRequest>(&a)) {
        requests.push_back("message:" + m->content);
      } else if (std::holds_alternative<Hangup>(a)) {
        hangup = true;
      }
    }
  }
  std::string feed(std::string_view bytes) {
    s.feed(bytes);
    pump();
    return take();
  }
  std::string answer(std::optional<Reply> r = std::nullopt) {
    s.answer(std::move(r));
    pump();
    return take();
  }
  std::string drain() {
    s.drain(shutting_down());
    pump();
    return take();
  }
  std::string take() { return std::exchange(out, {}); }
  // EHLO, MAIL and one RCPT, each accepted.
  void open_transaction() {
    feed("EHLO c\r\n");
    feed("MAIL FROM:<a@x.test>\r\n");
    answer();
    feed("RCPT TO:<b@y.test>\r\n");
    answer();
    REQUIRE(s.in_transaction());
  }
};

}  // namespace

TEST_CASE("server drain: a session between transactions gets 421 at once", "[smtp][server][drain]") {
  SECTION("after the greeting") {
    Draining d;
    CHECK(d.drain() == k421);
    CHECK(d.hangup);
    CHECK(d.s.closed());
  }
  SECTION("after EHLO") {
    Draining d;
    d.feed("EHLO c\r\n");
    CHECK(d.drain() == k421);
    CHECK(d.hangup);
  }
  SECTION("before the greeting: the greeting is the 421") {
    Draining d(false);
    d.s.drain(shutting_down());
    d.s.start();
    d.pump();
    CHECK(d.take() == k421);
    CHECK(d.hangup);
  }
  SECTION("halfway through a command line: the line is answered 421, and no transaction begins") {
    Draining d;
    d.feed("EHLO c\r\n");
    CHECK(d.feed("MAIL FROM:<a@x").empty());
    CHECK(d.drain().empty());
    CHECK_FALSE(d.hangup);
    CHECK(d.feed(".test>\r\n") == k421);
    CHECK(d.hangup);
    CHECK(d.requests.empty());
  }
  SECTION("a MAIL waiting for its answer gets 421 instead") {
    Draining d;
    d.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\n");
    CHECK(d.drain().empty());
    CHECK(d.answer() == k421);
    CHECK(d.hangup);
    CHECK_FALSE(d.s.in_transaction());
  }
}

TEST_CASE("server drain: a transaction in flight finishes, then the session gets 421", "[smtp][server][drain]") {
  SECTION("in the middle of DATA") {
    Draining d;
    d.open_transaction();
    CHECK(d.feed("DATA\r\n").rfind("354 ", 0) == 0);
    CHECK(d.feed("Subject: x\r\n\r\nfirst half\r\n").empty());
    CHECK(d.drain().empty());
    CHECK_FALSE(d.hangup);
    CHECK(d.feed("second half\r\n.\r\n").empty());
    REQUIRE(d.requests.back() == "message:Subject: x\r\n\r\nfirst half\r\nsecond half\r\n");
    // Answered as usual (the owner stored it), then the drain's 421.
    CHECK(d.answer() == "250 2.0.0 Message accepted\r\n" + k421);
    CHECK(d.hangup);
  }
  SECTION("a command pipelined behind the end of data is answered 421") {
    Draining d;
    d.open_transaction();
    d.feed("DATA\r\n");
    d.drain();
    d.feed("body\r\n.\r\nMAIL FROM:<again@x.test>\r\n");
    CHECK(d.answer() == "250 2.0.0 Message accepted\r\n" + k421);
    CHECK(d.requests.size() == 3);  // mail, rcpt, message: the second MAIL was not taken
  }
  SECTION("after MAIL and RCPT, more RCPTs and DATA are taken") {
    Draining d;
    d.open_transaction();
    CHECK(d.drain().empty());
    d.feed("RCPT TO:<c@y.test>\r\n");
    CHECK(d.answer() == "250 2.1.5 Recipient OK\r\n");
    CHECK(d.feed("DATA\r\n").rfind("354 ", 0) == 0);
    d.feed("x\r\n.\r\n");
    CHECK(d.answer(Reply::synthetic(451, "4.3.0", "try later")) == "451 4.3.0 try later\r\n" + k421);
    CHECK(d.hangup);
  }
  SECTION("BDAT chunks until LAST") {
    Draining d;
    d.open_transaction();
    CHECK(d.feed("BDAT 3\r\nabc") == "250 2.0.0 3 octets received\r\n");
    CHECK(d.drain().empty());
    CHECK(d.feed("BDAT 2 LAST\r\nde").empty());
    REQUIRE(d.requests.back() == "message:abcde");
    CHECK(d.answer() == "250 2.0.0 Message accepted\r\n" + k421);
  }
  SECTION("RSET ends the transaction: 421 right after its 250") {
    Draining d;
    d.open_transaction();
    d.drain();
    CHECK(d.feed("RSET\r\n") == "250 2.0.0 OK\r\n" + k421);
    CHECK(d.hangup);
  }
  SECTION("close_session still cuts a transaction at once") {
    Draining d;
    d.open_transaction();
    d.feed("DATA\r\nhalf");
    d.drain();
    d.s.close_session(Reply::synthetic(421, "4.3.2", "mx.test Service shutting down"));
    d.pump();
    CHECK(d.take() == k421);
    CHECK(d.hangup);
    CHECK(d.requests.size() == 2);
  }
}
