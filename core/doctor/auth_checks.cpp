#include "core/doctor/auth_checks.hpp"

#include <optional>
#include <utility>

#include "core/util/ascii.hpp"

namespace volley::doctor {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string without_spaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!is_space(c)) out += c;
  return out;
}

using Tags = std::vector<std::pair<std::string, std::string>>;

// A DKIM/DMARC tag-list (RFC 6376 §3.2): "tag=value" separated by ';', a trailing ';' allowed.
// Tag names are lower-cased; nullopt when an entry has no '=' or a tag appears twice.
std::optional<Tags> parse_tags(std::string_view text) {
  Tags tags;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view item = trim(text.substr(0, semi));
    text.remove_prefix(semi == std::string_view::npos ? text.size() : semi + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    std::string name = util::ascii_lower(trim(item.substr(0, eq)));
    for (const auto& t : tags)
      if (t.first == name) return std::nullopt;
    tags.emplace_back(std::move(name), std::string(trim(item.substr(eq + 1))));
  }
  return tags;
}

const std::string* tag(const Tags& tags, std::string_view name) {
  for (const auto& t : tags)
    if (t.first == name) return &t.second;
  return nullptr;
}

std::vector<std::string> texts_of(const dns::RecordResolution& r) {
  std::vector<std::string> out;
  if (r.status != dns::Status::ok) return out;
  for (const auto& rec : r.records) out.push_back(rec.data);
  return out;
}

std::string joined(const std::vector<std::string>& texts) {
  std::string out;
  for (const auto& t : texts) out += (out.empty() ? "" : " | ") + t;
  return out;
}

bool lookup_failed(const dns::RecordResolution& r) { return r.status == dns::Status::temp_fail; }

std::string lookup_fix(std::string_view name, const dns::RecordResolution& r) {
  return "the lookup of " + std::string(name) + " failed (" + r.error +
         "): make sure the configured DNS servers answer for it, then run the check again";
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && util::ascii_iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Finding check_dkim(const DkimKey& key, const dns::RecordResolution& txt) {
  Finding f;
  f.check = "dkim";
  f.subject = key.selector + "._domainkey." + key.domain;
  const std::string wanted = "v=DKIM1; k=" + key.k + "; p=" + key.p;
  if (lookup_failed(txt)) {
    f.status = Status::fail;
    f.fix = lookup_fix(f.subject, txt);
    return f;
  }
  const auto texts = texts_of(txt);
  f.record = joined(texts);
  // A selector publishes one key record; other TXT records (a stray SPF) are not keys.
  std::optional<Tags> tags;
  for (const auto& t : texts) {
    auto parsed = parse_tags(t);
    if (parsed && tag(*parsed, "p")) {
      f.record = t;
      tags = std::move(parsed);
      break;
    }
  }
  f.status = Status::fail;
  if (!tags) {
    f.fix = texts.empty() ? "publish a TXT record at " + f.subject + ": " + wanted
                          : "replace the TXT record at " + f.subject + " with a DKIM key record: " + wanted;
    return f;
  }
  const std::string* v = tag(*tags, "v");
  if (v && (*v != "DKIM1" || tags->front().first != "v")) {
    f.fix = "start the record at " + f.subject + " with v=DKIM1 (it says v=" + *v + "): " + wanted;
    return f;
  }
  const std::string* k = tag(*tags, "k");
  const std::string published_k = k ? util::ascii_lower(*k) : "rsa";
  const std::string p = without_spaces(*tag(*tags, "p"));
  if (p.empty()) {
    f.fix = "the key at " + f.subject + " is revoked (empty p=): publish the configured key: " + wanted;
    return f;
  }
  if (published_k != key.k) {
    f.fix = "the record at " + f.subject + " says k=" + published_k + " but the configured key is " + key.k +
            ": publish " + wanted;
    return f;
  }
  if (p != key.p) {
    f.fix = "the p= at " + f.subject + " is another key than the configured one: publish " + wanted;
    return f;
  }
  f.status = Status::ok;
  return f;
}

Finding spf_finding(std::string_view domain, std::string_view address, const SpfVerdict& verdict) {
  Finding f;
  f.check = "spf";
  f.subject = std::string(domain) + " for " + std::string(address);
  f.record = verdict.record;
  const std::string mechanism = (address.find(':') != std::string_view::npos ? "ip6:" : "ip4:") + std::string(address);
  const std::string add = "add " + mechanism + " to the SPF record of " + std::string(domain);
  switch (verdict.result) {
    case SpfResult::pass:
      f.status = Status::ok;
      break;
    case SpfResult::softfail:
      f.status = Status::warn;
      f.fix = add + " (it ends in a softfail, ~all, for this address)";
      break;
    case SpfResult::neutral:
      f.status = Status::warn;
      f.fix = add + " (it is neutral, ?all, about this address)";
      break;
    case SpfResult::fail:
      f.status = Status::fail;
      f.fix = add;
      break;
    case SpfResult::none:
      f.status = Status::fail;
      f.fix = "publish a TXT record at " + std::string(domain) + ": v=spf1 " + mechanism + " -all";
      break;
    case SpfResult::permerror:
      f.status = Status::fail;
      f.fix = "correct the SPF record of " + std::string(domain) + " (" +
              (verdict.detail.empty() ? std::string("it does not parse") : verdict.detail) + "), then " + add;
      break;
    case SpfResult::temperror:
      f.status = Status::fail;
      f.fix = "the SPF lookups for " + std::string(domain) +
              " failed: make sure the configured DNS servers answer for it, then run the check again";
      break;
  }
  return f;
}

DmarcPolicy read_dmarc(std::string_view domain, std::string_view org, const dns::RecordResolution& at_domain,
                       const dns::RecordResolution& at_org) {
  DmarcPolicy policy;
  auto from = [&](const dns::RecordResolution& r, std::string_view name, bool subdomain) {
    std::vector<std::string> records;
    for (const auto& t : texts_of(r))
      if (starts_with_ci(trim(t), "v=DMARC1")) records.push_back(t);
    // RFC 7489 §6.6.3: more than one DMARC record is no record.
    if (records.size() != 1) return false;
    policy.where = "_dmarc." + std::string(name);
    policy.record = records.front();
    const auto tags = parse_tags(records.front());
    if (!tags || tags->front().first != "v" || tags->front().second != "DMARC1") return true;
    const std::string* p = tag(*tags, "p");
    const std::string* sp = tag(*tags, "sp");
    std::string applies = util::ascii_lower(subdomain && sp ? *sp : (p ? *p : ""));
    if (applies != "none" && applies != "quarantine" && applies != "reject") return true;
    policy.p = std::move(applies);
    const std::string* adkim = tag(*tags, "adkim");
    const std::string* aspf = tag(*tags, "aspf");
    policy.strict_dkim = adkim && util::ascii_lower(*adkim) == "s";
    policy.strict_spf = aspf && util::ascii_lower(*aspf) == "s";
    policy.found = true;
    return true;
  };
  if (!from(at_domain, domain, false) && org != domain) from(at_org, org, true);
  return policy;
}

Finding check_dmarc(std::string_view domain, std::string_view org, const DmarcPolicy& policy,
                    const dns::RecordResolution& at_domain, const dns::RecordResolution& at_org) {
  Finding f;
  f.check = "dmarc";
  f.subject = policy.where.empty() ? "_dmarc." + std::string(org) : policy.where;
  f.record = policy.record;
  const std::string suggested = "v=DMARC1; p=none; rua=mailto:dmarc-reports@" + std::string(org);
  if (!policy.found) {
    f.status = Status::fail;
    if (!policy.record.empty()) {
      f.fix = "correct the record at " + f.subject + ": it needs v=DMARC1 first and p=none, quarantine or reject (" +
              suggested + ")";
    } else if (lookup_failed(at_domain) || (org != domain && lookup_failed(at_org))) {
      f.fix = lookup_fix(lookup_failed(at_domain) ? "_dmarc." + std::string(domain) : f.subject,
                         lookup_failed(at_domain) ? at_domain : at_org);
    } else {
      f.fix = "publish a TXT record at _dmarc." + std::string(org) + ": " + suggested +
              ", then p=quarantine once the reports show all your mail aligned";
    }
    return f;
  }
  if (policy.p == "none") {
    f.status = Status::warn;
    f.fix = "p=none only monitors: set p=quarantine (then p=reject) at " + f.subject +
            " once the reports show all your mail aligned";
    return f;
  }
  f.status = Status::ok;
  return f;
}

bool aligned(std::string_view a, std::string_view b, bool strict, const PublicSuffixList& psl) {
  if (util::ascii_iequals(a, b)) return true;
  return !strict && psl.org_domain(a) == psl.org_domain(b);
}

Finding check_alignment(std::string_view domain, const DmarcPolicy& policy, const std::vector<DkimKey>& keys,
                        std::string_view return_path_domain, const PublicSuffixList& psl) {
  Finding f;
  f.check = "alignment";
  f.subject = std::string(domain);
  const std::string d(domain);
  // A key signs mail From: the domain when it is the key's domain or, with subdomains, under it.
  std::string dkim_d;
  bool dkim_ok = false;
  for (const auto& k : keys) {
    const bool signs = k.domain == d || (k.subdomains && d.size() > k.domain.size() &&
                                         d.compare(d.size() - k.domain.size(), k.domain.size(), k.domain) == 0 &&
                                         d[d.size() - k.domain.size() - 1] == '.');
    if (!signs) continue;
    dkim_d = k.domain;
    if (aligned(k.domain, d, policy.strict_dkim, psl)) {
      dkim_ok = true;
      break;
    }
  }
  const std::string rp = return_path_domain.empty() ? d : std::string(return_path_domain);
  const bool spf_ok = aligned(rp, d, policy.strict_spf, psl);
  const char* dkim_mode = policy.strict_dkim ? "strict" : "relaxed";
  const char* spf_mode = policy.strict_spf ? "strict" : "relaxed";
  f.record = (dkim_d.empty() ? std::string("no DKIM key") : "DKIM d=" + dkim_d) + (dkim_ok ? " aligned" : " not aligned") +
             " (" + dkim_mode + "), return path " + rp + (spf_ok ? " aligned" : " not aligned") + " (" + spf_mode + ")";
  const std::string dkim_fix = dkim_d.empty()
                                   ? "add a [[dkim]] key for " + d + " and publish its record"
                                   : "sign with a key whose d= is " + d + " (adkim=s needs the exact domain)";
  const std::string spf_fix = "use a return path under " + d + " ([[return_path]] domain = \"bounces." + d + "\")";
  if (dkim_ok && spf_ok) {
    f.status = Status::ok;
  } else if (dkim_ok || spf_ok) {
    f.status = Status::warn;
    f.fix = dkim_ok ? spf_fix + " so that DMARC passes by SPF too" : dkim_fix + " so that DMARC survives forwarding";
  } else {
    f.status = Status::fail;
    f.fix = dkim_fix + ", or " + spf_fix + ": DMARC fails for mail From: " + d;
  }
  return f;
}

}  // namespace volley::doctor
