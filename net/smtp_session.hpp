#pragma once
// One outbound SMTP connection: Boost.Asio socket I/O driving the sans-IO smtp::SmtpClient.
// Owned by a domain's delivery actor, which it reports to by message; the actor hands it one
// transaction at a time. All public calls are thread-safe (they post to the session's strand).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "core/smtp/client.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

// The tag of a session's reports to its owner (see SmtpSession::start).
using session_atom = caf::atom_constant<caf::atom("session")>;

// Where to connect, in order of preference: each MX host with its addresses.
struct SessionTarget {
  std::string host;                    // MX host name (or the route's host)
  std::vector<std::string> addresses;  // IP literals
  std::uint16_t port = 25;
};

struct SessionEvent {
  enum class Kind { ready, done, closed } kind = Kind::closed;
  std::string mx_host;                // the host this session is connected to
  smtp::TransactionResult result;     // done
  std::string reason;                 // closed: why ("" after a polite QUIT)
  bool greeted = false;               // closed: whether the session ever became ready
  smtp::Reply reply = {};             // closed: the server's reply that ended it, if one did (code 0: none)
};

struct SessionOptions {
  smtp::SmtpClient::Options client;
  std::chrono::seconds connect_timeout{30};
  std::string source_address;  // bind before connect; "" = any
};

class SmtpSession {
 public:
  // Starts connecting at once. Reports to owner as (session_atom, id, SessionEvent): ready when
  // greeted and after each transaction, done per transaction, closed exactly once at the end.
  static std::shared_ptr<SmtpSession> start(boost::asio::io_context& io, std::uint64_t id,
                                            std::vector<SessionTarget> targets, SessionOptions opts,
                                            caf::actor owner);
  virtual ~SmtpSession() = default;
  virtual void send(smtp::Transaction txn) = 0;  // only after a ready event
  virtual void quit() = 0;                       // QUIT when idle, then close
  virtual void abort() = 0;                      // close now (shutdown)
};

}  // namespace volley

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(volley::SessionEvent)
