#include "net/smtp_listener.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "core/util/ascii.hpp"
#include "net/acceptor.hpp"
#include "net/inbound_session.hpp"
#include "net/tls_context.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

using util::ascii_lower;

struct SmtpListener::Impl {
  Impl(net::io_context& io_, SmtpListenerOptions options, InboundHandler handler) : io(io_) {
    shared = std::make_shared<ListenerShared>();
    for (const auto& d : options.accept_domains) shared->domains.push_back(ascii_lower(d));
    auto& s = shared->smtp;
    s.hostname = options.hostname;
    s.max_message_size = options.max_message_size;
    s.max_recipients = options.max_recipients;
    s.auth = s.chunking = static_cast<bool>(options.policy);
    shared->options = std::move(options);
    shared->handler = std::move(handler);
    Acceptor::Options o;
    o.name = "SMTP listener";
    o.on_error = [name = shared->options.log_name](const error_code& ec) {
      spdlog::warn("{}: accept failed{}", name, util::log_fields("error", ec.message()));
    };
    acceptor = Acceptor::make(io, std::move(o), [shared = shared](tcp::socket socket) { admit(shared, std::move(socket)); });
  }

  static void admit(const std::shared_ptr<ListenerShared>& shared, tcp::socket socket) {
    std::shared_ptr<InboundSession> session;
    {
      std::lock_guard lock(shared->mu);
      if (shared->stopped) return;  // the socket closes as it goes out of scope
      // Connections beyond the limit get a session too, so that they are told why (421).
      const bool admitted = shared->admitted < shared->options.max_connections;
      session = std::make_shared<InboundSession>(shared, std::move(socket), admitted);
      if (admitted) ++shared->admitted;
      shared->live.emplace(session.get(), session);
    }
    session->start();
  }

  net::io_context& io;
  std::shared_ptr<ListenerShared> shared;
  std::shared_ptr<Acceptor> acceptor;
  std::atomic<bool> stopped{false};
};

SmtpListener::SmtpListener(net::io_context& io, SmtpListenerOptions options, InboundHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

SmtpListener::~SmtpListener() { stop(); }

void SmtpListener::start(const HostPort& listen) {
  auto& shared = *impl_->shared;
  const auto& o = shared.options;
  smtp::SmtpServer probe(shared.smtp);  // throws now on a hostname or limit the machine refuses
  if (!o.tls_certificate_file.empty() || !o.tls_private_key_file.empty()) {
    shared.tls = make_server_tls_context(o.tls_certificate_file, o.tls_private_key_file);
    shared.smtp.starttls = !o.implicit_tls;
  }
  if (o.implicit_tls && !shared.tls) throw std::runtime_error(o.log_name + ": implicit TLS needs a certificate and a key");
  if (shared.domains.empty() && !o.policy)
    spdlog::warn("{}: no accept_domains: every recipient will be refused", o.log_name);

  const auto endpoint = Acceptor::resolve(impl_->io, listen.host, listen.port);
  if (!endpoint) throw std::runtime_error("SMTP listener: cannot resolve listen host '" + listen.host + "'");
  const auto bound = impl_->acceptor->listen(*endpoint, listen.to_string());
  spdlog::info("{}: listening{}", o.log_name,
               util::log_fields("address", endpoint_text(bound), "tls",
                                o.implicit_tls ? "implicit" : shared.tls ? "starttls" : "none"));
  impl_->acceptor->start();
}

std::uint16_t SmtpListener::port() const { return impl_->acceptor->port(); }

std::size_t SmtpListener::connection_count() const {
  std::lock_guard lock(impl_->shared->mu);
  return impl_->shared->admitted;
}

void SmtpListener::set_tls(std::shared_ptr<boost::asio::ssl::context> tls) {
  std::lock_guard lock(impl_->shared->mu);
  if (!impl_->shared->tls || !tls) throw std::logic_error("SmtpListener::set_tls: the listener was made without TLS");
  std::swap(impl_->shared->tls, tls);  // the old one goes with its last session
}

void SmtpListener::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->acceptor->close();
  std::vector<std::shared_ptr<InboundSession>> open;
  {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->stopped = true;
    if (impl_->shared->draining) impl_->shared->drained.cut = impl_->shared->live.size();
    for (auto& [ptr, weak] : impl_->shared->live) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->post_stop();
}

void SmtpListener::drain() {
  if (impl_->stopped || impl_->shared->draining.exchange(true)) return;
  impl_->acceptor->close();
  std::vector<std::shared_ptr<InboundSession>> open;
  {
    std::lock_guard lock(impl_->shared->mu);
    for (auto& [ptr, weak] : impl_->shared->live) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->post_drain();
}

bool SmtpListener::wait_drained(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(impl_->shared->mu);
  return impl_->shared->all_closed.wait_until(lock, deadline, [&] { return impl_->shared->live.empty(); });
}

SmtpListener::DrainCounts SmtpListener::drain_counts() const {
  std::lock_guard lock(impl_->shared->mu);
  return impl_->shared->drained;
}

}  // namespace volley
