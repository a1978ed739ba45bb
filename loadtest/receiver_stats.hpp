#pragma once
// What volley-receiver saw: counters per client IP and per recipient domain (served as
// GET /stats), and the event log, one JSON object per line.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace volley::receiver {

// What became of one recipient: accepted with its message, refused permanently or temporarily
// (at RCPT or at the end of data), or lost with a dropped connection.
enum class Outcome { accepted, rejected, deferred, dropped };
Outcome outcome_of(int reply_code);

class Stats {
 public:
  void connected(const std::string& ip, bool admitted);
  void closed(const std::string& ip);  // an admitted session ended
  void message(const std::string& ip);  // accepted at the end of data
  void recipient(const std::string& ip, std::string_view address, Outcome outcome);
  void rate_limited(const std::string& ip);
  void dropped(const std::string& ip);
  void tls(const std::string& ip);                   // a STARTTLS handshake completed
  void tls_message(const std::string& ip);           // a message accepted over TLS

  std::size_t concurrent(const std::string& ip) const;
  std::size_t concurrent() const { return total_.concurrent; }
  nlohmann::json to_json() const;

 private:
  struct Domain {
    std::uint64_t accepted = 0, rejected = 0, deferred = 0, dropped = 0;
  };
  struct Counters {
    std::uint64_t connections = 0, refused_connections = 0, concurrent = 0, peak_concurrent = 0;
    std::uint64_t messages = 0, rate_limited = 0, dropped = 0, tls_sessions = 0, tls_messages = 0;
    std::map<std::string, Domain> domains;
    nlohmann::json to_json() const;
  };
  template <class F>
  void both(const std::string& ip, F&& f) {
    f(total_);
    f(clients_[ip]);
  }

  Counters total_;
  std::unordered_map<std::string, Counters> clients_;
};

// Lines are kept in memory until flush(): the owner flushes once per burst of events, so the
// log costs one write per burst and is current whenever the receiver is idle.
class EventLog {
 public:
  explicit EventLog(const std::string& path);  // "" = no log
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  bool enabled() const { return fd_ >= 0; }
  void write(nlohmann::json& event);  // adds "ts", milliseconds since the Unix epoch
  void flush();
  bool pending() const { return !buffer_.empty(); }

 private:
  int fd_ = -1;
  std::string path_;
  std::string buffer_;
};

}  // namespace volley::receiver
