#pragma once
// The checks of the hosts around a sender, as decisions on records already looked up: a source
// address's PTR and forward-confirmed reverse DNS against its EHLO name, the MX of a domain
// Volley receives mail for ([[return_path]], [smtp_in]), and a host name that must resolve.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dns/record_lookup.hpp"
#include "core/doctor/finding.hpp"

namespace volley::doctor {

// A name's addresses (A and AAAA together) as the runner found them; a name missing from the
// map, or with none, does not resolve.
using Addresses = std::map<std::string, std::vector<std::string>>;

// ptr: the PTR records at the address's reverse name; forward: the addresses of the PTR targets
// and of ehlo_name. FCrDNS passes when a PTR target resolves back to the address; then that
// name should be the EHLO name (a mismatch is a warn: receivers compare them).
Finding check_ptr(std::string_view source, std::string_view address, std::string_view ehlo_name,
                  const dns::RecordResolution& ptr, const Addresses& forward);

// mx: the domain's MX records; hosts: the addresses of the exchanges. Every exchange resolves:
// ok; some: warn; no MX, a null MX or no exchange resolving: fail. role says why Volley needs
// mail for the domain ("return path", "[smtp_in] domain"); expected_host is [smtp_in] hostname.
Finding check_mx(std::string_view domain, std::string_view role, std::string_view expected_host,
                 const dns::RecordResolution& mx, const Addresses& hosts);

// A host name that must resolve (A or AAAA) for role (e.g. "[unsubscribe] base_url").
Finding check_host(std::string_view host, std::string_view role, const Addresses& addresses);

// A source without an address (the kernel picks one): nothing to check, said as a warn.
Finding unbound_source(std::string_view source);

}  // namespace volley::doctor
