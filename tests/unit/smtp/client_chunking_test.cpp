// The SMTP client with CHUNKING (RFC 3030) and PIPELINING: each transaction is MAIL, RCPT,
// BDAT <size> LAST and the message in one write, and one read of replies; a transaction behind
// another starts with RSET, and any refusal puts an RSET before the next MAIL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/smtp/client.hpp"
#include "tests/unit/smtp/client_harness.hpp"

using namespace volley::smtp;
using namespace volley::smtp::test;

namespace {

const std::string kMessage = "Subject: hi\r\n\r\nhello\r\n";  // the harness's body(), 22 bytes

SmtpClient::Options chunking() {
  auto o = Harness::options();
  o.use_chunking = true;
  return o;
}

// The commands of txn({rcpt}) on a server that offers SIZE, then the message as a part of the
// shared payload.
Acts group(const std::string& rcpt, bool rset = false) {
  return Acts{"write:" + std::string(rset ? "RSET\r\n" : "") + "MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<" +
                  rcpt + ">\r\nBDAT 22 LAST\r\n",
              "part:" + kMessage};
}

const std::string kTaken = "250 ok\r\n250 ok\r\n250 queued\r\n";  // MAIL, RCPT, BDAT

}  // namespace

TEST_CASE("chunking: envelope, BDAT and the message in one write, one read of replies") {
  auto h = ready_session(kEhloPipelining, chunking());
  REQUIRE(h.start(txn({"a@b.test"})) == group("a@b.test"));
  REQUIRE(h.server(kTaken) == Acts{"done:250", "ready"});
  CHECK(summaries(h.result()) == std::vector<std::string>{"250 queued"});
  CHECK(h.result().per_rcpt[0].stage == Stage::end_of_data);
  CHECK(h.c.phase() == ClientPhase::idle);
  // The next message needs no RSET: the server's transaction ended with BDAT LAST's 250.
  REQUIRE(h.start(txn({"b@b.test"})) == group("b@b.test"));
}

TEST_CASE("chunking: the header prefix goes first in the chunk, counted in its size") {
  auto h = ready_session(kEhloPipelining, chunking());
  auto t = txn({"a@b.test"});
  t.header_prefix = "X-Volley-ID: m1\r\n";  // 17 bytes
  REQUIRE(h.start(std::move(t)) ==
          Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<a@b.test>\r\nBDAT 39 LAST\r\nX-Volley-ID: m1\r\n",
               "part:" + kMessage});
}

TEST_CASE("chunking: lines starting with a dot go as they are, without DATA's stuffing") {
  auto h = ready_session(kEhloPipelining, chunking());
  auto t = txn({"a@b.test"});
  const std::string message = ".top\r\n\r\nsome\r\n..two\r\n.\r\n";
  t.wire_data = body(message);
  // The payload holds "..top", "...two" and "..": the chunk is written in three parts of it,
  // each starting past a stuffed dot, and together they are the message.
  REQUIRE(h.start(std::move(t)) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<a@b.test>\r\nBDAT " +
                                            std::to_string(message.size()) + " LAST\r\n",
                                        "part:.top\r\n\r\nsome\r\n", "part:..two\r\n", "part:.\r\n"});
  REQUIRE(h.server(kTaken) == Acts{"done:250", "ready"});
}

TEST_CASE("chunking: with PIPELINING the next transaction goes at once, after RSET") {
  auto h = ready_session(kEhloPipelining, chunking());
  REQUIRE(h.start(txn({"a@b.test"})) == group("a@b.test"));
  REQUIRE(h.start(txn({"b@b.test"})) == group("b@b.test", true));
  REQUIRE(h.start(txn({"c@b.test"})).empty());  // a third waits for a place among the sent
  CHECK(h.c.room() == 0);
  // a's replies: a done, c goes (after RSET) behind b.
  REQUIRE(h.server(kTaken) == Acts{"done:250", "ready", group("c@b.test", true)[0], group("c@b.test", true)[1]});
  // b's and c's replies in one read.
  REQUIRE(h.server("250 reset\r\n" + kTaken + "250 reset\r\n" + kTaken) ==
          Acts{"done:250", "ready", "done:250", "ready"});
  CHECK(h.c.phase() == ClientPhase::idle);
  CHECK(h.c.room() == 3);
}

TEST_CASE("chunking: replies to two transactions in one read, the third sent between them") {
  auto h = ready_session(kEhloPipelining, chunking());
  REQUIRE(h.start(txn({"a@b.test"})) == group("a@b.test"));
  REQUIRE(h.start(txn({"b@b.test"})) == group("b@b.test", true));
  REQUIRE(h.start(txn({"c@b.test"})).empty());
  // a's end makes room for c, whose commands go out at once; b's replies after a's in the same
  // read still answer b's commands, sent before them: not a reply ahead of its command.
  const auto c = group("c@b.test", true);
  REQUIRE(h.server(kTaken + "250 reset\r\n" + kTaken) == Acts{"done:250", "ready", c[0], c[1], "done:250", "ready"});
  // One reply more than was asked for, in the same read as c's: c's group was not sent when
  // the server wrote it.
  const auto acts = h.server("250 reset\r\n" + kTaken + "250 extra\r\n");
  CHECK(acts.front() == "done:250");
  CHECK(acts.back() == "close");
}

TEST_CASE("chunking: refusals decide their recipients and put RSET before the next MAIL") {
  auto h = ready_session(kEhloPipelining, chunking());
  auto t = txn({"a@b.test", "x@b.test"});
  REQUIRE(h.start(std::move(t)) ==
          Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<a@b.test>\r\nRCPT TO:<x@b.test>\r\nBDAT 22 LAST\r\n",
               "part:" + kMessage});
  SECTION("every RCPT refused: the chunk's refusal says nothing about them") {
    REQUIRE(h.server("250 ok\r\n550 5.1.1 no a\r\n550 5.1.1 no x\r\n554 5.5.1 no valid recipients\r\n") ==
            Acts{"done:550,550", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"550 5.1.1 no a", "550 5.1.1 no x"});
  }
  SECTION("MAIL refused: every recipient has its reply") {
    REQUIRE(h.server("550 5.7.1 sender refused\r\n503 5.5.1 no MAIL\r\n503 5.5.1 no MAIL\r\n503 5.5.1 no MAIL\r\n") ==
            Acts{"done:550,550", "ready"});
    CHECK(h.result().mail_refused);
    CHECK(summaries(h.result()) ==
          std::vector<std::string>{"550 5.7.1 sender refused", "550 5.7.1 sender refused"});
  }
  SECTION("the chunk refused: its reply for the recipients taken, a refused RCPT keeps its own") {
    REQUIRE(h.server("250 ok\r\n250 ok\r\n550 5.1.1 no x\r\n452 4.3.1 try later\r\n") == Acts{"done:452,550", "ready"});
    CHECK(summaries(h.result()) == std::vector<std::string>{"452 4.3.1 try later", "550 5.1.1 no x"});
  }
  SECTION("one RCPT refused, the chunk taken for the other: the transaction ended, no RSET") {
    REQUIRE(h.server("250 ok\r\n250 ok\r\n550 5.1.1 no x\r\n250 queued\r\n") == Acts{"done:250,550", "ready"});
    REQUIRE(h.start(txn({"b@b.test"})) == group("b@b.test"));
    return;
  }
  REQUIRE(h.start(txn({"b@b.test"})) == group("b@b.test", true));
}

TEST_CASE("chunking: a 3xx to BDAT is a protocol error that ends the session") {
  auto h = ready_session(kEhloPipelining, chunking());
  REQUIRE(h.start(txn({"a@b.test"})) == group("a@b.test"));
  const auto acts = h.server("250 ok\r\n250 ok\r\n354 go on\r\n");
  REQUIRE(acts.size() >= 2);
  CHECK(acts[0] == "done:451");
  CHECK(std::find(acts.begin(), acts.end(), "close") != acts.end());
}

TEST_CASE("chunking: DATA where CHUNKING comes without PIPELINING, or is turned off") {
  SECTION("no PIPELINING") {
    auto h = ready_session("250-mx.test\r\n250-SIZE\r\n250 CHUNKING\r\n", chunking());
    REQUIRE(h.start(txn({"a@b.test"})) == Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\n"});
  }
  SECTION("turned off") {
    auto h = ready_session(kEhloPipelining);  // the harness's options: use_chunking false
    REQUIRE(h.start(txn({"a@b.test"})) ==
            Acts{"write:MAIL FROM:<sender@a.test> SIZE=24\r\nRCPT TO:<a@b.test>\r\nDATA\r\n"});
  }
}

TEST_CASE("chunking: the dialogue split at every byte gives the same outcome") {
  const std::string replies = kTaken;
  for (std::size_t cut = 1; cut < replies.size(); ++cut) {
    auto h = ready_session(kEhloPipelining, chunking());
    REQUIRE(h.start(txn({"a@b.test"})) == group("a@b.test"));
    Acts all = h.server(replies.substr(0, cut));
    const Acts rest = h.server(replies.substr(cut));
    all.insert(all.end(), rest.begin(), rest.end());
    INFO("cut at " << cut);
    CHECK(all == Acts{"done:250", "ready"});
  }
}
