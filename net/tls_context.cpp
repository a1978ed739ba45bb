#include "net/tls_context.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <stdexcept>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/util/openssl_error.hpp"

namespace volley {

namespace ssl = boost::asio::ssl;

namespace {

// Asio's error_code when OpenSSL's queue has no reason.
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string reason = util::drain_openssl_errors();
  return reason.empty() ? ec.message() : reason;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& certificate_file,
                                                      const std::string& private_key_file) {
  if (certificate_file.empty() || private_key_file.empty())
    throw std::runtime_error("TLS needs both a certificate file and a private key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("TLS: cannot require TLS 1.2 or later");
  ERR_clear_error();
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(certificate_file, ec);
  if (ec) throw std::runtime_error("TLS certificate " + certificate_file + " (PEM chain) cannot be loaded: " + openssl_reason(ec));
  auto mismatch = [&] {
    return std::runtime_error("TLS private key " + private_key_file + " does not match certificate " +
                              certificate_file + ": " + openssl_reason({}));
  };
  ctx->use_private_key_file(private_key_file, ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the key against the certificate already loaded as it reads it (Asio has
    // taken that error off the queue into ec).
    const auto e = static_cast<unsigned long>(ec.value());
    if (ec.category() == boost::asio::error::get_ssl_category() && ERR_GET_LIB(e) == ERR_LIB_X509 &&
        ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
      throw mismatch();
    throw std::runtime_error("TLS private key " + private_key_file + " (PEM) cannot be loaded: " + openssl_reason(ec));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) throw mismatch();
  return ctx;
}

bool same_certificate(ssl::context& a, ssl::context& b) {
  X509* x = SSL_CTX_get0_certificate(a.native_handle());
  X509* y = SSL_CTX_get0_certificate(b.native_handle());
  return x != nullptr && y != nullptr && X509_cmp(x, y) == 0;
}

}  // namespace volley
