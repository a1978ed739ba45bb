// A delivery actor's side of TLS reporting: each session's outcome, with the policy the domain
// had, to the TLS report actor. What counts: sessions under a policy (a verified TLS session is
// a success, anything short of it a failure), and without one only TLS sessions and failed TLS
// attempts (a clear-text session nobody asked to protect is not a TLS session at all).
#include "actors/delivery_tls_report.hpp"

#include <caf/all.hpp>

#include "actors/tls_report_actor.hpp"
#include "core/tls_rpt/policy.hpp"
#include "core/util/ids.hpp"

namespace volley {

namespace {

// The policy entry for a session to mx_host under the plan labelled plan_policy; nullopt when
// the session is the operator's business alone (a static route, TLS disabled).
std::optional<tls_rpt::Policy> policy_for(const DeliveryState& st, const std::string& mx_host,
                                          const std::string& plan_policy) {
  if (st.ctx->settings.routes.count(st.domain) != 0 || plan_policy == "disabled") return std::nullopt;
  if (plan_policy == "dane") {
    auto it = st.tls.tlsa.find(mx_host);
    return tls_rpt::tlsa_policy(st.domain, mx_host, it == st.tls.tlsa.end() ? std::vector<tls::Tlsa>{} : it->second.records);
  }
  if (st.ctx->mta_sts && st.tls.sts.mode != tls::StsPolicy::Mode::none) return tls_rpt::sts_policy(st.domain, st.tls.sts);
  return tls_rpt::no_policy(st.domain);
}

void send(DeliverySelf self, TlsSessionRecord record) {
  caf::anon_send(self->state.ctx->tls_reports, tls_report_atom::value, std::move(record));
}

}  // namespace

void report_tls_greeted(DeliverySelf self, const Session& s) {
  const auto& st = self->state;
  if (!st.ctx->tls_reports || !s.tls) return;
  auto policy = policy_for(st, s.mx_host, s.tls->policy);
  if (!policy) return;
  // Unverified under a policy: MTA-STS testing let it through, and its problem is reported already.
  if (!s.tls->verified && policy->type != tls_rpt::PolicyType::no_policy_found) return;
  TlsSessionRecord r;
  r.outcome.policy = std::move(*policy);
  r.outcome.receiving_mx_hostname = s.mx_host;
  r.at_ms = now_unix_ms();
  send(self, std::move(r));
}

void report_tls_problem(DeliverySelf self, const TlsProblem& p) {
  const auto& st = self->state;
  if (!st.ctx->tls_reports) return;
  auto policy = policy_for(st, p.mx_host, p.policy);
  if (!policy) return;
  TlsSessionRecord r;
  r.outcome.policy = std::move(*policy);
  r.outcome.failure = tls_rpt::result_type_for(p.reason, p.detail);
  r.outcome.sending_mta_ip = p.sending_ip;
  r.outcome.receiving_mx_hostname = p.mx_host;
  r.outcome.receiving_ip = p.receiving_ip;
  r.outcome.failure_reason_code = p.detail;
  r.at_ms = now_unix_ms();
  send(self, std::move(r));
}

}  // namespace volley
