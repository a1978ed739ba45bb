#pragma once
// The "policy" of a report entry (RFC 8460 §4.4) from what Volley enforced: the domain's MTA-STS
// policy (its lines as policy-string, its mx patterns as mx-host) or the MX host's TLSA records
// (in presentation form, the host as mx-host), or no policy at all.
#include <string>
#include <string_view>
#include <vector>

#include "core/tls/inputs.hpp"
#include "core/tls_rpt/aggregate.hpp"

namespace volley::tls_rpt {

// The policy file's lines as RFC 8461 §3.2 writes them, rebuilt from the parsed policy.
Policy sts_policy(std::string_view domain, const tls::StsPolicy& policy);
// "3 1 1 <hex>" per record (RFC 6698 §2.2).
Policy tlsa_policy(std::string_view domain, std::string_view mx_host, const std::vector<tls::Tlsa>& records);
Policy no_policy(std::string_view domain);

}  // namespace volley::tls_rpt
