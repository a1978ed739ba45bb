#pragma once
// Client-side TLS for outbound STARTTLS: one OpenSSL context shared by every SMTP session (TLS
// 1.2 or later, OpenSSL's default ciphers, the system CA store plus [tls] ca_file, DANE enabled
// when asked), and a small cache of TLS sessions per MX host so that reconnecting to a host
// resumes instead of doing a full handshake. Kept behind forward declarations so that code
// including this header does not pull in OpenSSL's and Asio's SSL headers.
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace boost::asio::ssl {
class context;
}
struct ssl_st;
struct ssl_session_st;

namespace volley {

struct TlsClientOptions {
  std::string ca_file;               // PEM certificates trusted besides the system store; "" = none
  bool dane = false;                 // enable OpenSSL's DANE support on the context
  std::size_t session_cache_size = 4096;  // hosts whose last TLS session is kept
};

class TlsClientContext {
 public:
  // Throws std::runtime_error naming the file and OpenSSL's reason when the CA file cannot be
  // loaded: a bad trust anchor must stop the daemon at start, not defer every recipient.
  explicit TlsClientContext(const TlsClientOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  boost::asio::ssl::context& context() { return *ctx_; }
  bool dane_enabled() const { return dane_; }

  // Before the handshake: resume the session last established under `key` (the MX host and how
  // it is verified), if any; and remember `key` so the sessions the server hands out are kept.
  void prepare(ssl_st* ssl, const std::string& key);
  // For the OpenSSL callback: a new session (a TLS 1.3 ticket may come after the handshake).
  void store(ssl_st* ssl, ssl_session_st* session);

 private:
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  bool dane_ = false;
  std::size_t capacity_;
  std::mutex mutex_;
  std::list<std::string> order_;  // oldest first
  struct Entry {
    ssl_session_st* session;
    std::list<std::string>::iterator position;
  };
  std::unordered_map<std::string, Entry> sessions_;
};

}  // namespace volley
