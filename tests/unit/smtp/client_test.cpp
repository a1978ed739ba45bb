// The SMTP client fed scripted server dialogues: every byte it writes and every action it asks
// for is checked, in order.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/smtp/client.hpp"
#include "core/smtp/wire.hpp"
#include "tests/unit/smtp/client_harness.hpp"

using namespace volley::smtp;
using namespace std::chrono_literals;
using namespace volley::smtp::test;

TEST_CASE("client: greeting, multi-line EHLO and capabilities") {
  Harness h;
  CHECK(h.c.phase() == ClientPhase::connecting);
  CHECK_FALSE(h.c.timeout());
  REQUIRE(h.connect().empty());
  CHECK(h.c.phase() == ClientPhase::greeting);
  CHECK(h.c.timeout() == 300s);
  // The greeting arrives in pieces.
  REQUIRE(h.server("220 mx.test ESMTP Postfix").empty());
  REQUIRE(h.server("\r\n") == Acts{"write:EHLO client.test\r\n"});
  CHECK(h.c.greeting_text() == "mx.test ESMTP Postfix");
  CHECK(h.c.phase() == ClientPhase::ehlo);
  CHECK(h.c.timeout() == 300s);
  REQUIRE(h.server("250-mx.test greets client.test\r\n250-pipelining\r\n").empty());
  REQUIRE(h.server("250-SIZE 1000000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 CHUNKING\r\n") ==
          Acts{"ready"});
  CHECK(h.c.phase() == ClientPhase::idle);
  CHECK_FALSE(h.c.timeout());
  const auto& caps = h.c.capabilities();
  CHECK(caps.esmtp);
  CHECK(caps.pipelining);
  CHECK(caps.size);
  CHECK(caps.size_limit == 1000000);
  CHECK(caps.eightbitmime);
  CHECK(caps.smtputf8);
  CHECK(caps.starttls);
  CHECK(caps.chunking);
}

TEST_CASE("client: EHLO keywords absent or without a limit") {
  auto h = ready_session(kEhloPlain);
  const auto& caps = h.c.capabilities();
  CHECK(caps.esmtp);
  CHECK_FALSE(caps.pipelining);
  CHECK(caps.size);
  CHECK(caps.size_limit == 0);
  CHECK(caps.eightbitmime);
  CHECK_FALSE(caps.smtputf8);
  CHECK_FALSE(caps.starttls);
  CHECK_FALSE(caps.chunking);
  auto h2 = ready_session("250-mx.test\r\n250 SIZE 12x\r\n");
  CHECK(h2.c.capabilities().size_limit == 0);
}

TEST_CASE("client: EHLO refused with 5xx falls back to HELO") {
  for (const char* refusal : {"500 5.5.1 command unrecognized\r\n", "502 not implemented\r\n", "550 no\r\n"}) {
    Harness h;
    h.connect();
    REQUIRE(h.server("220 old.test SMTP\r\n") == Acts{"write:EHLO client.test\r\n"});
    REQUIRE(h.server(refusal) == Acts{"write:HELO client.test\r\n"});
    CHECK(h.c.phase() == ClientPhase::helo);
    CHECK(h.c.timeout() == 300s);
    REQUIRE(h.server("250 old.test\r\n") == Acts{"ready"});
    CHECK_FALSE(h.c.capabilities().esmtp);
    CHECK_FALSE(h.c.capabilities().pipelining);
    // No ESMTP: one command at a time, no parameters on MAIL.
    auto t = txn({"x@b.test"});
    t.body_8bit = true;
    REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<sender@a.test>\r\n"});
  }
}

TEST_CASE("client: refused greeting, EHLO or HELO ends the session politely") {
  SECTION("554 greeting: failed, then QUIT and close after its reply") {
    Harness h;
    h.connect();
    REQUIRE(h.server("554 5.7.1 no service for you\r\n") ==
            Acts{"failed:554 5.7.1 no service for you", "write:QUIT\r\n"});
    CHECK(h.c.phase() == ClientPhase::quitting);
    CHECK(h.c.timeout() == 30s);
    REQUIRE(h.server("221 bye\r\n") == Acts{"close"});
    CHECK(h.c.phase() == ClientPhase::closed);
    CHECK_FALSE(h.c.timeout());
  }
  SECTION("4xx greeting: same, and a QUIT left unanswered times out into a close") {
    Harness h;
    h.connect();
    REQUIRE(h.server("450 busy\r\n") == Acts{"failed:450 busy", "write:QUIT\r\n"});
    REQUIRE(h.timeout() == Acts{"close"});
  }
  SECTION("421 greeting: the server is closing, no QUIT") {
    Harness h;
    h.connect();
    REQUIRE(h.server("421 4.3.2 too busy\r\n") == Acts{"failed:421 4.3.2 too busy", "close"});
  }
  SECTION("EHLO 4xx") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    REQUIRE(h.server("451 4.3.0 try later\r\n") == Acts{"failed:451 4.3.0 try later", "write:QUIT\r\n"});
    REQUIRE(h.closed("eof") == Acts{"close"});  // peer closing after QUIT is fine
  }
  SECTION("EHLO 421") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    REQUIRE(h.server("421 closing\r\n") == Acts{"failed:421 closing", "close"});
  }
  SECTION("EHLO then HELO refused") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    h.server("502 no\r\n");
    REQUIRE(h.server("550 5.7.1 go away\r\n") == Acts{"failed:550 5.7.1 go away", "write:QUIT\r\n"});
    REQUIRE(h.server("221 bye\r\n") == Acts{"close"});
  }
  SECTION("a 3xx greeting is a protocol error") {
    Harness h;
    h.connect();
    REQUIRE(h.server("354 what\r\n") ==
            Acts{"failed:451 4.5.0 protocol error: unexpected reply to greeting: 354 what", "close"});
  }
}

TEST_CASE("client: pipelined transaction is one write, body shared, replies in any chunking") {
  auto h = ready_session();
  auto t = txn({"one@b.test", "two@b.test"});
  const auto wire = t.wire_data;
  REQUIRE(h.start(t) ==
          Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<one@b.test>\r\nRCPT TO:<two@b.test>\r\nDATA\r\n"});
  CHECK(h.c.phase() == ClientPhase::in_transaction);
  CHECK(h.c.timeout() == 300s);  // MAIL
  REQUIRE(h.server("250 2.1.0 Ok\r\n").empty());
  CHECK(h.c.timeout() == 300s);  // RCPT
  REQUIRE(h.server("250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n").empty());
  CHECK(h.c.timeout() == 120s);  // DATA initiation
  REQUIRE(h.server("354 End data with <CR><LF>.<CR><LF>\r\n") == Acts{"body"});
  // The very same buffer, not a copy.
  CHECK(h.body_written().get() == wire.get());
  // t, wire, the transaction in flight and the action: the one buffer, referenced.
  CHECK(wire.use_count() == 4);
  CHECK(h.c.timeout() == 600s);  // DATA termination
  REQUIRE(h.server("250 2.0.0 Ok: queued as 1234\r\n") == Acts{"done:250,250", "ready"});
  CHECK(summaries(h.result()) ==
        std::vector<std::string>{"250 2.0.0 Ok: queued as 1234", "250 2.0.0 Ok: queued as 1234"});
  CHECK(h.c.phase() == ClientPhase::idle);
  CHECK_FALSE(h.c.timeout());

  // The next transaction needs no RSET, and all replies in one chunk work as well.
  REQUIRE(h.start(txn({"three@b.test"})) ==
          Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<three@b.test>\r\nDATA\r\n"});
  REQUIRE(h.server("250 ok\r\n250 ok\r\n354 go\r\n") == Acts{"body"});
  REQUIRE(h.server("250 queued\r\n") == Acts{"done:250", "ready"});
}

TEST_CASE("client: the whole pipelined dialogue split at every byte gives the same outcome") {
  const std::string replies = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550-5.1.1 no such\r\n550 5.1.1 user\r\n354 go\r\n";
  for (std::size_t cut = 0; cut <= replies.size(); ++cut) {
    auto h = ready_session();
    h.start(txn({"one@b.test", "two@b.test"}));
    Acts acts = h.server(std::string_view(replies).substr(0, cut));
    for (auto& a : h.server(std::string_view(replies).substr(cut))) acts.push_back(a);
    REQUIRE(acts == Acts{"body"});
    REQUIRE(h.server("250 queued\r\n") == Acts{"done:250,550", "ready"});
    REQUIRE(summaries(h.result()) == std::vector<std::string>{"250 queued", "550 5.1.1 no such user"});
  }
}

TEST_CASE("client: without PIPELINING, one command per write and per reply") {
  auto check = [](Harness h) {
    auto t = txn({"one@b.test", "two@b.test"});
    REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\n"});
    CHECK(h.c.timeout() == 300s);
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<one@b.test>\r\n"});
    CHECK(h.c.timeout() == 300s);
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<two@b.test>\r\n"});
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:DATA\r\n"});
    CHECK(h.c.timeout() == 120s);
    REQUIRE(h.server("354 go\r\n") == Acts{"body"});
    CHECK(h.body_written().get() == t.wire_data.get());
    CHECK(h.c.timeout() == 600s);
    REQUIRE(h.server("250 queued\r\n") == Acts{"done:250,250", "ready"});
  };
  SECTION("server without PIPELINING") { check(ready_session(kEhloPlain)); }
  SECTION("server with PIPELINING, client told not to use it") {
    auto o = Harness::options();
    o.use_pipelining = false;
    check(ready_session(kEhloPipelining, o));
  }
  SECTION("two replies where one was asked for is a protocol error") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"one@b.test"}));
    REQUIRE(h.server("250 ok\r\n250 ok\r\n") ==
            Acts{"write:RCPT TO:<one@b.test>\r\n", "done:451",
                 "failed:451 4.5.0 protocol error: reply received before its command was sent: 250 ok", "close"});
  }
  SECTION("a reply to EHLO in the greeting's packet is a protocol error") {
    Harness h;
    h.connect();
    REQUIRE(h.server("220 mx\r\n250 mx\r\n") ==
            Acts{"write:EHLO client.test\r\n",
                 "failed:451 4.5.0 protocol error: reply received before its command was sent: 250 mx", "close"});
  }
  SECTION("but a 421 right behind a reply is the server closing") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"one@b.test"}));
    REQUIRE(h.server("250 ok\r\n421 4.7.0 bye\r\n") ==
            Acts{"write:RCPT TO:<one@b.test>\r\n", "done:421", "failed:421 4.7.0 bye", "close"});
  }
}

TEST_CASE("client: some recipients refused") {
  SECTION("pipelined") {
    auto h = ready_session();
    h.start(txn({"a@b.test", "bad@b.test", "c@b.test", "full@b.test"}));
    REQUIRE(h.server("250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n452 4.2.2 mailbox full\r\n354 go\r\n") ==
            Acts{"body"});
    REQUIRE(h.server("250 2.0.0 queued\r\n") == Acts{"done:250,550,250,452", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"250 2.0.0 queued", "550 5.1.1 unknown",
                                                            "250 2.0.0 queued", "452 4.2.2 mailbox full"});
    // A transaction that reached the end of DATA needs no RSET.
    REQUIRE(h.start(txn({"a@b.test"})) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<a@b.test>\r\nDATA\r\n"});
  }
  SECTION("not pipelined") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"bad@b.test", "a@b.test"}));
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<bad@b.test>\r\n"});
    REQUIRE(h.server("550 5.1.1 unknown\r\n") == Acts{"write:RCPT TO:<a@b.test>\r\n"});
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:DATA\r\n"});
    REQUIRE(h.server("354 go\r\n") == Acts{"body"});
    REQUIRE(h.server("250 queued\r\n") == Acts{"done:550,250", "ready"});
  }
}

TEST_CASE("client: every recipient refused") {
  SECTION("pipelined, DATA refused: no body, RSET pipelined before the next MAIL") {
    auto h = ready_session();
    h.start(txn({"x@b.test", "y@b.test"}));
    REQUIRE(h.server("250 ok\r\n550 5.1.1 no x\r\n450 4.2.1 try y later\r\n554 5.5.1 no valid recipients\r\n") ==
            Acts{"done:550,450", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"550 5.1.1 no x", "450 4.2.1 try y later"});
    REQUIRE(h.start(txn({"z@b.test"})) ==
            Acts{"write:RSET\r\nMAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<z@b.test>\r\nDATA\r\n"});
    REQUIRE(h.server("250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n") == Acts{"body"});
    REQUIRE(h.server("250 queued\r\n") == Acts{"done:250", "ready"});
    // The RSET was answered: none before the following one.
    REQUIRE(h.start(txn({"z@b.test"})) ==
            Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<z@b.test>\r\nDATA\r\n"});
  }
  SECTION("pipelined, yet the server says 354: only the terminator is sent, its reply ignored") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    REQUIRE(h.server("250 ok\r\n550 5.1.1 no x\r\n354 go ahead anyway\r\n") == Acts{"write:.\r\n"});
    CHECK(h.c.timeout() == 600s);
    REQUIRE(h.server("250 2.0.0 queued (for no one)\r\n") == Acts{"done:550", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"550 5.1.1 no x"});
    REQUIRE(h.start(txn({"z@b.test"})) ==
            Acts{"write:RSET\r\nMAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<z@b.test>\r\nDATA\r\n"});
  }
  SECTION("not pipelined: no DATA at all, then RSET on its own before the next MAIL") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"x@b.test"}));
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<x@b.test>\r\n"});
    REQUIRE(h.server("550 5.1.1 no x\r\n") == Acts{"done:550", "ready"});
    REQUIRE(h.start(txn({"z@b.test"})) == Acts{"write:RSET\r\n"});
    CHECK(h.c.timeout() == 300s);
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\n"});
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<z@b.test>\r\n"});
  }
}

TEST_CASE("client: MAIL refused") {
  SECTION("pipelined: every recipient gets the MAIL reply, the 503s that follow are ignored") {
    auto h = ready_session();
    h.start(txn({"x@b.test", "y@b.test"}));
    REQUIRE(h.server("550 5.7.1 sender rejected\r\n").empty());
    REQUIRE(h.server("503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n").empty());
    REQUIRE(h.server("503 5.5.1 no valid recipients\r\n") == Acts{"done:550,550", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"550 5.7.1 sender rejected", "550 5.7.1 sender rejected"});
    CHECK(h.result().mail_refused);
    REQUIRE(h.start(txn({"z@b.test"})).at(0).rfind("write:RSET\r\nMAIL FROM:", 0) == 0);
  }
  SECTION("not pipelined, 4xx: no RCPT sent") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"x@b.test", "y@b.test"}));
    REQUIRE(h.server("451 4.7.1 greylisted\r\n") == Acts{"done:451,451", "ready"});
    CHECK(h.result().per_rcpt[1].enhanced == "4.7.1");
    REQUIRE(h.start(txn({"z@b.test"})) == Acts{"write:RSET\r\n"});
  }
}

TEST_CASE("client: DATA refused") {
  auto h = ready_session();
  h.start(txn({"x@b.test", "bad@b.test"}));
  REQUIRE(h.server("250 ok\r\n250 ok\r\n550 no\r\n451 4.3.0 local problem\r\n") == Acts{"done:451,550", "ready"});
  CHECK(summaries(h.result()) == std::vector<std::string>{"451 4.3.0 local problem", "550 no"});
  REQUIRE(h.start(txn({"z@b.test"})).at(0).rfind("write:RSET\r\n", 0) == 0);
}

TEST_CASE("client: end of data refused") {
  for (const char* reply : {"552 5.3.4 message too big\r\n", "451 4.3.0 queue write failed\r\n"}) {
    auto h = ready_session();
    h.start(txn({"x@b.test", "y@b.test", "bad@b.test"}));
    REQUIRE(h.server("250 ok\r\n250 ok\r\n250 ok\r\n550 5.1.1 nope\r\n354 go\r\n") == Acts{"body"});
    const int code = std::stoi(std::string(reply, 3));
    const auto c = std::to_string(code);
    REQUIRE(h.server(reply) == Acts{"done:" + c + "," + c + ",550", "ready"});
    // The server's transaction ended with its final reply: no RSET.
    REQUIRE(h.start(txn({"z@b.test"})).at(0).rfind("write:MAIL FROM:", 0) == 0);
  }
}

TEST_CASE("client: 421 ends the session wherever it comes") {
  SECTION("to a RCPT: undecided recipients get it, refused ones keep their reply") {
    auto h = ready_session();
    h.start(txn({"x@b.test", "bad@b.test", "y@b.test", "z@b.test"}));
    REQUIRE(h.server("250 ok\r\n250 ok\r\n550 5.1.1 nope\r\n421 4.7.0 too many errors\r\n") ==
            Acts{"done:421,550,421,421", "failed:421 4.7.0 too many errors", "close"});
    CHECK(summaries(h.result())[0] == "421 4.7.0 too many errors");
    CHECK(h.c.phase() == ClientPhase::closed);
    CHECK_FALSE(h.c.timeout());
    // Nothing more is done for a closed session.
    REQUIRE(h.server("250 ok\r\n").empty());
    REQUIRE(h.timeout().empty());
    REQUIRE(h.closed("eof").empty());
  }
  SECTION("to MAIL (not pipelined)") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"x@b.test"}));
    REQUIRE(h.server("421 shutting down\r\n") == Acts{"done:421", "failed:421 shutting down", "close"});
  }
  SECTION("at the end of data") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    h.server("250 ok\r\n250 ok\r\n354 go\r\n");
    REQUIRE(h.server("421 4.4.2 timeout\r\n") == Acts{"done:421", "failed:421 4.4.2 timeout", "close"});
  }
  SECTION("unsolicited, while idle") {
    auto h = ready_session();
    REQUIRE(h.server("421 4.4.2 idle too long, closing\r\n") ==
            Acts{"failed:421 4.4.2 idle too long, closing", "close"});
  }
}

TEST_CASE("client: every reply says which command it answered") {
  auto stages = [](const TransactionResult& r) {
    std::vector<std::string> out;
    for (const auto& reply : r.per_rcpt) out.emplace_back(to_string(reply.stage));
    return out;
  };
  auto failure = [](const Harness& h) {
    for (const auto& a : h.last)
      if (auto* f = std::get_if<SessionFailed>(&a)) return f->reply;
    FAIL("no SessionFailed");
    return Reply{};
  };
  SECTION("MAIL refused: every recipient gets the MAIL reply, at the mail stage") {
    auto h = ready_session();
    h.start(txn({"x@b.test", "y@b.test"}));
    h.server("553 5.1.0 <sender@a.test> does not exist\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n");
    REQUIRE(h.server("503 5.5.1 no valid recipients\r\n") == Acts{"done:553,553", "ready"});
    CHECK(stages(h.result()) == std::vector<std::string>{"mail", "mail"});
  }
  SECTION("RCPT, DATA and the end of data") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"bad@b.test", "x@b.test"}));
    h.server("250 ok\r\n");
    h.server("550 5.1.1 no such user\r\n");
    h.server("250 ok\r\n");
    h.server("354 go\r\n");
    REQUIRE(h.server("554 5.7.1 spam\r\n") == Acts{"done:550,554", "ready"});
    CHECK(stages(h.result()) == std::vector<std::string>{"rcpt", "end_of_data"});
    h.start(txn({"y@b.test"}));
    h.server("250 ok\r\n");
    h.server("250 ok\r\n");
    REQUIRE(h.server("554 5.5.1 not now\r\n") == Acts{"done:554", "ready"});
    CHECK(stages(h.result()) == std::vector<std::string>{"data"});
  }
  SECTION("recipients decided locally") {
    auto h = ready_session();
    REQUIRE(h.start(txn({"a\r\nb@b.test"}, "bad\r\n@a.test")) == Acts{"done:553", "ready"});
    CHECK(stages(h.result()) == std::vector<std::string>{"mail"});
    REQUIRE(h.start(txn({"a\r\nb@b.test"})) == Acts{"done:553", "ready"});
    CHECK(stages(h.result()) == std::vector<std::string>{"rcpt"});
  }
  SECTION("the greeting, EHLO and HELO") {
    Harness g;
    g.connect();
    g.server("554 5.7.1 no SMTP service here\r\n");
    CHECK(failure(g).stage == Stage::greeting);
    Harness e;
    e.connect();
    e.server("220 mx\r\n");
    REQUIRE(e.server("501 5.0.0 Invalid domain name\r\n") == Acts{"write:HELO client.test\r\n"});
    e.server("501 5.0.0 Invalid domain name\r\n");
    CHECK(failure(e).stage == Stage::ehlo);
  }
  SECTION("a timeout or a lost connection at a stage") {
    auto h = ready_session(kEhloPlain);
    h.start(txn({"x@b.test"}));
    h.server("250 ok\r\n");
    h.timeout();
    CHECK(stages(h.result()) == std::vector<std::string>{"rcpt"});
    auto l = ready_session(kEhloPlain);
    l.start(txn({"x@b.test"}));
    l.closed("reset");
    CHECK(stages(l.result()) == std::vector<std::string>{"mail"});
  }
}

TEST_CASE("client: a timeout at each stage") {
  struct Stage {
    const char* name;
    std::vector<std::string> replies;  // server replies before the silence (not pipelined)
    std::string expected_done;
  };
  // Not pipelined, so each stage is reached on its own; "bad" is refused before the silence
  // when the dialogue gets that far, and keeps its refusal.
  const std::vector<Stage> stages = {
      {"MAIL", {}, "done:451,451"},
      {"RCPT", {"250 ok\r\n"}, "done:451,451"},
      {"RCPT", {"250 ok\r\n", "550 5.1.1 nope\r\n"}, "done:550,451"},
      {"DATA", {"250 ok\r\n", "550 5.1.1 nope\r\n", "250 ok\r\n"}, "done:550,451"},
      {"end of data", {"250 ok\r\n", "550 5.1.1 nope\r\n", "250 ok\r\n", "354 go\r\n"}, "done:550,451"},
  };
  SECTION("MAIL, RCPT, DATA, end of data") {
    for (const auto& s : stages) {
      INFO(s.name);
      auto h = ready_session(kEhloPlain);
      h.start(txn({"bad@b.test", "x@b.test"}));
      for (const auto& r : s.replies) h.server(r);
      const std::string why = std::string("451 4.4.2 timeout waiting for ") + s.name + " reply";
      REQUIRE(h.timeout() == Acts{s.expected_done, "failed:" + why, "close"});
      CHECK(summaries(h.result()).back() == why);
      CHECK(h.c.phase() == ClientPhase::closed);
    }
  }
  SECTION("greeting") {
    Harness h;
    h.connect();
    REQUIRE(h.timeout() == Acts{"failed:451 4.4.2 timeout waiting for greeting reply", "close"});
  }
  SECTION("EHLO") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    REQUIRE(h.timeout() == Acts{"failed:451 4.4.2 timeout waiting for EHLO reply", "close"});
  }
  SECTION("HELO") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    h.server("500 what\r\n");
    REQUIRE(h.timeout() == Acts{"failed:451 4.4.2 timeout waiting for HELO reply", "close"});
  }
  SECTION("RSET (pipelined, before anything else is answered)") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    h.server("550 no\r\n503 no\r\n503 no\r\n");
    h.start(txn({"y@b.test"}));
    REQUIRE(h.timeout() == Acts{"done:451", "failed:451 4.4.2 timeout waiting for RSET reply", "close"});
  }
  SECTION("a stale timer while idle changes nothing") {
    auto h = ready_session();
    REQUIRE(h.timeout().empty());
    CHECK(h.c.phase() == ClientPhase::idle);
  }
}

TEST_CASE("client: connection lost") {
  SECTION("mid-transaction") {
    auto h = ready_session();
    h.start(txn({"x@b.test", "bad@b.test"}));
    h.server("250 ok\r\n250 ok\r\n550 nope\r\n354 go\r\n");
    REQUIRE(h.closed("connection reset by peer") ==
            Acts{"done:451,550", "failed:451 4.4.2 connection lost waiting for end of data reply: connection reset by peer",
                 "close"});
  }
  SECTION("while idle") {
    auto h = ready_session();
    REQUIRE(h.closed("eof") == Acts{"failed:451 4.4.2 connection lost while idle: eof", "close"});
  }
  SECTION("before the greeting") {
    Harness h;
    h.connect();
    REQUIRE(h.closed("eof") == Acts{"failed:451 4.4.2 connection lost waiting for greeting reply: eof", "close"});
  }
  SECTION("connect failed") {
    Harness h;
    REQUIRE(h.closed("connection refused") == Acts{"failed:451 4.4.1 connection failed: connection refused", "close"});
  }
}

TEST_CASE("client: protocol errors end the session") {
  SECTION("garbage mid-transaction") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    REQUIRE(h.server("250 ok\r\nHTTP/1.1 400 Bad Request\r\n") ==
            Acts{"done:451",
                 "failed:451 4.5.0 protocol error: reply does not start with a 3-digit code: \"HTTP/1.1 400 Bad Request\"",
                 "close"});
  }
  SECTION("a code change inside a multi-line EHLO reply") {
    Harness h;
    h.connect();
    h.server("220 mx\r\n");
    REQUIRE(h.server("250-mx\r\n550 oops\r\n") ==
            Acts{"failed:451 4.5.0 protocol error: reply code changed from 250 to 550 inside a multi-line reply", "close"});
  }
  SECTION("an endless line") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    Acts acts;
    for (int i = 0; i < 10 && acts.empty(); ++i) acts = h.server(std::string(1000, 'a'));
    REQUIRE(acts == Acts{"done:451", "failed:451 4.5.0 protocol error: reply line longer than 4096 bytes", "close"});
  }
  SECTION("3xx to RCPT, 2xx to DATA") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    REQUIRE(h.server("250 ok\r\n354 what\r\n") ==
            Acts{"done:451", "failed:451 4.5.0 protocol error: unexpected reply to RCPT: 354 what", "close"});
    auto h2 = ready_session();
    h2.start(txn({"x@b.test"}));
    REQUIRE(h2.server("250 ok\r\n250 ok\r\n250 data?\r\n") ==
            Acts{"done:451", "failed:451 4.5.0 protocol error: unexpected reply to DATA: 250 data?", "close"});
  }
  SECTION("a reply nobody asked for") {
    auto h = ready_session();
    REQUIRE(h.server("250 surprise\r\n") ==
            Acts{"failed:451 4.5.0 protocol error: unexpected reply to no command: 250 surprise", "close"});
  }
}

TEST_CASE("client: SIZE") {
  SECTION("a message over the announced limit is refused locally, nothing is sent") {
    auto h = ready_session();
    auto t = txn({"x@b.test", "y@b.test"});
    t.message_size = 1000001;
    REQUIRE(h.start(t) == Acts{"done:552,552", "ready"});
    CHECK(summaries(h.result())[0] == "552 5.3.4 message size 1000001 exceeds the server's limit of 1000000");
    CHECK(h.c.phase() == ClientPhase::idle);
    t.message_size = 1000000;
    REQUIRE(h.start(t).at(0).rfind("write:MAIL FROM:<sender@a.test> SIZE=1000000\r\n", 0) == 0);
  }
  SECTION("SIZE without a limit: SIZE= sent, no local check") {
    auto h = ready_session("250-mx\r\n250-PIPELINING\r\n250 SIZE\r\n");
    auto t = txn({"x@b.test"});
    t.message_size = 99999999;
    REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=99999999\r\nRCPT TO:<x@b.test>\r\nDATA\r\n"});
  }
  SECTION("no SIZE extension: no SIZE= parameter") {
    auto h = ready_session("250-mx\r\n250 PIPELINING\r\n");
    REQUIRE(h.start(txn({"x@b.test"})) == Acts{"write:MAIL FROM:<sender@a.test>\r\nRCPT TO:<x@b.test>\r\nDATA\r\n"});
  }
}

TEST_CASE("client: SMTPUTF8 and 8BITMIME") {
  SECTION("SMTPUTF8 needed and offered, 8-bit body with 8BITMIME offered") {
    auto h = ready_session();
    auto t = txn({"j\xc3\xb6rg@b.test"}, "s\xc3\xa9nder@a.test");
    t.needs_smtputf8 = true;
    t.body_8bit = true;
    REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<s\xc3\xa9nder@a.test> SIZE=24 BODY=8BITMIME SMTPUTF8\r\n"
                               "RCPT TO:<j\xc3\xb6rg@b.test>\r\nDATA\r\n"});
  }
  SECTION("SMTPUTF8 needed, not offered: every recipient gets 550 5.6.7, nothing is sent") {
    auto h = ready_session(kEhloPlain);
    auto t = txn({"j\xc3\xb6rg@b.test", "x@b.test"});
    t.needs_smtputf8 = true;
    REQUIRE(h.start(t) == Acts{"done:550,550", "ready"});
    CHECK(h.result().per_rcpt[1].enhanced == "5.6.7");
    CHECK(h.c.phase() == ClientPhase::idle);
  }
  SECTION("8-bit body, 8BITMIME not offered: no BODY parameter") {
    auto h = ready_session("250-mx\r\n250 PIPELINING\r\n");
    auto t = txn({"x@b.test"});
    t.body_8bit = true;
    REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<sender@a.test>\r\nRCPT TO:<x@b.test>\r\nDATA\r\n"});
  }
}

TEST_CASE("client: null sender, and addresses that would inject commands") {
  auto h = ready_session();
  REQUIRE(h.start(txn({"x@b.test", "evil@b.test>\r\nRCPT TO:<victim@c.test", ""}, "")) ==
          Acts{"write:MAIL FROM:<> SIZE=24\r\nRCPT TO:<x@b.test>\r\nDATA\r\n"});
  REQUIRE(h.server("250 ok\r\n250 ok\r\n354 go\r\n") == Acts{"body"});
  REQUIRE(h.server("250 ok\r\n") == Acts{"done:250,553,553", "ready"});
  CHECK(h.result().per_rcpt[1].enhanced == "5.1.3");
  REQUIRE(h.start(txn({"x@b.test"}, "a@b\r\nDATA")) == Acts{"done:553", "ready"});
  CHECK(h.result().per_rcpt[0].enhanced == "5.1.7");
  CHECK_THROWS_AS(SmtpClient([] {
                    SmtpClient::Options o;
                    o.ehlo_name = "x\r\nMAIL FROM:<>";
                    return o;
                  }()),
                  std::invalid_argument);
}

TEST_CASE("client: a transaction without recipients, and start() beyond its room") {
  SECTION("without PIPELINING: one at a time") {
    auto h = ready_session(kEhloPlain);
    CHECK(h.c.room() == 1);
    REQUIRE(h.start(txn({})) == Acts{"done:", "ready"});
    h.start(txn({"x@b.test"}));
    CHECK(h.c.room() == 0);
    REQUIRE(h.start(txn({"y@b.test", "z@b.test"})) == Acts{"done:451,451"});
    CHECK(summaries(h.result())[0] == "451 4.3.0 SMTP session not ready");
    // The first transaction is unaffected.
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<x@b.test>\r\n"});
    REQUIRE(h.server("250 ok\r\n") == Acts{"write:DATA\r\n"});
    REQUIRE(h.server("354 go\r\n") == Acts{"body"});
    REQUIRE(h.server("250 ok\r\n") == Acts{"done:250", "ready"});
    CHECK(h.c.room() == 1);
  }
  SECTION("with PIPELINING: three at a time") {
    auto h = ready_session();
    CHECK(h.c.room() == 3);
    REQUIRE(h.start(txn({})) == Acts{"done:", "ready"});
    h.start(txn({"x@b.test"}));
    REQUIRE(h.start(txn({"w@b.test"})).empty());  // held until the body before it goes out
    REQUIRE(h.start(txn({"v@b.test"})).empty());
    CHECK(h.c.room() == 0);
    REQUIRE(h.start(txn({"y@b.test", "z@b.test"})) == Acts{"done:451,451"});
    CHECK(summaries(h.result())[0] == "451 4.3.0 SMTP session not ready");
    REQUIRE(h.server("250 ok\r\n250 ok\r\n354 go\r\n") ==
            Acts{"body", "write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<w@b.test>\r\nDATA\r\n"});
  }
}

TEST_CASE("client: many transactions on one session, one body buffer each") {
  for (bool pipelining : {true, false}) {
    INFO("pipelining " << pipelining);
    auto h = ready_session(pipelining ? kEhloPipelining : kEhloPlain);
    bool rset_due = false;
    for (int i = 0; i < 200; ++i) {
      auto t = txn({"r" + std::to_string(i) + "@b.test"});
      const auto wire = t.wire_data;
      const bool refuse = i % 7 == 3;  // every seventh recipient is refused: RSET next time
      Acts acts = h.start(t);
      std::string sent;
      for (auto& a : acts) sent += a.substr(6);
      REQUIRE(sent.rfind(rset_due ? "RSET\r\n" : "MAIL", 0) == 0);
      if (pipelining) {
        REQUIRE(acts.size() == 1);
        std::string replies = rset_due ? "250 ok\r\n" : "";
        replies += refuse ? "250 ok\r\n550 no\r\n503 no\r\n" : "250 ok\r\n250 ok\r\n354 go\r\n";
        acts = h.server(replies);
      } else {
        if (rset_due) REQUIRE(h.server("250 ok\r\n").at(0).rfind("write:MAIL", 0) == 0);
        REQUIRE(h.server("250 ok\r\n").at(0).rfind("write:RCPT", 0) == 0);
        acts = h.server(refuse ? "550 no\r\n" : "250 ok\r\n");
        if (!refuse) {
          REQUIRE(acts == Acts{"write:DATA\r\n"});
          acts = h.server("354 go\r\n");
        }
      }
      if (refuse) {
        REQUIRE(acts == Acts{"done:550", "ready"});
      } else {
        REQUIRE(acts == Acts{"body"});
        REQUIRE(h.body_written().get() == wire.get());
        REQUIRE(h.server("250 ok\r\n") == Acts{"done:250", "ready"});
      }
      rset_due = refuse;
    }
  }
}

TEST_CASE("client: QUIT") {
  SECTION("when idle: QUIT, any reply, close") {
    auto h = ready_session();
    REQUIRE(h.quit() == Acts{"write:QUIT\r\n"});
    CHECK(h.c.phase() == ClientPhase::quitting);
    CHECK(h.c.timeout() == 30s);
    REQUIRE(h.server("221 2.0.0 bye\r\n") == Acts{"close"});
    CHECK(h.c.phase() == ClientPhase::closed);
    REQUIRE(h.quit().empty());
  }
  SECTION("the peer closes instead of answering") {
    auto h = ready_session();
    h.quit();
    REQUIRE(h.closed("eof") == Acts{"close"});
  }
  SECTION("garbage instead of 221 still closes") {
    auto h = ready_session();
    h.quit();
    REQUIRE(h.server("what\r\n") == Acts{"close"});
  }
  SECTION("during a transaction: QUIT follows it instead of ready") {
    auto h = ready_session();
    h.start(txn({"x@b.test"}));
    REQUIRE(h.quit().empty());
    h.server("250 ok\r\n250 ok\r\n354 go\r\n");
    REQUIRE(h.server("250 ok\r\n") == Acts{"done:250", "write:QUIT\r\n"});
    REQUIRE(h.server("221 bye\r\n") == Acts{"close"});
  }
  SECTION("before the greeting: QUIT once greeted") {
    Harness h;
    h.connect();
    REQUIRE(h.quit().empty());
    h.server("220 mx\r\n");
    REQUIRE(h.server(kEhloPlain) == Acts{"write:QUIT\r\n"});
  }
  SECTION("before connecting: just close") {
    Harness h;
    REQUIRE(h.quit() == Acts{"close"});
  }
}

TEST_CASE("client: a header prefix goes out right before the shared body, in the same DATA") {
  auto h = ready_session(kEhloPlain);
  auto t = txn({"one@b.test"});
  t.header_prefix = "X-Volley-ID: abc-0\r\n";
  REQUIRE(h.start(t) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\n"});
  REQUIRE(h.server("250 ok\r\n") == Acts{"write:RCPT TO:<one@b.test>\r\n"});
  REQUIRE(h.server("250 ok\r\n") == Acts{"write:DATA\r\n"});
  REQUIRE(h.server("354 go\r\n") == Acts{"write:X-Volley-ID: abc-0\r\n", "body"});
  CHECK(h.body_written().get() == t.wire_data.get());
  REQUIRE(h.server("250 queued\r\n") == Acts{"done:250", "ready"});
  CHECK_FALSE(h.result().mail_refused);
}
