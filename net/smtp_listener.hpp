#pragma once
// Volley's inbound SMTP edge: takes asynchronous bounces (DSNs to the VERP return paths) and
// feedback-loop reports for the domains it is told to accept, and nothing else (no relaying).
// Sessions run the sans-IO core/smtp/server machine over Asio on a caller-owned io_context (each
// session on its own strand); each complete message goes to the InboundHandler, and the client
// gets the handler's answer. What a message means is the handler's business.
//
// Asio and OpenSSL stay in smtp_listener.cpp and the session it runs (net/inbound_session.hpp):
// this header is included by code that must build fast.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "core/config/config.hpp"
#include "core/smtp/reply.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}

namespace volley::smtp {
// core/smtp/server.hpp's requests; that header is not included here, as it clashes with the
// SMTP client's (core/smtp/client.hpp) in a file that includes both.
struct AuthRequest;
struct MailRequest;
struct RcptRequest;
struct MessageRequest;
}  // namespace volley::smtp

namespace volley {

struct InboundMessage {
  std::string peer;                     // "ip:port"
  std::string helo;
  std::string reverse_path;             // MAIL FROM, "" = null sender (DSNs come with <>)
  std::vector<std::string> recipients;  // accepted RCPTs
  std::string content;                  // unstuffed message, CRLF line ends
  bool tls = false;
};

// Called once per complete message on the io thread; must not block. answer(true, "") -> 250;
// answer(false, text) -> 451 4.3.0 <text> (the sender retries). The connection waits for the
// answer; answer may be called from any thread, once (later calls are ignored). An answer that
// is dropped uncalled, or that takes longer than command_timeout, gives the client a 451; one
// arriving after its session ended does nothing.
using InboundHandler =
    std::function<void(InboundMessage&&, std::function<void(bool ok, std::string text)> answer)>;

// A listener that takes more than bounces (the submission listener, api/submission.hpp) decides
// each step of a session itself: one policy per session, made when the session is accepted,
// called on the session's strand and destroyed with it. Answers may come from any thread, once;
// nullopt accepts with the standard reply; a reply that is dropped uncalled gives a 451.
class SmtpSessionPolicy {
 public:
  using Answer = std::function<void(std::optional<smtp::Reply>)>;
  // delay: how long the session waits before it sends the reply (a failed AUTH), without
  // blocking anything.
  using AuthAnswer = std::function<void(std::optional<smtp::Reply>, std::chrono::milliseconds delay)>;
  virtual ~SmtpSessionPolicy() = default;
  virtual void auth(smtp::AuthRequest&& request, AuthAnswer answer) = 0;
  virtual std::optional<smtp::Reply> mail(const smtp::MailRequest& request) = 0;
  virtual std::optional<smtp::Reply> rcpt(const smtp::RcptRequest& request) = 0;
  virtual void message(smtp::MessageRequest&& request, Answer answer) = 0;
};
struct SmtpSessionInfo {
  std::string peer;     // "ip:port"
  std::string address;  // the client's IP address alone
};
using SmtpPolicyFactory = std::function<std::unique_ptr<SmtpSessionPolicy>(const SmtpSessionInfo& session)>;

struct SmtpListenerOptions {
  std::string hostname = "localhost";
  // RCPT domains taken (exact, case-insensitive), with a plain local part only; all else (other
  // domains, '%' and '!' paths, quoted local parts) gets 550 5.7.1 relaying denied
  // (core/smtp/inbound_recipient.hpp).
  std::vector<std::string> accept_domains;
  std::uint64_t max_message_size = Config::SmtpIn::kDefaultMaxMessageSize;  // SIZE= and actual -> 552
  std::size_t max_recipients = 50;
  std::size_t max_connections = Config::SmtpIn::kDefaultMaxConnections;  // beyond: 421 4.7.0 and close
  // Deadlines, not idle timers: bytes trickling in do not extend them, so a client sending a byte
  // a second cannot hold a connection slot for ever (as Postfix's smtpd_per_request_deadline).
  // command_timeout: from the last reply (or the greeting) until the next command line is whole;
  // also how long the handler may take to answer a message. data_timeout: the whole DATA phase,
  // from 354 to the final dot (RFC 5321 4.5.3.2 suggests 10 minutes for the data block).
  std::chrono::seconds command_timeout = Config::SmtpIn::kDefaultTimeout;
  std::chrono::seconds data_timeout = Config::SmtpIn::kDefaultDataTimeout;
  std::string tls_certificate_file, tls_private_key_file;  // both set: STARTTLS offered
  // While it answers true (the disk is (nearly) full: api/disk_guard), MAIL, RCPT and the end of
  // DATA answer 452 4.3.1 (empty: never). Called on the io thread; must not block.
  std::function<bool()> refuse_for_storage;
  // Set: every session's MAIL, RCPT, AUTH and messages go to its policy (accept_domains and the
  // InboundHandler are not used); AUTH PLAIN/LOGIN is offered once TLS is up, and CHUNKING.
  SmtpPolicyFactory policy;
  bool implicit_tls = false;       // TLS from the first byte (RFC 8314), no STARTTLS
  std::string log_name = "smtp_in";  // the prefix of its log lines
};

class SmtpListener {
 public:
  SmtpListener(boost::asio::io_context& io, SmtpListenerOptions options, InboundHandler handler);
  ~SmtpListener();  // stop()s
  SmtpListener(const SmtpListener&) = delete;
  SmtpListener& operator=(const SmtpListener&) = delete;

  // Binds an address the config reader parsed ({"127.0.0.1", 2526}, {"::1", 0}; port 0 picks a
  // free port; a host name is resolved) and starts accepting. Throws std::runtime_error on a host
  // that does not resolve, a failed bind, or a TLS certificate or key that cannot be used. Call once.
  void start(const HostPort& listen);
  std::uint16_t port() const;  // the bound port, after start()
  // Closes the acceptor and every session (each is sent 421 first if it can take it quickly).
  // Idempotent, callable from any thread. After drain(): cuts the sessions still open.
  void stop();

  // SIGTERM's drain (docs/lifecycle.md), callable from any thread, once: the acceptor closes (new
  // connections are refused); a session between transactions is sent 421 4.3.2 and closed (one
  // halfway through a command line, in answer to that command); one inside a transaction (MAIL
  // accepted, until its end of data is answered) finishes it as usual, its message stored before
  // its 250, and is then sent 421 4.3.2 and closed. Timeouts keep running; stop() cuts the rest.
  void drain();
  // Blocks the caller (never call it on the io thread) until every session has closed, or until
  // `deadline`; true when none is left.
  bool wait_drained(std::chrono::steady_clock::time_point deadline) const;
  struct DrainCounts {
    std::size_t finished = 0;  // sessions in a transaction when drain() came whose message was answered
    std::size_t cut = 0;       // sessions still open when stop() came after drain()
  };
  DrainCounts drain_counts() const;

  std::size_t connection_count() const;  // admitted sessions open now

  // A renewed certificate (a reload): sessions that start TLS from now on use `tls`; those in TLS
  // keep theirs. Only for a listener made with a certificate (TLS on or off needs a restart):
  // std::logic_error otherwise. Callable from any thread.
  void set_tls(std::shared_ptr<boost::asio::ssl::context> tls);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace volley
