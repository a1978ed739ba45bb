#pragma once
// Idle SMTP sessions kept open for a while for any destination that would connect to the same MX
// host from the same source under the same TLS plan. Many small domains are hosted by a few
// providers: one domain's session, idle after its mail, carries the next domain's mail without a
// new TCP connection, greeting, EHLO and STARTTLS (Postfix's connection cache by server, KumoMTA's
// per-site ready queues). Shared by every delivery actor; thread-safe.
//
// A parked session belongs to nobody: it reports nothing, keeps its connection and quits on its
// own when its time is up (SmtpSession::park). take() hands it to a new owner exactly once.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/smtp_session.hpp"

namespace volley {

class SessionCache {
 public:
  explicit SessionCache(std::size_t max_parked = 1024) : max_parked_(max_parked) {}

  // Whose sessions may carry whose mail: the source address, the MX host (name and port) and the
  // whole TLS plan. "" = never shared: DANE sessions, whose evidence is the destination's own
  // TLSA records, and hosts the plan skips.
  static std::string key(const std::string& source_address, const SessionTarget& target);

  // Keeps `session` (greeted, idle, `sent` transactions so far) for whoever asks for `key` within
  // `keep`. False when the cache is full or key is "": the caller keeps or quits it.
  bool park(const std::string& key, std::shared_ptr<SmtpSession> session, std::uint32_t sent,
            std::chrono::milliseconds keep);

  struct Taken {
    std::shared_ptr<SmtpSession> session;  // claimed: adopt() it
    std::uint32_t sent = 0;
  };
  // A parked session for key that is still usable, or a null session.
  Taken take(const std::string& key);

  // Shutdown: every parked session says QUIT, and nothing is parked from now on.
  void close_all();

  struct Stats {
    std::size_t parked = 0;           // now (still usable)
    std::uint64_t parked_total = 0;   // sessions given to the cache
    std::uint64_t taken_total = 0;    // ... and taken by a destination (a connection saved)
  };
  Stats stats() const;

 private:
  void sweep();  // drops every entry no longer parked (under mu_)
  struct Entry {
    std::shared_ptr<SmtpSession> session;
    std::uint32_t sent = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<Entry>> by_key_;
  std::size_t count_ = 0;
  bool closed_ = false;
  std::uint64_t parked_total_ = 0, taken_total_ = 0;
  std::size_t max_parked_;
};

}  // namespace volley
