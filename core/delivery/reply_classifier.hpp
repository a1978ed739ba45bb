#pragma once
// Why a delivery failed, in terms an operator and the retry logic can act on: a permanent failure
// gets a bounce category, a temporary one a TempfailKind. Rules match basic codes, RFC 3463
// enhanced codes, the SMTP stage (Reply::stage) and RE2 patterns over the reply text; they come from
// core/delivery/bounce_rules.toml, compiled into the binary, and from an optional operator file
// whose rules are tried first (its format is described at the top of bounce_rules.toml).
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "core/delivery/tempfail.hpp"
#include "core/smtp/reply.hpp"

namespace volley::delivery {

// Every bounce category: the names events and metrics use.
inline constexpr std::array<std::string_view, 15> kBounceCategories = {
    "bad-mailbox",     "bad-domain",      "inactive-mailbox", "quota-issues",   "bad-sender",
    "bad-configuration", "policy-related", "spam-related",    "virus-related",  "content-related",
    "routing-errors",  "protocol-errors", "bad-connection",   "message-expired", "other"};

struct Classification {
  std::string category;  // one of kBounceCategories
  std::string rule;      // name of the rule that decided; "" when none did (category "other")
};

struct TempfailClass {
  TempfailKind kind = TempfailKind::other;
  std::string rule;  // as in Classification
};

class ReplyRules;  // the compiled rules of one file

// Immutable once built: one instance can serve every actor at once (RE2 matching is
// thread-safe), and copies share the compiled rules.
class ReplyClassifier {
 public:
  // The shipped rules only.
  static ReplyClassifier builtin();
  // The operator's rules, tried before the shipped ones. On failure: every problem, one a line,
  // each naming source_name, the line, the rule (index and name) and the reason.
  static std::variant<ReplyClassifier, std::string> with_user_rules(std::string_view toml_text,
                                                                   std::string_view source_name);

  // Meant for 5xx replies.
  Classification classify_permanent(const smtp::Reply& reply) const;
  // Meant for 4xx replies, including the ones Volley makes up for failed connections.
  TempfailClass classify_temporary(const smtp::Reply& reply) const;

 private:
  ReplyClassifier(std::shared_ptr<const ReplyRules> user, std::shared_ptr<const ReplyRules> shipped);
  std::shared_ptr<const ReplyRules> user_;  // null without an operator file
  std::shared_ptr<const ReplyRules> shipped_;
};

}  // namespace volley::delivery
