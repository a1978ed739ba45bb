#pragma once
// The SMTP server protocol (RFC 5321, 1870, 2034, 2920, 3030, 3207, 6152, 6531) as a sans-IO
// state machine: the owner feeds it received bytes and carries out what it asks for (bytes to
// write, a TLS handshake, closing). It decides nothing about mail itself: MAIL, RCPT and each
// complete message (and, when asked, HELO/EHLO and the DATA command) are surfaced as requests
// that the owner answers, now or later.
//
// One request is outstanding at a time. A pipelined RCPT depends on how its MAIL was answered
// (503 after a refusal), so the machine reads no further until the request is answered: later
// commands stay in its buffer, replies go out in command order, and an owner may answer from a
// timer or another thread's message without any bookkeeping. While wants_input() is false the
// owner should stop reading; what it feeds meanwhile is kept, so the buffer holds at most one
// read beyond the line limit.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/smtp/reply.hpp"

namespace volley::smtp {

enum class BodyType { unspecified, seven_bit, eight_bit_mime };

struct MailParams {
  std::optional<std::uint64_t> size;  // SIZE= (RFC 1870), already checked against the limit
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
};

// What the machine asks of its owner, in order.
struct Send { std::string bytes; };  // one reply (or the greeting), CRLF-terminated
struct MailRequest {                  // answer(): accept or refuse the sender
  std::string reverse_path;           // without <>; "" = null sender
  MailParams params;
};
struct RcptRequest {                  // answer(): accept or refuse the recipient
  std::string forward_path;           // without <>
};
struct HelloRequest {                 // with Options::ask_hello, answer(): accept HELO or EHLO
  std::string verb;                   // (the standard reply) or refuse it; "HELO" or "EHLO"
  std::string name;                   // the client's name, as given
};
struct DataRequest {                  // with Options::ask_data, answer(): accept the DATA
  std::vector<std::string> recipients;  // command (354) or refuse it; the recipients accepted
};
struct MessageRequest {               // answer(): take the message (2xx) or refuse it
  std::string reverse_path;
  MailParams params;
  std::vector<std::string> recipients;  // those accepted
  std::string content;                  // unstuffed DATA (or BDAT chunks), CRLF line ends as sent
  bool chunked = false;                 // it came in BDAT chunks (RFC 3030), not after DATA
};
struct Refused {                      // the machine refused a command by itself (for logs)
  std::string command;                // "MAIL", "RCPT", "DATA", ... "" for unreadable lines
  int code = 0;
  std::string reply;                  // the reply line, without CRLF
};
struct StartTls {                     // write what came before, then do the TLS handshake and
  std::size_t discarded = 0;          // call on_tls_established(); bytes pipelined after
};                                    // STARTTLS were dropped unread (injection defence)
struct Hangup {};                     // write what came before, then close the connection
struct AuthRequest {                  // with Options::auth, answer(): 2xx accepts the credentials
  std::string mechanism;              // (235 by default), anything else refuses them (535, 454,
  std::string authzid;                // 421); "PLAIN" or "LOGIN"; authzid "" when not given
  std::string username;
  std::string password;
};
using ServerAction = std::variant<Send, MailRequest, RcptRequest, MessageRequest, Refused, StartTls, Hangup,
                                  HelloRequest, DataRequest, AuthRequest>;

class SmtpServer {
 public:
  struct Options {
    std::string hostname = "localhost";             // in the greeting and the EHLO reply
    std::string banner = "ESMTP Volley";            // after the hostname in the greeting
    std::uint64_t max_message_size = 10 << 20;      // SIZE; content beyond it is not kept (552)
    std::size_t max_recipients = 100;               // per transaction (452 beyond)
    std::size_t max_line_length = 2048;             // command lines, line end excluded
    int max_errors = 10;                            // the one that reaches it gets 421 and close
    bool pipelining = true;
    bool eightbitmime = true;
    bool smtputf8 = true;
    bool enhanced_status_codes = true;
    bool chunking = false;                          // BDAT (RFC 3030)
    bool starttls = false;                          // the owner can do a TLS handshake
    // AUTH PLAIN and LOGIN (RFC 4954), offered and taken only once TLS is active (STARTTLS, or
    // implicit TLS told by on_tls_established() before start()): before, AUTH gets 530 5.7.0.
    bool auth = false;
    // Surface HELO/EHLO and the DATA command as requests, so the owner can refuse them too (a
    // test receiver does); otherwise the machine accepts them itself.
    bool ask_hello = false;
    bool ask_data = false;
  };

  explicit SmtpServer(Options opts);
  ~SmtpServer();
  SmtpServer(SmtpServer&&) noexcept;
  SmtpServer& operator=(SmtpServer&&) noexcept;

  // The connection is up: greet with 220, or send `refusal` (e.g. 421 4.7.0 too many
  // connections) and hang up. Input fed before this waits in the buffer.
  void start(std::optional<Reply> refusal = std::nullopt);
  void feed(std::string_view bytes);
  // Answers the outstanding request: nullopt = accept with the standard reply; a Reply is sent
  // as given (2xx accepts, 421 also hangs up). HELO, EHLO and DATA are accepted with their own
  // standard replies (the extensions, 354) whatever 2xx (or 3xx for DATA) is given. Ignored when nothing is outstanding (a late
  // answer after close_session()).
  void answer(std::optional<Reply> reply = std::nullopt);
  // After StartTls: the session starts over, EHLO expected. Before start(): the connection is
  // TLS from its first byte (RFC 8314 implicit TLS).
  void on_tls_established();
  // The owner ends the session (idle timeout, shutdown): sends `reply` (a 421) and hangs up.
  void close_session(Reply reply);
  // A shutdown that cuts no transaction (volleyd's drain, docs/lifecycle.md): a session between
  // transactions is sent `reply` (a 421) and hung up now, or, when part of a command line has
  // arrived, in answer to that command; a MAIL awaiting its answer gets `reply` instead. A
  // transaction already open (MAIL accepted) carries on until its message is answered (or RSET,
  // HELO or EHLO ends it); then the session is sent `reply` and hung up. close_session() still
  // cuts at once. Before start(): the greeting is `reply`.
  void drain(Reply reply);

  std::vector<ServerAction> take_actions();

  bool wants_input() const;       // false while a request is outstanding, during TLS, once closed
  bool awaiting_answer() const;
  bool in_data() const;           // receiving DATA or a BDAT chunk
  bool in_transaction() const;    // MAIL accepted, its message not yet answered
  std::uint64_t data_bytes() const;  // raw bytes of the current message's content so far
  bool closed() const;
  bool tls_active() const;
  bool authenticated() const;     // an AuthRequest was answered with 2xx
  const std::string& helo_name() const;  // "" before HELO/EHLO

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::smtp
