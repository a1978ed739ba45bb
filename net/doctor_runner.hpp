#pragma once
// The doctor's run: every lookup a plan (core/doctor/plan.hpp) needs, through the configured DNS
// servers, and core/doctor's checks on the answers, in report order (per sending domain: DKIM,
// SPF, DMARC, alignment; then each source's PTR, the MX of the domains Volley receives mail for,
// the hosts that must resolve). Blocking: `volleyd doctor` calls it on its main thread,
// GET /api/v1/doctor on a thread of its own.
#include <string>
#include <vector>

#include "core/doctor/finding.hpp"
#include "core/doctor/org_domain.hpp"
#include "core/doctor/plan.hpp"
#include "net/dns_transport.hpp"

namespace volley {

inline constexpr const char* kPublicSuffixListPath = "/usr/share/publicsuffix/public_suffix_list.dat";

// The list at `path` (Debian's publicsuffix package); without it, an empty list: org domains
// are then the last two labels.
doctor::PublicSuffixList load_public_suffix_list(const std::string& path = kPublicSuffixListPath);

std::vector<doctor::Finding> run_doctor(const doctor::Plan& plan, DnsTransport::Settings dns,
                                        const doctor::PublicSuffixList& psl);

}  // namespace volley
