#pragma once
// A scripted-dialogue harness for the SMTP client (core/smtp/client.hpp), shared by its tests:
// every byte the client writes and every action it asks for, in a form a test compares whole.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/smtp/client.hpp"
#include "core/smtp/wire.hpp"

namespace volley::smtp::test {

using Acts = std::vector<std::string>;
using namespace std::chrono_literals;

inline const std::string kEhloPipelining =
    "250-mx.test greets client.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n";
inline const std::string kEhloPlain = "250-mx.test\r\n250-SIZE\r\n250 8BITMIME\r\n";

// Actions in a form a test can compare whole: "write:<bytes>", "body" (the shared payload
// whole), "part:<bytes>" (a part of it, for BDAT), "ready", "done:<code>,<code>...",
// "failed:<summary>", "close".
inline std::string describe(const ClientAction& a) {
  struct V {
    std::string operator()(const WriteBytes& w) const {
      if (!w.shared) return "write:" + w.text;
      if (w.offset == 0 && w.length == std::string::npos) return "body";
      return "part:" + std::string(w.bytes());
    }
    std::string operator()(const SessionReady&) const { return "ready"; }
    std::string operator()(const TransactionDone& d) const {
      std::string s = "done:";
      for (std::size_t i = 0; i < d.result.per_rcpt.size(); ++i)
        s += (i ? "," : "") + std::to_string(d.result.per_rcpt[i].code);
      return s;
    }
    std::string operator()(const SessionFailed& f) const { return "failed:" + f.reply.summary(); }
    std::string operator()(const CloseConnection&) const { return "close"; }
    std::string operator()(const StartTls&) const { return "starttls"; }
  };
  return std::visit(V{}, a);
}

struct Harness {
  SmtpClient c;
  std::vector<ClientAction> last;  // the actions of the latest step, as returned

  explicit Harness(SmtpClient::Options o = options()) : c(std::move(o)) {}

  // DATA even where CHUNKING is offered (kEhloPipelining offers it): the tests of BDAT
  // (client_chunking_test.cpp) turn it on.
  static SmtpClient::Options options() {
    SmtpClient::Options o;
    o.ehlo_name = "client.test";
    o.use_chunking = false;
    return o;
  }

  Acts take() {
    last = c.take_actions();
    Acts out;
    for (const auto& a : last) out.push_back(describe(a));
    return out;
  }
  Acts connect() {
    c.on_connected();
    return take();
  }
  Acts server(std::string_view bytes) {
    c.on_bytes(bytes);
    return take();
  }
  Acts start(Transaction t) {
    c.start(std::move(t));
    return take();
  }
  Acts timeout() {
    c.on_timeout();
    return take();
  }
  Acts closed(std::string why) {
    c.on_closed(std::move(why));
    return take();
  }
  Acts quit() {
    c.quit();
    return take();
  }

  // The result of the TransactionDone among the latest actions.
  TransactionResult result() const {
    for (const auto& a : last)
      if (auto* d = std::get_if<TransactionDone>(&a)) return d->result;
    FAIL("no TransactionDone");
    return {};
  }
  // The shared DATA payload written among the latest actions (a write holds text or it, not both).
  std::shared_ptr<const std::string> body_written() const {
    for (const auto& a : last) {
      if (auto* w = std::get_if<WriteBytes>(&a); w && w->shared) {
        REQUIRE(w->text.empty());
        return w->shared;
      }
    }
    return nullptr;
  }
};

// A session greeted and past EHLO with the given EHLO reply.
inline Harness ready_session(const std::string& ehlo = kEhloPipelining, SmtpClient::Options o = Harness::options()) {
  Harness h(std::move(o));
  REQUIRE(h.connect().empty());
  REQUIRE(h.server("220 mx.test ESMTP\r\n") == Acts{"write:EHLO client.test\r\n"});
  REQUIRE(h.server(ehlo) == Acts{"ready"});
  REQUIRE(h.c.phase() == ClientPhase::idle);
  return h;
}

inline std::shared_ptr<const std::string> body(std::string_view m = "Subject: hi\r\n\r\nhello\r\n") {
  return std::make_shared<const std::string>(to_wire_data(m));
}

inline Transaction txn(std::vector<std::string> rcpts, std::string from = "sender@a.test") {
  Transaction t;
  t.mail_from = std::move(from);
  t.rcpts = std::move(rcpts);
  t.wire_data = body();
  t.message_size = 24;
  return t;
}

inline std::vector<std::string> summaries(const TransactionResult& r) {
  std::vector<std::string> out;
  for (const auto& x : r.per_rcpt) out.push_back(x.summary());
  return out;
}


}  // namespace volley::smtp::test
