#pragma once
// One connection of the inbound SMTP listener (net/smtp_listener.hpp), and what every session of
// one listener shares. Only net/smtp_listener.cpp includes this file: the listener there accepts,
// admits, stops and drains; a session here runs core/smtp/server over its socket.
//
// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/smtp/inbound_recipient.hpp"
#include "core/smtp/server.hpp"
#include "net/smtp_listener.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace smtp = volley::smtp;
using tcp = net::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace inbound_detail {

inline std::string endpoint_text(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// A client that stops reading must not hold a session open for the full command timeout after
// the listener was told to stop.
constexpr std::chrono::seconds kStopGrace{2};
// Reply text from the handler: one line, short enough for any client's line limit.
constexpr std::size_t kMaxAnswerText = 400;
// Replies waiting for a client that pipelines commands but does not read them: beyond this the
// session stops reading until they are written, so its memory stays bounded.
constexpr std::size_t kMaxPendingOutput = 64 * 1024;

}  // namespace inbound_detail

using inbound_detail::endpoint_text;
using inbound_detail::kMaxAnswerText;
using inbound_detail::kMaxPendingOutput;
using inbound_detail::kStopGrace;

class InboundSession;

// What the acceptor and every session share; outlives them all (held by shared_ptr).
struct ListenerShared {
  SmtpListenerOptions options;
  InboundHandler handler;
  smtp::SmtpServer::Options smtp;
  std::vector<std::string> domains;       // lower case
  std::shared_ptr<ssl::context> tls;      // null: no STARTTLS; replaced by a reload, under mu
  std::mutex mu;
  bool stopped = false;
  std::atomic<bool> draining{false};
  std::size_t admitted = 0;
  std::unordered_map<InboundSession*, std::weak_ptr<InboundSession>> live;
  std::condition_variable all_closed;  // live became empty
  SmtpListener::DrainCounts drained;   // under mu

  smtp::Reply shutting_down() const {
    return smtp::Reply::synthetic(421, "4.3.2", options.hostname + " Service shutting down");
  }
};

// One SMTP connection: bytes from the socket (plain, then TLS after STARTTLS) into the state
// machine, its replies out, its requests answered here (MAIL, RCPT) or by the handler (messages).
// Everything runs on the session's strand; the handler's answer is posted back to it.
class InboundSession : public std::enable_shared_from_this<InboundSession> {
 public:
  InboundSession(std::shared_ptr<ListenerShared> shared, tcp::socket socket, bool admitted)
      : shared_(std::move(shared)),
        executor_(socket.get_executor()),
        socket_(std::move(socket)),
        deadline_(executor_),
        delay_(executor_),
        sm_(shared_->smtp),
        admitted_(admitted) {
    error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : endpoint_text(peer);
    if (shared_->options.policy)
      policy_ = shared_->options.policy(SmtpSessionInfo{peer_, ec ? std::string() : peer.address().to_string()});
  }

  void start() {
    net::dispatch(executor_, [self = shared_from_this()] {
      error_code ec;
      self->socket_.set_option(tcp::no_delay(true), ec);  // replies are small; Nagle would hold them
      std::optional<smtp::Reply> refusal;
      if (!self->admitted_) {
        spdlog::warn("{}: connection refused: max_connections open{}", self->shared_->options.log_name,
                     util::log_fields("peer", self->peer_, "max_connections", self->shared_->options.max_connections));
        refusal = smtp::Reply::synthetic(421, "4.7.0", self->shared_->options.hostname + " Too many connections, try again later");
      }
      // Accepted just before the acceptor closed: greeted with the drain's 421.
      if (self->shared_->draining) self->sm_.drain(self->shared_->shutting_down());
      if (self->opts().implicit_tls)
        return self->handshake(std::optional<std::optional<smtp::Reply>>(std::in_place, std::move(refusal)));
      self->sm_.start(std::move(refusal));
      self->arm(self->shared_->options.command_timeout);
      self->pump();
    });
  }

  // From any thread (SmtpListener::stop).
  void post_stop() {
    net::post(executor_, [self = shared_from_this()] {
      if (self->done_) return;
      self->sm_.close_session(self->shared_->shutting_down());
      self->arm(std::min<Clock::duration>(kStopGrace, self->shared_->options.command_timeout));
      self->pump();
    });
  }

  // From any thread (SmtpListener::drain).
  void post_drain() {
    net::post(executor_, [self = shared_from_this()] {
      if (self->done_) return;
      self->in_flight_at_drain_ = self->sm_.in_transaction();
      self->sm_.drain(self->shared_->shutting_down());
      // A client that does not read its 421 must not hold the drain up.
      if (self->sm_.closed()) self->arm(std::min<Clock::duration>(kStopGrace, self->opts().command_timeout));
      self->pump();
    });
  }

  // From any thread: the policy's answer to request `generation`, sent after `delay`.
  void post_reply(std::uint64_t generation, std::optional<smtp::Reply> reply, std::chrono::milliseconds delay) {
    net::post(executor_, [self = shared_from_this(), generation, reply = std::move(reply), delay]() mutable {
      self->on_reply(generation, std::move(reply), delay);
    });
  }

  // From any thread: the handler's answer to message `generation`.
  void post_answer(std::uint64_t generation, bool ok, std::string text) {
    net::post(executor_, [self = shared_from_this(), generation, ok, text = std::move(text)]() mutable {
      self->on_answer(generation, ok, std::move(text));
    });
  }

 private:
  // Shared by every copy of one message's answer function: answers once; a 451 if dropped.
  struct AnswerState {
    AnswerState(std::weak_ptr<InboundSession> s, std::uint64_t g) : session(std::move(s)), generation(g) {}
    ~AnswerState() { answer(false, "Message was not processed, try again later"); }
    void answer(bool ok, std::string text) {
      if (answered.exchange(true, std::memory_order_acq_rel)) return;
      if (auto s = session.lock()) s->post_answer(generation, ok, std::move(text));
    }
    std::weak_ptr<InboundSession> session;
    std::uint64_t generation;
    std::atomic<bool> answered{false};
  };

  // The same for a policy's answer: answers once; a 451 if dropped.
  struct ReplyState {
    ReplyState(std::weak_ptr<InboundSession> s, std::uint64_t g) : session(std::move(s)), generation(g) {}
    ~ReplyState() {
      answer(smtp::Reply::synthetic(451, "4.3.0", "Request was not processed, try again later"), {});
    }
    void answer(std::optional<smtp::Reply> reply, std::chrono::milliseconds delay) {
      if (answered.exchange(true, std::memory_order_acq_rel)) return;
      if (auto s = session.lock()) s->post_reply(generation, std::move(reply), delay);
    }
    std::weak_ptr<InboundSession> session;
    std::uint64_t generation;
    std::atomic<bool> answered{false};
  };

  const SmtpListenerOptions& opts() const { return shared_->options; }

  void pump() {
    // Each batch ends with at most one request; answering it may release the next batch.
    for (auto actions = sm_.take_actions(); !actions.empty() && !done_; actions = sm_.take_actions()) {
      for (auto& a : actions) {
        if (done_) return;
        if (auto* s = std::get_if<smtp::Send>(&a)) {
          out_ += s->bytes;
          ++replies_;
        } else if (auto* mail = std::get_if<smtp::MailRequest>(&a)) {
          if (refused_for_storage()) continue;
          if (policy_) sm_.answer(policy_->mail(*mail)); else sm_.answer();  // any sender: bounces come from <>
        } else if (auto* r = std::get_if<smtp::RcptRequest>(&a)) {
          if (refused_for_storage()) continue;
          if (policy_) sm_.answer(policy_->rcpt(*r)); else on_rcpt(*r);
        } else if (auto* m = std::get_if<smtp::MessageRequest>(&a)) {
          if (!refused_for_storage()) policy_ ? on_policy_message(*m) : on_message(*m);
        } else if (auto* auth = std::get_if<smtp::AuthRequest>(&a)) {
          on_auth(*auth);
        } else if (auto* f = std::get_if<smtp::Refused>(&a)) {
          spdlog::debug("{}: command refused{}", opts().log_name,
                        util::log_fields("peer", peer_, "command", f->command.empty() ? "command" : f->command, "reply", f->reply));
        } else if (std::holds_alternative<smtp::StartTls>(a)) {
          tls_wanted_ = true;
        } else if (std::holds_alternative<smtp::Hangup>(a)) {
          hangup_ = true;
        }
      }
    }
    if (done_) return;
    write();
    read();
  }

  // A report taken now could not be stored: the sender keeps it and tries later.
  bool refused_for_storage() {
    const auto& refuse = shared_->options.refuse_for_storage;
    if (!refuse || !refuse()) return false;
    sm_.answer(smtp::Reply::synthetic(452, "4.3.1", "Insufficient system storage, try again later"));
    return true;
  }

  void on_rcpt(const smtp::RcptRequest& r) {
    if (smtp::inbound_recipient_allowed(r.forward_path, shared_->domains)) return sm_.answer();
    spdlog::warn("{}: relay attempt refused{}", opts().log_name,
                 util::log_fields("peer", peer_, "helo", sm_.helo_name(), "rcpt", r.forward_path));
    sm_.answer(smtp::Reply::synthetic(550, "5.7.1", "Relaying denied"));
  }

  void on_message(smtp::MessageRequest& m) {
    const auto generation = ++generation_;
    awaiting_handler_ = true;
    awaiting_message_ = true;
    in_data_phase_ = false;
    arm(opts().command_timeout);  // how long the handler may take to answer
    summary_ = fmt::format("from=<{}> rcpts={} size={}{}", m.reverse_path, fmt::join(m.recipients, ","),
                           m.content.size(), sm_.tls_active() ? " tls" : "");
    InboundMessage msg{peer_, sm_.helo_name(), std::move(m.reverse_path), std::move(m.recipients),
                       std::move(m.content), sm_.tls_active()};
    auto state = std::make_shared<AnswerState>(weak_from_this(), generation);
    try {
      shared_->handler(std::move(msg), [state](bool ok, std::string text) { state->answer(ok, std::move(text)); });
    } catch (const std::exception& e) {
      spdlog::error("{}: message handler threw{}", opts().log_name, util::log_fields("error", e.what()));
      state->answer(false, "Local error in processing");
    } catch (...) {
      spdlog::error("{}: message handler threw", opts().log_name);
      state->answer(false, "Local error in processing");
    }
  }

  // A request the policy answers later: the session waits, as for the handler's answer.
  std::shared_ptr<ReplyState> await_policy() {
    awaiting_handler_ = true;
    in_data_phase_ = false;
    arm(opts().command_timeout);
    return std::make_shared<ReplyState>(weak_from_this(), ++generation_);
  }

  void on_auth(smtp::AuthRequest& request) {
    summary_ = "AUTH " + request.mechanism;
    auto state = await_policy();
    awaiting_message_ = false;
    policy_->auth(std::move(request), [state](std::optional<smtp::Reply> reply, std::chrono::milliseconds delay) {
      state->answer(std::move(reply), delay);
    });
  }

  void on_policy_message(smtp::MessageRequest& m) {
    summary_ = fmt::format("from=<{}> rcpts={} size={}{}", m.reverse_path, fmt::join(m.recipients, ","),
                           m.content.size(), sm_.tls_active() ? " tls" : "");
    auto state = await_policy();
    awaiting_message_ = true;
    policy_->message(std::move(m), [state](std::optional<smtp::Reply> reply) { state->answer(std::move(reply), {}); });
  }

  void on_reply(std::uint64_t generation, std::optional<smtp::Reply> reply, std::chrono::milliseconds delay) {
    if (done_ || !awaiting_handler_ || generation != generation_) return;  // late, or after a timeout
    if (delay.count() > 0) {
      delay_.expires_after(delay);
      delay_.async_wait([self = shared_from_this(), generation, reply = std::move(reply)](error_code ec) mutable {
        if (!ec) self->on_reply(generation, std::move(reply), {});
      });
      return;
    }
    awaiting_handler_ = false;
    if (awaiting_message_) message_answered();
    sm_.answer(std::move(reply));
    arm(opts().command_timeout);
    pump();
  }

  // A transaction that was in flight when the drain began has run to its end.
  void message_answered() {
    awaiting_message_ = false;
    if (!std::exchange(in_flight_at_drain_, false)) return;
    std::lock_guard lock(shared_->mu);
    ++shared_->drained.finished;
  }

  void on_answer(std::uint64_t generation, bool ok, std::string text) {
    if (done_ || !awaiting_handler_ || generation != generation_) return;  // late, or after a timeout
    awaiting_handler_ = false;
    message_answered();
    if (ok) {
      spdlog::info("{}: message accepted{}", opts().log_name,
                   util::log_fields("peer", peer_, "helo", sm_.helo_name(), "message", summary_));
      sm_.answer();
    } else {
      if (text.empty()) text = "Temporary failure, try again later";
      if (text.size() > kMaxAnswerText) text.resize(kMaxAnswerText);
      // One line, in the reply and in the log alike.
      std::replace_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }, ' ');
      spdlog::info("{}: message deferred{}", opts().log_name,
                   util::log_fields("peer", peer_, "helo", sm_.helo_name(), "message", summary_, "reason", text));
      sm_.answer(smtp::Reply::synthetic(451, "4.3.0", std::move(text)));
    }
    arm(opts().command_timeout);
    pump();
  }

  // One read at a time, and none while the machine holds input back (an outstanding request),
  // during STARTTLS, or once it has hung up.
  void read() {
    if (reading_ || done_ || tls_wanted_ || handshaking_ || !sm_.wants_input()) return;
    if (out_.size() + wire_.size() > kMaxPendingOutput) return;  // write() resumes reading
    reading_ = true;
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t n) {
      self->reading_ = false;
      if (self->done_) return;
      if (ec) return self->finish(ec == net::error::eof ? "client closed" : ec.message());
      // Bytes alone never move the deadline; a command answered or DATA begun does (pump).
      const auto replies_before = self->replies_;
      self->sm_.feed(std::string_view(self->buf_.data(), n));
      self->pump();
      if (!self->done_ && !self->hangup_) self->rearm_after_progress(replies_before);
    };
    if (tls_) {
      tls_->async_read_some(net::buffer(buf_), std::move(on_read));
    } else {
      socket_.async_read_some(net::buffer(buf_), std::move(on_read));
    }
  }

  void write() {
    if (writing_ || done_) return;
    if (out_.empty()) return flushed();
    std::swap(out_, wire_);  // both keep their capacity: no allocation per reply
    writing_ = true;
    auto on_write = [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->done_) return;
      if (ec) return self->finish(ec.message());
      self->wire_.clear();
      self->write();
      self->read();
    };
    if (tls_) {
      net::async_write(*tls_, net::buffer(wire_), std::move(on_write));
    } else {
      net::async_write(socket_, net::buffer(wire_), std::move(on_write));
    }
  }

  // Every reply so far is on the wire: a hangup or a TLS handshake may now proceed.
  void flushed() {
    if (hangup_) return finish("closed");
    if (tls_wanted_) handshake();
  }

  // STARTTLS (the machine asked), or implicit TLS before the greeting (`greeting` then holds
  // what start() would have been given).
  void handshake(std::optional<std::optional<smtp::Reply>> greeting = std::nullopt) {
    tls_wanted_ = false;
    handshaking_ = true;
    {
      std::lock_guard lock(shared_->mu);  // a reload may be renewing the certificate
      tls_context_ = shared_->tls;
    }
    tls_.emplace(socket_, *tls_context_);
    arm(opts().command_timeout);
    tls_->async_handshake(ssl::stream_base::server, [self = shared_from_this(), greeting](error_code ec) mutable {
      self->handshaking_ = false;
      if (self->done_) return;
      if (ec) {
        spdlog::info("{}: TLS handshake failed{}", self->opts().log_name, util::log_fields("peer", self->peer_, "error", ec.message()));
        return self->finish("TLS handshake failed");
      }
      self->sm_.on_tls_established();
      if (greeting) self->sm_.start(std::move(*greeting));
      self->arm(self->opts().command_timeout);
      self->pump();
    });
  }

  // After input was fed: a reply means a command was complete, so the client gets a new
  // command deadline; entering DATA starts the one deadline of the whole data phase. The
  // deadline of DATA is never moved by the data itself, only ended by the final dot.
  void rearm_after_progress(std::uint64_t replies_before) {
    if (awaiting_handler_) return;  // on_message armed the handler's deadline
    if (sm_.in_data()) {
      if (!in_data_phase_) {
        in_data_phase_ = true;
        arm(opts().data_timeout);
      }
      return;
    }
    in_data_phase_ = false;
    if (replies_ != replies_before) arm(opts().command_timeout);
  }

  // One deadline for whatever the session waits on: the client (a command, DATA, a write it
  // does not read, a handshake) or the handler. Every step forward moves it.
  void arm(Clock::duration after) {
    deadline_.expires_after(after);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      // A wait already due when the deadline moved still runs with success: check the clock.
      if (ec || self->done_ || self->deadline_.expiry() > Clock::now()) return;
      self->on_deadline();
    });
  }

  void on_deadline() {
    if (awaiting_handler_) {
      awaiting_handler_ = false;
      if (awaiting_message_) message_answered();
      spdlog::warn("{}: message not answered in time{}", opts().log_name, util::log_fields("peer", peer_, "message", summary_));
      sm_.answer(smtp::Reply::synthetic(451, "4.3.0", "Timed out processing the message, try again later"));
      arm(opts().command_timeout);
      return pump();
    }
    // Already saying goodbye, or in a handshake (no way to send a reply): just close.
    if (hangup_ || handshaking_ || sm_.closed()) return finish("timeout");
    spdlog::info("{}: client timed out{}", opts().log_name, util::log_fields("peer", peer_, "helo", sm_.helo_name()));
    sm_.close_session(smtp::Reply::synthetic(421, "4.4.2", opts().hostname + " Timeout, closing connection"));
    arm(opts().command_timeout);
    pump();
  }

  void finish(const std::string& reason) {
    if (done_) return;
    done_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
    delay_.cancel();
    {
      std::lock_guard lock(shared_->mu);
      shared_->live.erase(this);
      if (admitted_) --shared_->admitted;
      if (shared_->live.empty()) shared_->all_closed.notify_all();
    }
    spdlog::debug("{}: session ended{}", opts().log_name, util::log_fields("peer", peer_, "reason", reason));
  }

  std::shared_ptr<ListenerShared> shared_;
  net::any_io_executor executor_;
  tcp::socket socket_;
  std::shared_ptr<ssl::context> tls_context_;      // the one tls_ was made with; outlives it
  std::optional<ssl::stream<tcp::socket&>> tls_;  // after STARTTLS; declared after socket_
  net::steady_timer deadline_;
  net::steady_timer delay_;  // a failed AUTH's reply waits on it
  smtp::SmtpServer sm_;
  std::unique_ptr<SmtpSessionPolicy> policy_;  // null: the bounce listener's own rules
  std::string peer_;
  bool admitted_;
  bool reading_ = false;
  bool writing_ = false;
  bool tls_wanted_ = false;  // STARTTLS answered: handshake once the 220 is written
  bool handshaking_ = false;
  bool hangup_ = false;
  bool done_ = false;
  bool awaiting_handler_ = false;
  bool awaiting_message_ = false;    // what awaits its answer is a message (not AUTH)
  bool in_flight_at_drain_ = false;  // in a transaction when the drain began, not yet answered
  bool in_data_phase_ = false;  // the data deadline is armed
  std::uint64_t replies_ = 0;   // replies queued so far: a new one is a command answered
  std::uint64_t generation_ = 0;  // of the message the handler has; stale answers are ignored
  std::string summary_;           // of that message, for the log
  std::array<char, 16 * 1024> buf_{};
  std::string out_;   // replies not yet handed to the socket
  std::string wire_;  // replies being written
};

}  // namespace volley
