// The SMTP client pipelining across transactions (RFC 2920 §3.1: message content may start a
// group): with three transactions in hand, each body goes out with the next one's MAIL, RCPT
// and DATA, and results come back in the order given, whatever happens to the session.
#include <catch2/catch.hpp>

#include <string>

#include "core/smtp/client.hpp"
#include "tests/unit/smtp/client_harness.hpp"

using namespace volley::smtp;
using namespace volley::smtp::test;

namespace {

// The pipelined commands of txn({rcpt}) on a server that offers SIZE.
std::string envelope(const std::string& rcpt) {
  return "write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<" + rcpt + ">\r\nDATA\r\n";
}

const std::string kAccepted = "250 ok\r\n250 ok\r\n354 go\r\n";  // MAIL, RCPT, DATA

// A session holding three transactions: a's commands sent, b and c waiting.
Harness three_in_hand() {
  auto h = ready_session();
  REQUIRE(h.start(txn({"a@b.test"})) == Acts{envelope("a@b.test")});
  REQUIRE(h.start(txn({"b@b.test"})).empty());
  REQUIRE(h.start(txn({"c@b.test"})).empty());
  CHECK(h.c.room() == 0);
  return h;
}

}  // namespace

TEST_CASE("client: with PIPELINING each message's commands ride with the body before it") {
  auto h = three_in_hand();
  // a's 354: a's body and b's commands, one write.
  REQUIRE(h.server(kAccepted) == Acts{"body", envelope("b@b.test")});
  // a's end-of-data reply and b's envelope replies in one read: a is done and gives a place back,
  // b's body goes with c's commands.
  REQUIRE(h.server("250 queued a\r\n" + kAccepted) == Acts{"done:250", "ready", "body", envelope("c@b.test")});
  CHECK(summaries(h.result()) == std::vector<std::string>{"250 queued a"});
  CHECK(h.c.room() == 1);
  REQUIRE(h.start(txn({"d@b.test"})).empty());  // waits for c's 354
  REQUIRE(h.server("250 queued b\r\n" + kAccepted) == Acts{"done:250", "ready", "body", envelope("d@b.test")});
  // Nothing in hand behind d when its 354 comes: its body goes alone...
  REQUIRE(h.server("250 queued c\r\n" + kAccepted) == Acts{"done:250", "ready", "body"});
  // ...and the next transaction given meanwhile follows the end of data at once.
  REQUIRE(h.start(txn({"e@b.test"})) == Acts{envelope("e@b.test")});
  REQUIRE(h.server("250 queued d\r\n" + kAccepted) == Acts{"done:250", "ready", "body"});
  REQUIRE(h.server("250 queued e\r\n") == Acts{"done:250", "ready"});
  CHECK(h.c.phase() == ClientPhase::idle);
  CHECK(h.c.room() == 3);
}

TEST_CASE("client: a refusal in a pipeline ends only its own transaction") {
  auto h = three_in_hand();
  REQUIRE(h.server(kAccepted) == Acts{"body", envelope("b@b.test")});
  SECTION("a's message refused at the end of data: b goes on") {
    REQUIRE(h.server("554 5.7.1 rejected\r\n" + kAccepted) == Acts{"done:554", "ready", "body", envelope("c@b.test")});
    CHECK(summaries(h.result()) == std::vector<std::string>{"554 5.7.1 rejected"});
  }
  SECTION("b's recipient refused: b ends without DATA, c starts with RSET") {
    REQUIRE(h.server("250 queued a\r\n250 ok\r\n550 5.1.1 no such user\r\n503 5.5.1 no recipients\r\n") ==
            Acts{"done:250", "ready", "done:550", "ready", "write:RSET\r\n" + envelope("c@b.test").substr(6)});
    REQUIRE(h.server("250 reset\r\n" + kAccepted) == Acts{"body"});
    REQUIRE(h.server("250 queued c\r\n") == Acts{"done:250", "ready"});
  }
}

TEST_CASE("client: a session lost mid-pipeline ends every transaction in hand, in order") {
  auto h = three_in_hand();
  REQUIRE(h.server(kAccepted) == Acts{"body", envelope("b@b.test")});
  SECTION("the connection drops") {
    REQUIRE(h.closed("eof") == Acts{"done:451", "done:451", "done:451",
                                    "failed:451 4.4.2 connection lost waiting for end of data reply: eof", "close"});
  }
  SECTION("the server says 421 instead of a's end-of-data reply") {
    REQUIRE(h.server("421 4.3.2 shutting down\r\n") ==
            Acts{"done:421", "done:421", "done:421", "failed:421 4.3.2 shutting down", "close"});
  }
  SECTION("no reply in time") {
    CHECK(h.c.timeout() == 600s);  // a's end of data
    REQUIRE(h.timeout() == Acts{"done:451", "done:451", "done:451",
                                "failed:451 4.4.2 timeout waiting for end of data reply", "close"});
  }
}

TEST_CASE("client: QUIT asked with a pipeline in hand follows its last transaction") {
  auto h = ready_session();
  h.start(txn({"a@b.test"}));
  h.start(txn({"b@b.test"}));
  REQUIRE(h.quit().empty());
  CHECK(h.c.room() == 0);
  REQUIRE(h.server(kAccepted) == Acts{"body", envelope("b@b.test")});
  REQUIRE(h.server("250 queued a\r\n" + kAccepted) == Acts{"done:250", "body"});  // no place offered
  REQUIRE(h.server("250 queued b\r\n") == Acts{"done:250", "write:QUIT\r\n"});
  REQUIRE(h.server("221 bye\r\n") == Acts{"close"});
}

TEST_CASE("client: a transaction decided without the server keeps its turn in a pipeline") {
  auto h = ready_session();
  h.start(txn({"a@b.test"}));
  REQUIRE(h.start(txn({"bad\r\nRSET@b.test"})).empty());
  REQUIRE(h.start(txn({"c@b.test"})).empty());
  // The invalid one cannot ride behind a's body, nor may c overtake it.
  REQUIRE(h.server(kAccepted) == Acts{"body"});
  REQUIRE(h.server("250 queued a\r\n") == Acts{"done:250", "ready", "done:553", "ready", envelope("c@b.test")});
  CHECK(summaries(h.result()) == std::vector<std::string>{"250 queued a"});
  REQUIRE(h.server("250 ok\r\n250 ok\r\n354 go\r\n") == Acts{"body"});
  REQUIRE(h.server("250 queued c\r\n") == Acts{"done:250", "ready"});
}

TEST_CASE("client: without PIPELINING nothing is held behind a transaction") {
  auto h = ready_session(kEhloPlain);
  REQUIRE(h.start(txn({"a@b.test"})) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\n"});
  CHECK(h.c.room() == 0);
  REQUIRE(h.start(txn({"b@b.test"})) == Acts{"done:451"});
}
