#pragma once
// The SMTP client protocol (RFC 5321, 1869, 2920, 3030, 6152, 6531, 1870) as a sans-IO state
// machine: the driver feeds it connection events and received bytes and carries out what it asks for
// (bytes to write, a timeout to arm, the connection to close). One object is one connection;
// it delivers many transactions in sequence, so sessions are reused.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/smtp/reply.hpp"

namespace volley::smtp {

struct Transaction {
  std::string mail_from;                          // reverse-path without <>; "" = null sender
  std::vector<std::string> rcpts;                 // forward-paths without <>
  std::shared_ptr<const std::string> wire_data;   // to_wire_data() output, ends with CRLF.CRLF
  // Header lines (CRLF-terminated) sent before wire_data, for what differs per transaction while
  // the body is shared (X-Volley-ID). Counted in message_size by the caller.
  std::string header_prefix;
  std::size_t message_size = 0;                   // for SIZE=
  bool body_8bit = false;                         // BODY=8BITMIME when offered
  bool needs_smtputf8 = false;                    // SMTPUTF8 required (non-ASCII addresses)
};

struct TransactionResult {
  // One reply per recipient, in the order of Transaction::rcpts: the RCPT reply when it was
  // refused, else the reply to the end of DATA; a refused MAIL FROM, a lost connection or a
  // timeout give every undecided recipient that (possibly synthetic) reply.
  std::vector<Reply> per_rcpt;
  // The server refused MAIL FROM: the replies are about the sender, not the recipients (a
  // bounce then says nothing about whether a recipient's address exists).
  bool mail_refused = false;
};

struct Capabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool starttls = false;
  bool chunking = false;
  bool size = false;             // SIZE announced (SIZE= is then sent), with or without a limit
  std::uint64_t size_limit = 0;  // 0 = none announced
};

// What the driver must do, in order.
struct WriteBytes {
  // Either owned text (commands) or a shared DATA payload (never copied): all of it, or the
  // part [offset, offset + length) (a BDAT chunk leaves out the dots DATA adds).
  std::string text;
  std::shared_ptr<const std::string> shared;
  std::size_t offset = 0;
  std::size_t length = std::string::npos;

  std::string_view bytes() const {
    return shared ? std::string_view(*shared).substr(offset, length) : std::string_view(text);
  }
};
struct SessionReady {};                  // greeted, or a transaction ended: start() may be called
                                         // (room() says how many times)
struct TransactionDone { TransactionResult result; };
struct SessionFailed { Reply reply; };   // the session is unusable (greeting refused, timeout,
                                         // protocol error, lost connection); close it
struct CloseConnection {};               // after QUIT's reply, or after a failure
// STARTTLS was accepted (220): do the TLS handshake on the connection, then call
// on_tls_established() or on_tls_failed(). Nothing may be written or read in clear text meanwhile.
struct StartTls {};
using ClientAction = std::variant<WriteBytes, SessionReady, TransactionDone, SessionFailed, CloseConnection, StartTls>;

enum class ClientPhase { connecting, greeting, ehlo, helo, starttls, tls_handshake, idle, in_transaction, quitting, closed };

// Whether the client asks for TLS (RFC 3207) after EHLO.
enum class StartTlsUse : std::uint8_t {
  never,         // clear text, whatever the server offers
  when_offered,  // STARTTLS when the EHLO reply offers it; clear text when not offered or refused
  required,      // STARTTLS or nothing: not offered or refused ends the session with a 4xx tls_required
};

// The text that starts the synthetic reply of a session ended because TLS was required and could
// not be had; the reply classifier files it as a temporary failure of kind tls_required.
inline constexpr std::string_view kTlsRequiredText = "tls_required";

class SmtpClient {
 public:
  struct Options {
    std::string ehlo_name = "localhost";
    bool use_pipelining = true;
    // BDAT (RFC 3030) instead of DATA when the server offers CHUNKING and PIPELINING: the
    // envelope, BDAT and the content go in one write, one round trip a message instead of two
    // (DATA must wait for its 354).
    bool use_chunking = true;
    // RFC 5321 §4.5.3.2 minimums.
    std::chrono::seconds greeting_timeout{300};
    std::chrono::seconds mail_timeout{300};
    std::chrono::seconds rcpt_timeout{300};
    std::chrono::seconds data_init_timeout{120};
    std::chrono::seconds data_block_timeout{180};
    std::chrono::seconds data_term_timeout{600};
    // Not in RFC 5321: how long a polite QUIT waits for its 221 before closing anyway.
    std::chrono::seconds quit_timeout{30};
    StartTlsUse starttls = StartTlsUse::never;
    // Not in RFC 3207: how long the driver's TLS handshake may take (timeout() during it).
    std::chrono::seconds tls_handshake_timeout{60};
  };

  explicit SmtpClient(Options opts);

  // Inputs from the driver.
  void on_connected();
  void on_bytes(std::string_view bytes);
  void on_timeout();                   // the armed timeout expired
  void on_closed(std::string reason);  // peer closed or I/O error
  // Precondition: room() > 0. Takes one transaction. With PIPELINING (RFC 2920) a session holds
  // up to three: the next one's MAIL, RCPT and DATA go out in the same write as the body of the
  // one before, so a stream of messages costs one write and one read of replies each. With
  // CHUNKING too, each transaction is MAIL, RCPT, BDAT and its content in one write, sent at
  // once (the one behind another starts with RSET: the server's state after the first is not
  // known when it goes). Results come back in the order given.
  void start(Transaction txn);
  // Polite end: QUIT when idle; the session then asks to close.
  void quit();
  // After StartTls: the handshake is done. The client forgets what it learnt in clear text
  // (RFC 3207 §4.2) and says EHLO again.
  void on_tls_established();
  // After StartTls: the handshake failed. The session is over (SessionFailed, CloseConnection);
  // the connection's state is unknown, so no QUIT is sent. Whether to try again in clear text is
  // the caller's decision (it knows the policy).
  void on_tls_failed(std::string reason);

  // Outputs.
  std::vector<ClientAction> take_actions();
  // The timeout to arm now for the reply being awaited; nullopt = none pending (idle).
  std::optional<std::chrono::seconds> timeout() const;

  ClientPhase phase() const;
  // How many more transactions start() takes now: up to three when the server offers PIPELINING,
  // else one when idle; none before the greeting, while quitting, or after quit().
  std::size_t room() const;
  const Capabilities& capabilities() const;
  const std::string& greeting_text() const;
  bool tls_active() const;  // the handshake after STARTTLS succeeded

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace volley::smtp
