#pragma once
// One-click unsubscribe (docs/unsubscribe.md) from [unsubscribe], for main: the token key
// (derived from the spool's instance secret), the unsubscribe actor, the /u/ routes in front of
// the API, the mailto path on [smtp_in] and the optional own listener. When [unsubscribe] is
// not configured every part passes through and nothing is spawned.
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/unsubscribe_actor.hpp"
#include "api/unsubscribe_injection.hpp"
#include "core/config/config.hpp"
#include "net/http_server.hpp"
#include "net/smtp_listener.hpp"

namespace volley {

// What the unsubscribe actor works with, all from main.
struct UnsubscribeParts {
  std::shared_ptr<storage::SuppressionList> list;
  suppression_actor suppressions;
  events_actor events;
  metrics_actor metrics;
  caf::actor spool;
};

class UnsubscribeService {
 public:
  UnsubscribeService(caf::actor_system& sys, boost::asio::io_context& io, const Config& cfg,
                     const std::string& instance_secret, UnsubscribeParts parts);
  ~UnsubscribeService();
  UnsubscribeService(const UnsubscribeService&) = delete;
  UnsubscribeService& operator=(const UnsubscribeService&) = delete;

  // For InjectionApiConfig::unsubscribe: null when not configured.
  std::shared_ptr<const api::UnsubscribeHeaders> headers() const { return headers_; }
  // next with /u/<token> served in front of it.
  Handler routes(Handler next) const;
  // next with mail to the mailto domain taken out of it and unsubscribed.
  InboundHandler mail(InboundHandler next) const;
  // The [smtp_in] listener takes the mailto domain too.
  void add_mailto_domain(SmtpListenerOptions& options) const;
  // Starts [unsubscribe] listen when set; false (logged as critical) when it cannot.
  bool start();
  // Stops the listener and the actor (before the suppression actor stops).
  void stop();
  // A renewed certificate for its own listener, when that speaks HTTPS (else nothing to renew).
  void set_tls(std::shared_ptr<boost::asio::ssl::context> tls) {
    if (listener_ && !tls_certificate_.empty()) listener_->set_tls(std::move(tls));
  }

 private:
  boost::asio::io_context& io_;
  std::optional<HostPort> listen_;
  std::string tls_certificate_, tls_private_key_;  // both set: the listener speaks HTTPS
  std::string mailto_domain_;
  std::shared_ptr<const api::UnsubscribeHeaders> headers_;
  unsubscribe_actor actor_;
  std::unique_ptr<HttpServer> listener_;
};

}  // namespace volley
