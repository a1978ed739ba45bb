#include "core/tls/policy.hpp"

#include <algorithm>

#include "core/util/ascii.hpp"

namespace volley::tls {

namespace {

std::string canonical(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return util::ascii_lower(name);
}

bool pattern_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || host.empty()) return false;
  if (!pattern.starts_with("*.")) return pattern == host;
  const auto parent = pattern.substr(2);
  const auto dot = host.find('.');
  return dot != std::string_view::npos && dot != 0 && host.substr(dot + 1) == parent;
}

HostPlan required_plan(std::string policy, Verify verify) {
  HostPlan p;
  p.starttls = StartTlsUse::must;
  p.verify = verify;
  p.verify_required = verify != Verify::none;
  p.fallback_to_clear = false;
  p.policy = std::move(policy);
  return p;
}

HostPlan opportunistic_plan(std::string policy, Verify verify, bool tls_broken) {
  HostPlan p;
  p.starttls = tls_broken ? StartTlsUse::never : StartTlsUse::try_it;
  p.verify = verify;
  p.policy = std::move(policy);
  return p;
}

}  // namespace

bool sts_mx_matches(const StsPolicy& policy, std::string_view host) {
  const auto name = canonical(host);
  return std::any_of(policy.mx.begin(), policy.mx.end(),
                     [&](const std::string& pattern) { return pattern_matches(canonical(pattern), name); });
}

bool usable_tlsa(const Tlsa& r) {
  return (r.usage == 2 || r.usage == 3) && r.selector <= 1 && r.mtype <= 2 && !r.data.empty();
}

HostPlan plan_host(std::string_view mx_host, const HostInputs& in) {
  if (in.mode == Mode::disabled) {
    HostPlan p;
    p.starttls = StartTlsUse::never;
    p.policy = "disabled";
    return p;
  }
  // RFC 7672 §2.2: a host whose TLSA records cannot be had (a failed lookup, not a denial) is
  // not to be used; records that are all unusable count as none (§3.1).
  if (in.tlsa_failed) {
    HostPlan p = required_plan("dane", Verify::dane);
    p.use_host = false;
    p.skip_reason = "DANE: the TLSA lookup for " + std::string(mx_host) + " failed";
    return p;
  }
  if (in.tlsa && std::any_of(in.tlsa->begin(), in.tlsa->end(), usable_tlsa)) return required_plan("dane", Verify::dane);

  const StsPolicy::Mode sts = in.sts ? in.sts->mode : StsPolicy::Mode::none;
  if (sts == StsPolicy::Mode::enforce) {
    HostPlan p = required_plan("mta-sts", Verify::host_name);
    if (!sts_mx_matches(*in.sts, mx_host)) {
      p.use_host = false;
      p.skip_reason = "MTA-STS: " + std::string(mx_host) + " does not match the domain's policy";
    }
    return p;
  }
  HostPlan p;
  switch (in.mode) {
    case Mode::required:
      p = required_plan("required", Verify::host_name);
      break;
    case Mode::required_insecure:
      p = required_plan("required_insecure", Verify::none);
      break;
    case Mode::opportunistic_verify:
      p = opportunistic_plan(sts == StsPolicy::Mode::testing ? "mta-sts-testing" : "opportunistic_verify",
                             Verify::host_name, in.tls_broken);
      break;
    case Mode::opportunistic:
    case Mode::disabled:
      p = sts == StsPolicy::Mode::testing ? opportunistic_plan("mta-sts-testing", Verify::host_name, in.tls_broken)
                                          : opportunistic_plan("opportunistic", Verify::none, in.tls_broken);
      break;
  }
  // Testing: the certificate is judged as enforce would (unless the operator's mode asks for
  // less checking while requiring TLS), and every failure counted, never enforced.
  if (sts == StsPolicy::Mode::testing) {
    p.report_only = true;
    if (p.verify == Verify::none && !p.verify_required) p.verify = Verify::host_name;
  }
  return p;
}

}  // namespace volley::tls
