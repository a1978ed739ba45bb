#pragma once
// VERP (variable envelope return path): the envelope sender a recipient message leaves with, and
// reading a bounce's recipient address back into the recipient message id it names.
//   bounces+0194c3b2a1f0e9d8c7b6a5f4-0.3f9a0c1d2e@bounce.example.com
// The id is the spool's recipient id (24 hex characters, '-', index); after the dot, a tag: the
// first 10 hex digits of HMAC-SHA256(key, id). Ids alone can be guessed (the index counts from
// 0, the message id starts with its time), so only the tag makes a bounce to a made-up address
// fail: without it, one recipient could forge bounces for the others and get them suppressed.
// The X-Volley-ID header carries the same signed form.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::delivery {

struct ReturnPathRule {
  std::string sender_domain;  // lower case; "*" = every sender no other rule names
  std::string domain;         // where bounces go (its MX is Volley's [smtp_in])
  std::string prefix = "bounces";
  friend bool operator==(const ReturnPathRule&, const ReturnPathRule&) = default;
};

class ReturnPaths {
 public:
  ReturnPaths() = default;
  // key: the secret the tags are made with (the spool's instance secret).
  ReturnPaths(std::vector<ReturnPathRule> rules, std::string key);

  bool empty() const { return rules_.empty(); }
  // The rule for an envelope sender (its domain's, else "*"), or nullptr: the sender itself is
  // the return path. A null sender ("") never gets one: it must not draw bounces.
  const ReturnPathRule* for_sender(std::string_view envelope_from) const;
  // Every domain bounces come back to, lower case, without duplicates.
  std::vector<std::string> bounce_domains() const;

  // <id>.<tag>: a recipient id or message id, signed.
  std::string signed_id(std::string_view id) const;
  // The id in a signed id whose tag is right (lower-cased), else "".
  std::string verified_id(std::string_view signed_id) const;

  // <prefix>+<signed rcpt_id>@<domain>
  std::string address(const ReturnPathRule& rule, std::string_view rcpt_id) const;
  // The recipient id in a VERP address of one of the rules' domains, its tag checked ("" when it
  // is none): the prefix is any, the id must look like one.
  std::string recipient_id(std::string_view address) const;

 private:
  std::string tag(std::string_view id) const;

  std::vector<ReturnPathRule> rules_;
  std::string key_;
};

// Whether s has the shape of a spool recipient id: 24 lower-case hex, '-', 1 to 9 digits.
bool looks_like_recipient_id(std::string_view s);
// Whether s has the shape of a message id: 24 lower-case hex.
bool looks_like_message_id(std::string_view s);

}  // namespace volley::delivery
