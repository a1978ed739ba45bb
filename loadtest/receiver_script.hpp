#pragma once
// volley-receiver's behaviour file (TOML): session-wide settings, replies that refuse every
// session at a chosen SMTP stage, and rules chosen by recipient address, else recipient domain,
// else the default. See loadtest/README.md for the format.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/smtp/reply.hpp"

namespace volley::receiver {

// bounce_later: accepted, then bounced with a DSN sent to the envelope sender (at bounce_to).
enum class Action { accept, reject, tempfail, greylist, drop, bounce_later };
// Where a rule's reject and tempfail answer: smtp::Stage::rcpt, data (the DATA command) or
// end_of_data.
using smtp::Stage;

struct Rule {
  Action action = Action::accept;
  Stage stage = Stage::rcpt;
  smtp::Reply reply;                       // reject, tempfail, greylist, bounce_later (in the DSN)
  int times = 1;                           // tempfail: attempts refused per recipient
  std::chrono::milliseconds greylist{0};   // greylist: from a triplet's first attempt
  std::uint64_t after_bytes = 0;           // drop: DATA bytes read before dropping
  std::chrono::milliseconds delay{0};      // before the RCPT reply and the end-of-data reply
};

struct Script {
  std::string hostname = "receiver.test";
  std::uint64_t max_message_size = 10 << 20;
  std::size_t max_recipients = 1000;
  std::size_t max_concurrent = 0;          // sessions in all; 0 = no limit
  std::size_t max_concurrent_per_ip = 0;   // sessions per client IP; 0 = no limit
  double rate = 0;                         // MAIL commands per second per client IP; 0 = no limit
  bool rate_close = false;                 // beyond the rate: 421 and close, not 451
  std::chrono::milliseconds delay{0};      // before every reply
  std::chrono::seconds idle_timeout{300};
  bool pipelining = true;
  bool chunking = false;
  std::string bounce_to;                   // "host:port" of the SMTP server DSNs go to
  // [refuse]: the reply every session gets at a stage (greeting, ehlo, mail, rcpt, data,
  // end_of_data), whoever the recipients are.
  std::map<Stage, smtp::Reply> refuse;

  Rule fallback;                                  // [default]
  std::unordered_map<std::string, Rule> addresses;  // lower-cased keys
  std::unordered_map<std::string, Rule> domains;

  const Rule& rule_for(std::string_view recipient) const;
  // The [refuse] reply for a stage, or nullopt.
  std::optional<smtp::Reply> refusal(Stage stage) const;
  // Whether any rule or [refuse] answers at the stage (the server then asks before answering).
  bool answers_at(Stage stage) const;

  // Throws std::runtime_error naming the file, the line and what is wrong.
  static Script parse(std::string_view toml, std::string_view source);
};

// "550 5.1.1 No such user" -> code, enhanced code, text; nullopt when it is not a reply line.
std::optional<smtp::Reply> parse_reply(std::string_view line);

}  // namespace volley::receiver
