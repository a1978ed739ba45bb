#include "daemon/submission_setup.hpp"

#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "core/submission/password.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

SmtpListenerOptions listener_options(const Config::Submission& s, bool implicit_tls, SmtpPolicyFactory policy,
                                     const std::vector<Config::SubmissionUser>& users) {
  SmtpListenerOptions o;
  o.hostname = s.hostname;
  o.max_message_size = s.max_message_size;
  o.max_connections = s.max_connections;
  o.command_timeout = s.timeout;
  o.data_timeout = 2 * s.timeout;
  // The machine's own limit is the largest; each user's is checked by the policy (452).
  o.max_recipients = 1000;
  for (const auto& u : users) o.max_recipients = std::max(o.max_recipients, u.max_recipients);
  o.tls_certificate_file = s.tls_certificate;
  o.tls_private_key_file = s.tls_private_key;
  o.policy = std::move(policy);
  o.implicit_tls = implicit_tls;
  o.log_name = "submission";
  return o;
}

}  // namespace

SubmissionService::SubmissionService(const Config& cfg, const api::InjectionApiConfig& injection) : cfg_(cfg) {
  api::SubmissionConfig c;
  c.settings = cfg.submission;
  c.users = cfg.submission_users;
  c.spool = injection.spool;
  c.prepare = injection.prepare;
  c.prepare.max_message_size = cfg.submission.max_message_size;
  c.pools = injection.pools;
  c.suppressions = injection.suppressions;
  c.on_suppressed = injection.on_suppressed;
  c.disk_guard = injection.disk_guard;
  service_ = std::make_shared<api::Submission>(std::move(c));
}

int SubmissionService::start(boost::asio::io_context& io) {
  const auto& s = cfg_.submission;
  for (bool implicit : {false, true}) {
    const auto& listen = implicit ? s.implicit_tls_listen : s.listen;
    if (!listen) continue;
    auto& listener = implicit ? implicit_ : starttls_;
    try {
      listener.emplace(io, listener_options(s, implicit, service_->policy_factory(), cfg_.submission_users), nullptr);
      listener->start(*listen);
      spdlog::info("submission: listening{}", util::log_fields("address", listen->host, "port", listener->port(), "tls", implicit ? "implicit" : "starttls"));
    } catch (const std::exception& e) {
      spdlog::critical("submission: cannot listen{}", util::log_fields("key", implicit ? "implicit_tls_listen" : "listen", "address", listen->to_string(), "error", e.what()));
      return 1;
    }
  }
  if (cfg_.submission_users.empty() && s.trusted_networks.empty())
    spdlog::warn("submission: no [[submission_user]] and no trusted_networks: every MAIL will be refused");
  return 0;
}

void SubmissionService::stop() {
  if (starttls_) starttls_->stop();
  if (implicit_) implicit_->stop();
}

std::vector<SmtpListener*> SubmissionService::listeners() {
  std::vector<SmtpListener*> out;
  for (auto* l : {&starttls_, &implicit_})
    if (*l) out.push_back(&**l);
  return out;
}

std::unique_ptr<SubmissionService> make_submission(const Config& cfg, api::InjectionApiConfig& injection) {
  if (!cfg.submission.listen && !cfg.submission.implicit_tls_listen) return nullptr;
  auto service = std::make_unique<SubmissionService>(cfg, injection);
  injection.render_metrics = [render = std::move(injection.render_metrics), s = service->service()] {
    return (render ? render() : std::string()) + s->render_metrics();
  };
  return service;
}

int run_hash_password() {
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    std::cerr << "volleyd hash-password: give the password on standard input (one line)\n";
    return 2;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  std::string error;
  const auto hash = submission::hash_password(password, &error);
  if (!hash) {
    std::cerr << "volleyd hash-password: " << error << "\n";
    return 1;
  }
  std::cout << *hash << "\n";
  return 0;
}

}  // namespace volley
