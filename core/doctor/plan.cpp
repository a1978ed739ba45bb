#include "core/doctor/plan.hpp"

#include <algorithm>

#include "core/delivery/return_path.hpp"
#include "core/dkim/key.hpp"
#include "core/util/ascii.hpp"

namespace volley::doctor {

namespace {

void add_once(std::vector<std::string>& list, std::string item) {
  if (item.empty() || std::find(list.begin(), list.end(), item) != list.end()) return;
  list.push_back(std::move(item));
}

void add_source_once(std::vector<delivery::Source>& list, const delivery::Source& s) {
  if (std::none_of(list.begin(), list.end(), [&](const delivery::Source& x) { return x.name == s.name; }))
    list.push_back(s);
}

}  // namespace

std::vector<std::string> sending_domains(const Config& cfg) {
  std::vector<std::string> out;
  for (const auto& d : cfg.dkim) add_once(out, util::ascii_lower(d.domain));
  for (const auto& r : cfg.return_paths)
    if (r.sender_domain != "*") add_once(out, util::ascii_lower(r.sender_domain));
  // What SMTP submission users may send as ([[submission_user]] sender_domains).
  for (const auto& u : cfg.submission_users)
    for (const auto& d : u.sender_domains) add_once(out, util::ascii_lower(d));
  return out;
}

std::vector<Host> hosts_to_resolve(const Config& cfg) {
  std::vector<Host> out;
  // Where mailbox providers POST one-click unsubscribes: "https://host[:port]".
  if (const std::string& url = cfg.unsubscribe.base_url; !url.empty()) {
    std::string host = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
    host = host.substr(0, host.find_first_of(":/"));
    // An address literal ("[2001:db8::1]") needs no DNS.
    if (!host.empty() && host.front() != '[') out.push_back({util::ascii_lower(host), "[unsubscribe] base_url"});
  }
  return out;
}

std::vector<delivery::Source> sources_for(const delivery::IpPools& pools, const std::string& domain) {
  std::vector<std::string> pool_names;
  bool caught = false;  // a rule for every tenant takes all of the domain's mail
  for (const auto& rule : pools.rules) {
    if (!rule.sender_domain.empty() && !util::ascii_iequals(rule.sender_domain, domain)) continue;
    add_once(pool_names, rule.pool);
    if (rule.tenant.empty()) {
      caught = true;
      break;
    }
  }
  if (!caught) add_once(pool_names, pools.default_pool);
  std::vector<delivery::Source> out;
  for (const auto& name : pool_names) {
    const auto* pool = pools.pool(name);
    if (!pool) continue;
    for (const auto& m : pool->members)
      if (const auto* s = pools.source(m.source)) add_source_once(out, *s);
  }
  return out;
}

std::vector<DkimKey> dkim_keys(const dkim::Signer& signer) {
  std::vector<DkimKey> out;
  for (const auto& k : signer.keys()) {
    out.push_back(DkimKey{k.domain, k.subdomains, k.selector,
                          k.key.algorithm() == dkim::Algorithm::ed25519_sha256 ? "ed25519" : "rsa",
                          dkim::public_key_base64(k.key)});
  }
  return out;
}

Plan make_plan(const Config& cfg, std::vector<DkimKey> keys) {
  Plan plan;
  plan.keys = std::move(keys);
  plan.smtp_in_hostname = cfg.smtp_in.hostname;
  const delivery::ReturnPaths paths(cfg.return_paths, "");
  for (const auto& domain : sending_domains(cfg)) {
    SendingDomain d;
    d.domain = domain;
    if (const auto* rule = paths.for_sender("postmaster@" + domain)) d.return_path_domain = util::ascii_lower(rule->domain);
    d.sources = sources_for(cfg.ip_pools, domain);
    for (const auto& s : d.sources) add_source_once(plan.sources, s);
    plan.domains.push_back(std::move(d));
  }
  std::vector<std::string> seen;
  for (const auto& domain : paths.bounce_domains()) {
    add_once(seen, domain);
    plan.mail_domains.push_back({domain, "return path"});
  }
  for (const auto& d : cfg.smtp_in.domains) {
    const std::string domain = util::ascii_lower(d);
    if (std::find(seen.begin(), seen.end(), domain) != seen.end()) continue;
    add_once(seen, domain);
    plan.mail_domains.push_back({domain, "[smtp_in] domain"});
  }
  plan.hosts = hosts_to_resolve(cfg);
  return plan;
}

}  // namespace volley::doctor
