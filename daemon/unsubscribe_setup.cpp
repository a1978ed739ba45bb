#include "daemon/unsubscribe_setup.hpp"

#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "api/unsubscribe_api.hpp"
#include "core/unsubscribe/records.hpp"
#include "core/util/ascii.hpp"
#include "net/tls_context.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

UnsubscribeService::UnsubscribeService(caf::actor_system& sys, boost::asio::io_context& io, const Config& cfg,
                                       const std::string& instance_secret, UnsubscribeParts parts)
    : io_(io),
      listen_(cfg.unsubscribe.listen),
      tls_certificate_(cfg.unsubscribe.tls_certificate),
      tls_private_key_(cfg.unsubscribe.tls_private_key),
      mailto_domain_(cfg.unsubscribe.mailto_domain) {
  if (cfg.unsubscribe.base_url.empty()) return;
  auto headers = std::make_shared<api::UnsubscribeHeaders>();
  headers->endpoints = unsubscribe::Endpoints{cfg.unsubscribe.base_url, cfg.unsubscribe.mailto_domain};
  headers->key = std::make_shared<const unsubscribe::TokenKey>(instance_secret);
  headers_ = headers;
  UnsubscribeOptions opts;
  opts.list = std::move(parts.list);
  opts.key = headers->key;
  opts.mailto_domain = mailto_domain_;
  opts.suppressions = parts.suppressions;
  opts.events = parts.events;
  opts.metrics = parts.metrics;
  opts.spool = parts.spool;
  actor_ = spawn_unsubscribe_actor(sys, std::move(opts));
}

UnsubscribeService::~UnsubscribeService() { stop(); }

Handler UnsubscribeService::routes(Handler next) const {
  if (!headers_) return next;
  api::UnsubscribeApiConfig config;
  config.key = headers_->key;
  config.unsubscribe = [actor = actor_](unsubscribe::Recipient who, std::function<void(bool)> done) {
    auto req = std::make_shared<UnsubscribeRequest>();
    req->who = std::move(who);
    req->source = unsubscribe::kOneClick;
    req->done = std::move(done);
    caf::anon_send(actor, unsub_atom::value, std::move(req));
  };
  return api::make_unsubscribe_handler(std::move(config), std::move(next));
}

InboundHandler UnsubscribeService::mail(InboundHandler next) const {
  if (!headers_ || mailto_domain_.empty()) return next;
  return [actor = actor_, domain = mailto_domain_, next = std::move(next)](
             InboundMessage&& m, std::function<void(bool ok, std::string text)> answer) {
    std::vector<std::string> mine, others;
    for (auto& r : m.recipients) {
      const auto at = r.rfind('@');
      const bool ours = at != std::string::npos && util::ascii_iequals(std::string_view(r).substr(at + 1), domain);
      (ours ? mine : others).push_back(std::move(r));
    }
    m.recipients = std::move(others);
    if (mine.empty()) return next(std::move(m), std::move(answer));
    auto report = std::make_shared<InboundReport>();
    report->peer = m.peer;
    report->reverse_path = m.reverse_path;
    report->recipients = std::move(mine);
    if (m.recipients.empty()) {
      report->answer = std::move(answer);
      caf::anon_send(actor, report_atom::value, std::move(report));
      return;
    }
    // Also for bounces or reports: those decide the answer; the unsubscribe is logged if it fails.
    report->answer = [](bool, const std::string&) {};
    caf::anon_send(actor, report_atom::value, std::move(report));
    next(std::move(m), std::move(answer));
  };
}

void UnsubscribeService::add_mailto_domain(SmtpListenerOptions& options) const {
  if (!headers_ || mailto_domain_.empty()) return;
  for (const auto& d : options.accept_domains)
    if (util::ascii_iequals(d, mailto_domain_)) return;
  options.accept_domains.push_back(mailto_domain_);
}

bool UnsubscribeService::start() {
  if (!headers_ || !listen_) return true;
  try {
    HttpServerOptions opts;
    opts.max_body_bytes = 64 * 1024;  // a one-click POST is a few bytes
    if (!tls_certificate_.empty()) opts.tls = make_server_tls_context(tls_certificate_, tls_private_key_);
    listener_ = std::make_unique<HttpServer>(io_, routes(nullptr), opts);
    listener_->start(*listen_);
    spdlog::info("unsubscribe: listening{}", util::log_fields("address", listen_->host, "port", listener_->port(), "scheme", opts.tls ? "https" : "http"));
    return true;
  } catch (const std::exception& e) {
    spdlog::critical("unsubscribe: cannot listen{}", util::log_fields("address", listen_->to_string(), "error", e.what()));
    return false;
  }
}

void UnsubscribeService::stop() {
  if (listener_) listener_->stop();
  if (actor_) caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
  actor_ = unsubscribe_actor{};
}

}  // namespace volley
