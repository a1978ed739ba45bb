#include "core/smtp/client.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <stdexcept>
#include <utility>

namespace volley::smtp {

namespace {

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
bool is_transaction_reply(Await a) {
  return a == Await::rset || a == Await::mail || a == Await::rcpt || a == Await::data || a == Await::data_end;
}

// Transactions a pipelining session holds at once (SmtpClient::room).
constexpr std::size_t kPipelineDepth = 3;

const char* stage_name(Await a) {
  switch (a) {
    case Await::greeting: return "greeting";
    case Await::ehlo: return "EHLO";
    case Await::helo: return "HELO";
    case Await::starttls: return "STARTTLS";
    case Await::rset: return "RSET";
    case Await::mail: return "MAIL";
    case Await::rcpt: return "RCPT";
    case Await::data: return "DATA";
    case Await::data_end: return "end of data";
    case Await::quit: return "QUIT";
  }
  return "?";
}

// The stage a reply to `a` belongs to (RSET and QUIT are housekeeping, not stages).
Stage stage_of(Await a) {
  switch (a) {
    case Await::greeting: return Stage::greeting;
    case Await::ehlo:
    case Await::helo:
    case Await::starttls: return Stage::ehlo;  // setting the session up, as EHLO does
    case Await::mail: return Stage::mail;
    case Await::rcpt: return Stage::rcpt;
    case Await::data: return Stage::data;
    case Await::data_end: return Stage::end_of_data;
    case Await::rset:
    case Await::quit: break;
  }
  return Stage::none;
}

// A reply Volley makes up for what happened while awaiting a reply at `stage`.
Reply synthetic_at(Stage stage, int code, std::string enhanced, std::string text) {
  Reply r = Reply::synthetic(code, std::move(enhanced), std::move(text));
  r.stage = stage;
  return r;
}

// A path or EHLO name must not smuggle a line end (command injection), other control
// characters or angle brackets into a command line.
bool safe_in_command(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F || c == '<' || c == '>';
  });
}


// EHLO reply lines after the first: "KEYWORD [params]" (RFC 5321 §4.1.1.1).
Capabilities parse_ehlo(const Reply& r) {
  Capabilities caps;
  caps.esmtp = true;
  for (std::size_t i = 1; i < r.lines.size(); ++i) {
    std::string_view line = r.lines[i];
    const auto sp = line.find(' ');
    const auto keyword = line.substr(0, sp);
    const auto param = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    if (util::ascii_iequals(keyword, "PIPELINING")) {
      caps.pipelining = true;
    } else if (util::ascii_iequals(keyword, "8BITMIME")) {
      caps.eightbitmime = true;
    } else if (util::ascii_iequals(keyword, "SMTPUTF8")) {
      caps.smtputf8 = true;
    } else if (util::ascii_iequals(keyword, "STARTTLS")) {
      caps.starttls = true;
    } else if (util::ascii_iequals(keyword, "CHUNKING")) {
      caps.chunking = true;
    } else if (util::ascii_iequals(keyword, "SIZE")) {
      caps.size = true;
      // "SIZE" alone, "SIZE 0" or an unreadable number: no limit announced (RFC 1870 §4).
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(param.data(), param.data() + param.size(), n);
      caps.size_limit = ec == std::errc{} && end == param.data() + param.size() ? n : 0;
    }
  }
  return caps;
}

}  // namespace

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
  std::size_t writes = 0;       // WriteBytes emitted so far
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
    ++writes;
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

  void connected() {
    switch (phase) {
      case ClientPhase::connecting:
        phase = ClientPhase::greeting;
        expected.push_back({Await::greeting});
        break;
      default:
        break;  // a duplicate event changes nothing
    }
  }

  void bytes(std::string_view data) {
    switch (phase) {
      case ClientPhase::closed:
        return;  // whatever follows a failure or QUIT is of no interest
      case ClientPhase::tls_handshake:
        // Clear text while TLS is being set up: the driver read the socket it must not read.
        fail(synthetic_at(Stage::ehlo, 451, "4.5.0", "protocol error: data received during the TLS handshake"));
        return;
      case ClientPhase::connecting:
        connected();  // the driver read before reporting the connection: same thing
        break;
      default:
        break;
    }
    parser.feed(data);
    // Replies completed before a parse error are still handled, in order.
    bool wrote = false;
    while (phase != ClientPhase::closed) {
      auto r = parser.next();
      if (!r) break;
      if (wrote) {
        // The previous reply made us send a command, yet this reply was already here: the
        // server answered what it had not received (or sent two replies to one command).
        premature(std::move(*r));
        break;
      }
      const auto before = writes;
      on_reply(std::move(*r));
      wrote = writes != before;
      if (phase == ClientPhase::tls_handshake) {
        // Anything after the 220 in the same read came before the TLS handshake, from whoever can
        // write to the connection: taking it for a reply under TLS is the STARTTLS command
        // injection hole (CVE-2011-0411). The session is not to be trusted.
        if (parser.buffered() != 0 || parser.failed() || parser.next()) {
          fail(synthetic_at(Stage::ehlo, 451, "4.5.0",
                            "protocol error: data received after the STARTTLS reply, before the TLS handshake"));
        } else {
          emit<StartTls>();
        }
        return;
      }
    }
    if (phase != ClientPhase::closed && parser.failed()) {
      if (phase == ClientPhase::quitting) {
        close();
      } else {
        fail(Reply::synthetic(451, "4.5.0", "protocol error: " + parser.error()));
      }
    }
  }

  void timed_out() {
    switch (phase) {
      case ClientPhase::closed:
        return;
      case ClientPhase::connecting:
        fail(Reply::synthetic(451, "4.4.1", "timeout connecting"));
        return;
      case ClientPhase::quitting:
        close();
        return;
      case ClientPhase::tls_handshake:
        tls_failed("timed out");
        return;
      default:
        break;
    }
    if (expected.empty()) return;  // idle: no timeout was armed, a stale timer fired
    const Await what = expected.front().what;
    fail(synthetic_at(stage_of(what), 451, "4.4.2", std::string("timeout waiting for ") + stage_name(what) + " reply"));
  }

  void lost(const std::string& reason) {
    switch (phase) {
      case ClientPhase::closed:
        return;
      case ClientPhase::connecting:
        fail(Reply::synthetic(451, "4.4.1", "connection failed: " + reason));
        return;
      case ClientPhase::quitting:
        close();  // the peer closing after QUIT is the expected end
        return;
      case ClientPhase::tls_handshake:
        tls_failed("connection lost: " + reason);
        return;
      default:
        break;
    }
    std::string where = expected.empty() ? std::string("while idle")
                                         : std::string("waiting for ") + stage_name(expected.front().what) + " reply";
    const Stage stage = expected.empty() ? Stage::none : stage_of(expected.front().what);
    fail(synthetic_at(stage, 451, "4.4.2", "connection lost " + where + ": " + reason));
  }

  // ---- replies ----

  void on_reply(Reply r) {
    if (expected.empty()) {
      // Nothing was asked. A 421 is the server announcing shutdown (RFC 5321 §3.8); anything
      // else is a broken peer.
      fail(r.code == 421 ? std::move(r) : unexpected("no command", r));
      return;
    }
    const Expected e = expected.front();
    expected.pop_front();
    if (txn && txn->replies_due > 0 && is_transaction_reply(e.what)) --txn->replies_due;
    r.stage = stage_of(e.what);
    if (r.code == 421 && e.what != Await::quit) {
      fail(std::move(r));  // the server is closing the channel, whatever was asked
      return;
    }
    switch (e.what) {
      case Await::greeting:
        on_greeting(std::move(r));
        break;
      case Await::ehlo:
        on_ehlo(std::move(r));
        break;
      case Await::helo:
        on_helo(std::move(r));
        break;
      case Await::starttls:
        on_starttls(std::move(r));
        break;
      case Await::rset:
        on_rset(std::move(r));
        break;
      case Await::mail:
        on_mail(std::move(r));
        break;
      case Await::rcpt:
        on_rcpt(e.rcpt, std::move(r));
        break;
      case Await::data:
        on_data(std::move(r));
        break;
      case Await::data_end:
        on_data_end(e.ignore, std::move(r));
        break;
      case Await::quit:
        close();  // any answer, even none, ends it
        break;
    }
  }

  void on_greeting(Reply r) {
    greeting = r.text();
    if (r.code == 220) {
      send("EHLO " + opts.ehlo_name + "\r\n", {Await::ehlo});
      phase = ClientPhase::ehlo;
    } else if (r.transient() || r.permanent()) {
      refuse(std::move(r));  // 554 "no service here": the server waits for our QUIT
    } else {
      fail(unexpected("greeting", r));
    }
  }

  void on_ehlo(Reply r) {
    if (r.code / 100 == 2) {
      caps = parse_ehlo(r);
      hello_done();
    } else if (r.permanent()) {
      // 500/502/504/550: a server that speaks no ESMTP; RFC 5321 §3.2 says fall back to HELO.
      send("HELO " + opts.ehlo_name + "\r\n", {Await::helo});
      phase = ClientPhase::helo;
    } else if (r.transient()) {
      refuse(std::move(r));
    } else {
      fail(unexpected("EHLO", r));
    }
  }

  void on_helo(Reply r) {
    if (r.code / 100 == 2) {
      caps = Capabilities{};
      hello_done();
    } else if (r.transient() || r.permanent()) {
      refuse(std::move(r));
    } else {
      fail(unexpected("HELO", r));
    }
  }

  // After EHLO (or HELO): STARTTLS when the options and the server say so, else ready.
  void hello_done() {
    if (tls || opts.starttls == StartTlsUse::never) {
      ready();
    } else if (caps.starttls) {
      send("STARTTLS\r\n", {Await::starttls});
      phase = ClientPhase::starttls;
    } else if (opts.starttls == StartTlsUse::required) {
      refuse(tls_required(caps.esmtp ? "STARTTLS not offered" : "no ESMTP, so no STARTTLS"));
    } else {
      ready();
    }
  }

  void on_starttls(Reply r) {
    if (r.code == 220) {
      phase = ClientPhase::tls_handshake;  // bytes() emits StartTls once it has seen nothing follows
    } else if (r.transient() || r.permanent()) {
      // RFC 3207 §4: the session goes on in clear text, if clear text will do.
      if (opts.starttls == StartTlsUse::required) {
        refuse(tls_required("STARTTLS refused: " + r.summary()));
      } else {
        ready();
      }
    } else {
      fail(unexpected("STARTTLS", r));
    }
  }

  void tls_established() {
    if (phase != ClientPhase::tls_handshake) return;
    tls = true;
    caps = Capabilities{};  // RFC 3207 §4.2: nothing learnt in clear text is kept
    send("EHLO " + opts.ehlo_name + "\r\n", {Await::ehlo});
    phase = ClientPhase::ehlo;
  }

  void tls_failed(const std::string& reason) {
    if (phase != ClientPhase::tls_handshake) return;
    const std::string text = "TLS handshake failed: " + reason;
    fail(opts.starttls == StartTlsUse::required ? tls_required(text) : synthetic_at(Stage::ehlo, 451, "4.7.5", text));
  }

  static Reply tls_required(const std::string& why) {
    return synthetic_at(Stage::ehlo, 451, "4.7.10", std::string(kTlsRequiredText) + ": " + why);
  }

  void on_rset(Reply r) {
    if (r.code / 100 == 2) {
      rset_needed = false;
      advance();
    } else if (r.transient() || r.permanent()) {
      // The transaction state is unknown now: nothing sent after this can be trusted.
      fail(Reply::synthetic(451, "4.5.0", "RSET refused: " + r.summary()));
    } else {
      fail(unexpected("RSET", r));
    }
  }

  void on_mail(Reply r) {
    auto& t = *txn;
    if (r.code / 100 == 2) {
      advance();
    } else if (r.transient() || r.permanent()) {
      // Every recipient gets the MAIL reply. With PIPELINING the RCPT and DATA replies that
      // follow (typically 503) are consumed and ignored.
      t.mail_refused = true;
      t.aborted = true;
      decide_undecided(r);
      if (!t.pipelined) t.next = Step::finish;
      advance();
    } else {
      fail(unexpected("MAIL", r));
    }
  }

  void on_rcpt(std::size_t i, Reply r) {
    auto& t = *txn;
    if (r.code / 100 == 3) {
      fail(unexpected("RCPT", r));
      return;
    }
    if (!t.mail_refused) {
      if (r.code / 100 == 2) {
        ++t.accepted;
      } else {
        t.results[i] = std::move(r);
      }
    }
    advance();
  }

  void on_data(Reply r) {
    auto& t = *txn;
    if (r.code == 354) {
      if (!t.mail_refused && t.accepted > 0) {
        if (!t.txn.header_prefix.empty()) write(WriteBytes{t.txn.header_prefix, nullptr});
        write(WriteBytes{{}, t.txn.wire_data});  // shared, never copied
        expect(t, {Await::data_end});
        t.body_sent = true;
        pipeline_next();  // in the same write: one send and one read of replies per message
      } else {
        // A pipelined DATA the server accepted although it refused MAIL or every RCPT: end it
        // with an empty body rather than send the message to no one, and ignore the outcome.
        send(t, ".\r\n", {Await::data_end, 0, true});
      }
    } else if (r.transient() || r.permanent()) {
      t.aborted = true;
      if (!t.mail_refused) decide_undecided(r);
      advance();
    } else {
      fail(unexpected("DATA", r));
    }
  }

  void on_data_end(bool ignore, Reply r) {
    auto& t = *txn;
    if (r.code / 100 == 3) {
      fail(unexpected("end of data", r));
      return;
    }
    if (ignore) {
      t.aborted = true;  // whatever the server made of the empty message, start clean
    } else {
      decide_undecided(r);  // the server's transaction is over, accepted or not: no RSET
    }
    advance();
  }

  void premature(Reply r) {
    if (phase == ClientPhase::quitting) {
      close();
    } else if (r.code == 421) {
      fail(std::move(r));  // a server closing may say so at any moment
    } else {
      fail(Reply::synthetic(451, "4.5.0", "protocol error: reply received before its command was sent: " + r.summary()));
    }
  }

  // ---- transactions ----

  // How many transactions the client holds at once: with PIPELINING the one whose end-of-data
  // reply is awaited, the one sent behind its body, and one waiting for the next body (when the
  // replies to both come in one read, the third is what the next write carries); else one.
  std::size_t capacity() const { return opts.use_pipelining && caps.pipelining ? kPipelineDepth : 1; }
  std::size_t in_hand() const { return (txn ? 1 : 0) + (next ? 1 : 0) + queued.size(); }
  std::size_t room() const {
    if (phase == ClientPhase::idle) return capacity();
    if (phase != ClientPhase::in_transaction || quit_requested) return 0;
    return capacity() > in_hand() ? capacity() - in_hand() : 0;
  }

  void start(Transaction t) {
    if (phase == ClientPhase::in_transaction && room() > 0) {
      queued.push_back(std::move(t));
      pipeline_next();
      return;
    }
    if (phase != ClientPhase::idle) {
      // A driver bug, but recipients must never vanish: they all get a temporary failure.
      TransactionResult res;
      res.per_rcpt.assign(t.rcpts.size(), Reply::synthetic(451, "4.3.0", "SMTP session not ready"));
      emit<TransactionDone>(TransactionDone{std::move(res)});
      return;
    }
    phase = ClientPhase::in_transaction;
    txn.emplace(prepare(std::move(t)));
    begin(*txn);
  }

  // A transaction with the refusals decided locally, without a word to the server.
  InFlight prepare(Transaction t) const {
    InFlight cur;
    cur.results.resize(t.rcpts.size());
    cur.txn = std::move(t);
    const auto& tx = cur.txn;
    const std::optional<Reply> all = refused_whole(tx);
    for (std::size_t i = 0; i < tx.rcpts.size(); ++i) {
      if (all) {
        cur.results[i] = *all;
      } else if (!sendable_rcpt(tx.rcpts[i])) {
        cur.results[i] = synthetic_at(Stage::rcpt, 553, "5.1.3", "invalid recipient address");
      }
    }
    cur.pipelined = opts.use_pipelining && caps.pipelining;
    return cur;
  }

  std::optional<Reply> refused_whole(const Transaction& tx) const {
    if (!safe_in_command(tx.mail_from)) return synthetic_at(Stage::mail, 553, "5.1.7", "invalid sender address");
    if (!tx.wire_data) return Reply::synthetic(451, "4.3.0", "message data missing");
    if (tx.needs_smtputf8 && !caps.smtputf8)
      return Reply::synthetic(550, "5.6.7", "server does not support SMTPUTF8, required for this message");
    if (caps.size_limit > 0 && tx.message_size > caps.size_limit)
      return Reply::synthetic(552, "5.3.4", "message size " + std::to_string(tx.message_size) +
                                                " exceeds the server's limit of " + std::to_string(caps.size_limit));
    return std::nullopt;
  }
  static bool sendable_rcpt(const std::string& rcpt) { return !rcpt.empty() && safe_in_command(rcpt); }
  bool any_sendable(const Transaction& tx) const {
    return !refused_whole(tx) && std::any_of(tx.rcpts.begin(), tx.rcpts.end(), sendable_rcpt);
  }

  // The first commands of a prepared transaction (txn): all at once with PIPELINING, else MAIL.
  void begin(InFlight& cur) {
    if (std::all_of(cur.results.begin(), cur.results.end(), [](const auto& r) { return r.has_value(); })) {
      finish_transaction();
      return;
    }
    if (!cur.pipelined) {
      cur.next = rset_needed ? Step::rset : Step::mail;
      advance();
      return;
    }
    write(envelope_group(cur, rset_needed));
    cur.next = Step::finish;
  }

  // RFC 2920: RSET, MAIL, every RCPT and DATA in one write; DATA ends the group.
  std::string envelope_group(InFlight& cur, bool rset) {
    const auto& tx = cur.txn;
    std::string group;
    group.reserve(64 + tx.mail_from.size() + tx.rcpts.size() * 64);
    if (rset) {
      group += "RSET\r\n";
      expect(cur, {Await::rset});
    }
    group += mail_command(tx);
    expect(cur, {Await::mail});
    for (std::size_t i = 0; i < tx.rcpts.size(); ++i) {
      if (cur.results[i]) continue;
      group += rcpt_command(tx, i);
      expect(cur, {Await::rcpt, i});
    }
    group += "DATA\r\n";
    expect(cur, {Await::data});
    return group;
  }

  // txn's body is written: the first queued transaction's commands may follow it in the same
  // write (RFC 2920 §3.1: message content may start a group). One decided locally waits its turn.
  void pipeline_next() {
    if (!txn || next || queued.empty() || !txn->pipelined || !txn->body_sent) return;
    if (!any_sendable(queued.front())) return;
    next.emplace(prepare(std::move(queued.front())));
    queued.pop_front();
    write(envelope_group(*next, false));  // the body's end ends the server's transaction: no RSET
    next->next = Step::finish;
  }

  std::string mail_command(const Transaction& tx) const {
    std::string cmd = "MAIL FROM:<" + tx.mail_from + '>';
    if (caps.size && tx.message_size > 0) cmd += " SIZE=" + std::to_string(tx.message_size);
    if (tx.body_8bit && caps.eightbitmime) cmd += " BODY=8BITMIME";
    if (tx.needs_smtputf8) cmd += " SMTPUTF8";
    cmd += "\r\n";
    return cmd;
  }

  static std::string rcpt_command(const Transaction& tx, std::size_t i) { return "RCPT TO:<" + tx.rcpts[i] + ">\r\n"; }

  // After a reply in a transaction: wait for more of its replies, send the next command (without
  // PIPELINING), or end the transaction.
  void advance() {
    if (phase != ClientPhase::in_transaction || !txn || txn->replies_due > 0) return;
    auto& t = *txn;
    switch (t.next) {
      case Step::rset:
        t.next = Step::mail;
        send(t, "RSET\r\n", {Await::rset});
        return;
      case Step::mail:
        t.next = Step::rcpt;
        send(t, mail_command(t.txn), {Await::mail});
        return;
      case Step::rcpt:
        while (t.next_rcpt < t.results.size() && t.results[t.next_rcpt]) ++t.next_rcpt;
        if (t.next_rcpt < t.results.size()) {
          const auto i = t.next_rcpt++;
          send(t, rcpt_command(t.txn, i), {Await::rcpt, i});
          return;
        }
        t.next = Step::data;
        [[fallthrough]];
      case Step::data:
        t.next = Step::finish;
        if (t.accepted > 0) {
          send(t, "DATA\r\n", {Await::data});
          return;
        }
        t.aborted = true;  // every RCPT refused: no DATA, and the server holds a MAIL
        [[fallthrough]];
      case Step::finish:
        finish_transaction();
        return;
    }
  }

  static void decide_undecided(InFlight& t, const Reply& r) {
    for (auto& res : t.results)
      if (!res) res = r;
  }
  void decide_undecided(const Reply& r) { decide_undecided(*txn, r); }

  static TransactionResult result_of(InFlight& t) {
    TransactionResult res;
    res.mail_refused = t.mail_refused;
    res.per_rcpt.reserve(t.results.size());
    for (auto& r : t.results)
      res.per_rcpt.push_back(r ? std::move(*r) : Reply::synthetic(451, "4.5.0", "no reply for recipient"));
    return res;
  }

  // txn is over: its result, then the transaction behind it (already sent, or the first queued),
  // or idle. Every end but the last frees a place: a SessionReady, unless the session is to quit.
  void finish_transaction() {
    if (txn->aborted) rset_needed = true;
    TransactionResult res = result_of(*txn);
    txn.reset();
    emit<TransactionDone>(TransactionDone{std::move(res)});
    if (next) {
      txn = std::move(next);
      next.reset();
    } else if (!queued.empty()) {
      Transaction t = std::move(queued.front());
      queued.pop_front();
      txn.emplace(prepare(std::move(t)));
      if (!quit_requested) emit<SessionReady>();
      begin(*txn);
      return;
    } else {
      ready();
      return;
    }
    if (!quit_requested) emit<SessionReady>();
    pipeline_next();  // a transaction queued while the body went out alone
  }

  // ---- session ----

  void ready() {
    phase = ClientPhase::idle;
    if (quit_requested) {
      quit();
    } else {
      emit<SessionReady>();
    }
  }

  void quit() {
    switch (phase) {
      case ClientPhase::idle:
        phase = ClientPhase::quitting;
        send("QUIT\r\n", {Await::quit});
        break;
      case ClientPhase::connecting:
        close();
        break;
      case ClientPhase::greeting:
      case ClientPhase::ehlo:
      case ClientPhase::helo:
      case ClientPhase::starttls:
      case ClientPhase::tls_handshake:
      case ClientPhase::in_transaction:
        quit_requested = true;  // after the work in hand
        break;
      case ClientPhase::quitting:
      case ClientPhase::closed:
        break;
    }
  }

  // The server refused the session but is still talking sanely: say QUIT before closing.
  void refuse(Reply r) {
    emit<SessionFailed>(SessionFailed{std::move(r)});
    expected.clear();
    phase = ClientPhase::quitting;
    send("QUIT\r\n", {Await::quit});
  }

  // The session is over at once: the transaction in flight ends with `r` for every undecided
  // recipient, then the driver is told to close.
  void fail(Reply r) {
    expected.clear();
    // Every transaction in hand ends, in the order they were given: the one in flight, the one
    // sent behind it, those not yet sent.
    for (auto* t : {&txn, &next}) {
      if (!*t) continue;
      decide_undecided(**t, r);
      emit<TransactionDone>(TransactionDone{result_of(**t)});
      t->reset();
    }
    for (auto& q : queued) {
      TransactionResult res;
      res.per_rcpt.assign(q.rcpts.size(), r);
      emit<TransactionDone>(TransactionDone{std::move(res)});
    }
    queued.clear();
    emit<SessionFailed>(SessionFailed{std::move(r)});
    close();
  }

  void close() {
    expected.clear();
    phase = ClientPhase::closed;
    emit<CloseConnection>();
  }

  static Reply unexpected(const char* to, const Reply& r) {
    return synthetic_at(r.stage, 451, "4.5.0", std::string("protocol error: unexpected reply to ") + to + ": " + r.summary());
  }

  std::optional<std::chrono::seconds> timeout() const {
    if (phase == ClientPhase::tls_handshake) return opts.tls_handshake_timeout;
    if (expected.empty()) return std::nullopt;
    switch (expected.front().what) {
      case Await::greeting: return opts.greeting_timeout;
      // RFC 5321 names no EHLO, HELO or RSET timeout; they are as cheap as MAIL.
      case Await::ehlo:
      case Await::helo:
      case Await::starttls:
      case Await::rset:
      case Await::mail: return opts.mail_timeout;
      case Await::rcpt: return opts.rcpt_timeout;
      case Await::data: return opts.data_init_timeout;
      case Await::data_end: return opts.data_term_timeout;
      case Await::quit: return opts.quit_timeout;
    }
    return std::nullopt;
  }
};

SmtpClient::SmtpClient(Options opts) : impl_(std::make_shared<Impl>(std::move(opts))) {}

void SmtpClient::on_connected() { impl_->connected(); }
void SmtpClient::on_bytes(std::string_view bytes) { impl_->bytes(bytes); }
void SmtpClient::on_timeout() { impl_->timed_out(); }
void SmtpClient::on_closed(std::string reason) { impl_->lost(reason); }
void SmtpClient::start(Transaction txn) { impl_->start(std::move(txn)); }
void SmtpClient::quit() { impl_->quit(); }
void SmtpClient::on_tls_established() { impl_->tls_established(); }
void SmtpClient::on_tls_failed(std::string reason) { impl_->tls_failed(reason); }

std::vector<ClientAction> SmtpClient::take_actions() { return std::exchange(impl_->actions, {}); }
std::optional<std::chrono::seconds> SmtpClient::timeout() const { return impl_->timeout(); }
ClientPhase SmtpClient::phase() const { return impl_->phase; }
std::size_t SmtpClient::room() const { return impl_->room(); }
const Capabilities& SmtpClient::capabilities() const { return impl_->caps; }
const std::string& SmtpClient::greeting_text() const { return impl_->greeting; }
bool SmtpClient::tls_active() const { return impl_->tls; }

}  // namespace volley::smtp
