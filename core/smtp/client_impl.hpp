#pragma once
// The SMTP client's state (core/smtp/client.hpp), shared by its two halves: client.cpp (the
// session: greeting, EHLO, STARTTLS, replies, QUIT, failure) and client_transaction.cpp (the
// transactions: MAIL, RCPT, DATA, pipelining across transactions). Private to them.
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/smtp/client.hpp"

namespace volley::smtp {

namespace client_detail {

// The reply the client awaits: one per command sent (and the greeting), in order. With
// PIPELINING several are outstanding at once and replies are matched to them in order.
enum class Await { greeting, ehlo, helo, starttls, rset, mail, rcpt, data, data_end, quit };

struct Expected {
  Await what;
  std::size_t rcpt = 0;  // Await::rcpt: index into Transaction::rcpts
  bool ignore = false;   // Await::data_end after a lone "." that ended a DATA with no recipient
};

// What a non-pipelined transaction sends next, once the reply to the last command is in.
enum class Step { rset, mail, rcpt, data, finish };

// The replies that belong to a transaction (InFlight::replies_due counts them).
inline bool is_transaction_reply(Await a) {
  return a == Await::rset || a == Await::mail || a == Await::rcpt || a == Await::data || a == Await::data_end;
}

// Transactions a pipelining session holds at once (SmtpClient::room).
inline constexpr std::size_t kPipelineDepth = 3;

const char* stage_name(Await a);

// The stage a reply to `a` belongs to (RSET and QUIT are housekeeping, not stages).
Stage stage_of(Await a);

// A reply Volley makes up for what happened while awaiting a reply at `stage`.
Reply synthetic_at(Stage stage, int code, std::string enhanced, std::string text);

// A path or EHLO name must not smuggle a line end (command injection), other control
// characters or angle brackets into a command line.
bool safe_in_command(std::string_view s);

// EHLO reply lines after the first: "KEYWORD [params]" (RFC 5321 §4.1.1.1).
Capabilities parse_ehlo(const Reply& r);

}  // namespace client_detail

using namespace client_detail;

struct SmtpClient::Impl {
  Options opts;
  ClientPhase phase = ClientPhase::connecting;
  Capabilities caps;
  std::string greeting;
  ReplyParser parser;
  std::deque<Expected> expected;
  std::vector<ClientAction> actions;
  bool rset_needed = false;     // the server may hold state of an aborted transaction
  bool quit_requested = false;  // quit() came while busy: QUIT instead of the next SessionReady
  bool tls = false;             // the handshake after STARTTLS succeeded

  // A transaction given to the server (phase == in_transaction).
  struct InFlight {
    Transaction txn;
    std::vector<std::optional<Reply>> results;  // decided replies, per recipient
    bool pipelined = false;
    Step next = Step::finish;
    std::size_t next_rcpt = 0;
    bool mail_refused = false;
    std::size_t accepted = 0;   // RCPTs the server took
    bool aborted = false;       // ended without DATA completing: RSET before the next MAIL
    bool body_sent = false;     // its content is written: the next transaction's group may follow
    bool chunked = false;       // BDAT: the content went with the commands (RFC 3030)
    std::size_t replies_due = 0;  // its entries in `expected`
  };
  // The transaction whose replies come first; the one whose commands went out behind its body
  // (RFC 2920: message content may start a group), whose replies follow; those given by start()
  // and not yet sent. Replies to txn all come before next's, so the handlers below see txn.
  std::optional<InFlight> txn;
  std::optional<InFlight> next;
  std::deque<Transaction> queued;

  explicit Impl(Options o) : opts(std::move(o)) {
    if (opts.ehlo_name.empty() || !safe_in_command(opts.ehlo_name) ||
        opts.ehlo_name.find(' ') != std::string::npos)
      throw std::invalid_argument("SmtpClient: invalid EHLO name \"" + opts.ehlo_name + '"');
  }

  // ---- output ----

  // Constructed in place: besides saving a move, this avoids GCC 12's false -Wmaybe-uninitialized
  // on moving a temporary variant at -O2.
  template <class Action, class... Args>
  void emit(Args&&... args) {
    actions.emplace_back(std::in_place_type<Action>, std::forward<Args>(args)...);
  }

  void write(std::string text) { write(WriteBytes{std::move(text), nullptr}); }
  void write(WriteBytes w) {
    emit<WriteBytes>(std::move(w));
  }
  void send(std::string command, Expected e) {
    write(std::move(command));
    expected.push_back(e);
  }
  void expect(InFlight& t, Expected e) {
    expected.push_back(e);
    ++t.replies_due;
  }
  void send(InFlight& t, std::string command, Expected e) {
    write(std::move(command));
    expect(t, e);
  }

  // ---- inputs ----

  void connected();
  void bytes(std::string_view data);
  void timed_out();
  void lost(const std::string& reason);

  // ---- replies ----

  void on_reply(Reply r);
  void on_greeting(Reply r);
  void on_ehlo(Reply r);
  void on_helo(Reply r);
  void hello_done();
  void on_starttls(Reply r);
  void tls_established();
  void tls_failed(const std::string& reason);
  static Reply tls_required(const std::string& why);
  void on_rset(Reply r);
  void on_mail(Reply r);
  void on_rcpt(std::size_t i, Reply r);
  void on_data(Reply r);
  void on_data_end(bool ignore, Reply r);
  void premature(Reply r);

  // ---- transactions ----

  std::size_t capacity() const;
  std::size_t in_hand() const;
  std::size_t room() const;
  void start(Transaction t);
  InFlight prepare(Transaction t) const;
  std::optional<Reply> refused_whole(const Transaction& tx) const;
  static bool sendable_rcpt(const std::string& rcpt);
  bool any_sendable(const Transaction& tx) const;
  void begin(InFlight& cur);
  std::string envelope_group(InFlight& cur, bool rset);
  void send_group(InFlight& cur, bool rset);
  void pipeline_next();
  std::string mail_command(const Transaction& tx) const;
  static std::string rcpt_command(const Transaction& tx, std::size_t i);
  void advance();
  static void decide_undecided(InFlight& t, const Reply& r);
  void decide_undecided(const Reply& r);
  static TransactionResult result_of(InFlight& t);
  void finish_transaction();

  // ---- session ----

  void ready();
  void quit();
  void refuse(Reply r);
  void fail(Reply r);
  void close();
  static Reply unexpected(const char* to, const Reply& r);
  std::optional<std::chrono::seconds> timeout() const;
};

}  // namespace volley::smtp
