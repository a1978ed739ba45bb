#include "net/smtp_session.hpp"

#include <atomic>
#include <utility>  // before Boost.Asio: Boost 1.74 + C++20 (see build-facts)

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "net/dane.hpp"
#include "net/session_reports.hpp"
#include "net/tls_client_context.hpp"
#include "core/util/log_fields.hpp"


namespace volley {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

smtp::StartTlsUse client_use(tls::StartTlsUse use) {
  switch (use) {
    case tls::StartTlsUse::never: return smtp::StartTlsUse::never;
    case tls::StartTlsUse::try_it: return smtp::StartTlsUse::when_offered;
    case tls::StartTlsUse::must: return smtp::StartTlsUse::required;
  }
  return smtp::StartTlsUse::never;
}

const char* verify_name(tls::Verify v) {
  switch (v) {
    case tls::Verify::none: return "none";
    case tls::Verify::host_name: return "host";
    case tls::Verify::dane: return "dane";
  }
  return "?";
}

class AsioSmtpSession final : public SmtpSession, public std::enable_shared_from_this<AsioSmtpSession> {
 public:
  AsioSmtpSession(asio::io_context& io, std::uint64_t id, std::vector<SessionTarget> targets,
                  SessionOptions opts, caf::actor owner)
      : io_(io),
        strand_(asio::make_strand(io)),
        socket_(strand_),
        timer_(strand_),
        park_timer_(strand_),
        id_(id),
        targets_(std::move(targets)),
        opts_(std::move(opts)),
        owner_(std::move(owner)),
        client_(opts_.client) {}

  void begin() {
    asio::post(strand_, [self = shared_from_this()] { self->connect_next(); });
  }

  void send(smtp::Transaction txn) override {
    asio::post(strand_, [self = shared_from_this(), txn = std::move(txn)]() mutable {
      if (self->finished_ || self->client_.room() == 0) {
        // The session died between its ready event and this transaction (or was given more than
        // its room): give every recipient a temporary failure so the delivery actor requeues them.
        smtp::TransactionResult r;
        r.per_rcpt.assign(txn.rcpts.size(),
                          smtp::Reply::synthetic(451, "4.4.2", "session closed before transaction"));
        SessionEvent ev{SessionEvent::Kind::done, self->mx_host_, std::move(r), {}, true};
        ev.tls = self->tls_facts_;
        self->report(std::move(ev));
        return;
      }
      self->client_.start(std::move(txn));
      self->pump();
    });
  }

  void quit() override {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->finished_) return;
      if (self->client_.phase() == smtp::ClientPhase::idle) {
        self->client_.quit();
        self->pump();
      } else if (!self->connected_) {
        self->finish("quit before connect");
      }
    });
  }

  void abort() override {
    asio::post(strand_, [self = shared_from_this()] { self->finish("aborted"); });
  }

  void park(std::chrono::milliseconds keep) override {
    cache_state_.store(kParked);
    asio::post(strand_, [self = shared_from_this(), keep] {
      self->owner_ = caf::actor();
      self->park_timer_.expires_after(keep);
      self->park_timer_.async_wait([self](const boost::system::error_code& err) {
        int parked = kParked;
        if (err || self->finished_ || !self->cache_state_.compare_exchange_strong(parked, kGone)) return;
        self->client_.quit();
        self->pump();
      });
    });
  }

  bool parked() const override { return cache_state_.load() == kParked; }

  bool claim() override {
    int parked = kParked;
    return cache_state_.compare_exchange_strong(parked, kClaimed);
  }

  void adopt(std::uint64_t id, caf::actor owner) override {
    asio::post(strand_, [self = shared_from_this(), id, owner = std::move(owner)]() mutable {
      self->owner_ = std::move(owner);
      self->id_ = id;
      self->cache_state_.store(kOwned);
      self->park_timer_.cancel();
      if (self->finished_) {
        SessionEvent ev;
        ev.kind = SessionEvent::Kind::closed;
        ev.mx_host = self->mx_host_;
        ev.reason = "closed while idle in the connection cache";
        ev.greeted = true;
        self->report(std::move(ev));
        return;
      }
      SessionEvent ev{SessionEvent::Kind::ready, self->mx_host_, {}, {}, true};
      ev.tls = self->tls_facts_;
      ev.room = static_cast<std::uint32_t>(self->client_.room());
      self->report(std::move(ev));
    });
  }

 private:
  // ---- connecting: every address of every target in order (MX fallback) ----
  void connect_next() {
    if (finished_) return;
    while (target_ < targets_.size() && address_ >= targets_[target_].addresses.size()) {
      ++target_;
      address_ = 0;
    }
    if (target_ >= targets_.size()) {
      finish(last_error_.empty() ? "no address to connect to" : last_error_);
      return;
    }
    const auto& t = targets_[target_];
    if (!retry_clear_) clear_only_ = false;  // a new address: its plan as it stands
    retry_clear_ = false;
    const std::string& addr = t.addresses[address_++];
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(addr, ec);
    if (ec) {
      last_error_ = "bad address " + addr;
      connect_next();
      return;
    }
    tcp::endpoint ep(ip, t.port);
    socket_ = tcp::socket(strand_);
    socket_.open(ep.protocol(), ec);
    if (!ec && !opts_.source_address.empty()) {
      auto src = asio::ip::make_address(opts_.source_address, ec);
      if (!ec) socket_.bind(tcp::endpoint(src, 0), ec);
    }
    if (ec) {
      last_error_ = "socket: " + ec.message();
      connect_next();
      return;
    }
    arm_timer(opts_.connect_timeout, [this] {
      last_error_ = "connect to " + targets_[target_].host + " timed out";
      boost::system::error_code ignored;
      socket_.close(ignored);
    });
    socket_.async_connect(ep, [self = shared_from_this(), ep](const boost::system::error_code& err) {
      self->timer_.cancel();
      if (self->finished_) return;
      if (err) {
        if (err != asio::error::operation_aborted)
          self->last_error_ = "connect to " + self->targets_[self->target_].host + " [" +
                              ep.address().to_string() + "]:" + std::to_string(ep.port()) + ": " +
                              err.message();
        self->connect_next();
        return;
      }
      self->connected_ = true;
      self->mx_host_ = self->targets_[self->target_].host;
      boost::system::error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      // One client per connection: the plan of the host says whether it asks for STARTTLS.
      auto copts = self->opts_.client;
      const auto& plan = self->targets_[self->target_].tls;
      copts.starttls = self->opts_.tls && !self->clear_only_ ? client_use(plan.starttls) : smtp::StartTlsUse::never;
      if (!self->opts_.tls && plan.starttls == tls::StartTlsUse::must) copts.starttls = smtp::StartTlsUse::required;
      self->client_ = smtp::SmtpClient(copts);
      self->client_.on_connected();
      self->pump();
      self->read();
    });
  }

  // ---- reading ----
  void read() {
    if (reading_ || finished_ || tls_wanted_ || handshaking_) return;
    reading_ = true;
    auto on_read = [self = shared_from_this(), socket_generation = socket_generation_](
                       const boost::system::error_code& err, std::size_t n) {
      if (socket_generation != self->socket_generation_) return;  // a read of a connection given up
      self->reading_ = false;
      if (self->finished_) return;
      if (err) {
        self->client_.on_closed(err == asio::error::eof ? "connection closed by peer" : err.message());
        self->pump();
        self->finish("connection lost: " + err.message());
        return;
      }
      self->client_.on_bytes(std::string_view(self->rbuf_.data(), n));
      self->pump();
      self->read();
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(rbuf_), std::move(on_read));
    } else {
      socket_.async_read_some(asio::buffer(rbuf_), std::move(on_read));
    }
  }

  // ---- STARTTLS ----
  const tls::HostPlan& plan() const { return targets_[target_].tls; }

  // The 220 to STARTTLS is in and nothing followed it: the handshake, set up as the plan says.
  void start_tls() {
    tls_wanted_ = false;
    if (!opts_.tls) return tls_failed("handshake", "no TLS client context");  // required without TLS set up
    handshaking_ = true;
    tls_.emplace(socket_, opts_.tls->context());
    SSL* ssl = tls_->native_handle();
    const auto& t = targets_[target_];
    boost::system::error_code ec;
    asio::ip::make_address(t.host, ec);
    const bool literal = !ec;  // a static route's IP literal: no SNI, no name to check
    if (!literal) SSL_set_tlsext_host_name(ssl, t.host.c_str());
    const auto& p = plan();
    if (p.verify == tls::Verify::dane) {
      std::string error;
      if (!opts_.tls->dane_enabled() || !enable_dane(ssl, t.host, t.tlsa, &error)) {
        handshaking_ = false;
        return tls_failed("dane", error.empty() ? "DANE not enabled" : error);
      }
    } else {
      // The name is checked whenever there is one, so the event can say whether it verified;
      // only a plan that requires it fails the handshake over it.
      if (!literal) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, t.host.c_str(), t.host.size());
      }
      SSL_set_verify(ssl, p.verify_required ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    }
    // A session is resumed only under the same evidence: with DANE the TLSA records are part of
    // the key, so a changed record set never resumes a session checked against the old one.
    std::string resume_key = t.host + '|' + std::string(verify_name(p.verify));
    if (p.verify == tls::Verify::dane) {
      for (const auto& r : t.tlsa) {
        resume_key += '|';
        resume_key += static_cast<char>('0' + r.usage);
        resume_key += static_cast<char>('0' + r.selector);
        resume_key += static_cast<char>('0' + r.mtype);
        resume_key += r.data;
      }
    }
    opts_.tls->prepare(ssl, resume_key);
    handshake_timed_out_ = false;
    arm_timer(opts_.client.tls_handshake_timeout, [this] {
      handshake_timed_out_ = true;
      boost::system::error_code ignored;
      socket_.cancel(ignored);
    });
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](const boost::system::error_code& err) {
      self->handshaking_ = false;
      self->timer_.cancel();
      if (self->finished_) return;
      SSL* ssl = self->tls_->native_handle();
      const long verify = SSL_get_verify_result(ssl);
      if (err) {
        const bool cert = verify != X509_V_OK && self->plan().verify_required;
        std::string detail = self->handshake_timed_out_ ? std::string("timed out") : err.message();
        if (cert) detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        return self->tls_failed(self->plan().verify == tls::Verify::dane && cert ? "dane" : cert ? "certificate" : "handshake",
                                detail);
      }
      TlsFacts facts;
      facts.version = SSL_get_version(ssl);
      facts.cipher = SSL_get_cipher_name(ssl);
      facts.verified = verify == X509_V_OK && SSL_get0_peer_certificate(ssl) != nullptr &&
                       (self->plan().verify == tls::Verify::dane || SSL_get0_peername(ssl) != nullptr);
      facts.resumed = SSL_session_reused(ssl) == 1;
      facts.policy = self->plan().policy;
      if (!facts.verified && self->plan().report_only && self->plan().verify != tls::Verify::none)
        self->problem("certificate", X509_verify_cert_error_string(verify), false);
      self->tls_facts_ = std::move(facts);
      self->client_.on_tls_established();
      self->pump();
      self->read();
    });
  }

  void problem(std::string reason, std::string detail, bool fell_back) {
    SessionEvent ev;
    ev.kind = SessionEvent::Kind::tls_problem;
    ev.mx_host = mx_host_;
    ev.tls_problem = TlsProblem{mx_host_, plan().policy, std::move(reason), std::move(detail), fell_back,
                                plan().report_only, {}, {}};
    boost::system::error_code ec;
    if (const auto local = socket_.local_endpoint(ec); !ec) ev.tls_problem.sending_ip = local.address().to_string();
    if (const auto remote = socket_.remote_endpoint(ec); !ec) ev.tls_problem.receiving_ip = remote.address().to_string();
    report(std::move(ev));
  }

  // The handshake (or its set-up) failed. Opportunistic: the same address again in clear text,
  // on a new connection (the failed one is in an unknown state). Required: the next MX host, if
  // any; else the session ends with the client's tls_required reply.
  void tls_failed(std::string reason, std::string detail) {
    const bool fallback = plan().fallback_to_clear;
    problem(reason, detail, fallback);
    spdlog::info("delivery: TLS failed{}{}", fallback ? "; trying again in clear text" : "",
                 util::log_fields("mx", mx_host_, "policy", plan().policy, "error", detail));
    if (fallback) {
      retry_clear_ = clear_only_ = true;
      --address_;
      return reconnect();
    }
    tls_problem_reported_ = true;
    client_.on_tls_failed(detail);
    pump();  // SessionFailed (tls_required), then the next host or the end
  }

  // Gives the current connection up (no QUIT: its TLS state is unknown) and connects again.
  void reconnect() {
    boost::system::error_code ignored;
    timer_.cancel();
    tls_.reset();
    socket_.close(ignored);
    ++socket_generation_;
    reading_ = tls_wanted_ = handshaking_ = close_after_writes_ = false;
    tls_required_failure_ = tls_problem_reported_ = false;
    connected_ = false;
    pending_.clear();
    tls_facts_.reset();
    connect_next();
  }

  // ---- carrying out the client's actions ----
  void pump() {
    auto actions = client_.take_actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
      auto& action = actions[i];
      if (auto* w = std::get_if<smtp::WriteBytes>(&action)) {
        pending_.push_back(std::move(*w));
      } else if (std::holds_alternative<smtp::SessionReady>(action)) {
        greeted_ = true;
        SessionEvent ev{SessionEvent::Kind::ready, mx_host_, {}, {}, true};
        ev.tls = tls_facts_;
        ev.room = static_cast<std::uint32_t>(client_.room());
        report(std::move(ev));
      } else if (auto* d = std::get_if<smtp::TransactionDone>(&action)) {
        SessionEvent ev{SessionEvent::Kind::done, mx_host_, std::move(d->result), {}, true};
        ev.tls = tls_facts_;
        // The ready that follows a transaction rides with its done: one message to the owner
        // per transaction instead of two.
        if (i + 1 < actions.size() && std::holds_alternative<smtp::SessionReady>(actions[i + 1])) {
          ev.ready_after = true;
          greeted_ = true;
          ++i;
        }
        report(std::move(ev));
      } else if (auto* f = std::get_if<smtp::SessionFailed>(&action)) {
        fail_reason_ = f->reply.summary();
        fail_reply_ = f->reply;
        if (f->reply.text().rfind(smtp::kTlsRequiredText, 0) == 0) {
          tls_required_failure_ = true;
          if (!tls_problem_reported_)
            problem(f->reply.text().find("refused") != std::string::npos ? "starttls_refused" : "not_offered",
                    f->reply.summary(), false);
        }
      } else if (std::holds_alternative<smtp::CloseConnection>(action)) {
        close_after_writes_ = true;
      } else if (std::holds_alternative<smtp::StartTls>(action)) {
        tls_wanted_ = true;
      }
    }
    flush();
    if (finished_) return;
    if (close_after_writes_ && writing_.empty()) {
      // A required TLS that failed here moves on to the next MX host, if there is one.
      if (tls_required_failure_ && target_ + 1 < targets_.size()) {
        address_ = targets_[target_].addresses.size();  // no other address of this host either
        last_error_ = fail_reason_;
        return reconnect();
      }
      finish(fail_reason_);
      return;
    }
    if (tls_wanted_ && writing_.empty() && pending_.empty()) return start_tls();
    if (handshaking_) return;  // its own timer runs
    if (auto t = client_.timeout()) {
      arm_timer(*t, [this] {
        client_.on_timeout();
        pump();
      });
    } else {
      timer_.cancel();
    }
  }

  // All queued writes go out in one gathered write: commands and the shared body, no copies.
  void flush() {
    if (!writing_.empty() || pending_.empty() || finished_) return;
    writing_.swap(pending_);
    std::vector<asio::const_buffer> bufs;
    bufs.reserve(writing_.size());
    for (const auto& w : writing_) {
      const std::string_view b = w.bytes();
      bufs.emplace_back(b.data(), b.size());
    }
    auto on_write = [self = shared_from_this(), socket_generation = socket_generation_](
                        const boost::system::error_code& err, std::size_t) {
      if (socket_generation != self->socket_generation_) return;
      self->writing_.clear();
      if (self->finished_) return;
      if (err) {
        self->client_.on_closed("write failed: " + err.message());
        self->pump();
        self->finish("write failed: " + err.message());
        return;
      }
      if (!self->pending_.empty()) {
        self->flush();
      } else if (self->close_after_writes_) {
        self->pump();  // the end, or the next MX host
      } else if (self->tls_wanted_) {
        self->start_tls();
      }
    };
    if (tls_) {
      asio::async_write(*tls_, bufs, std::move(on_write));
    } else {
      asio::async_write(socket_, bufs, std::move(on_write));
    }
  }

  template <class F>
  void arm_timer(std::chrono::seconds after, F on_expiry) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), on_expiry](const boost::system::error_code& err) {
      if (err || self->finished_) return;
      on_expiry();
    });
  }

  void finish(std::string reason) {
    if (finished_) return;
    finished_ = true;
    int parked = kParked;
    cache_state_.compare_exchange_strong(parked, kGone);
    park_timer_.cancel();
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    SessionEvent ev;
    ev.kind = SessionEvent::Kind::closed;
    ev.mx_host = mx_host_;
    ev.reason = std::move(reason);
    ev.greeted = greeted_;
    ev.reply = fail_reply_;
    report(std::move(ev));
  }

  // A parked session has no owner: what happens to it then concerns nobody.
  void report(SessionEvent ev) {
    if (owner_) report_session_event(io_, owner_, id_, std::move(ev));
  }

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;  // after STARTTLS; declared after socket_
  asio::steady_timer timer_;
  asio::steady_timer park_timer_;  // parked: when to quit
  std::uint64_t id_;
  std::vector<SessionTarget> targets_;
  SessionOptions opts_;
  caf::actor owner_;
  smtp::SmtpClient client_;
  std::size_t target_ = 0, address_ = 0;
  std::string last_error_, mx_host_, fail_reason_;
  smtp::Reply fail_reply_;
  std::array<char, 16 * 1024> rbuf_{};
  std::vector<smtp::WriteBytes> pending_, writing_;
  bool connected_ = false, greeted_ = false, finished_ = false, close_after_writes_ = false;
  bool reading_ = false;
  // STARTTLS: the 220 is in (handshake once the writes are out), the handshake runs, its timer
  // fired; this connection is to stay in clear text (a retry after a failed handshake).
  bool tls_wanted_ = false, handshaking_ = false, handshake_timed_out_ = false, clear_only_ = false;
  bool retry_clear_ = false;            // connect_next: the next connection is that retry
  bool tls_required_failure_ = false;   // the client ended the session for want of TLS
  bool tls_problem_reported_ = false;   // ... and the owner was told why already
  std::uint64_t socket_generation_ = 0;  // handlers of a connection given up ignore what they get
  std::optional<TlsFacts> tls_facts_;
  // The connection cache's claim on the session, the one field other threads touch.
  static constexpr int kOwned = 0, kParked = 1, kClaimed = 2, kGone = 3;
  std::atomic<int> cache_state_{kOwned};
};

}  // namespace

std::shared_ptr<SmtpSession> SmtpSession::start(asio::io_context& io, std::uint64_t id,
                                                std::vector<SessionTarget> targets, SessionOptions opts,
                                                caf::actor owner) {
  auto s = std::make_shared<AsioSmtpSession>(io, id, std::move(targets), std::move(opts), std::move(owner));
  s->begin();
  return s;
}

}  // namespace volley
