#include "net/smtp_session.hpp"

#include <utility>  // before Boost.Asio: Boost 1.74 + C++20 (see build-facts)

#include <boost/asio.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace volley {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

class AsioSmtpSession final : public SmtpSession, public std::enable_shared_from_this<AsioSmtpSession> {
 public:
  AsioSmtpSession(asio::io_context& io, std::uint64_t id, std::vector<SessionTarget> targets,
                  SessionOptions opts, caf::actor owner)
      : strand_(asio::make_strand(io)),
        socket_(strand_),
        timer_(strand_),
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
      if (self->finished_ || self->client_.phase() != smtp::ClientPhase::idle) {
        // The session died between its ready event and this transaction: give every recipient
        // a temporary failure so the delivery actor requeues them.
        smtp::TransactionResult r;
        r.per_rcpt.assign(txn.rcpts.size(),
                          smtp::Reply::synthetic(451, "4.4.2", "session closed before transaction"));
        self->report(SessionEvent{SessionEvent::Kind::done, self->mx_host_, std::move(r), {}, true});
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
      self->client_.on_connected();
      self->pump();
      self->read();
    });
  }

  // ---- reading ----
  void read() {
    socket_.async_read_some(asio::buffer(rbuf_), [self = shared_from_this()](
                                                     const boost::system::error_code& err, std::size_t n) {
      if (self->finished_) return;
      if (err) {
        self->client_.on_closed(err == asio::error::eof ? "connection closed by peer" : err.message());
        self->pump();
        self->finish("connection lost: " + err.message());
        return;
      }
      self->client_.on_bytes(std::string_view(self->rbuf_.data(), n));
      self->pump();
      if (!self->finished_) self->read();
    });
  }

  // ---- carrying out the client's actions ----
  void pump() {
    for (auto& action : client_.take_actions()) {
      if (auto* w = std::get_if<smtp::WriteBytes>(&action)) {
        pending_.push_back(std::move(*w));
      } else if (std::holds_alternative<smtp::SessionReady>(action)) {
        greeted_ = true;
        report(SessionEvent{SessionEvent::Kind::ready, mx_host_, {}, {}, true});
      } else if (auto* d = std::get_if<smtp::TransactionDone>(&action)) {
        report(SessionEvent{SessionEvent::Kind::done, mx_host_, std::move(d->result), {}, true});
      } else if (auto* f = std::get_if<smtp::SessionFailed>(&action)) {
        fail_reason_ = f->reply.summary();
        fail_reply_ = f->reply;
      } else if (std::holds_alternative<smtp::CloseConnection>(action)) {
        close_after_writes_ = true;
      }
    }
    flush();
    if (finished_) return;
    if (close_after_writes_ && writing_.empty()) {
      finish(fail_reason_);
      return;
    }
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
      if (w.shared)
        bufs.emplace_back(w.shared->data(), w.shared->size());
      else
        bufs.emplace_back(w.text.data(), w.text.size());
    }
    asio::async_write(socket_, bufs, [self = shared_from_this()](const boost::system::error_code& err, std::size_t) {
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
        self->finish(self->fail_reason_);
      }
    });
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

  void report(SessionEvent ev) { caf::anon_send(owner_, session_atom::value, id_, std::move(ev)); }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer timer_;
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
