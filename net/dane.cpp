#include "net/dane.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace volley {

namespace {

bool fail(std::string* error, std::string what) {
  if (error != nullptr) {
    const unsigned long code = ERR_get_error();
    if (code != 0) {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof buf);
      what += ": ";
      what += buf;
    }
    *error = std::move(what);
  }
  ERR_clear_error();
  return false;
}

}  // namespace

bool enable_dane_on_context(ssl_ctx_st* ctx, std::string* error) {
  if (ctx == nullptr) return fail(error, "no TLS context");
  if (SSL_CTX_dane_enable(ctx) <= 0) return fail(error, "cannot enable DANE on the TLS context");
  return true;
}

bool enable_dane(ssl_st* ssl, const std::string& mx_host, const std::vector<tls::Tlsa>& records,
                 std::string* error) {
  if (ssl == nullptr) return fail(error, "no TLS session");
  if (mx_host.empty()) return fail(error, "no MX host name for DANE");
  if (SSL_set_tlsext_host_name(ssl, mx_host.c_str()) != 1) {
    return fail(error, "cannot set SNI to " + mx_host);
  }
  if (SSL_dane_enable(ssl, mx_host.c_str()) <= 0) {
    return fail(error, "cannot enable DANE for " + mx_host);
  }
  // RFC 7672 §3.1.1: a DANE-EE record binds the key itself; names (and dates) are not checked.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int usable = 0;
  for (const tls::Tlsa& t : records) {
    if (t.usage != 2 && t.usage != 3) continue;  // PKIX-TA/PKIX-EE: unusable in SMTP
    const int rc =
        SSL_dane_tlsa_add(ssl, t.usage, t.selector, t.mtype,
                          reinterpret_cast<const unsigned char*>(t.data.data()), t.data.size());
    // 0: a selector or matching type OpenSSL does not know; < 0: malformed data. Both are
    // unusable records (RFC 7672 §2.1.1), skipped rather than fatal.
    if (rc > 0) ++usable;
    ERR_clear_error();
  }
  if (usable == 0) {
    return fail(error, "no usable TLSA record for " + mx_host + " (of " +
                           std::to_string(records.size()) + ")");
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
  return true;
}

}  // namespace volley
