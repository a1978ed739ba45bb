#pragma once
// One outbound SMTP connection: Boost.Asio socket I/O driving the sans-IO smtp::SmtpClient.
// Owned by a domain's delivery actor, which it reports to by message; the actor hands it one
// transaction at a time. All public calls are thread-safe (they post to the session's strand).
// Each target carries its TLS plan (core/tls/policy.hpp): STARTTLS with SNI and the certificate
// checked as the plan says; an opportunistic handshake that fails is retried in clear text on a
// new connection to the same address, a required one moves on to the next MX host.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "core/smtp/client.hpp"
#include "core/tls/policy.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

class TlsClientContext;

// The tag of a session's reports to its owner (see SmtpSession::start).
using session_atom = caf::atom_constant<caf::atom("session")>;

// Where to connect, in order of preference: each MX host with its addresses.
struct SessionTarget {
  std::string host;                    // MX host name (or the route's host)
  std::vector<std::string> addresses;  // IP literals
  std::uint16_t port = 25;
  tls::HostPlan tls = {};              // how connections to this host are protected
  std::vector<tls::Tlsa> tlsa = {};    // tls.verify == dane: the host's authenticated records
};

// How a session was protected, once STARTTLS succeeded.
struct TlsFacts {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  bool verified = false;  // the certificate verified against the MX name (or DANE matched)
  bool resumed = false;   // an earlier session to the host was resumed
  std::string policy;     // the plan's label
};

// A TLS attempt that did not give an encrypted session (STARTTLS not offered or refused while
// wanted, a failed handshake, a certificate that does not verify), or one that succeeded with a
// certificate that did not verify under MTA-STS testing.
struct TlsProblem {
  std::string mx_host;
  std::string policy;           // the plan's label
  std::string reason;           // "handshake", "certificate", "not_offered", "dane" (metric label)
  std::string detail;           // for logs
  bool fell_back = false;       // retried in clear text: the host is to be remembered as TLS-broken
  bool report_only = false;     // MTA-STS testing: counted, not enforced
  std::string sending_ip;       // the connection's addresses, for TLS reports ("" : unknown)
  std::string receiving_ip;
};

struct SessionEvent {
  enum class Kind { ready, done, closed, tls_problem } kind = Kind::closed;
  std::string mx_host;                // the host this session is connected to
  smtp::TransactionResult result;     // done
  std::string reason;                 // closed: why ("" after a polite QUIT)
  bool greeted = false;               // closed: whether the session ever became ready
  smtp::Reply reply = {};             // closed: the server's reply that ended it, if one did (code 0: none)
  std::optional<TlsFacts> tls = {};   // ready, done: the session's TLS (none: clear text)
  bool ready_after = false;           // done: ready for the next transaction too (one message, not two)
  TlsProblem tls_problem = {};        // tls_problem
  // ready: how many transactions the session takes now (three on a pipelining server, else one;
  // see smtp::SmtpClient::room). A done with ready_after gives back one place.
  std::uint32_t room = 1;
};

struct SessionOptions {
  smtp::SmtpClient::Options client;
  std::chrono::seconds connect_timeout{30};
  std::string source_address;  // bind before connect; "" = any
  std::shared_ptr<TlsClientContext> tls;  // null: never STARTTLS, whatever the plans say
};

class SmtpSession {
 public:
  // Starts connecting at once. Reports to owner as (session_atom, SessionReports), gathered with
  // the other sessions' reports of the same turn of io's loop (net/session_reports.hpp), each
  // under the session's id: ready when greeted (with its room), done per transaction in the order
  // sent (with ready_after: one place free again), closed exactly once at the end.
  static std::shared_ptr<SmtpSession> start(boost::asio::io_context& io, std::uint64_t id,
                                            std::vector<SessionTarget> targets, SessionOptions opts,
                                            caf::actor owner);
  virtual ~SmtpSession() = default;
  virtual void send(smtp::Transaction txn) = 0;  // only into the room its events gave
  virtual void quit() = 0;                       // QUIT when idle, then close
  virtual void abort() = 0;                      // close now (shutdown)

  // The connection cache (net/session_cache.hpp). park(): the owner lets an idle session go; it
  // reports nothing more and quits by itself after `keep` unless claimed first. claim() (any
  // thread) takes a parked session, exactly once. adopt(): the claimed session's new owner,
  // which gets a ready event under the new id (or closed, if the server hung up meanwhile).
  virtual void park(std::chrono::milliseconds keep) = 0;
  virtual bool parked() const = 0;
  virtual bool claim() = 0;
  virtual void adopt(std::uint64_t id, caf::actor owner) = 0;
};

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::SessionEvent)
