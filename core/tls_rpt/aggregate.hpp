#pragma once
// The running aggregate of TLS session outcomes that RFC 8460 reports: per policy (its type,
// strings, domain and MX hosts) the successful and failed sessions, and the failures grouped by
// result type, addresses and reason. The sending MTA's actor feeds it one outcome per session
// and takes it apart per policy domain when reports are due. Pure: no clock, no I/O.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace volley::tls_rpt {

// RFC 8460 §4.4 "policy-type".
enum class PolicyType : std::uint8_t { sts, tlsa, no_policy_found };
std::string_view policy_type_name(PolicyType t);  // "sts", "tlsa", "no-policy-found"
std::optional<PolicyType> parse_policy_type(std::string_view s);

// RFC 8460 §4.3 result types.
enum class ResultType : std::uint8_t {
  starttls_not_supported,
  certificate_host_mismatch,
  certificate_expired,
  certificate_not_trusted,
  validation_failure,
  tlsa_invalid,
  dnssec_invalid,
  dane_required,
  sts_policy_fetch_error,
  sts_policy_invalid,
  sts_webpki_invalid,
};
std::string_view result_type_name(ResultType t);  // "starttls-not-supported", ...
std::optional<ResultType> parse_result_type(std::string_view s);

// What one policy entry of a report is about (RFC 8460 §4.4 "policy").
struct Policy {
  PolicyType type = PolicyType::no_policy_found;
  std::vector<std::string> strings;  // sts: the policy's lines; tlsa: the records; else none
  std::string domain;                // the policy domain (lower case)
  std::vector<std::string> mx_hosts; // sts: the policy's mx patterns; tlsa: the MX host
  friend bool operator==(const Policy&, const Policy&) = default;
};

// One SMTP session's TLS outcome under a policy.
struct SessionOutcome {
  Policy policy;
  std::optional<ResultType> failure;  // nullopt: the session was protected as the policy asks
  std::string sending_mta_ip;         // "" when not known
  std::string receiving_mx_hostname;
  std::string receiving_ip;
  std::string failure_reason_code;    // free text (an OpenSSL error), kept short
};

struct FailureDetail {
  ResultType result = ResultType::validation_failure;
  std::string sending_mta_ip;
  std::string receiving_mx_hostname;
  std::string receiving_ip;
  std::string failure_reason_code;
  std::uint64_t failed_session_count = 0;
};

struct PolicyTotals {
  Policy policy;
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  std::vector<FailureDetail> details;
};

class Aggregate {
 public:
  // Bounds that keep a hostile or huge day in memory and in one report: policies beyond
  // kMaxPolicies are dropped (counted in dropped()), details beyond kMaxDetails per policy fold
  // into one detail per result type without addresses.
  static constexpr std::size_t kMaxPolicies = 20000;
  static constexpr std::size_t kMaxDetails = 100;
  static constexpr std::size_t kMaxReasonBytes = 200;

  explicit Aggregate(std::int64_t start_ms = 0) : start_ms_(start_ms) {}

  std::int64_t start_ms() const { return start_ms_; }
  bool empty() const { return policies_.empty(); }
  std::uint64_t dropped() const { return dropped_; }

  void add(const SessionOutcome& outcome);

  // Every policy, grouped by domain (domains in order).
  std::vector<const PolicyTotals*> policies() const;
  std::vector<std::string> domains() const;
  std::vector<const PolicyTotals*> policies_of(std::string_view domain) const;

  // The aggregate as it is kept on disk (and shown by the admin API); from_json reads it back,
  // nullopt with *error for anything else.
  nlohmann::json to_json() const;
  static std::optional<Aggregate> from_json(const nlohmann::json& j, std::string* error = nullptr);

 private:
  std::int64_t start_ms_ = 0;
  std::map<std::string, PolicyTotals> policies_;  // key: domain, then the rest of the policy
  std::uint64_t dropped_ = 0;
};

// The result type RFC 8460 §4.3 gives a failure Volley's SMTP session reports: its reason
// ("not_offered", "starttls_refused", "handshake", "certificate", "dane") and its detail (which
// carries OpenSSL's verification error text for certificate failures).
ResultType result_type_for(std::string_view reason, std::string_view detail);

// Midnight UTC at or before unix_ms, in ms.
std::int64_t utc_day_start(std::int64_t unix_ms);

}  // namespace volley::tls_rpt
