#include "core/tls_rpt/policy.hpp"

#include "core/util/ascii.hpp"
#include "core/util/hex.hpp"

namespace volley::tls_rpt {

Policy sts_policy(std::string_view domain, const tls::StsPolicy& policy) {
  Policy p;
  p.type = PolicyType::sts;
  p.domain = util::ascii_lower(domain);
  p.strings.push_back("version: STSv1");
  p.strings.push_back(std::string("mode: ") + (policy.mode == tls::StsPolicy::Mode::enforce   ? "enforce"
                                               : policy.mode == tls::StsPolicy::Mode::testing ? "testing"
                                                                                              : "none"));
  for (const auto& mx : policy.mx) p.strings.push_back("mx: " + mx);
  p.strings.push_back("max_age: " + std::to_string(policy.max_age.count()));
  p.mx_hosts = policy.mx;
  return p;
}

Policy tlsa_policy(std::string_view domain, std::string_view mx_host, const std::vector<tls::Tlsa>& records) {
  Policy p;
  p.type = PolicyType::tlsa;
  p.domain = util::ascii_lower(domain);
  for (const auto& r : records) {
    std::string s = std::to_string(r.usage) + ' ' + std::to_string(r.selector) + ' ' + std::to_string(r.mtype) + ' ';
    util::append_hex(s, r.data);
    p.strings.push_back(std::move(s));
  }
  p.mx_hosts.push_back(util::ascii_lower(mx_host));
  return p;
}

Policy no_policy(std::string_view domain) {
  Policy p;
  p.type = PolicyType::no_policy_found;
  p.domain = util::ascii_lower(domain);
  return p;
}

}  // namespace volley::tls_rpt
