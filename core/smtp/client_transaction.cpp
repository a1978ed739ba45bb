// The SMTP client's transactions (RFC 5321 MAIL, RCPT, DATA; RFC 3030 BDAT; RFC 2920 pipelining,
// within a transaction and across them): the half of SmtpClient::Impl that client.cpp does not
// hold.
#include <algorithm>
#include <string>
#include <utility>

#include "core/smtp/client_impl.hpp"
#include "core/smtp/wire.hpp"

namespace volley::smtp {

void SmtpClient::Impl::on_rset(Reply r) {
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

void SmtpClient::Impl::on_mail(Reply r) {
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

void SmtpClient::Impl::on_rcpt(std::size_t i, Reply r) {
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

void SmtpClient::Impl::on_data(Reply r) {
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

// The reply to the end of DATA, or to BDAT LAST.
void SmtpClient::Impl::on_data_end(bool ignore, Reply r) {
  auto& t = *txn;
  if (r.code / 100 == 3) {
    fail(unexpected("end of data", r));
    return;
  }
  if (ignore) {
    t.aborted = true;  // whatever the server made of the empty message, start clean
  } else {
    // After DATA the server's transaction is over, accepted or not: no RSET. A BDAT chunk goes
    // whether or not MAIL and RCPT were taken; what a server keeps after refusing it (or after
    // taking it for no recipient) is not ours to guess: RSET before the next MAIL.
    if (t.chunked && (r.code / 100 != 2 || t.mail_refused || t.accepted == 0)) t.aborted = true;
    decide_undecided(r);  // a refused MAIL or RCPT decided its own recipients already
  }
  advance();
}

// How many transactions the client holds at once: with PIPELINING the one whose end-of-data
// reply is awaited, the one sent behind its body, and one waiting for the next body (when the
// replies to both come in one read, the third is what the next write carries); else one.
std::size_t SmtpClient::Impl::capacity() const { return opts.use_pipelining && caps.pipelining ? kPipelineDepth : 1; }

std::size_t SmtpClient::Impl::in_hand() const { return (txn ? 1 : 0) + (next ? 1 : 0) + queued.size(); }

std::size_t SmtpClient::Impl::room() const {
  if (phase == ClientPhase::idle) return capacity();
  if (phase != ClientPhase::in_transaction || quit_requested) return 0;
  return capacity() > in_hand() ? capacity() - in_hand() : 0;
}

void SmtpClient::Impl::start(Transaction t) {
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
auto SmtpClient::Impl::prepare(Transaction t) const -> InFlight {
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
  cur.chunked = cur.pipelined && opts.use_chunking && caps.chunking;
  return cur;
}

std::optional<Reply> SmtpClient::Impl::refused_whole(const Transaction& tx) const {
  if (!safe_in_command(tx.mail_from)) return synthetic_at(Stage::mail, 553, "5.1.7", "invalid sender address");
  if (!tx.wire_data) return Reply::synthetic(451, "4.3.0", "message data missing");
  if (tx.needs_smtputf8 && !caps.smtputf8)
    return Reply::synthetic(550, "5.6.7", "server does not support SMTPUTF8, required for this message");
  if (caps.size_limit > 0 && tx.message_size > caps.size_limit)
    return Reply::synthetic(552, "5.3.4", "message size " + std::to_string(tx.message_size) +
                                              " exceeds the server's limit of " + std::to_string(caps.size_limit));
  return std::nullopt;
}

bool SmtpClient::Impl::sendable_rcpt(const std::string& rcpt) { return !rcpt.empty() && safe_in_command(rcpt); }

bool SmtpClient::Impl::any_sendable(const Transaction& tx) const {
  return !refused_whole(tx) && std::any_of(tx.rcpts.begin(), tx.rcpts.end(), sendable_rcpt);
}

// The first commands of a prepared transaction (txn): all at once with PIPELINING, else MAIL.
void SmtpClient::Impl::begin(InFlight& cur) {
  if (std::all_of(cur.results.begin(), cur.results.end(), [](const auto& r) { return r.has_value(); })) {
    finish_transaction();
    return;
  }
  if (!cur.pipelined) {
    cur.next = rset_needed ? Step::rset : Step::mail;
    advance();
    return;
  }
  send_group(cur, rset_needed);
  cur.next = Step::finish;
}

// RFC 2920: RSET, MAIL, every RCPT and DATA in one write; DATA ends the group. With CHUNKING
// (RFC 3030) BDAT <size> LAST and the content follow instead of DATA, in the same write: the
// content is the DATA payload less its stuffed dots and terminator, written from the shared
// payload's own bytes.
void SmtpClient::Impl::send_group(InFlight& cur, bool rset) {
  std::string group = envelope_group(cur, rset);
  if (!cur.chunked) {
    group += "DATA\r\n";
    expect(cur, {Await::data});
    write(std::move(group));
    return;
  }
  const auto& tx = cur.txn;
  const auto spans = bdat_content(*tx.wire_data);
  std::size_t size = tx.header_prefix.size();
  for (const auto& s : spans) size += s.length;
  group += "BDAT " + std::to_string(size) + " LAST\r\n";
  group += tx.header_prefix;
  write(std::move(group));
  for (const auto& s : spans) write(WriteBytes{{}, tx.wire_data, s.offset, s.length});
  expect(cur, {Await::data_end});
  cur.body_sent = true;
}

// RSET, MAIL and every RCPT (without the DATA or BDAT that ends the group).
std::string SmtpClient::Impl::envelope_group(InFlight& cur, bool rset) {
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
  return group;
}

// txn's body is written: the first queued transaction's commands may follow it in the same
// write (RFC 2920 §3.1: message content may start a group). One decided locally waits its turn.
void SmtpClient::Impl::pipeline_next() {
  if (!txn || next || queued.empty() || !txn->pipelined || !txn->body_sent) return;
  if (!any_sendable(queued.front())) return;
  next.emplace(prepare(std::move(queued.front())));
  queued.pop_front();
  // After DATA's body the server's transaction is over whatever its outcome: no RSET. Behind a
  // BDAT chunk whose outcome is not in yet, RSET (see on_data_end).
  send_group(*next, txn->chunked);
  next->next = Step::finish;
}

std::string SmtpClient::Impl::mail_command(const Transaction& tx) const {
  std::string cmd = "MAIL FROM:<" + tx.mail_from + '>';
  if (caps.size && tx.message_size > 0) cmd += " SIZE=" + std::to_string(tx.message_size);
  if (tx.body_8bit && caps.eightbitmime) cmd += " BODY=8BITMIME";
  if (tx.needs_smtputf8) cmd += " SMTPUTF8";
  cmd += "\r\n";
  return cmd;
}

std::string SmtpClient::Impl::rcpt_command(const Transaction& tx, std::size_t i) { return "RCPT TO:<" + tx.rcpts[i] + ">\r\n"; }

// After a reply in a transaction: wait for more of its replies, send the next command (without
// PIPELINING), or end the transaction.
void SmtpClient::Impl::advance() {
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

void SmtpClient::Impl::decide_undecided(InFlight& t, const Reply& r) {
  for (auto& res : t.results)
    if (!res) res = r;
}

void SmtpClient::Impl::decide_undecided(const Reply& r) { decide_undecided(*txn, r); }

TransactionResult SmtpClient::Impl::result_of(InFlight& t) {
  TransactionResult res;
  res.mail_refused = t.mail_refused;
  res.per_rcpt.reserve(t.results.size());
  for (auto& r : t.results)
    res.per_rcpt.push_back(r ? std::move(*r) : Reply::synthetic(451, "4.5.0", "no reply for recipient"));
  return res;
}

// txn is over: its result, then the transaction behind it (already sent, or the first queued),
// or idle. Every end but the last frees a place: a SessionReady, unless the session is to quit.
void SmtpClient::Impl::finish_transaction() {
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

}  // namespace volley::smtp
