#pragma once
// Idle SMTP sessions kept open for a while for any destination that would connect to the same MX
// host from the same source under the same TLS plan. Many small domains are hosted by a few
// providers: one domain's session, idle after its mail, carries the next domain's mail without a
// new TCP connection, greeting, EHLO and STARTTLS (Postfix's connection cache by server, KumoMTA's
// per-site ready queues). Shared by every delivery actor; thread-safe.
//
// A parked session belongs to nobody: it reports nothing, keeps its connection and quits on its
// own when its time is up (SmtpSession::park). take() hands it to a new owner exactly once.
//
// It also gates new connections per key: at most max_connecting attempts (connecting, not yet
// greeted) at once, over every destination. A burst of new destinations hosted by one provider
// then waits for the sessions already on their way to be greeted, used and parked, instead of
// opening a connection each: 10,000 domains with a message each opened thousands at once, and
// each new connection waited seconds for its greeting (loadtest/README.md, issue 14, round ten).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/smtp_session.hpp"

namespace volley {

class SessionCache : public std::enable_shared_from_this<SessionCache> {
 public:
  // max_connecting 0: attempts are not gated.
  explicit SessionCache(std::size_t max_parked = 1024, std::size_t max_connecting = 0)
      : max_parked_(max_parked), max_connecting_(max_connecting) {}

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

  // A connection attempt counted under its key until it ends (greeted or failed: end(), or the
  // Attempt goes). Empty: not counted (no gate, or a key that is never shared).
  class Attempt {
   public:
    Attempt() = default;
    Attempt(Attempt&& o) noexcept : cache_(std::move(o.cache_)), key_(std::move(o.key_)) {}
    Attempt& operator=(Attempt&& o) noexcept;
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;
    ~Attempt() { end(); }
    void end();

   private:
    friend class SessionCache;
    Attempt(std::shared_ptr<SessionCache> cache, std::string key) : cache_(std::move(cache)), key_(std::move(key)) {}
    std::shared_ptr<SessionCache> cache_;
    std::string key_;
  };
  // Called when a refused attempt may succeed now (a session was parked under its key, or an
  // attempt ended), once, on the thread that parked or ended.
  using Wake = std::function<void()>;
  // True and *attempt counted if fewer than max_connecting attempts are under way for key (or
  // there is no gate); false otherwise, with `wake` queued unless it is empty (the caller is in
  // line already).
  bool try_connect(const std::string& key, Wake wake, Attempt* attempt);
  // A woken caller that had no use for the chance passes it on to the next in line for key.
  void pass_on(const std::string& key);

  struct Stats {
    std::size_t parked = 0;           // now (still usable)
    std::uint64_t parked_total = 0;   // sessions given to the cache
    std::uint64_t taken_total = 0;    // ... and taken by a destination (a connection saved)
    std::size_t connecting = 0;       // attempts under way, every key
    std::size_t waiting = 0;          // destinations waiting for an attempt or a parked session
  };
  Stats stats() const;

 private:
  void sweep();  // drops every entry no longer parked (under mu_)
  void attempt_ended(const std::string& key);
  // With mu_ held by lock: takes the first in line for key, if any, lets go of the lock and wakes it.
  void wake_next(std::unique_lock<std::mutex>& lock, const std::string& key);
  struct Gate {
    std::size_t connecting = 0;
    std::deque<Wake> waiting;
  };
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
  std::size_t max_connecting_;
  std::unordered_map<std::string, Gate> gates_;  // keys with attempts under way or waiters
};

}  // namespace volley
