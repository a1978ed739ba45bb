#include "core/smtp/server.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/smtp/command_syntax.hpp"
#include "core/smtp/sasl.hpp"
#include "core/util/utf8.hpp"
#include "core/util/ascii.hpp"

namespace volley::smtp {

using namespace command_syntax;

namespace {

// Where the DATA scanner stands (RFC 5321 §4.5.2). Only CRLF ends a line: a dot after a bare LF
// is content, so "<LF>.<LF>" and "<LF>.<CR><LF>" never end the message (SMTP smuggling).
enum class DataState {
  line_start,  // after CRLF (or right after the DATA command)
  dot,         // a '.' at line start, held back
  dot_cr,      // ".\r" at line start: the end marker if LF follows
  mid,         // inside a line
  cr,          // after a CR inside a line
};

enum class Mode { unstarted, command, data, bdat, tls, closed };
enum class Pending { none, hello, mail, rcpt, data, message, auth };

}  // namespace

struct SmtpServer::Impl {
  Options opts;
  Mode mode = Mode::unstarted;
  Pending pending = Pending::none;
  std::vector<ServerAction> actions;
  std::string in;           // input not consumed yet (a partial line, or held while pending)
  bool discarding = false;  // skipping the rest of an overlong line
  int errors = 0;

  // Session.
  std::string helo;
  bool esmtp = false;
  bool tls = false;
  bool authenticated = false;
  std::optional<SaslExchange> sasl;  // an AUTH exchange waiting for the client's next line

  // Transaction.
  bool has_mail = false;
  // The last MAIL (or the transaction) was refused: the RCPT and DATA a pipelining client sent
  // behind it get 503 without counting as errors.
  bool txn_refused = false;
  std::string reverse_path;
  MailParams params;
  std::vector<std::string> rcpts;
  std::string candidate;  // the path of the outstanding MAIL or RCPT, the name of HELO or EHLO
  bool candidate_extended = false;  // the outstanding hello is EHLO
  MailParams candidate_params;
  bool bdat_used = false;

  // Set by drain(): sent to end the session once it is between transactions.
  std::optional<Reply> drain_reply;

  // Content of the message being received.
  std::string content;
  std::uint64_t raw_bytes = 0;
  bool too_big = false;
  DataState dstate = DataState::line_start;
  std::uint64_t chunk_left = 0;
  bool chunk_last = false;
  // A BDAT refused before its chunk: the refusal is sent once the chunk has been read past.
  enum class ChunkRefusal { none, no_transaction, no_recipients } chunk_refusal = ChunkRefusal::none;

  explicit Impl(Options o) : opts(std::move(o)) {
    if (opts.hostname.empty() || has_control(opts.hostname) || opts.hostname.find(' ') != std::string::npos)
      throw std::invalid_argument("SmtpServer: invalid hostname \"" + opts.hostname + '"');
    if (has_control(opts.banner)) throw std::invalid_argument("SmtpServer: banner has control characters");
    if (opts.max_message_size == 0 || opts.max_line_length < 512 || opts.max_errors < 1)
      throw std::invalid_argument("SmtpServer: limits out of range");
  }

  // ---- output ----

  template <class Action, class... Args>
  void emit(Args&&... args) {
    actions.emplace_back(std::in_place_type<Action>, std::forward<Args>(args)...);
  }

  std::string line(int code, std::string_view enhanced, std::string_view text) const {
    std::string out = std::to_string(code);
    out += ' ';
    if (opts.enhanced_status_codes && !enhanced.empty()) {
      out.append(enhanced);
      out += ' ';
    }
    out.append(text);
    return out;
  }

  void reply(int code, std::string_view enhanced, std::string_view text) {
    emit<Send>(line(code, enhanced, text) + "\r\n");
  }

  static void check(const Reply& r) {
    if (r.code < 200 || r.code > 599) throw std::invalid_argument("SmtpServer: reply code out of range");
  }

  void send(const Reply& r) {
    std::string out;
    const std::size_t n = std::max<std::size_t>(r.lines.size(), 1);
    for (std::size_t i = 0; i < n; ++i) {
      out += std::to_string(r.code);
      out += i + 1 < n ? '-' : ' ';
      if (i < r.lines.size()) append_sanitized(out, r.lines[i]);
      out += "\r\n";
    }
    emit<Send>(std::move(out));
  }

  void hang_up() {
    emit<Hangup>();
    mode = Mode::closed;
    pending = Pending::none;
    content = std::string();
  }

  // A refusal the machine makes by itself. Unknown, malformed and out-of-sequence commands count
  // as errors; the one that reaches max_errors is answered with 421 and the session ends.
  void refuse(std::string_view command, int code, std::string_view enhanced, std::string_view text,
              bool counts = false) {
    if (counts && ++errors >= opts.max_errors) {
      std::string l = line(421, "4.7.0", opts.hostname + " Too many errors, closing connection");
      emit<Send>(l + "\r\n");
      emit<Refused>(std::string(command), 421, std::move(l));
      hang_up();
      return;
    }
    std::string l = line(code, enhanced, text);
    emit<Send>(l + "\r\n");
    emit<Refused>(std::string(command), code, std::move(l));
  }
  void error(std::string_view command, int code, std::string_view enhanced, std::string_view text) {
    refuse(command, code, enhanced, text, true);
  }
  // 503 for a command that needed an open transaction.
  void no_transaction(std::string_view command) {
    refuse(command, 503, "5.5.1", "Need MAIL command", !txn_refused);
  }

  // ---- input ----

  void start(std::optional<Reply> refusal) {
    if (mode != Mode::unstarted) return;
    if (!refusal && drain_reply) refusal = drain_reply;
    if (refusal) {
      check(*refusal);
      send(*refusal);
      hang_up();
      return;
    }
    reply(220, "", opts.hostname + ' ' + opts.banner);
    mode = Mode::command;
    resume();
  }

  bool paused() const { return mode == Mode::unstarted || pending != Pending::none; }

  void feed(std::string_view bytes) {
    while (!bytes.empty() && mode != Mode::tls && mode != Mode::closed) {
      if (in.empty()) {
        // The common case: whole lines and DATA straight from the owner's buffer, no copy. What
        // is left is a partial line (bounded by the line limit) or input held while paused.
        bytes.remove_prefix(process(bytes));
        in.append(bytes);
        return;
      }
      if (paused()) {
        in.append(bytes);  // bounded by the owner, who stops reading until the answer
        return;
      }
      // Completes the held partial line a line's worth at a time, so a huge read never lands
      // in the buffer whole.
      const auto n = std::min(bytes.size(), opts.max_line_length + 2);
      in.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      resume();
    }
  }

  void resume() {
    const auto used = process(in);
    in.erase(0, used);
  }

  // Consumes what it can of `v`; returns how much.
  std::size_t process(std::string_view v) {
    std::size_t pos = 0;
    while (pos < v.size()) {
      switch (mode) {
        case Mode::unstarted:
          return pos;
        case Mode::tls:
        case Mode::closed:
          return v.size();
        case Mode::data:
          pos += consume_data(v.substr(pos));
          break;
        case Mode::bdat:
          pos += consume_chunk(v.substr(pos));
          break;
        case Mode::command: {
          if (pending != Pending::none) return pos;
          const auto rest = v.substr(pos);
          const auto nl = rest.find('\n');
          if (discarding) {
            if (nl == std::string_view::npos) return v.size();
            discarding = false;
            pos += nl + 1;
            break;
          }
          if (nl == std::string_view::npos) {
            // +1: the CR of a CRLF whose LF has not arrived yet.
            if (rest.size() <= opts.max_line_length + 1) return pos;
            line_too_long();
            discarding = true;
            return v.size();
          }
          if (between_transactions_draining()) {
            // A command that would begin a transaction, or none: the drain's reply answers it.
            close_session(*drain_reply);
            return v.size();
          }
          auto l = rest.substr(0, nl);
          pos += nl + 1;
          if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
          if (l.size() > opts.max_line_length) {
            line_too_long();
          } else if (sasl) {
            sasl_line(l);
          } else {
            command(l);
          }
          if (mode == Mode::tls) {
            // Whatever the client sent behind STARTTLS was sent in the clear and must not be
            // taken as coming from inside TLS (RFC 3207 §4, CVE-2011-0411).
            std::get<StartTls>(actions.back()).discarded = v.size() - pos;
            return v.size();
          }
          break;
        }
      }
    }
    // Everything read was a whole command: a drained session between transactions ends now.
    if (between_transactions_draining()) close_session(*drain_reply);
    return pos;
  }

  bool between_transactions_draining() const {
    return drain_reply && mode == Mode::command && pending == Pending::none && !has_mail;
  }

  void line_too_long() {
    sasl.reset();
    error("", 500, "5.5.6", "Line too long");
  }

  // ---- content ----

  void begin_content() {
    content.clear();
    raw_bytes = 0;
    too_big = false;
    dstate = DataState::line_start;
  }

  void keep(const char* p, std::size_t n) {
    if (too_big || n == 0) return;
    if (content.size() + n > opts.max_message_size) {
      too_big = true;
      content = std::string();  // what was kept is of no use now; the rest is only counted
      return;
    }
    content.append(p, n);
  }

  std::size_t consume_data(std::string_view v) {
    const char* p = v.data();
    const char* const end = p + v.size();
    while (p != end) {
      switch (dstate) {
        case DataState::mid: {
          auto* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
          const char* stop = cr ? cr + 1 : end;
          keep(p, static_cast<std::size_t>(stop - p));
          p = stop;
          if (cr) dstate = DataState::cr;
          break;
        }
        case DataState::cr:
          if (*p == '\n') {
            keep(p, 1);
            ++p;
            dstate = DataState::line_start;
          } else {
            dstate = DataState::mid;
          }
          break;
        case DataState::line_start:
          if (*p == '.') {
            ++p;
            dstate = DataState::dot;
          } else {
            dstate = DataState::mid;
          }
          break;
        case DataState::dot:
          // The leading dot is dropped whatever follows (RFC 5321 §4.5.2).
          if (*p == '\r') {
            ++p;
            dstate = DataState::dot_cr;
          } else {
            dstate = DataState::mid;
          }
          break;
        case DataState::dot_cr:
          if (*p == '\n') {
            ++p;
            const auto used = static_cast<std::size_t>(p - v.data());
            raw_bytes += used;
            end_of_data();
            return used;
          }
          keep("\r", 1);
          dstate = DataState::cr;
          break;
      }
    }
    raw_bytes += v.size();
    return v.size();
  }

  std::size_t consume_chunk(std::string_view v) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left, v.size()));
    if (chunk_refusal == ChunkRefusal::none) keep(v.data(), n);
    raw_bytes += n;
    chunk_left -= n;
    if (chunk_left == 0) end_of_chunk();
    return n;
  }

  void end_of_data() {
    mode = Mode::command;
    if (too_big) {
      reset_transaction();
      refuse("DATA", 552, "5.3.4", "Message size exceeds fixed maximum message size");
      return;
    }
    surface_message();
  }

  void end_of_chunk() {
    mode = Mode::command;
    if (chunk_refusal != ChunkRefusal::none) {
      const auto refusal = std::exchange(chunk_refusal, ChunkRefusal::none);
      if (refusal == ChunkRefusal::no_transaction) {
        no_transaction("BDAT");
      } else {
        refuse("BDAT", 554, "5.5.1", "No valid recipients");
      }
    } else if (too_big) {
      reset_transaction();
      txn_refused = true;  // the client may have pipelined more chunks
      refuse("BDAT", 552, "5.3.4", "Message size exceeds fixed maximum message size");
    } else if (chunk_last) {
      surface_message();
    } else {
      reply(250, "2.0.0", std::to_string(raw_bytes) + " octets received");
    }
  }

  void surface_message() {
    pending = Pending::message;
    emit<MessageRequest>(std::move(reverse_path), params, std::move(rcpts), std::move(content), bdat_used);
  }

  void reset_transaction() {
    has_mail = false;
    reverse_path.clear();
    params = {};
    rcpts.clear();
    bdat_used = false;
    content.clear();
    raw_bytes = 0;
    too_big = false;
  }

  // ---- commands ----

  void command(std::string_view l) {
    if (has_control(l)) {
      error("", 500, "5.5.2", "Invalid characters in command");
      return;
    }
    l = trim(l);
    const auto sp = l.find(' ');
    const auto verb = l.substr(0, sp);
    const auto args = sp == std::string_view::npos ? std::string_view{} : trim(l.substr(sp + 1));
    if (util::ascii_iequals(verb, "EHLO")) return hello("EHLO", args, true);
    if (util::ascii_iequals(verb, "HELO")) return hello("HELO", args, false);
    if (util::ascii_iequals(verb, "MAIL")) return mail(args);
    if (util::ascii_iequals(verb, "RCPT")) return rcpt(args);
    if (util::ascii_iequals(verb, "DATA")) return data(args);
    if (util::ascii_iequals(verb, "BDAT")) return bdat(args);
    if (util::ascii_iequals(verb, "RSET")) return rset(args);
    if (util::ascii_iequals(verb, "NOOP")) return reply(250, "2.0.0", "OK");
    if (util::ascii_iequals(verb, "QUIT")) {
      reply(221, "2.0.0", opts.hostname + " closing connection");
      return hang_up();
    }
    if (util::ascii_iequals(verb, "VRFY")) {
      if (args.empty()) return error("VRFY", 501, "5.5.4", "Syntax: VRFY address");
      return reply(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
    }
    if (util::ascii_iequals(verb, "STARTTLS")) return starttls(args);
    if (util::ascii_iequals(verb, "AUTH") && opts.auth) return auth(args);
    for (const char* known : {"EXPN", "HELP", "TURN", "ETRN", "AUTH", "ATRN"})
      if (util::ascii_iequals(verb, known)) return error(known, 502, "5.5.1", "Command not implemented");
    error("", 500, "5.5.2", "Command unrecognized");
  }

  void hello(std::string_view verb, std::string_view args, bool extended) {
    const auto name = next_word(args);
    if (name.empty()) return error(verb, 501, "5.5.4", std::string("Syntax: ") + std::string(verb) + " hostname");
    if (opts.ask_hello) {
      candidate.assign(name);
      candidate_extended = extended;
      pending = Pending::hello;
      emit<HelloRequest>(std::string(verb), candidate);
      return;
    }
    greet(name, extended);
  }

  // Answers an accepted HELO or EHLO.
  void greet(std::string_view name, bool extended) {
    // HELO and EHLO end any transaction (RFC 5321 §4.1.4).
    reset_transaction();
    txn_refused = false;
    helo.assign(name);
    esmtp = extended;
    if (!extended) return reply(250, "", opts.hostname);
    std::vector<std::string> caps;
    if (opts.pipelining) caps.emplace_back("PIPELINING");
    caps.push_back("SIZE " + std::to_string(opts.max_message_size));
    if (opts.eightbitmime) caps.emplace_back("8BITMIME");
    if (opts.smtputf8) caps.emplace_back("SMTPUTF8");
    if (opts.enhanced_status_codes) caps.emplace_back("ENHANCEDSTATUSCODES");
    if (opts.starttls && !tls) caps.emplace_back("STARTTLS");
    if (opts.auth && tls) caps.emplace_back("AUTH PLAIN LOGIN");
    if (opts.chunking) caps.emplace_back("CHUNKING");
    std::string out = "250-" + opts.hostname + "\r\n";
    for (std::size_t i = 0; i < caps.size(); ++i) out += (i + 1 < caps.size() ? "250-" : "250 ") + caps[i] + "\r\n";
    emit<Send>(std::move(out));
  }

  void mail(std::string_view args) {
    if (helo.empty()) return error("MAIL", 503, "5.5.1", "Send HELO/EHLO first");
    if (has_mail) return error("MAIL", 503, "5.5.1", "Nested MAIL command");
    txn_refused = true;  // until the owner accepts it
    if (!istarts_with(args, "FROM:")) return error("MAIL", 501, "5.5.4", "Syntax: MAIL FROM:<address>");
    const auto pp = split_path(args.substr(5));
    if (!pp) return error("MAIL", 501, "5.5.4", "Syntax: MAIL FROM:<address>");
    MailParams p;
    auto rest = pp->params;
    if (!trim(rest).empty() && !esmtp) return error("MAIL", 555, "5.5.4", "MAIL parameters need EHLO");
    for (auto word = next_word(rest); !word.empty(); word = next_word(rest)) {
      const auto eq = word.find('=');
      const auto key = word.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view{} : word.substr(eq + 1);
      std::uint64_t n = 0;
      if (util::ascii_iequals(key, "SIZE") && parse_number(value, n)) {
        if (n > opts.max_message_size)
          return refuse("MAIL", 552, "5.3.4", "Message size exceeds fixed maximum message size");
        p.size = n;
      } else if (util::ascii_iequals(key, "BODY") && util::ascii_iequals(value, "7BIT")) {
        p.body = BodyType::seven_bit;
      } else if (util::ascii_iequals(key, "BODY") && opts.eightbitmime && util::ascii_iequals(value, "8BITMIME")) {
        p.body = BodyType::eight_bit_mime;
      } else if (util::ascii_iequals(word, "SMTPUTF8") && opts.smtputf8) {
        p.smtputf8 = true;
      } else {
        return error("MAIL", 555, "5.5.4", "MAIL parameter not recognized or not implemented");
      }
    }
    if (!check_address("MAIL", pp->path, p.smtputf8, "5.1.7", true)) return;
    candidate.assign(pp->path);
    candidate_params = p;
    pending = Pending::mail;
    emit<MailRequest>(candidate, p);
  }

  void rcpt(std::string_view args) {
    if (!has_mail) return no_transaction("RCPT");
    if (!istarts_with(args, "TO:")) return error("RCPT", 501, "5.5.4", "Syntax: RCPT TO:<address>");
    const auto pp = split_path(args.substr(3));
    if (!pp) return error("RCPT", 501, "5.5.4", "Syntax: RCPT TO:<address>");
    if (!trim(pp->params).empty())
      return error("RCPT", 555, "5.5.4", "RCPT parameter not recognized or not implemented");
    if (!check_address("RCPT", pp->path, params.smtputf8, "5.1.3", false)) return;
    if (rcpts.size() >= opts.max_recipients) return refuse("RCPT", 452, "4.5.3", "Too many recipients");
    candidate.assign(pp->path);
    pending = Pending::rcpt;
    emit<RcptRequest>(candidate);
  }

  // The address checks shared by MAIL and RCPT; false when a reply has been sent.
  bool check_address(std::string_view verb, std::string_view path, bool smtputf8, std::string_view enhanced,
                     bool null_allowed) {
    const bool ok = path.empty() ? null_allowed : plausible_mailbox(path) || (!null_allowed && util::ascii_iequals(path, "postmaster"));
    if (!ok) {
      error(verb, 501, enhanced, null_allowed ? "Bad sender address syntax" : "Bad recipient address syntax");
      return false;
    }
    if (non_ascii(path)) {
      if (!smtputf8) {
        refuse(verb, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
        return false;
      }
      if (!util::valid_utf8(path)) {
        error(verb, 501, enhanced, "Address is not valid UTF-8");
        return false;
      }
    }
    return true;
  }

  // AUTH mechanism [initial-response] (RFC 4954 §4).
  void auth(std::string_view args) {
    if (!tls) return refuse("AUTH", 530, "5.7.0", "Must issue a STARTTLS command first", true);
    if (!esmtp) return error("AUTH", 503, "5.5.1", "Send EHLO first");
    if (authenticated) return error("AUTH", 503, "5.5.1", "Already authenticated");
    if (has_mail) return error("AUTH", 503, "5.5.1", "AUTH not permitted during a mail transaction");
    const auto name = next_word(args);
    const auto initial = next_word(args);
    if (name.empty() || !trim(args).empty()) return error("AUTH", 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    const auto mechanism = parse_sasl_mechanism(name);
    if (!mechanism) return error("AUTH", 504, "5.5.4", "Unrecognized authentication type");
    sasl.emplace(*mechanism);
    sasl_step(sasl->start(initial.empty() ? std::nullopt : std::optional<std::string_view>(initial)));
  }

  void sasl_line(std::string_view l) { sasl_step(sasl->respond(l)); }

  void sasl_step(SaslStep step) {
    switch (step.kind) {
      case SaslStep::Kind::challenge:
        return emit<Send>("334 " + step.challenge + "\r\n");
      case SaslStep::Kind::failed:
        sasl.reset();
        return error("AUTH", step.code, step.enhanced, step.text);
      case SaslStep::Kind::done: {
        const auto mechanism = sasl->mechanism();
        sasl.reset();
        pending = Pending::auth;
        auto& c = step.credentials;
        emit<AuthRequest>(std::string(sasl_mechanism_name(mechanism)), std::move(c.authzid), std::move(c.username),
                          std::move(c.password));
        return;
      }
    }
  }

  // Called when the owner accepted a MAIL: the transaction is open.
  void open_transaction() {
    has_mail = true;
    txn_refused = false;
    reverse_path = std::move(candidate);
    params = candidate_params;
  }

  void data(std::string_view args) {
    if (!args.empty()) return error("DATA", 501, "5.5.4", "Syntax: DATA");
    if (!has_mail) return no_transaction("DATA");
    if (bdat_used) return error("DATA", 503, "5.5.1", "DATA after BDAT");
    if (rcpts.empty()) return refuse("DATA", 554, "5.5.1", "No valid recipients");
    if (opts.ask_data) {
      pending = Pending::data;
      emit<DataRequest>(rcpts);
      return;
    }
    start_data();
  }

  void start_data() {
    reply(354, "", "End data with <CR><LF>.<CR><LF>");
    mode = Mode::data;
    begin_content();
  }

  void bdat(std::string_view args) {
    if (!opts.chunking) return error("BDAT", 502, "5.5.1", "Command not implemented");
    std::uint64_t n = 0;
    const auto size = next_word(args);
    const auto last = next_word(args);
    if (!parse_number(size, n) || !(last.empty() || util::ascii_iequals(last, "LAST")) || !trim(args).empty())
      return error("BDAT", 501, "5.5.4", "Syntax: BDAT size [LAST]");
    // The chunk follows the command whatever the reply will be, and is read before replying
    // (RFC 3030 §2).
    if (!has_mail) {
      chunk_refusal = ChunkRefusal::no_transaction;
    } else if (rcpts.empty()) {
      chunk_refusal = ChunkRefusal::no_recipients;
    } else if (!bdat_used) {
      begin_content();
      bdat_used = true;
    }
    chunk_left = n;
    chunk_last = !last.empty();
    mode = Mode::bdat;
    if (n == 0) end_of_chunk();
  }

  void rset(std::string_view args) {
    if (!args.empty()) return error("RSET", 501, "5.5.4", "Syntax: RSET");
    reset_transaction();
    txn_refused = false;
    reply(250, "2.0.0", "OK");
  }

  void starttls(std::string_view args) {
    if (tls) return error("STARTTLS", 503, "5.5.1", "TLS already active");
    if (!opts.starttls) return error("STARTTLS", 502, "5.5.1", "Command not implemented");
    if (!args.empty()) return error("STARTTLS", 501, "5.5.4", "Syntax: STARTTLS");
    if (!esmtp) return error("STARTTLS", 503, "5.5.1", "Send EHLO first");
    reply(220, "2.0.0", "Ready to start TLS");
    emit<StartTls>();
    mode = Mode::tls;
  }

  void tls_established() {
    if (mode == Mode::unstarted) {  // implicit TLS: nothing to forget
      tls = true;
      return;
    }
    if (mode != Mode::tls) return;
    // RFC 3207 §4.2: nothing learnt before the handshake survives it.
    tls = true;
    helo.clear();
    esmtp = false;
    reset_transaction();
    txn_refused = false;
    in.clear();
    discarding = false;
    mode = Mode::command;
    if (between_transactions_draining()) close_session(*drain_reply);
  }

  // ---- answers ----

  void answer(std::optional<Reply> r) {
    if (pending == Pending::none) return;
    if (r) check(*r);
    if (pending == Pending::mail && drain_reply) {
      // The drain came while this MAIL waited: no transaction begins any more.
      close_session(*drain_reply);
      return;
    }
    const Pending p = std::exchange(pending, Pending::none);
    const bool accepted = !r || r->code / 100 == 2 || (p == Pending::data && r->code / 100 == 3);
    switch (p) {
      case Pending::hello:
        // Accepted: the standard reply, with the extensions. Refused: the session stays as it was.
        if (accepted) greet(std::string(std::exchange(candidate, {})), candidate_extended); else send(*r);
        break;
      case Pending::data:
        if (accepted) start_data(); else send(*r);
        break;
      case Pending::mail:
        if (accepted) open_transaction();
        if (r) send(*r); else reply(250, "2.1.0", "Sender OK");
        break;
      case Pending::rcpt:
        if (accepted) rcpts.push_back(std::move(candidate));
        if (r) send(*r); else reply(250, "2.1.5", "Recipient OK");
        break;
      case Pending::message:
        reset_transaction();
        if (r) send(*r); else reply(250, "2.0.0", "Message accepted");
        break;
      case Pending::auth:
        authenticated = accepted;
        if (r) send(*r); else reply(235, "2.7.0", "Authentication successful");
        break;
      case Pending::none:
        break;
    }
    if (r && r->code == 421) return hang_up();
    resume();
  }

  void close_session(const Reply& r) {
    if (mode == Mode::closed) return;
    check(r);
    send(r);
    hang_up();
  }

  void drain(const Reply& r) {
    if (mode == Mode::closed || drain_reply) return;
    check(r);
    drain_reply = r;
    // A partial command line waits for its end (process() answers it).
    if (in.empty() && !discarding && between_transactions_draining()) close_session(r);
  }
};

SmtpServer::SmtpServer(Options opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
SmtpServer::~SmtpServer() = default;
SmtpServer::SmtpServer(SmtpServer&&) noexcept = default;
SmtpServer& SmtpServer::operator=(SmtpServer&&) noexcept = default;

void SmtpServer::start(std::optional<Reply> refusal) { impl_->start(std::move(refusal)); }
void SmtpServer::feed(std::string_view bytes) { impl_->feed(bytes); }
void SmtpServer::answer(std::optional<Reply> reply) { impl_->answer(std::move(reply)); }
void SmtpServer::on_tls_established() { impl_->tls_established(); }
void SmtpServer::close_session(Reply reply) { impl_->close_session(reply); }
void SmtpServer::drain(Reply reply) { impl_->drain(reply); }

std::vector<ServerAction> SmtpServer::take_actions() { return std::exchange(impl_->actions, {}); }

bool SmtpServer::wants_input() const {
  const auto m = impl_->mode;
  return impl_->pending == Pending::none && (m == Mode::command || m == Mode::data || m == Mode::bdat);
}
bool SmtpServer::awaiting_answer() const { return impl_->pending != Pending::none; }
bool SmtpServer::in_data() const { return impl_->mode == Mode::data || impl_->mode == Mode::bdat; }
bool SmtpServer::in_transaction() const { return impl_->has_mail; }
std::uint64_t SmtpServer::data_bytes() const { return impl_->raw_bytes; }
bool SmtpServer::closed() const { return impl_->mode == Mode::closed; }
bool SmtpServer::tls_active() const { return impl_->tls; }
bool SmtpServer::authenticated() const { return impl_->authenticated; }
const std::string& SmtpServer::helo_name() const { return impl_->helo; }

}  // namespace volley::smtp
