#pragma once
// How one connection to one MX host is protected, decided from what is known about it: the
// operator's mode for the destination, the domain's MTA-STS policy, the host's authenticated
// TLSA records and whether the host was seen failing TLS handshakes lately. Pure: the delivery
// actor gathers the inputs, the SMTP session carries the plan out.
//
// Precedence (strongest evidence first):
//   1. tls = "disabled" for the destination: clear text, whatever the domain publishes (the
//      operator's explicit local choice, as Postfix's policy table wins over everything);
//   2. DANE (usable TLSA records, RFC 7672): TLS required, the certificate checked against them;
//      DANE wins over MTA-STS (RFC 8461 §2);
//   3. MTA-STS enforce: only MX hosts matching the policy, TLS required, the certificate
//      verified against the MX name (RFC 8461 §4);
//   4. tls = "required" / "required_insecure";
//   5. MTA-STS testing: as opportunistic_verify, each failure counted (RFC 8461 §5);
//   6. tls = "opportunistic_verify" / "opportunistic".
// Only plans that allow clear text fall back to it: a failed handshake there is retried in clear
// text on a new connection, and a host remembered as TLS-broken is not asked for STARTTLS.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls/inputs.hpp"

namespace volley::tls {

// RFC 8461 §4.1: "mx.example.com" matches itself only; "*.example.com" matches a host with
// exactly one more label on the left (not example.com, not a.b.example.com). Case and a
// trailing dot do not matter.
bool sts_mx_matches(const StsPolicy& policy, std::string_view host);

// RFC 7672 §3.1: SMTP uses DANE-TA(2) and DANE-EE(3) only; selector 0/1, matching type 0/1/2.
bool usable_tlsa(const Tlsa& record);

struct HostInputs {
  Mode mode = Mode::opportunistic;       // the destination's shaping key
  const StsPolicy* sts = nullptr;        // the domain's policy; null or mode none: no MTA-STS
  // The host's TLSA records, from an authenticated answer about a host named in a secure MX
  // answer, with DANE on; null or empty: no DANE.
  const std::vector<Tlsa>* tlsa = nullptr;
  bool tlsa_failed = false;              // DANE applies but the TLSA lookup failed (not "none")
  bool tls_broken = false;               // the host failed a TLS handshake lately
};

enum class StartTlsUse : std::uint8_t { never, try_it, must };
enum class Verify : std::uint8_t { none, host_name, dane };

struct HostPlan {
  bool use_host = true;                  // false: not to be used at all (see skip_reason)
  std::string skip_reason;               // why not, for logs and the deferral text
  StartTlsUse starttls = StartTlsUse::try_it;
  Verify verify = Verify::none;
  // The handshake fails when the certificate does not verify (otherwise verification is only
  // recorded, for the event and for MTA-STS testing's counts).
  bool verify_required = false;
  bool fallback_to_clear = true;         // a failed handshake may be retried in clear text
  bool report_only = false;              // MTA-STS testing: failures are counted, never enforced
  std::string policy;                    // events and metrics: "dane", "mta-sts", "required", ...
  friend bool operator==(const HostPlan&, const HostPlan&) = default;
};

HostPlan plan_host(std::string_view mx_host, const HostInputs& in);

}  // namespace volley::tls
