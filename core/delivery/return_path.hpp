#pragma once
// VERP (variable envelope return path): the envelope sender a recipient message leaves with, and
// reading a bounce's recipient address back into the recipient message id it names.
//   bounces+0194c3b2a1f0e9d8c7b6a5f4-0@bounce.example.com
// The id is the spool's recipient id (24 hex characters, '-', index): random enough that nobody
// outside can name another message's recipient, so a forged bounce cannot suppress an address.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::delivery {

struct ReturnPathRule {
  std::string sender_domain;  // lower case; "*" = every sender no other rule names
  std::string domain;         // where bounces go (its MX is Volley's [smtp_in])
  std::string prefix = "bounces";
};

class ReturnPaths {
 public:
  ReturnPaths() = default;
  explicit ReturnPaths(std::vector<ReturnPathRule> rules);

  bool empty() const { return rules_.empty(); }
  // The rule for an envelope sender (its domain's, else "*"), or nullptr: the sender itself is
  // the return path. A null sender ("") never gets one: it must not draw bounces.
  const ReturnPathRule* for_sender(std::string_view envelope_from) const;
  // Every domain bounces come back to, lower case, without duplicates.
  std::vector<std::string> bounce_domains() const;

  // <prefix>+<rcpt_id>@<domain>
  static std::string address(const ReturnPathRule& rule, std::string_view rcpt_id);
  // The recipient id in a VERP address of one of the rules' domains ("" when it is none):
  // the prefix is any, the id must look like one.
  std::string recipient_id(std::string_view address) const;

 private:
  std::vector<ReturnPathRule> rules_;
};

// Whether s has the shape of a spool recipient id: 24 lower-case hex, '-', 1 to 9 digits.
bool looks_like_recipient_id(std::string_view s);

}  // namespace volley::delivery
