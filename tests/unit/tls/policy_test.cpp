// The TLS decision per MX host: every operator mode against every MTA-STS state, DANE records
// present, unusable or failed, and a host remembered as TLS-broken.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/tls/policy.hpp"

using namespace volley::tls;

namespace {

StsPolicy sts(StsPolicy::Mode mode, std::vector<std::string> mx = {"mx.example.com", "*.mail.example.com"}) {
  StsPolicy p;
  p.mode = mode;
  p.mx = std::move(mx);
  p.max_age = std::chrono::seconds(86400);
  p.id = "1";
  return p;
}

const std::vector<Tlsa> kDaneEe = {Tlsa{3, 1, 1, std::string(32, 'x')}};
const std::vector<Tlsa> kOnlyPkix = {Tlsa{1, 1, 1, std::string(32, 'x')}, Tlsa{0, 0, 1, std::string(32, 'y')}};

const Mode kModes[] = {Mode::disabled, Mode::opportunistic, Mode::opportunistic_verify, Mode::required,
                       Mode::required_insecure};

}  // namespace

TEST_CASE("sts_mx_matches: exact names and one-label wildcards") {
  const auto p = sts(StsPolicy::Mode::enforce, {"mx.example.com", "*.example.net"});
  CHECK(sts_mx_matches(p, "mx.example.com"));
  CHECK(sts_mx_matches(p, "MX.Example.COM."));
  CHECK_FALSE(sts_mx_matches(p, "mx2.example.com"));
  CHECK_FALSE(sts_mx_matches(p, "a.mx.example.com"));
  CHECK(sts_mx_matches(p, "mx1.example.net"));
  CHECK(sts_mx_matches(p, "Mx1.EXAMPLE.net."));
  CHECK_FALSE(sts_mx_matches(p, "example.net"));        // the wildcard needs one more label
  CHECK_FALSE(sts_mx_matches(p, "a.b.example.net"));    // exactly one
  CHECK_FALSE(sts_mx_matches(p, ".example.net"));       // an empty label is no label
  CHECK_FALSE(sts_mx_matches(p, "evilexample.net"));
  CHECK_FALSE(sts_mx_matches(p, ""));
  CHECK_FALSE(sts_mx_matches(sts(StsPolicy::Mode::enforce, {}), "mx.example.com"));
  CHECK_FALSE(sts_mx_matches(sts(StsPolicy::Mode::enforce, {"*.*.example.com"}), "a.b.example.com"));
}

TEST_CASE("usable_tlsa: DANE-TA and DANE-EE only, known selectors and matching types") {
  CHECK(usable_tlsa(Tlsa{3, 1, 1, "x"}));
  CHECK(usable_tlsa(Tlsa{2, 0, 2, "x"}));
  CHECK(usable_tlsa(Tlsa{3, 0, 0, "x"}));
  CHECK_FALSE(usable_tlsa(Tlsa{1, 1, 1, "x"}));  // PKIX-EE: not for SMTP (RFC 7672 §3.1)
  CHECK_FALSE(usable_tlsa(Tlsa{0, 1, 1, "x"}));
  CHECK_FALSE(usable_tlsa(Tlsa{3, 2, 1, "x"}));
  CHECK_FALSE(usable_tlsa(Tlsa{3, 1, 3, "x"}));
  CHECK_FALSE(usable_tlsa(Tlsa{3, 1, 1, ""}));
}

TEST_CASE("plan: the operator's modes alone") {
  HostInputs in;
  in.mode = Mode::disabled;
  auto p = plan_host("mx.example.com", in);
  CHECK(p.starttls == StartTlsUse::never);
  CHECK(p.policy == "disabled");
  CHECK(p.use_host);

  in.mode = Mode::opportunistic;
  p = plan_host("mx.example.com", in);
  CHECK(p.starttls == StartTlsUse::try_it);
  CHECK(p.verify == Verify::none);
  CHECK(p.fallback_to_clear);
  CHECK_FALSE(p.verify_required);
  CHECK_FALSE(p.report_only);
  CHECK(p.policy == "opportunistic");

  in.mode = Mode::opportunistic_verify;
  p = plan_host("mx.example.com", in);
  CHECK(p.starttls == StartTlsUse::try_it);
  CHECK(p.verify == Verify::host_name);
  CHECK_FALSE(p.verify_required);  // shown, not enforced
  CHECK(p.fallback_to_clear);
  CHECK(p.policy == "opportunistic_verify");

  in.mode = Mode::required;
  p = plan_host("mx.example.com", in);
  CHECK(p.starttls == StartTlsUse::must);
  CHECK(p.verify == Verify::host_name);
  CHECK(p.verify_required);
  CHECK_FALSE(p.fallback_to_clear);
  CHECK(p.policy == "required");

  in.mode = Mode::required_insecure;
  p = plan_host("mx.example.com", in);
  CHECK(p.starttls == StartTlsUse::must);
  CHECK(p.verify == Verify::none);
  CHECK_FALSE(p.verify_required);
  CHECK_FALSE(p.fallback_to_clear);
  CHECK(p.policy == "required_insecure");
}

TEST_CASE("plan: a TLS-broken host is sent clear text only where clear text is allowed") {
  for (auto mode : kModes) {
    HostInputs in;
    in.mode = mode;
    in.tls_broken = true;
    const auto p = plan_host("mx.example.com", in);
    INFO(mode_name(mode));
    if (mode == Mode::required || mode == Mode::required_insecure) {
      CHECK(p.starttls == StartTlsUse::must);
    } else {
      CHECK(p.starttls == StartTlsUse::never);
    }
  }
  HostInputs dane;
  dane.tlsa = &kDaneEe;
  dane.tls_broken = true;
  CHECK(plan_host("mx.example.com", dane).starttls == StartTlsUse::must);
  const auto enforce = sts(StsPolicy::Mode::enforce);
  HostInputs sts_in;
  sts_in.sts = &enforce;
  sts_in.tls_broken = true;
  CHECK(plan_host("mx.example.com", sts_in).starttls == StartTlsUse::must);
}

TEST_CASE("plan: DANE wins over MTA-STS and the operator's mode, except disabled") {
  const StsPolicy policies[] = {sts(StsPolicy::Mode::none), sts(StsPolicy::Mode::testing),
                                sts(StsPolicy::Mode::enforce)};
  for (auto mode : kModes) {
    for (const auto& policy : policies) {
      for (const char* host : {"mx.example.com", "other.example.org"}) {
        HostInputs in;
        in.mode = mode;
        in.sts = &policy;
        in.tlsa = &kDaneEe;
        const auto p = plan_host(host, in);
        INFO(mode_name(mode) << " sts " << static_cast<int>(policy.mode) << " " << host);
        if (mode == Mode::disabled) {
          CHECK(p.policy == "disabled");
          CHECK(p.starttls == StartTlsUse::never);
          continue;
        }
        CHECK(p.use_host);  // an MX not matching MTA-STS is used when DANE covers it
        CHECK(p.policy == "dane");
        CHECK(p.starttls == StartTlsUse::must);
        CHECK(p.verify == Verify::dane);
        CHECK(p.verify_required);
        CHECK_FALSE(p.fallback_to_clear);
        CHECK_FALSE(p.report_only);
      }
    }
  }
}

TEST_CASE("plan: unusable TLSA records count as none, a failed TLSA lookup takes the host out") {
  HostInputs in;
  in.tlsa = &kOnlyPkix;
  CHECK(plan_host("mx.example.com", in).policy == "opportunistic");
  const std::vector<Tlsa> none;
  in.tlsa = &none;
  CHECK(plan_host("mx.example.com", in).policy == "opportunistic");

  in.tlsa = nullptr;
  in.tlsa_failed = true;
  const auto p = plan_host("mx.example.com", in);
  CHECK_FALSE(p.use_host);
  CHECK(p.policy == "dane");
  CHECK(p.skip_reason.find("TLSA lookup") != std::string::npos);
}

TEST_CASE("plan: MTA-STS enforce requires verified TLS and filters MX hosts") {
  const auto enforce = sts(StsPolicy::Mode::enforce);
  for (auto mode : kModes) {
    if (mode == Mode::disabled) continue;
    HostInputs in;
    in.mode = mode;
    in.sts = &enforce;
    INFO(mode_name(mode));
    for (const char* host : {"mx.example.com", "a.mail.example.com"}) {
      const auto p = plan_host(host, in);
      CHECK(p.use_host);
      CHECK(p.policy == "mta-sts");
      CHECK(p.starttls == StartTlsUse::must);
      CHECK(p.verify == Verify::host_name);
      CHECK(p.verify_required);
      CHECK_FALSE(p.fallback_to_clear);
      CHECK_FALSE(p.report_only);
    }
    const auto off = plan_host("mx.other.example", in);
    CHECK_FALSE(off.use_host);
    CHECK(off.skip_reason.find("does not match") != std::string::npos);
  }
}

TEST_CASE("plan: MTA-STS testing verifies and counts, never enforces") {
  const auto testing = sts(StsPolicy::Mode::testing);
  for (auto mode : kModes) {
    for (const char* host : {"mx.example.com", "mx.other.example"}) {
      HostInputs in;
      in.mode = mode;
      in.sts = &testing;
      const auto p = plan_host(host, in);
      INFO(mode_name(mode) << " " << host);
      CHECK(p.use_host);  // a host outside the policy is still used
      switch (mode) {
        case Mode::disabled:
          CHECK(p.policy == "disabled");
          CHECK_FALSE(p.report_only);
          break;
        case Mode::opportunistic:
        case Mode::opportunistic_verify:
          CHECK(p.policy == "mta-sts-testing");
          CHECK(p.starttls == StartTlsUse::try_it);
          CHECK(p.verify == Verify::host_name);
          CHECK_FALSE(p.verify_required);
          CHECK(p.fallback_to_clear);
          CHECK(p.report_only);
          break;
        case Mode::required:
          CHECK(p.policy == "required");
          CHECK(p.verify_required);
          CHECK(p.report_only);
          break;
        case Mode::required_insecure:
          CHECK(p.policy == "required_insecure");
          CHECK(p.starttls == StartTlsUse::must);
          CHECK(p.verify == Verify::host_name);  // judged for the count
          CHECK_FALSE(p.verify_required);        // not enforced
          CHECK(p.report_only);
          break;
      }
    }
  }
}

TEST_CASE("plan: MTA-STS mode none is no policy") {
  const auto none = sts(StsPolicy::Mode::none);
  for (auto mode : kModes) {
    HostInputs with, without;
    with.mode = without.mode = mode;
    with.sts = &none;
    CHECK(plan_host("mx.other.example", with) == plan_host("mx.other.example", without));
  }
}
