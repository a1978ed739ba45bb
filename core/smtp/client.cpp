#include "core/smtp/client.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

#include "core/smtp/client_impl.hpp"
#include "core/util/ascii.hpp"

namespace volley::smtp {

namespace client_detail {

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

}  // namespace client_detail

void SmtpClient::Impl::connected() {
  switch (phase) {
    case ClientPhase::connecting:
      phase = ClientPhase::greeting;
      expected.push_back({Await::greeting});
      break;
    default:
      break;  // a duplicate event changes nothing
  }
}

void SmtpClient::Impl::bytes(std::string_view data) {
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
  // What the server can answer in these bytes: the commands sent before them (and the
  // greeting). A command the replies make us send now is not sent yet, so a reply that would
  // be its answer is premature: the server answered what it had not received, or sent two
  // replies to one command. (With pipelining the replies in one read may well make us send
  // the next transaction's commands; the replies after them still answer earlier commands.)
  std::size_t answerable = expected.size();
  // Replies completed before a parse error are still handled, in order.
  while (phase != ClientPhase::closed) {
    auto r = parser.next();
    if (!r) break;
    if (answerable == 0 && !expected.empty()) {
      premature(std::move(*r));
      break;
    }
    if (answerable > 0) --answerable;
    on_reply(std::move(*r));
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

void SmtpClient::Impl::timed_out() {
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

void SmtpClient::Impl::lost(const std::string& reason) {
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

void SmtpClient::Impl::on_reply(Reply r) {
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

void SmtpClient::Impl::on_greeting(Reply r) {
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

void SmtpClient::Impl::on_ehlo(Reply r) {
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

void SmtpClient::Impl::on_helo(Reply r) {
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
void SmtpClient::Impl::hello_done() {
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

void SmtpClient::Impl::on_starttls(Reply r) {
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

void SmtpClient::Impl::tls_established() {
  if (phase != ClientPhase::tls_handshake) return;
  tls = true;
  caps = Capabilities{};  // RFC 3207 §4.2: nothing learnt in clear text is kept
  send("EHLO " + opts.ehlo_name + "\r\n", {Await::ehlo});
  phase = ClientPhase::ehlo;
}

void SmtpClient::Impl::tls_failed(const std::string& reason) {
  if (phase != ClientPhase::tls_handshake) return;
  const std::string text = "TLS handshake failed: " + reason;
  fail(opts.starttls == StartTlsUse::required ? tls_required(text) : synthetic_at(Stage::ehlo, 451, "4.7.5", text));
}

Reply SmtpClient::Impl::tls_required(const std::string& why) {
  return synthetic_at(Stage::ehlo, 451, "4.7.10", std::string(kTlsRequiredText) + ": " + why);
}

void SmtpClient::Impl::premature(Reply r) {
  if (phase == ClientPhase::quitting) {
    close();
  } else if (r.code == 421) {
    fail(std::move(r));  // a server closing may say so at any moment
  } else {
    fail(Reply::synthetic(451, "4.5.0", "protocol error: reply received before its command was sent: " + r.summary()));
  }
}

void SmtpClient::Impl::ready() {
  phase = ClientPhase::idle;
  if (quit_requested) {
    quit();
  } else {
    emit<SessionReady>();
  }
}

void SmtpClient::Impl::quit() {
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
void SmtpClient::Impl::refuse(Reply r) {
  emit<SessionFailed>(SessionFailed{std::move(r)});
  expected.clear();
  phase = ClientPhase::quitting;
  send("QUIT\r\n", {Await::quit});
}

// The session is over at once: the transaction in flight ends with `r` for every undecided
// recipient, then the driver is told to close.
void SmtpClient::Impl::fail(Reply r) {
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

void SmtpClient::Impl::close() {
  expected.clear();
  phase = ClientPhase::closed;
  emit<CloseConnection>();
}

Reply SmtpClient::Impl::unexpected(const char* to, const Reply& r) {
  return synthetic_at(r.stage, 451, "4.5.0", std::string("protocol error: unexpected reply to ") + to + ": " + r.summary());
}

std::optional<std::chrono::seconds> SmtpClient::Impl::timeout() const {
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
