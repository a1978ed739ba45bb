// The TLS side of a delivery actor: before its first sessions to a set of MX hosts it gathers
// what decides their protection (the domain's MTA-STS policy from the mta_sts actor, the TLSA
// records of each host of a secure MX answer from the DNS actor when DANE is on), without
// blocking: work waits in the queue until the answers are in. Each session's targets then carry
// their plan (core/tls/policy.hpp). It also remembers the hosts whose opportunistic TLS failed,
// and counts TLS results and policy failures.
#include <utility>

#include <spdlog/spdlog.h>

#include "actors/delivery_state.hpp"
#include "actors/delivery_tls_report.hpp"
#include "core/tls/policy.hpp"
#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

using Ask = DestinationTls::Ask;

// A static route is the operator's own choice of host: the domain's published MX policies do
// not apply to it.
bool routed(const DeliveryState& st) { return st.ctx->settings.routes.count(st.domain) != 0; }

bool sts_applies(const DeliveryState& st) { return static_cast<bool>(st.ctx->mta_sts) && !routed(st); }

// RFC 7672 §2.2: TLSA records count only for hosts named in a secure MX answer.
bool dane_applies(const DeliveryState& st) {
  return st.ctx->settings.dane && st.ctx->dns && st.mx && st.mx->secure && !routed(st);
}

void count(DeliverySelf self, std::string result, std::string policy, std::string reason) {
  if (const auto& metrics = self->state.ctx->metrics)
    caf::anon_send(metrics, tls_atom::value, std::move(result), std::move(policy), std::move(reason));
}

tls::HostPlan plan_for(const DeliveryState& st, const std::string& host, tls::Mode mode, std::int64_t now) {
  const auto& t = st.tls;
  tls::HostInputs in;
  in.mode = mode;
  if (sts_applies(st) && t.sts_state == Ask::known) in.sts = &t.sts;
  if (dane_applies(st)) {
    if (auto it = t.tlsa.find(host); it != t.tlsa.end() && it->second.state == Ask::known) {
      in.tlsa = &it->second.records;
      in.tlsa_failed = it->second.failed;
    }
  }
  if (auto it = t.broken_until.find(host); it != t.broken_until.end()) in.tls_broken = now < it->second;
  return tls::plan_host(host, in);
}

// Once per policy: MX hosts an MTA-STS policy does not list (RFC 8461 §4.1). Under enforce
// they are not used; under testing they are, and the mismatch only counts.
void count_mismatches(DeliverySelf self) {
  auto& st = self->state;
  const auto& sts = st.tls.sts;
  if (sts.mode == tls::StsPolicy::Mode::none || !st.mx) return;
  const bool enforce = sts.mode == tls::StsPolicy::Mode::enforce;
  for (const auto& h : st.mx->hosts) {
    if (tls::sts_mx_matches(sts, h.name)) continue;
    spdlog::info("delivery: MX host does not match the MTA-STS policy{}{}", enforce ? "; not used" : "",
                 util::log_fields("domain", st.domain, "mx", h.name, "mode", enforce ? "enforce" : "testing"));
    count(self, "", enforce ? "mta-sts" : "mta-sts-testing", "mx_mismatch");
  }
}

void ask_sts(DeliverySelf self) {
  auto& st = self->state;
  st.tls.sts_state = Ask::pending;
  const auto generation = st.tls.generation;
  auto take = [self, generation](tls::StsPolicy policy) {
    auto& st = self->state;
    if (generation != st.tls.generation) return;
    st.tls.sts = std::move(policy);
    st.tls.sts_state = Ask::known;
    count_mismatches(self);
    pump(self);
  };
  // The actor answers from its cache, or after a TXT lookup and an HTTPS fetch with their own
  // timeouts; this one only guards against an actor that never answers.
  request_within(self, st.ctx->timers.get(), st.ctx->mta_sts, std::chrono::seconds(180), sts_atom::value, st.domain)
      .then([take](const tls::StsPolicy& policy) { take(policy); },
            [self, take](const caf::error& err) {
              spdlog::warn("delivery: MTA-STS policy not had; delivering as without one{}",
                           util::log_fields("domain", self->state.domain, "error", self->system().render(err)));
              take(tls::StsPolicy{});
            });
}

void ask_tlsa(DeliverySelf self, const std::string& host) {
  auto& st = self->state;
  st.tls.tlsa[host].state = Ask::pending;
  const auto generation = st.tls.generation;
  auto take = [self, generation, host](const dns::TlsaResolution& r) {
    auto& st = self->state;
    if (generation != st.tls.generation) return;
    auto& e = st.tls.tlsa[host];
    e.state = Ask::known;
    e.records.clear();
    // Only authenticated records count; an insecure answer or a denial is "no DANE". A lookup
    // that failed leaves the host unusable (RFC 7672 §2.2): its TLSA records may exist.
    e.failed = r.status == dns::Status::temp_fail;
    if (r.status == dns::Status::ok && r.secure) e.records = r.records;
    if (e.failed) {
      spdlog::warn("delivery: TLSA lookup failed; the host is not used{}", util::log_fields("domain", st.domain, "host", host, "error", r.error));
      count(self, "", "dane", "tlsa_lookup");
    }
    pump(self);
  };
  request_within(self, st.ctx->timers.get(), st.ctx->dns, std::chrono::seconds(60), tlsa_atom::value, host, std::uint16_t{25})
      .then([take](const dns::TlsaResolution& r) { take(r); },
            [self, take](const caf::error& err) {
              dns::TlsaResolution r;
              r.status = dns::Status::temp_fail;
              r.error = "resolver did not answer: " + self->system().render(err);
              take(r);
            });
}

}  // namespace

void forget_tls_inputs(DeliveryState& st) {
  ++st.tls.generation;
  st.tls.sts_state = Ask::not_asked;
  st.tls.sts = {};
  st.tls.tlsa.clear();
}

bool tls_inputs_ready(DeliverySelf self, std::int64_t now) {
  auto& st = self->state;
  auto& t = st.tls;
  bool ready = true;
  if (sts_applies(st)) {
    if (t.sts_state == Ask::not_asked) ask_sts(self);
    ready = ready && t.sts_state == Ask::known;
  }
  if (dane_applies(st)) {
    for (const auto& h : st.mx->hosts) {
      if (t.tlsa[h.name].state == Ask::not_asked) ask_tlsa(self, h.name);
      ready = ready && t.tlsa[h.name].state == Ask::known;
    }
  }
  if (!ready) return false;
  std::string why;
  for (const auto& h : st.mx->hosts) {
    const auto plan = plan_for(st, h.name, st.shaping.limits.tls, now);
    if (plan.use_host) return true;
    if (why.empty()) why = plan.skip_reason;
  }
  if (st.mx->hosts.empty()) return true;  // the sessions report what there is to report
  // Nowhere to send: deferred, never bounced (the policy or DNS may change).
  st.queue->fail_ready(smtp::Reply::synthetic(451, "4.7.10", std::string(smtp::kTlsRequiredText) + ": " + why), false,
                       "", now, *st.reporter);
  return false;
}

std::vector<SessionTarget> plan_targets(DeliveryState& st, std::vector<SessionTarget> targets, tls::Mode mode,
                                        std::int64_t now) {
  std::vector<SessionTarget> out;
  out.reserve(targets.size());
  for (auto& t : targets) {
    t.tls = plan_for(st, t.host, mode, now);
    if (!t.tls.use_host) continue;
    if (t.tls.verify == tls::Verify::dane) t.tlsa = st.tls.tlsa[t.host].records;
    out.push_back(std::move(t));
  }
  return out;
}

void on_tls_greeted(DeliverySelf self, Session& s) {
  if (s.counted) return;
  s.counted = true;
  // A session taken from the connection cache was counted when it was made; its new
  // destination's TLS report still counts it.
  if (!s.adopted) count(self, !s.tls ? "clear" : s.tls->verified ? "verified" : "encrypted", "", "");
  report_tls_greeted(self, s);
}

void on_tls_problem(DeliverySelf self, const TlsProblem& p) {
  auto& st = self->state;
  if (p.fell_back) {
    st.tls.broken_until[p.mx_host] =
        now_unix_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(st.ctx->settings.tls_broken_for).count();
  }
  // A certificate that did not verify under MTA-STS testing still gave an encrypted session.
  const bool session_failed = !(p.report_only && p.reason == "certificate" && !p.fell_back);
  count(self, session_failed ? "failed" : "", p.policy, p.reason);
  report_tls_problem(self, p);
}

}  // namespace volley
