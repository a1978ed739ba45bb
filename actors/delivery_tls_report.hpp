#pragma once
// What a delivery actor tells the TLS report actor (RFC 8460) about one session: its outcome
// under the policy in force for the domain (MTA-STS, the host's TLSA records, or none).
#include <string>

#include "actors/delivery_state.hpp"

namespace volley {

// A session greeted over TLS (or in clear text: nothing to report unless a problem was).
void report_tls_greeted(DeliverySelf self, const Session& s);
// A TLS attempt that failed, or a certificate that did not verify under MTA-STS testing.
void report_tls_problem(DeliverySelf self, const TlsProblem& p);

}  // namespace volley
