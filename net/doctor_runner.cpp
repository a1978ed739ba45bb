#include "net/doctor_runner.hpp"

#include <fstream>
#include <iterator>
#include <set>

#include "core/dns/names.hpp"
#include "core/doctor/auth_checks.hpp"
#include "core/doctor/host_checks.hpp"
#include "net/doctor_resolver.hpp"
#include "net/spf_evaluator.hpp"

namespace volley {

namespace {

constexpr std::size_t kMaxListBytes = 16 * 1024 * 1024;

void spf_for(std::vector<doctor::Finding>& out, SpfEvaluator& spf, std::set<std::string>& done,
             const std::string& domain, const std::vector<delivery::Source>& sources) {
  for (const auto& s : sources) {
    if (s.address.empty() || !done.insert(domain + " " + s.address).second) continue;
    out.push_back(doctor::spf_finding(domain, s.address, spf.evaluate(domain, s.address, s.ehlo_name)));
  }
}

}  // namespace

doctor::PublicSuffixList load_public_suffix_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text;
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (text.size() > kMaxListBytes) return {};
  return doctor::PublicSuffixList::parse(text);
}

std::vector<doctor::Finding> run_doctor(const doctor::Plan& plan, DnsTransport::Settings dns,
                                        const doctor::PublicSuffixList& psl) {
  DoctorResolver resolver(std::move(dns));
  SpfEvaluator spf(resolver);
  std::vector<doctor::Finding> out;
  if (plan.domains.empty()) {
    doctor::Finding f;
    f.check = "domains";
    f.subject = "(configuration)";
    f.status = doctor::Status::warn;
    f.fix = "no sending domain is configured: add a [[dkim]] key or a [[return_path]] for each domain you send from";
    out.push_back(std::move(f));
  }
  std::set<std::string> spf_done;
  for (const auto& d : plan.domains) {
    for (const auto& key : plan.keys) {
      if (key.domain != d.domain) continue;
      const auto& txt = resolver.lookup(key.selector + "._domainkey." + key.domain, dns::RrType::txt);
      out.push_back(doctor::check_dkim(key, txt));
    }
    spf_for(out, spf, spf_done, d.domain, d.sources);
    if (!d.return_path_domain.empty()) spf_for(out, spf, spf_done, d.return_path_domain, d.sources);
    const std::string org = psl.org_domain(d.domain);
    const auto& at_domain = resolver.lookup("_dmarc." + d.domain, dns::RrType::txt);
    static const dns::RecordResolution kNotAsked{dns::Status::perm_fail, {}, false, "", 0};
    auto policy = doctor::read_dmarc(d.domain, org, at_domain, kNotAsked);
    const dns::RecordResolution* at_org = &kNotAsked;
    if (policy.record.empty() && org != d.domain) {
      at_org = &resolver.lookup("_dmarc." + org, dns::RrType::txt);
      policy = doctor::read_dmarc(d.domain, org, at_domain, *at_org);
    }
    out.push_back(doctor::check_dmarc(d.domain, org, policy, at_domain, *at_org));
    out.push_back(doctor::check_alignment(d.domain, policy, plan.keys, d.return_path_domain, psl));
  }
  for (const auto& s : plan.sources) {
    if (s.address.empty()) {
      out.push_back(doctor::unbound_source(s.name));
      continue;
    }
    const auto reverse = dns::reverse_name(s.address);
    const auto& ptr = resolver.lookup(reverse.value_or(""), dns::RrType::ptr);
    doctor::Addresses forward;
    if (ptr.status == dns::Status::ok)
      for (const auto& r : ptr.records) forward[r.data] = resolver.addresses(r.data);
    out.push_back(doctor::check_ptr(s.name, s.address, s.ehlo_name, ptr, forward));
  }
  for (const auto& m : plan.mail_domains) {
    const auto& mx = resolver.lookup(m.domain, dns::RrType::mx);
    doctor::Addresses hosts;
    if (mx.status == dns::Status::ok)
      for (const auto& r : mx.records)
        if (!r.data.empty()) hosts[r.data] = resolver.addresses(r.data);
    out.push_back(doctor::check_mx(m.domain, m.role, plan.smtp_in_hostname, mx, hosts));
  }
  for (const auto& h : plan.hosts) {
    doctor::Addresses addresses;
    addresses[h.host] = resolver.addresses(h.host);
    out.push_back(doctor::check_host(h.host, h.role, addresses));
  }
  return out;
}

}  // namespace volley
