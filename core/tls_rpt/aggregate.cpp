#include "core/tls_rpt/aggregate.hpp"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/util/ascii.hpp"

namespace volley::tls_rpt {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 3> kPolicyTypes = {"sts", "tlsa", "no-policy-found"};
constexpr std::array<std::string_view, 11> kResultTypes = {
    "starttls-not-supported", "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
    "validation-failure",     "tlsa-invalid",              "dnssec-invalid",      "dane-required",
    "sts-policy-fetch-error", "sts-policy-invalid",        "sts-webpki-invalid"};

std::string policy_key(const Policy& p) {
  std::string key = p.domain;
  key += '\n';
  key += policy_type_name(p.type);
  for (const auto& s : p.strings) key += "\ns:" + s;
  for (const auto& m : p.mx_hosts) key += "\nm:" + m;
  return key;
}

std::string shortened(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max));
}

json strings_json(const std::vector<std::string>& v) { return v; }

bool strings_from(const json& j, const char* name, std::vector<std::string>* out) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_array()) return false;
  for (const auto& s : *it) {
    if (!s.is_string()) return false;
    out->push_back(s.get<std::string>());
  }
  return true;
}

std::string string_of(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t count_of(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

std::string_view policy_type_name(PolicyType t) { return kPolicyTypes.at(static_cast<std::size_t>(t)); }

std::optional<PolicyType> parse_policy_type(std::string_view s) {
  for (std::size_t i = 0; i < kPolicyTypes.size(); ++i)
    if (kPolicyTypes[i] == s) return static_cast<PolicyType>(i);
  return std::nullopt;
}

std::string_view result_type_name(ResultType t) { return kResultTypes.at(static_cast<std::size_t>(t)); }

std::optional<ResultType> parse_result_type(std::string_view s) {
  for (std::size_t i = 0; i < kResultTypes.size(); ++i)
    if (kResultTypes[i] == s) return static_cast<ResultType>(i);
  return std::nullopt;
}

void Aggregate::add(const SessionOutcome& o) {
  const auto key = policy_key(o.policy);
  auto it = policies_.find(key);
  if (it == policies_.end()) {
    if (policies_.size() >= kMaxPolicies) {
      ++dropped_;
      return;
    }
    it = policies_.emplace(key, PolicyTotals{o.policy, 0, 0, {}}).first;
  }
  auto& totals = it->second;
  if (!o.failure) {
    ++totals.successful;
    return;
  }
  ++totals.failed;
  FailureDetail d{*o.failure, o.sending_mta_ip, o.receiving_mx_hostname, o.receiving_ip,
                  shortened(o.failure_reason_code, kMaxReasonBytes), 1};
  auto same = [&d](const FailureDetail& e) {
    return e.result == d.result && e.sending_mta_ip == d.sending_mta_ip &&
           e.receiving_mx_hostname == d.receiving_mx_hostname && e.receiving_ip == d.receiving_ip &&
           e.failure_reason_code == d.failure_reason_code;
  };
  for (auto& e : totals.details) {
    if (same(e)) {
      ++e.failed_session_count;
      return;
    }
  }
  if (totals.details.size() >= kMaxDetails) {
    // Past the bound the details keep only their result type.
    d.sending_mta_ip.clear();
    d.receiving_mx_hostname.clear();
    d.receiving_ip.clear();
    d.failure_reason_code.clear();
    for (auto& e : totals.details) {
      if (same(e)) {
        ++e.failed_session_count;
        return;
      }
    }
  }
  totals.details.push_back(std::move(d));
}

std::vector<const PolicyTotals*> Aggregate::policies() const {
  std::vector<const PolicyTotals*> out;
  out.reserve(policies_.size());
  for (const auto& [key, p] : policies_) out.push_back(&p);
  return out;
}

std::vector<std::string> Aggregate::domains() const {
  std::vector<std::string> out;
  for (const auto& [key, p] : policies_)
    if (out.empty() || out.back() != p.policy.domain) out.push_back(p.policy.domain);
  return out;
}

std::vector<const PolicyTotals*> Aggregate::policies_of(std::string_view domain) const {
  std::vector<const PolicyTotals*> out;
  for (auto it = policies_.lower_bound(std::string(domain) + '\n');
       it != policies_.end() && it->second.policy.domain == domain; ++it)
    out.push_back(&it->second);
  return out;
}

json Aggregate::to_json() const {
  json policies = json::array();
  for (const auto& [key, p] : policies_) {
    json details = json::array();
    for (const auto& d : p.details)
      details.push_back({{"result-type", result_type_name(d.result)},
                         {"sending-mta-ip", d.sending_mta_ip},
                         {"receiving-mx-hostname", d.receiving_mx_hostname},
                         {"receiving-ip", d.receiving_ip},
                         {"failure-reason-code", d.failure_reason_code},
                         {"failed-session-count", d.failed_session_count}});
    policies.push_back({{"policy-type", policy_type_name(p.policy.type)},
                        {"policy-string", strings_json(p.policy.strings)},
                        {"policy-domain", p.policy.domain},
                        {"mx-host", strings_json(p.policy.mx_hosts)},
                        {"total-successful-session-count", p.successful},
                        {"total-failure-session-count", p.failed},
                        {"failure-details", std::move(details)}});
  }
  return {{"start-ms", start_ms_}, {"dropped", dropped_}, {"policies", std::move(policies)}};
}

std::optional<Aggregate> Aggregate::from_json(const json& j, std::string* error) {
  auto bad = [error](std::string why) -> std::optional<Aggregate> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!j.is_object() || !j.contains("start-ms") || !j["start-ms"].is_number_integer() || !j.contains("policies") ||
      !j["policies"].is_array())
    return bad("not a TLS report aggregate (start-ms and policies expected)");
  Aggregate a(j["start-ms"].get<std::int64_t>());
  a.dropped_ = count_of(j, "dropped");
  for (const auto& p : j["policies"]) {
    if (!p.is_object()) return bad("a policy is not an object");
    PolicyTotals t;
    const auto type = parse_policy_type(string_of(p, "policy-type"));
    if (!type) return bad("unknown policy-type");
    t.policy.type = *type;
    t.policy.domain = string_of(p, "policy-domain");
    if (t.policy.domain.empty()) return bad("a policy without policy-domain");
    if (!strings_from(p, "policy-string", &t.policy.strings) || !strings_from(p, "mx-host", &t.policy.mx_hosts))
      return bad("policy-string and mx-host must be arrays of strings");
    t.successful = count_of(p, "total-successful-session-count");
    t.failed = count_of(p, "total-failure-session-count");
    if (auto it = p.find("failure-details"); it != p.end() && it->is_array()) {
      for (const auto& d : *it) {
        if (!d.is_object()) return bad("a failure detail is not an object");
        const auto result = parse_result_type(string_of(d, "result-type"));
        if (!result) return bad("unknown result-type");
        t.details.push_back(FailureDetail{*result, string_of(d, "sending-mta-ip"), string_of(d, "receiving-mx-hostname"),
                                          string_of(d, "receiving-ip"), string_of(d, "failure-reason-code"),
                                          count_of(d, "failed-session-count")});
      }
    }
    a.policies_[policy_key(t.policy)] = std::move(t);
  }
  return a;
}

ResultType result_type_for(std::string_view reason, std::string_view detail) {
  if (reason == "not_offered" || reason == "starttls_refused") return ResultType::starttls_not_supported;
  if (reason == "certificate") {
    // OpenSSL's X509_verify_cert_error_string texts (X509_V_ERR_HOSTNAME_MISMATCH,
    // X509_V_ERR_CERT_HAS_EXPIRED); every other verification failure is a trust failure.
    const auto lower = util::ascii_lower(detail);
    if (lower.find("hostname mismatch") != std::string::npos) return ResultType::certificate_host_mismatch;
    if (lower.find("expired") != std::string::npos) return ResultType::certificate_expired;
    return ResultType::certificate_not_trusted;
  }
  return ResultType::validation_failure;  // a handshake that failed, a DANE mismatch
}

std::int64_t utc_day_start(std::int64_t unix_ms) {
  constexpr std::int64_t kDay = 86400000;
  std::int64_t day = unix_ms / kDay;
  if (unix_ms % kDay < 0) --day;
  return day * kDay;
}

}  // namespace volley::tls_rpt
