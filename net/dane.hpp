#pragma once
// DANE for outbound SMTP (RFC 7672) with OpenSSL's DANE support: the TLSA records of the MX host
// (authenticated DNSSEC answers, the caller's job) become the only way the server's certificate
// is trusted on one connection. Only DANE-TA(2) and DANE-EE(3) records are used (RFC 7672 §3.1):
// PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP. For DANE-EE the certificate's names and dates
// are not checked (RFC 7672 §3.1.1); for DANE-TA the chain must name the MX host (§3.2.2).
// Forward declarations keep OpenSSL's headers out of the includers.
#include <string>
#include <vector>

#include "core/tls/inputs.hpp"

struct ssl_ctx_st;  // SSL_CTX
struct ssl_st;      // SSL

namespace volley {

// Once per client context, before any SSL* is made from it (SSL_CTX_dane_enable); calling it
// again is harmless. False (and `error`, when given) if OpenSSL refuses.
bool enable_dane_on_context(ssl_ctx_st* ctx, std::string* error = nullptr);

// Before the handshake of one connection to `mx_host`: SNI set to the host, DANE enabled with
// the host as TLSA base domain and reference name, each usable record added, and peer
// verification switched on (SSL_VERIFY_PEER, keeping any verify callback), so a certificate no
// record matches fails the handshake. The caller must not install a host-name check of its own
// for this connection (it would refuse a DANE-EE certificate with another name).
// False (with `error`) when none of `records` is usable (all of usage 0/1, unknown selector or
// matching type, or malformed data; RFC 7672 §2.2 then still asks for TLS, unauthenticated) or
// when OpenSSL fails; the SSL* must then not be used for a DANE-authenticated session.
bool enable_dane(ssl_st* ssl, const std::string& mx_host, const std::vector<tls::Tlsa>& records,
                 std::string* error = nullptr);

}  // namespace volley
