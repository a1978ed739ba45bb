#pragma once
// The checks of a sending domain's authentication records, as decisions on records already
// looked up: DKIM (the selector's key record against the configured key), SPF (libspf2's
// verdict for a source address, given in), DMARC (the policy record) and DMARC alignment (the
// DKIM d= and the return path against the From domain). The doctor runner does the lookups.
#include <string>
#include <string_view>
#include <vector>

#include "core/dns/record_lookup.hpp"
#include "core/doctor/finding.hpp"
#include "core/doctor/org_domain.hpp"

namespace volley::doctor {

// A configured DKIM key as DNS should publish it.
struct DkimKey {
  std::string domain;    // d=
  bool subdomains = false;
  std::string selector;  // s=
  std::string k;         // "rsa" or "ed25519"
  std::string p;         // base64 of the public key
};

// txt: the TXT records at <selector>._domainkey.<domain>.
Finding check_dkim(const DkimKey& key, const dns::RecordResolution& txt);

// RFC 7208 §2.6 results, as libspf2 gives them.
enum class SpfResult { pass, fail, softfail, neutral, none, permerror, temperror };
struct SpfVerdict {
  SpfResult result = SpfResult::none;
  std::string record;  // the domain's "v=spf1 ..." record ("" when none was found)
  std::string detail;  // libspf2's comment, e.g. why a record is a permerror
};
// pass: ok; softfail, neutral: warn; fail, none, permerror, temperror: fail.
Finding spf_finding(std::string_view domain, std::string_view address, const SpfVerdict& verdict);

struct DmarcPolicy {
  bool found = false;      // a valid record was found
  std::string where;       // the name it was found at (_dmarc.<domain> or _dmarc.<org domain>)
  std::string record;
  std::string p;           // the policy that applies to the domain (sp= for a subdomain)
  bool strict_dkim = false;  // adkim=s
  bool strict_spf = false;   // aspf=s
};
// at_domain: TXT at _dmarc.<domain>; at_org: TXT at _dmarc.<org domain> (asked only when the
// first has no DMARC record and org != domain; pass an empty resolution otherwise). RFC 7489
// §6.6.3: the domain's own record first, then the organizational domain's.
DmarcPolicy read_dmarc(std::string_view domain, std::string_view org, const dns::RecordResolution& at_domain,
                       const dns::RecordResolution& at_org);
// A valid record with p=quarantine or p=reject: ok; p=none: warn; none or invalid: fail.
Finding check_dmarc(std::string_view domain, std::string_view org, const DmarcPolicy& policy,
                    const dns::RecordResolution& at_domain, const dns::RecordResolution& at_org);

// Whether mail From: `domain` passes DMARC by DKIM (a key whose d= aligns with it) and by SPF
// (its return path's domain aligns; "" return_path_domain: the sender's own address, aligned).
// Both: ok; one: warn (SPF alone breaks on forwarding, DKIM alone on a broken key); none: fail.
Finding check_alignment(std::string_view domain, const DmarcPolicy& policy, const std::vector<DkimKey>& keys,
                        std::string_view return_path_domain, const PublicSuffixList& psl);

// Whether relaxed alignment (same organizational domain) or, with strict, equality holds.
bool aligned(std::string_view a, std::string_view b, bool strict, const PublicSuffixList& psl);

}  // namespace volley::doctor
