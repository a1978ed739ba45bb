// The SMTP server state machine fed client dialogues: every byte it writes and every request it
// surfaces is checked, in order, and a dialogue split anywhere gives the same result.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/smtp/server.hpp"

using namespace volley::smtp;

namespace {

SmtpServer::Options options() {
  SmtpServer::Options o;
  o.hostname = "mx.test";
  o.banner = "ESMTP test";
  return o;
}

// The session as a test sees it: everything written, and the events as short strings
// ("mail:<path>", "rcpt:<path>", "message:<from>|<rcpt,rcpt>|<content>", "refused:<cmd> <code>",
// "starttls:<discarded>", "hello:<verb> <name>", "data:<rcpt,rcpt>", "hangup"). Requests are answered at once by `policy` (nullopt =
// accept) unless `manual`, in which case the test answers them.
struct Session {
  SmtpServer s;
  std::string out;
  std::vector<std::string> events;
  std::function<std::optional<Reply>(const std::string& event)> policy = [](const std::string&) {
    return std::optional<Reply>{};
  };
  bool manual = false;

  explicit Session(SmtpServer::Options o = options(), bool start = true) : s(std::move(o)) {
    if (start) {
      s.start();
      pump();
    }
  }

  void pump() {
    for (auto actions = s.take_actions(); !actions.empty(); actions = s.take_actions()) {
      for (auto& a : actions) {
        std::string ev;
        bool request = false;
        if (auto* w = std::get_if<Send>(&a)) {
          out += w->bytes;
          continue;
        } else if (auto* m = std::get_if<MailRequest>(&a)) {
          ev = "mail:" + m->reverse_path;
          request = true;
        } else if (auto* r = std::get_if<RcptRequest>(&a)) {
          ev = "rcpt:" + r->forward_path;
          request = true;
        } else if (auto* msg = std::get_if<MessageRequest>(&a)) {
          ev = "message:" + msg->reverse_path + "|";
          for (std::size_t i = 0; i < msg->recipients.size(); ++i) ev += (i ? "," : "") + msg->recipients[i];
          if (msg->chunked) ev += "|bdat";
          ev += "|" + msg->content;
          request = true;
        } else if (auto* f = std::get_if<Refused>(&a)) {
          ev = "refused:" + f->command + " " + std::to_string(f->code);
        } else if (auto* t = std::get_if<StartTls>(&a)) {
          ev = "starttls:" + std::to_string(t->discarded);
        } else if (auto* h = std::get_if<HelloRequest>(&a)) {
          ev = "hello:" + h->verb + " " + h->name;
          request = true;
        } else if (auto* d = std::get_if<DataRequest>(&a)) {
          ev = "data:";
          for (std::size_t i = 0; i < d->recipients.size(); ++i) ev += (i ? "," : "") + d->recipients[i];
          request = true;
        } else {
          ev = "hangup";
        }
        events.push_back(ev);
        if (request && !manual) s.answer(policy(ev));
      }
    }
  }

  Session& feed(std::string_view bytes) {
    s.feed(bytes);
    pump();
    return *this;
  }
  // Output written since the last call.
  std::string take() { return std::exchange(out, {}); }
};

const std::string kGreeting = "220 mx.test ESMTP test\r\n";
std::string ehlo_reply(const std::string& size = "10485760") {
  return "250-mx.test\r\n250-PIPELINING\r\n250-SIZE " + size +
         "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n";
}
const std::string kEhloReply = ehlo_reply();

Reply reply(int code, std::string enhanced, std::string text) {
  return Reply::synthetic(code, std::move(enhanced), std::move(text));
}

// A dialogue with a bit of everything: bare LF commands, pipelining, a refused recipient,
// dot-stuffing, a second transaction, RSET, NOOP and QUIT.
const std::string kDialogue =
    "EHLO client.test\r\n"
    "MAIL FROM:<a@x.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<bad@y.test>\r\n"
    "RCPT TO:<c@y.test>\r\nDATA\r\n"
    "Subject: hi\r\n\r\n..dot\r\n.x\r\nline\n.\nend\r\n.\r\n"
    "NOOP\nMAIL FROM:<>\nRCPT TO:<postmaster>\nRSET\r\n"
    "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n.\r\n"
    "QUIT\r\n";

Session run_dialogue(const std::vector<std::string>& pieces) {
  Session s;
  s.policy = [](const std::string& ev) -> std::optional<Reply> {
    if (ev == "rcpt:bad@y.test") return reply(550, "5.1.1", "No such user");
    return std::nullopt;
  };
  for (const auto& p : pieces) s.feed(p);
  return s;
}

}  // namespace

TEST_CASE("server: a whole dialogue, command by command", "[smtp][server]") {
  Session s;
  CHECK(s.take() == kGreeting);
  CHECK(s.s.wants_input());
  s.feed("EHLO client.test\r\n");
  CHECK(s.take() == kEhloReply);
  CHECK(s.s.helo_name() == "client.test");
  s.feed("MAIL FROM:<a@x.test>\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n");
  s.feed("RCPT TO:<b@y.test>\r\n");
  CHECK(s.take() == "250 2.1.5 Recipient OK\r\n");
  s.feed("DATA\r\n");
  CHECK(s.take() == "354 End data with <CR><LF>.<CR><LF>\r\n");
  CHECK(s.s.in_data());
  s.feed("Subject: x\r\n\r\nbody\r\n.\r\n");
  CHECK(s.take() == "250 2.0.0 Message accepted\r\n");
  CHECK_FALSE(s.s.in_data());
  s.feed("QUIT\r\n");
  CHECK(s.take() == "221 2.0.0 mx.test closing connection\r\n");
  CHECK(s.s.closed());
  CHECK(s.events == std::vector<std::string>{"mail:a@x.test", "rcpt:b@y.test",
                                             "message:a@x.test|b@y.test|Subject: x\r\n\r\nbody\r\n", "hangup"});
  s.feed("NOOP\r\n");  // after QUIT nothing is read
  CHECK(s.take().empty());
}

TEST_CASE("server: the EHLO reply follows the options", "[smtp][server]") {
  auto o = options();
  o.pipelining = false;
  o.smtputf8 = false;
  o.starttls = true;
  o.chunking = true;
  o.max_message_size = 1000;
  Session s(o);
  s.take();
  s.feed("EHLO c\r\n");
  CHECK(s.take() ==
        "250-mx.test\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 CHUNKING\r\n");
  s.feed("HELO c\r\n");
  CHECK(s.take() == "250 mx.test\r\n");
}

TEST_CASE("server: a pipelined dialogue is answered in order, and the same when split anywhere",
          "[smtp][server]") {
  const auto whole = run_dialogue({kDialogue});
  const std::string expected_out =
      kGreeting + kEhloReply +
      "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n550 5.1.1 No such user\r\n250 2.1.5 Recipient OK\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n"
      "250 2.0.0 OK\r\n250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.0.0 OK\r\n"
      "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
      "250 2.0.0 Message accepted\r\n221 2.0.0 mx.test closing connection\r\n";
  CHECK(whole.out == expected_out);
  const std::vector<std::string> expected_events{
      "mail:a@x.test", "rcpt:b@y.test", "rcpt:bad@y.test", "rcpt:c@y.test",
      // The dot-stuffed line loses one dot, ".x" its dot; "\n.\n" is content, not the end.
      "message:a@x.test|b@y.test,c@y.test|Subject: hi\r\n\r\n.dot\r\nx\r\nline\n.\nend\r\n",
      "mail:", "rcpt:postmaster", "mail:a@x.test", "rcpt:b@y.test", "message:a@x.test|b@y.test|", "hangup"};
  CHECK(whole.events == expected_events);

  SECTION("byte by byte") {
    std::vector<std::string> bytes;
    for (char c : kDialogue) bytes.emplace_back(1, c);
    const auto s = run_dialogue(bytes);
    CHECK(s.out == expected_out);
    CHECK(s.events == expected_events);
  }
  SECTION("in two pieces, at every split point") {
    for (std::size_t i = 1; i < kDialogue.size(); ++i) {
      const auto s = run_dialogue({kDialogue.substr(0, i), kDialogue.substr(i)});
      INFO("split at " << i);
      REQUIRE(s.out == expected_out);
      REQUIRE(s.events == expected_events);
    }
  }
}

TEST_CASE("server: requests may be answered later, with nothing behind them read meanwhile", "[smtp][server]") {
  Session s;
  s.manual = true;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n");
  CHECK(s.take() == kGreeting + kEhloReply);
  CHECK(s.events == std::vector<std::string>{"mail:a@x.test"});
  CHECK(s.s.awaiting_answer());
  CHECK_FALSE(s.s.wants_input());
  s.s.answer();
  s.pump();
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n");
  CHECK(s.events.back() == "rcpt:b@y.test");
  s.s.answer(reply(451, "4.7.1", "Greylisted"));
  s.pump();
  CHECK(s.take() == "451 4.7.1 Greylisted\r\n");
  s.s.answer();
  s.pump();
  CHECK(s.take() == "250 2.1.5 Recipient OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  CHECK(s.s.wants_input());
  s.feed("x\r\n.\r\nQUIT\r\n");
  CHECK(s.events.back() == "message:a@x.test|c@y.test|x\r\n");
  CHECK(s.take().empty());  // QUIT waits behind the message
  s.s.answer(reply(554, "5.7.1", "Spam"));
  s.pump();
  CHECK(s.take() == "554 5.7.1 Spam\r\n221 2.0.0 mx.test closing connection\r\n");
  s.s.answer();  // nothing outstanding: ignored
  s.pump();
  CHECK(s.take().empty());
}

TEST_CASE("server: asked to, it lets the owner answer HELO, EHLO and the DATA command", "[smtp][server]") {
  auto o = options();
  o.ask_hello = true;
  o.ask_data = true;
  Session s(o);
  s.policy = [](const std::string& ev) -> std::optional<Reply> {
    if (ev == "hello:EHLO bad.name" || ev == "hello:HELO bad.name") return reply(501, "5.0.0", "Invalid domain name");
    if (ev == "data:b@y.test") return reply(554, "5.7.1", "Not from you");
    return std::nullopt;
  };
  CHECK(s.take() == kGreeting);
  s.feed("EHLO bad.name\r\nHELO bad.name\r\nMAIL FROM:<a@x.test>\r\n");
  CHECK(s.take() == "501 5.0.0 Invalid domain name\r\n501 5.0.0 Invalid domain name\r\n"
                    "503 5.5.1 Send HELO/EHLO first\r\n");
  CHECK(s.s.helo_name().empty());
  s.feed("EHLO c\r\n");
  CHECK(s.take() == kEhloReply);
  CHECK(s.s.helo_name() == "c");
  s.feed("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n554 5.7.1 Not from you\r\n");
  CHECK_FALSE(s.s.in_data());
  // The message pipelined behind an accepted DATA waits for the answer, then is read as data.
  s.feed("RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\nx\r\n.\r\n");
  CHECK(s.take() == "250 2.0.0 OK\r\n250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n"
                    "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n");
  CHECK(s.events == std::vector<std::string>{"hello:EHLO bad.name", "hello:HELO bad.name", "refused:MAIL 503",
                                             "hello:EHLO c", "mail:a@x.test", "rcpt:b@y.test", "data:b@y.test",
                                             "mail:a@x.test", "rcpt:c@y.test", "data:c@y.test",
                                             "message:a@x.test|c@y.test|x\r\n"});
}

TEST_CASE("server: MAIL parameters reach the owner with the request and the message", "[smtp][server]") {
  SmtpServer s(options());
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test> size=1234 BODY=8bitmime SMTPUTF8\r\n");
  auto actions = s.take_actions();
  REQUIRE(actions.size() == 3);
  const auto* mail = std::get_if<MailRequest>(&actions[2]);
  REQUIRE(mail);
  CHECK(mail->reverse_path == "a@x.test");
  CHECK(mail->params.size == 1234u);
  CHECK(mail->params.body == BodyType::eight_bit_mime);
  CHECK(mail->params.smtputf8);
  s.answer();
  s.feed("RCPT TO:<b@y.test>\r\n");
  s.answer();
  s.feed("DATA\r\nx\r\n.\r\n");
  actions = s.take_actions();
  REQUIRE(std::holds_alternative<MessageRequest>(actions.back()));
  const auto& msg = std::get<MessageRequest>(actions.back());
  CHECK(msg.params.size == 1234u);
  CHECK(msg.params.body == BodyType::eight_bit_mime);
  CHECK(s.data_bytes() == 6);

  SmtpServer plain(options());
  plain.start();
  plain.feed("EHLO c\r\nMAIL FROM:<> BODY=7BIT\r\n");
  actions = plain.take_actions();
  REQUIRE(std::holds_alternative<MailRequest>(actions.back()));
  CHECK(std::get<MailRequest>(actions.back()).reverse_path.empty());
  CHECK(std::get<MailRequest>(actions.back()).params.body == BodyType::seven_bit);
  CHECK_FALSE(std::get<MailRequest>(actions.back()).params.size);
}

TEST_CASE("server: a refused MAIL makes the pipelined RCPT and DATA 503/554 without counting errors",
          "[smtp][server]") {
  auto o = options();
  o.max_errors = 2;
  Session s(o);
  s.policy = [](const std::string& ev) -> std::optional<Reply> {
    if (ev.rfind("mail:", 0) == 0) return reply(550, "5.7.1", "Go away");
    return std::nullopt;
  };
  s.take();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\nNOOP\r\n");
  CHECK(s.take() == kEhloReply + "550 5.7.1 Go away\r\n503 5.5.1 Need MAIL command\r\n" +
                        "503 5.5.1 Need MAIL command\r\n503 5.5.1 Need MAIL command\r\n250 2.0.0 OK\r\n");
  CHECK_FALSE(s.s.closed());
}

TEST_CASE("server: DATA with no accepted recipient is 554", "[smtp][server]") {
  Session s;
  s.policy = [](const std::string& ev) -> std::optional<Reply> {
    if (ev.rfind("rcpt:", 0) == 0) return reply(550, "5.1.1", "No");
    return std::nullopt;
  };
  s.take();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  CHECK(s.take() == kEhloReply + "250 2.1.0 Sender OK\r\n550 5.1.1 No\r\n554 5.5.1 No valid recipients\r\n");
  CHECK_FALSE(s.s.in_data());
}

TEST_CASE("server: dot-unstuffing and the end marker", "[smtp][server]") {
  auto content_of = [](const std::string& data) {
    Session s;
    s.feed("HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + data);
    return s.events.size() >= 3 ? s.events[2] : std::string("(no message)");
  };
  const std::string p = "message:a@x.test|b@y.test|";
  CHECK(content_of(".\r\n") == p);
  CHECK(content_of("a\r\n.\r\n") == p + "a\r\n");
  CHECK(content_of("..\r\n.\r\n") == p + ".\r\n");
  CHECK(content_of("...x\r\n.\r\n") == p + "..x\r\n");
  CHECK(content_of(".\rx\r\n.\r\n") == p + "\rx\r\n");
  CHECK(content_of("a\r\r\n.\r\n") == p + "a\r\r\n");
  CHECK(content_of("a\r\n.\r\r\n.\r\n") == p + "a\r\n\r\r\n");
  CHECK(content_of("no end\r\n.x") == "(no message)");
  // SMTP smuggling: only CRLF.CRLF ends the data.
  CHECK(content_of("a\n.\nb\r\n.\r\n") == p + "a\n.\nb\r\n");
  CHECK(content_of("a\n.\r\nb\r\n.\r\n") == p + "a\n.\r\nb\r\n");
  CHECK(content_of("a\r.\r\nb\r\n.\r\n") == p + "a\r.\r\nb\r\n");
  CHECK(content_of(std::string("a\0b\r\n.\r\n", 8)) == p + std::string("a\0b\r\n", 5));
}

TEST_CASE("server: the recipient limit", "[smtp][server]") {
  auto o = options();
  o.max_recipients = 2;
  Session s(o);
  s.take();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<1@y.test>\r\nRCPT TO:<2@y.test>\r\nRCPT TO:<3@y.test>\r\n");
  CHECK(s.take() == kEhloReply + "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n" +
                        "452 4.5.3 Too many recipients\r\n");
  CHECK(s.events.back() == "refused:RCPT 452");
}

TEST_CASE("server: the size limit", "[smtp][server]") {
  auto o = options();
  o.max_message_size = 100;
  Session s(o);
  s.take();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test> SIZE=101\r\n");
  CHECK(s.take() == ehlo_reply("100") + "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  s.feed("MAIL FROM:<a@x.test> SIZE=100\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  // Beyond the limit the content is no longer kept, but the DATA is read to its end.
  const std::string line(50, 'x');
  for (int i = 0; i < 1000; ++i) s.feed(line + "\r\n");
  CHECK(s.s.in_data());
  CHECK(s.s.data_bytes() == 52000);
  CHECK(s.take().empty());
  s.feed(".\r\nNOOP\r\n");
  CHECK(s.take() == "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 OK\r\n");
  CHECK(s.events.back() == "refused:DATA 552");
  // The transaction is over.
  s.feed("RCPT TO:<b@y.test>\r\n");
  CHECK(s.take() == "503 5.5.1 Need MAIL command\r\n");
}

TEST_CASE("server: overlong lines are refused without being kept", "[smtp][server]") {
  Session s;
  s.take();
  const std::string huge(1 << 20, 'A');
  s.feed("NOOP " + huge.substr(0, 100));
  s.feed(huge);
  CHECK(s.take() == "500 5.5.6 Line too long\r\n");
  s.feed(huge);
  s.feed(huge + "\r\nNOOP\r\n");
  CHECK(s.take() == "250 2.0.0 OK\r\n");
  // A line of exactly the limit is a line; one more byte is not.
  s.feed("NOOP " + std::string(2048 - 5, 'a') + "\r\n");
  CHECK(s.take() == "250 2.0.0 OK\r\n");
  s.feed("NOOP " + std::string(2048 - 4, 'a') + "\r\n");
  CHECK(s.take() == "500 5.5.6 Line too long\r\n");
}

TEST_CASE("server: too many errors end the session with 421", "[smtp][server]") {
  auto o = options();
  o.max_errors = 3;
  Session s(o);
  s.take();
  s.feed("FOO\r\nMAIL FROM:<a@x.test>\r\nBAR\r\nNOOP\r\n");
  CHECK(s.take() ==
        "500 5.5.2 Command unrecognized\r\n503 5.5.1 Send HELO/EHLO first\r\n"
        "421 4.7.0 mx.test Too many errors, closing connection\r\n");
  CHECK(s.events.back() == "hangup");
  CHECK(s.s.closed());
  CHECK_FALSE(s.s.wants_input());
}

TEST_CASE("server: error replies", "[smtp][server]") {
  auto o = options();
  o.max_errors = 100;
  Session s(o);
  s.take();
  auto says = [&](const std::string& in) {
    s.feed(in + "\r\n");
    return s.take();
  };
  CHECK(says("MAIL FROM:<a@x.test>") == "503 5.5.1 Send HELO/EHLO first\r\n");
  CHECK(says("HELO") == "501 5.5.4 Syntax: HELO hostname\r\n");
  CHECK(says("EHLO c").substr(0, 14) == "250-mx.test\r\n2");
  CHECK(says("RCPT TO:<b@y.test>") == "503 5.5.1 Need MAIL command\r\n");
  CHECK(says("DATA") == "503 5.5.1 Need MAIL command\r\n");
  CHECK(says("EXPN list") == "502 5.5.1 Command not implemented\r\n");
  CHECK(says("STARTTLS") == "502 5.5.1 Command not implemented\r\n");
  CHECK(says("BDAT 10 LAST") == "502 5.5.1 Command not implemented\r\n");
  CHECK(says("VRFY") == "501 5.5.4 Syntax: VRFY address\r\n");
  CHECK(says("VRFY bob") == "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  CHECK(says("MAIL TO:<a@x.test>") == "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  CHECK(says("MAIL FROM:a@x.test") == "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  CHECK(says("MAIL FROM:<a@x.test>X") == "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  CHECK(says("MAIL FROM:<nobody>") == "501 5.1.7 Bad sender address syntax\r\n");
  CHECK(says("MAIL FROM:<a@x.test> FOO=1") == "555 5.5.4 MAIL parameter not recognized or not implemented\r\n");
  CHECK(says("MAIL FROM:<a@x.test> BODY=BINARYMIME") ==
        "555 5.5.4 MAIL parameter not recognized or not implemented\r\n");
  CHECK(says("MAIL FROM:<b\xC3\xA9@x.test>") == "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n");
  CHECK(says("MAIL FROM:<b\xC3@x.test> SMTPUTF8") == "501 5.1.7 Address is not valid UTF-8\r\n");
  CHECK(says("mail from: <@relay.test:a@x.test> smtputf8") == "250 2.1.0 Sender OK\r\n");
  CHECK(s.events.back() == "mail:a@x.test");
  CHECK(says("MAIL FROM:<a@x.test>") == "503 5.5.1 Nested MAIL command\r\n");
  CHECK(says("RCPT TO:<>") == "501 5.1.3 Bad recipient address syntax\r\n");
  CHECK(says("RCPT TO:<b@y.test> NOTIFY=NEVER") == "555 5.5.4 RCPT parameter not recognized or not implemented\r\n");
  CHECK(says("RCPT TO:<\"b c\"@y.test>") == "250 2.1.5 Recipient OK\r\n");
  CHECK(says("RCPT TO:<\xC3\xA9@y.test>") == "250 2.1.5 Recipient OK\r\n");
  CHECK(says("DATA now") == "501 5.5.4 Syntax: DATA\r\n");
  CHECK(says("RSET") == "250 2.0.0 OK\r\n");
  CHECK(says(std::string("NO\0OP", 5)) == "500 5.5.2 Invalid characters in command\r\n");
}

TEST_CASE("server: HELO sessions take no MAIL parameters", "[smtp][server]") {
  Session s;
  s.take();
  s.feed("HELO c\r\nMAIL FROM:<a@x.test> SIZE=10\r\nMAIL FROM:<a@x.test>\r\n");
  CHECK(s.take() == "250 mx.test\r\n555 5.5.4 MAIL parameters need EHLO\r\n250 2.1.0 Sender OK\r\n");
}

TEST_CASE("server: EHLO and RSET end a transaction", "[smtp][server]") {
  Session s;
  s.take();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nEHLO d\r\nRCPT TO:<b@y.test>\r\n");
  CHECK(s.take() == kEhloReply + "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n" + kEhloReply +
                        "503 5.5.1 Need MAIL command\r\n");
  CHECK(s.s.helo_name() == "d");
  s.feed("MAIL FROM:<a@x.test>\r\nRSET\r\nDATA\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n503 5.5.1 Need MAIL command\r\n");
}

TEST_CASE("server: STARTTLS drops what was pipelined behind it and starts over", "[smtp][server]") {
  auto o = options();
  o.starttls = true;
  Session s(o);
  s.take();
  s.feed("EHLO c\r\n");
  CHECK(s.take().find("250 STARTTLS\r\n") != std::string::npos);
  const std::string injected = "MAIL FROM:<evil@x.test>\r\nRCPT TO:<b@y.test>\r\n";
  const std::string starttls = "starttls:" + std::to_string(injected.size());
  s.feed("STARTTLS\r\n" + injected);
  CHECK(s.take() == "220 2.0.0 Ready to start TLS\r\n");
  CHECK(s.events == std::vector<std::string>{starttls});
  CHECK_FALSE(s.s.wants_input());
  s.feed("RCPT TO:<c@y.test>\r\n");  // plaintext fed before the handshake: dropped too
  s.s.on_tls_established();
  CHECK(s.s.tls_active());
  CHECK(s.s.helo_name().empty());
  CHECK(s.s.wants_input());
  s.feed("MAIL FROM:<a@x.test>\r\n");
  CHECK(s.take() == "503 5.5.1 Send HELO/EHLO first\r\n");
  s.feed("EHLO c\r\n");
  CHECK(s.take().find("STARTTLS") == std::string::npos);
  s.feed("STARTTLS\r\n");
  CHECK(s.take() == "503 5.5.1 TLS already active\r\n");
  CHECK(s.events == std::vector<std::string>{starttls, "refused:MAIL 503", "refused:STARTTLS 503"});

  SECTION("split inside the injected command") {
    Session t(o);
    t.feed("EHLO c\r\nSTARTTLS\r\nMAIL FR");
    t.feed("OM:<evil@x.test>\r\n");
    CHECK(t.events == std::vector<std::string>{"starttls:7"});
  }
  SECTION("STARTTLS needs EHLO and no argument") {
    Session t(o);
    t.take();
    t.feed("STARTTLS\r\n");
    CHECK(t.take() == "503 5.5.1 Send EHLO first\r\n");
    t.feed("EHLO c\r\n");
    t.take();
    t.feed("STARTTLS now\r\n");
    CHECK(t.take() == "501 5.5.4 Syntax: STARTTLS\r\n");
  }
}

TEST_CASE("server: greeting refusal, 421 answers and close_session hang up", "[smtp][server]") {
  SECTION("refused greeting") {
    Session s(options(), false);
    s.s.start(reply(421, "4.7.0", "too many connections"));
    s.pump();
    CHECK(s.take() == "421 4.7.0 too many connections\r\n");
    CHECK(s.events == std::vector<std::string>{"hangup"});
  }
  SECTION("input before the greeting waits for it") {
    Session s(options(), false);
    s.feed("EHLO c\r\n");
    CHECK(s.take().empty());
    CHECK_FALSE(s.s.wants_input());
    s.s.start();
    s.pump();
    CHECK(s.take() == kGreeting + kEhloReply);
  }
  SECTION("a 421 answer closes, and nothing behind it is read") {
    Session s;
    s.policy = [](const std::string&) -> std::optional<Reply> { return reply(421, "4.7.0", "rate limited"); };
    s.take();
    s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n");
    CHECK(s.take() == kEhloReply + "421 4.7.0 rate limited\r\n");
    CHECK(s.events == std::vector<std::string>{"mail:a@x.test", "hangup"});
  }
  SECTION("the owner closes: timeout") {
    Session s;
    s.take();
    s.s.close_session(reply(421, "4.4.2", "mx.test timeout"));
    s.pump();
    CHECK(s.take() == "421 4.4.2 mx.test timeout\r\n");
    CHECK(s.s.closed());
  }
  SECTION("owner text cannot inject lines") {
    Session s;
    s.policy = [](const std::string&) -> std::optional<Reply> { return reply(250, "2.1.0", "ok\r\n250 evil"); };
    s.take();
    s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\n");
    CHECK(s.take() == kEhloReply + "250 2.1.0 ok  250 evil\r\n");
  }
}

TEST_CASE("server: BDAT chunks", "[smtp][server]") {
  auto o = options();
  o.chunking = true;
  o.max_message_size = 20;
  Session s(o);
  s.take();
  s.feed("EHLO c\r\nBDAT 5\r\nhello");
  CHECK(s.take().find("503 5.5.1 Need MAIL command\r\n") != std::string::npos);
  s.feed("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 6\r\nhello\nBDAT 3 LAST\r\n.\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.0.0 6 octets received\r\n"
                    "250 2.0.0 Message accepted\r\n");
  CHECK(s.events.back() == "message:a@x.test|b@y.test|bdat|hello\n.\r\n");
  s.feed("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 0 LAST\r\n");
  CHECK(s.events.back() == "message:a@x.test|b@y.test|bdat|");
  s.take();
  s.feed("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 1\r\nxDATA\r\n");
  CHECK(s.take() == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.0.0 1 octets received\r\n"
                    "503 5.5.1 DATA after BDAT\r\n");
  s.feed("BDAT 25\r\n" + std::string(25, 'y') + "BDAT 1 LAST\r\nz");
  CHECK(s.take() == "552 5.3.4 Message size exceeds fixed maximum message size\r\n503 5.5.1 Need MAIL command\r\n");
  s.feed("BDAT x\r\n");
  CHECK(s.take() == "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
}

TEST_CASE("server: hostile input neither crashes nor hangs it", "[smtp][server]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    auto o = options();
    o.chunking = round % 2 == 0;
    o.starttls = round % 3 == 0;
    o.max_message_size = 1000;
    Session s(o);
    // Mostly valid command words in garbage, so deeper states are reached too.
    static const std::vector<std::string> kWords{
        "EHLO c\r\n", "MAIL FROM:<a@x.test>\r\n", "RCPT TO:<b@y.test>\r\n", "DATA\r\n", "BDAT 3\r\n",
        ".\r\n", "\r\n.\r\n", "RSET\r\n", std::string("\0\0\r\n", 4), "\xFF\xFE", "\n", "STARTTLS\r\n"};
    std::string input;
    for (int i = 0; i < 200; ++i) {
      if (rng() % 3 == 0) {
        input += kWords[rng() % kWords.size()];
      } else {
        const auto n = rng() % 50;
        for (std::size_t k = 0; k < n; ++k) input += static_cast<char>(rng() % 256);
      }
    }
    for (std::size_t pos = 0; pos < input.size();) {
      const auto n = std::min<std::size_t>(1 + rng() % 64, input.size() - pos);
      s.feed(std::string_view(input).substr(pos, n));
      pos += n;
      if (s.events.size() && s.events.back().rfind("starttls", 0) == 0) s.s.on_tls_established();
    }
    // Every reply written is whole.
    CHECK((s.out.empty() || s.out.size() >= 2));
    CHECK(s.out.substr(s.out.size() - 2) == "\r\n");
  }
}
