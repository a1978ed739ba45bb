#pragma once
// Server-side TLS for STARTTLS and HTTPS: one OpenSSL context per listener, shared by its sessions.
// Kept behind a forward declaration so that code including this header does not pull in
// OpenSSL's and Asio's SSL headers.
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace volley {

// TLS 1.2 or later, the certificate chain and private key read from PEM files. Throws
// std::runtime_error naming the file and OpenSSL's reason when either cannot be loaded or the
// key does not belong to the certificate: a misconfigured listener must fail at start, not at
// the first client's handshake.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& certificate_file,
                                                                   const std::string& private_key_file);

// Whether two contexts made above serve the same certificate (a reload tells a renewed one).
bool same_certificate(boost::asio::ssl::context& a, boost::asio::ssl::context& b);

}  // namespace volley
