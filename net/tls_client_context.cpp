#include "net/tls_client_context.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <stdexcept>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/util/openssl_error.hpp"

#include "net/dane.hpp"

namespace volley {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_errors() {
  std::string reason = util::drain_openssl_errors();
  return reason.empty() ? "unknown error" : reason;
}

// Which cache, and under what key, an SSL's sessions belong to.
struct SessionOwner {
  TlsClientContext* cache;
  std::string key;
};

int owner_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<SessionOwner*>(ptr);
      });
  return index;
}

int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* owner = static_cast<SessionOwner*>(SSL_get_ex_data(ssl, owner_index()));
  if (owner == nullptr) return 0;
  owner->cache->store(ssl, session);
  return 1;  // the cache holds the reference now
}

}  // namespace

TlsClientContext::TlsClientContext(const TlsClientOptions& options)
    : ctx_(std::make_shared<ssl::context>(ssl::context::tls_client)), capacity_(options.session_cache_size) {
  SSL_CTX* ctx = ctx_->native_handle();
  ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    throw std::runtime_error("TLS client: cannot require TLS 1.2 or later");
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(ctx) != 1)
    throw std::runtime_error("TLS client: the system CA store cannot be loaded: " + openssl_errors());
  if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("[tls] ca_file " + options.ca_file + " (PEM certificates) cannot be loaded: " +
                             openssl_errors());
  // Whether a certificate must verify is decided per connection (the TLS plan).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  if (options.dane) {
    std::string error;
    if (!enable_dane_on_context(ctx, &error)) throw std::runtime_error("TLS client: DANE cannot be enabled: " + error);
    dane_ = true;
  }
}

TlsClientContext::~TlsClientContext() {
  for (auto& [key, entry] : sessions_) SSL_SESSION_free(entry.session);
}

void TlsClientContext::prepare(SSL* ssl, const std::string& key) {
  SSL_set_ex_data(ssl, owner_index(), new SessionOwner{this, key});
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  SSL_set_session(ssl, it->second.session);  // takes its own reference
}

void TlsClientContext::store(SSL* ssl, SSL_SESSION* session) {
  auto* owner = static_cast<SessionOwner*>(SSL_get_ex_data(ssl, owner_index()));
  if (owner == nullptr || capacity_ == 0 || !SSL_SESSION_is_resumable(session)) {
    SSL_SESSION_free(session);
    return;
  }
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(owner->key); it != sessions_.end()) {
    SSL_SESSION_free(it->second.session);
    it->second.session = session;
    order_.splice(order_.end(), order_, it->second.position);
    return;
  }
  if (sessions_.size() >= capacity_) {
    auto oldest = sessions_.find(order_.front());
    SSL_SESSION_free(oldest->second.session);
    sessions_.erase(oldest);
    order_.pop_front();
  }
  order_.push_back(owner->key);
  sessions_.emplace(owner->key, Entry{session, std::prev(order_.end())});
}

}  // namespace volley
