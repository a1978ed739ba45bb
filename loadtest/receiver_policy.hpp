#pragma once
// The decisions volley-receiver makes from its script and what it remembers between sessions:
// tempfail counts per recipient, greylisting triplets, message rates per client IP. Times come
// from the caller (a steady clock), so the rules are the same under any load.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/smtp/reply.hpp"
#include "receiver_script.hpp"

namespace volley::receiver {

using Clock = std::chrono::steady_clock;

struct Verdict {
  std::optional<smtp::Reply> reply;  // nullopt: accept
  std::chrono::milliseconds delay{0};
  std::optional<std::uint64_t> drop_after;  // RCPT: drop the connection after this much DATA
};

class Policy {
 public:
  explicit Policy(const Script& script) : script_(script) {}

  // A new connection, given the sessions already open from its IP and in all; nullopt = greet.
  std::optional<smtp::Reply> admit(std::size_t from_ip, std::size_t total, std::size_t hard_limit) const;
  std::optional<smtp::Reply> hello() const;
  // [refuse] mail, else the rate limit's refusal.
  std::optional<smtp::Reply> mail(const std::string& ip, Clock::time_point now);
  Verdict rcpt(const std::string& ip, const std::string& sender, const std::string& recipient, Clock::time_point now);
  // The DATA command, for the recipients accepted: [refuse] data and the rules of that stage.
  Verdict data(const std::vector<std::string>& recipients);
  // The end of data, for the recipients accepted: the end_of_data rules and the longest delay.
  Verdict message(const std::vector<std::string>& recipients);
  // The accepted recipients to bounce later, with the reply their DSN reports.
  std::vector<std::pair<std::string, smtp::Reply>> bounces(const std::vector<std::string>& recipients) const;

  const Script& script() const { return script_; }

 private:
  // True while `recipient` still has tempfails of `rule` to serve (and counts this one).
  bool tempfail(const Rule& rule, const std::string& recipient);
  // The first refusal of the rules of `stage` among the recipients, after [refuse] for it.
  Verdict refuse_at(Stage stage, const std::vector<std::string>& recipients);

  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  const Script& script_;
  std::unordered_map<std::string, int> tempfails_;  // per recipient, lower-cased
  std::map<std::tuple<std::string, std::string, std::string>, Clock::time_point> greylist_;
  std::unordered_map<std::string, Bucket> rates_;   // per client IP
};

}  // namespace volley::receiver
