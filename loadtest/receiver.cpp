// volley-receiver: a scriptable SMTP receiver for tests and load tests. Sessions run Volley's
// sans-IO SMTP server on one Asio thread; a behaviour file decides what each recipient gets
// (accept, reject, tempfail, greylist, drop, delays, connection and rate limits); everything it
// sees is counted per client IP (GET /stats on the control port) and logged as JSON lines.
// With --tls-cert/--tls-key it offers STARTTLS; --tls-broken makes every handshake fail (it
// answers STARTTLS with 220, reads the client's hello, answers garbage and closes), for the
// sender's fallback tests.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <utility>  // before Boost.Asio (see build-facts)

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

#include "core/smtp/server.hpp"
#include "net/acceptor.hpp"
#include "net/tls_context.hpp"
#include "receiver_bouncer.hpp"
#include "receiver_policy.hpp"
#include "receiver_script.hpp"
#include "receiver_stats.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace smtp = volley::smtp;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace volley::receiver;

namespace {

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

tcp::endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected host:port, got \"" + text + "\"");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    throw std::invalid_argument("bad port in \"" + text + "\"");
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("bad IP address in \"" + text + "\"");
  return {address, static_cast<unsigned short>(std::stoul(port))};
}

class Session;

class Receiver {
 public:
  // tls: null = no STARTTLS offered; tls_broken: offer it, then fail every handshake.
  Receiver(asio::io_context& io, Script script, const std::string& log_path, std::size_t max_connections,
           std::shared_ptr<ssl::context> tls, bool tls_broken)
      : io_(io),
        tls_(std::move(tls)),
        tls_broken_(tls_broken),
        script_(std::move(script)),
        policy_(script_),
        log_(log_path),
        max_connections_(max_connections),
        sweep_timer_(io) {
    smtp_.hostname = script_.hostname;
    smtp_.banner = "ESMTP volley-receiver";
    smtp_.max_message_size = script_.max_message_size;
    smtp_.max_recipients = script_.max_recipients;
    smtp_.pipelining = script_.pipelining;
    smtp_.chunking = script_.chunking;
    smtp_.ask_hello = script_.answers_at(Stage::ehlo);
    smtp_.ask_data = script_.answers_at(Stage::data);
    smtp_.starttls = tls_ != nullptr || tls_broken_;
    sweep();
  }

  tcp::endpoint listen(const tcp::endpoint& ep) {
    return open(ep, "SMTP listener", [this](tcp::socket socket) { on_accept(std::move(socket)); });
  }

  tcp::endpoint control(const tcp::endpoint& ep) {
    return open(ep, "control listener", [this](tcp::socket socket) {
      if (!stopping_) serve_control(std::move(socket));
    });
  }

  // SIGTERM/SIGINT: no new connections, every session closed and logged, the log flushed.
  void stop();

  // For sessions.
  const Script& script() const { return script_; }
  const smtp::SmtpServer::Options& smtp_options() const { return smtp_; }
  Policy& policy() { return policy_; }
  Stats& stats() { return stats_; }
  std::size_t max_connections() const { return max_connections_; }
  ssl::context* tls() const { return tls_.get(); }
  bool tls_broken() const { return tls_broken_; }
  void log(nlohmann::json& event) {
    if (!log_.enabled()) return;
    log_.write(event);
    if (flush_posted_) return;
    // One write per burst: the flush runs once the handlers already queued have run.
    flush_posted_ = true;
    asio::post(io_, [this] {
      flush_posted_ = false;
      log_.flush();
    });
  }
  void forget(std::uint64_t id) { sessions_.erase(id); }

  // A DSN for `recipient` to `sender`, sent to the script's bounce_to; logged as "bounce".
  void bounce(const std::string& sender, const std::string& recipient, const smtp::Reply& reply,
              const std::string& original) {
    if (!bounce_to_) return;
    auto dsn = make_dsn(script_.hostname, sender, recipient, reply, original);
    send_bounce(io_, *bounce_to_, script_.hostname, sender, std::move(dsn), std::chrono::seconds(30),
                [this, sender, recipient](bool ok, std::string detail) {
                  nlohmann::json e{{"event", "bounce"}, {"sender", sender}, {"recipient", recipient},
                                   {"ok", ok}, {"reply", detail}};
                  log(e);
                });
  }
  void set_bounce_to(tcp::endpoint ep) { bounce_to_ = ep; }
  // Each "data" event carries the message as received (for tests that judge its bytes).
  void set_log_content(bool on) { log_content_ = on; }
  bool log_content() const { return log_content_; }

 private:
  // One thread runs io_: connections need no strand of their own.
  tcp::endpoint open(const tcp::endpoint& ep, std::string name, volley::Acceptor::OnAccept on_accept) {
    volley::Acceptor::Options o;
    o.name = std::move(name);
    o.strand_per_connection = false;
    o.on_error = [](const error_code& ec) { std::cerr << "volley-receiver: accept: " << ec.message() << std::endl; };
    auto acceptor = volley::Acceptor::make(io_, std::move(o), std::move(on_accept));
    const auto bound = acceptor->listen(ep, endpoint_text(ep));
    acceptor->start();
    acceptors_.push_back(std::move(acceptor));
    return bound;
  }

  void on_accept(tcp::socket socket);
  void serve_control(tcp::socket socket);
  void sweep();

  asio::io_context& io_;
  std::shared_ptr<ssl::context> tls_;
  bool tls_broken_ = false;
  bool log_content_ = false;
  Script script_;
  Policy policy_;
  Stats stats_;
  EventLog log_;
  smtp::SmtpServer::Options smtp_;
  std::size_t max_connections_;
  std::optional<tcp::endpoint> bounce_to_;
  std::vector<std::shared_ptr<volley::Acceptor>> acceptors_;  // SMTP listeners and the control one
  asio::steady_timer sweep_timer_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_id_ = 0;
  bool flush_posted_ = false;
  bool stopping_ = false;
};

// One SMTP connection: bytes from the socket into the state machine, its replies out (after the
// script's delay), its requests answered from the policy (after the rule's delay).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Receiver& rx, tcp::socket socket, std::uint64_t id)
      : rx_(rx),
        socket_(std::move(socket)),
        answer_timer_(socket_.get_executor()),
        reply_timer_(socket_.get_executor()),
        sm_(rx.smtp_options()),
        id_(id),
        last_active_(Clock::now()) {}

  void start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);  // replies are small; Nagle would hold them back
    const auto peer = socket_.remote_endpoint(ec);
    ip_ = ec ? "?" : peer.address().to_string();
    const auto local = socket_.local_endpoint(ec);
    local_ = ec ? "?" : endpoint_text(local);
    auto refusal = rx_.policy().admit(rx_.stats().concurrent(ip_), rx_.stats().concurrent(), rx_.max_connections());
    admitted_ = !refusal;
    rx_.stats().connected(ip_, admitted_);
    auto e = event("connect");
    e["code"] = refusal ? refusal->code : 220;
    rx_.log(e);
    sm_.start(std::move(refusal));
    pump();
  }

  // Idle for longer than the script allows while waiting for the client: 421 and close.
  void check_idle(Clock::time_point now) {
    if (done_ || !reading_ || now - last_active_ < rx_.script().idle_timeout) return;
    sm_.close_session(smtp::Reply::synthetic(421, "4.4.2", rx_.script().hostname + " idle timeout"));
    pump();
  }

  void finish(const std::string& reason) {
    if (done_) return;
    done_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    answer_timer_.cancel();
    reply_timer_.cancel();
    if (admitted_) rx_.stats().closed(ip_);
    auto e = event("close");
    e["reason"] = reason;
    rx_.log(e);
    rx_.forget(id_);
  }

 private:
  nlohmann::json event(const char* kind) const {
    nlohmann::json e{{"event", kind}, {"session", id_}, {"client", ip_}, {"local", local_}};
    if (!sm_.helo_name().empty()) e["ehlo"] = sm_.helo_name();
    if (sm_.tls_active()) e["tls"] = true;
    return e;
  }

  void read() {
    if (reading_ || done_ || tls_wanted_ || !sm_.wants_input()) return;
    reading_ = true;
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t n) {
      self->reading_ = false;
      if (self->done_) return;
      if (ec) return self->finish(ec == asio::error::eof ? "client closed" : ec.message());
      self->last_active_ = Clock::now();
      self->sm_.feed(std::string_view(self->buf_.data(), n));
      self->pump();
      const auto& t = self->txn_;
      if (!self->done_ && t.drop_after && self->sm_.in_data() && self->sm_.data_bytes() >= *t.drop_after)
        self->drop();
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(buf_), std::move(on_read));
    } else {
      socket_.async_read_some(asio::buffer(buf_), std::move(on_read));
    }
  }

  // STARTTLS answered and its 220 written: the handshake (or, with --tls-broken, garbage).
  void handshake() {
    tls_wanted_ = false;
    if (rx_.tls_broken()) {
      auto e = event("tls");
      e["ok"] = false;
      e["error"] = "broken on purpose";
      rx_.log(e);
      // The client's hello first: garbage before it would be bytes after the 220, which a careful
      // client refuses as command injection instead of failing a handshake.
      socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec || self->done_) return self->finish("TLS broken on purpose");
        auto garbage = std::make_shared<std::string>("this is not a TLS server hello\r\n");
        asio::async_write(self->socket_, asio::buffer(*garbage),
                          [self, garbage](error_code, std::size_t) { self->finish("TLS broken on purpose"); });
      });
      return;
    }
    tls_.emplace(socket_, *rx_.tls());
    tls_->async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (self->done_) return;
      auto e = self->event("tls");
      e["ok"] = !ec;
      if (ec) {
        e["error"] = ec.message();
        self->rx_.log(e);
        return self->finish("TLS handshake failed");
      }
      e["version"] = SSL_get_version(self->tls_->native_handle());
      e["cipher"] = SSL_get_cipher_name(self->tls_->native_handle());
      self->rx_.log(e);
      self->rx_.stats().tls(self->ip_);
      self->sm_.on_tls_established();
      self->pump();
    });
  }

  void pump() {
    for (auto actions = sm_.take_actions(); !actions.empty() && !done_; actions = sm_.take_actions()) {
      for (auto& a : actions) {
        if (done_) return;
        if (auto* s = std::get_if<smtp::Send>(&a)) {
          send(std::move(s->bytes));
        } else if (auto* h = std::get_if<smtp::HelloRequest>(&a)) {
          on_hello(*h);
        } else if (auto* m = std::get_if<smtp::MailRequest>(&a)) {
          on_mail(*m);
        } else if (auto* r = std::get_if<smtp::RcptRequest>(&a)) {
          on_rcpt(*r);
        } else if (auto* d = std::get_if<smtp::DataRequest>(&a)) {
          on_data(*d);
        } else if (auto* msg = std::get_if<smtp::MessageRequest>(&a)) {
          on_message(*msg);
        } else if (auto* f = std::get_if<smtp::Refused>(&a)) {
          auto e = event("reject");
          e["command"] = f->command;
          e["code"] = f->code;
          e["reply"] = f->reply;
          rx_.log(e);
        } else if (std::holds_alternative<smtp::Hangup>(a)) {
          hangup_ = true;
          close_when_written();
        } else if (std::holds_alternative<smtp::StartTls>(a)) {
          tls_wanted_ = true;  // once the 220 is on the wire
          if (!writing_ && out_.empty() && delayed_.empty()) handshake();
        }
      }
    }
    read();
  }

  void on_hello(const smtp::HelloRequest& h) {
    auto refusal = rx_.policy().hello();
    auto e = event("ehlo");
    e["command"] = h.verb;
    e["name"] = h.name;
    e["code"] = refusal ? refusal->code : 250;
    rx_.log(e);
    answer(std::chrono::milliseconds(0), std::move(refusal));
  }

  void on_mail(const smtp::MailRequest& m) {
    txn_ = Transaction{m.reverse_path, {}, std::nullopt};
    auto refusal = rx_.policy().mail(ip_, Clock::now());
    if (refusal && !rx_.script().refusal(Stage::mail)) rx_.stats().rate_limited(ip_);
    auto e = event("mail");
    e["sender"] = m.reverse_path;
    e["code"] = refusal ? refusal->code : 250;
    rx_.log(e);
    answer(std::chrono::milliseconds(0), std::move(refusal));
  }

  void on_rcpt(const smtp::RcptRequest& r) {
    auto v = rx_.policy().rcpt(ip_, txn_.sender, r.forward_path, Clock::now());
    const int code = v.reply ? v.reply->code : 250;
    if (code / 100 == 2) {
      txn_.rcpts.push_back(r.forward_path);
      if (v.drop_after) txn_.drop_after = std::min(txn_.drop_after.value_or(*v.drop_after), *v.drop_after);
    } else {
      rx_.stats().recipient(ip_, r.forward_path, outcome_of(code));
    }
    auto e = event("rcpt");
    e["sender"] = txn_.sender;
    e["recipient"] = r.forward_path;
    e["code"] = code;
    rx_.log(e);
    answer(v.delay, std::move(v.reply));
  }

  // The DATA command: refused here, every recipient of the transaction counts as refused.
  void on_data(const smtp::DataRequest& d) {
    auto v = rx_.policy().data(d.recipients);
    const int code = v.reply ? v.reply->code : 354;
    if (v.reply)
      for (const auto& r : d.recipients) rx_.stats().recipient(ip_, r, outcome_of(code));
    auto e = event("data_command");
    e["sender"] = txn_.sender;
    e["recipients"] = d.recipients;
    e["code"] = code;
    rx_.log(e);
    answer(std::chrono::milliseconds(0), std::move(v.reply));
  }

  void on_message(const smtp::MessageRequest& msg) {
    if (txn_.drop_after) return drop();  // the whole message came in one read
    auto v = rx_.policy().message(msg.recipients);
    const int code = v.reply ? v.reply->code : 250;
    const auto outcome = outcome_of(code);
    if (outcome == Outcome::accepted) rx_.stats().message(ip_);
    if (outcome == Outcome::accepted && sm_.tls_active()) rx_.stats().tls_message(ip_);
    for (const auto& r : msg.recipients) rx_.stats().recipient(ip_, r, outcome);
    auto e = event("data");
    e["sender"] = msg.reverse_path;
    e["recipients"] = msg.recipients;
    e["size"] = msg.content.size();
    e["code"] = code;
    e["bdat"] = msg.chunked;
    if (rx_.log_content()) e["content"] = msg.content;
    rx_.log(e);
    if (code / 100 == 2 && !msg.reverse_path.empty()) {
      for (auto& [rcpt, reply] : rx_.policy().bounces(msg.recipients)) rx_.bounce(msg.reverse_path, rcpt, reply, msg.content);
    }
    answer(v.delay, std::move(v.reply));
  }

  // Closes without a reply, in the middle of DATA (or right at its end).
  void drop() {
    rx_.stats().dropped(ip_);
    for (const auto& r : txn_.rcpts) rx_.stats().recipient(ip_, r, Outcome::dropped);
    auto e = event("drop");
    e["sender"] = txn_.sender;
    e["recipients"] = txn_.rcpts;
    e["bytes"] = sm_.data_bytes();
    rx_.log(e);
    finish("dropped");
  }

  void answer(std::chrono::milliseconds delay, std::optional<smtp::Reply> reply) {
    if (delay.count() == 0) return sm_.answer(std::move(reply));  // pump() picks up what follows
    answer_timer_.expires_after(delay);
    answer_timer_.async_wait([self = shared_from_this(), reply = std::move(reply)](error_code ec) mutable {
      if (ec || self->done_) return;
      self->sm_.answer(std::move(reply));
      self->pump();
    });
  }

  void send(std::string bytes) {
    if (rx_.script().delay.count() == 0) {
      out_ += bytes;
      return write();
    }
    delayed_.push_back(std::move(bytes));
    if (delayed_.size() == 1) release_delayed();
  }

  // Each reply waits the script's delay after the one before it went out.
  void release_delayed() {
    reply_timer_.expires_after(rx_.script().delay);
    reply_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->done_) return;
      self->out_ += self->delayed_.front();
      self->delayed_.pop_front();
      self->write();
      if (!self->delayed_.empty()) self->release_delayed();
    });
  }

  void write() {
    if (writing_ || done_) return;
    if (out_.empty()) return close_when_written();
    std::swap(out_, wire_);  // both keep their capacity: no allocation per reply
    writing_ = true;
    auto on_write = [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->done_) return;
      if (ec) return self->finish(ec.message());
      self->wire_.clear();
      self->write();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(wire_), std::move(on_write));
    } else {
      asio::async_write(socket_, asio::buffer(wire_), std::move(on_write));
    }
  }

  void close_when_written() {
    if (writing_ || !out_.empty() || !delayed_.empty()) return;
    if (hangup_) return finish("hangup");
    if (tls_wanted_) handshake();
  }

  struct Transaction {
    std::string sender;
    std::vector<std::string> rcpts;  // accepted
    std::optional<std::uint64_t> drop_after;
  };

  Receiver& rx_;
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;  // after STARTTLS; declared after socket_
  asio::steady_timer answer_timer_;
  asio::steady_timer reply_timer_;
  smtp::SmtpServer sm_;
  std::uint64_t id_;
  std::string ip_;
  std::string local_;
  bool admitted_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool hangup_ = false;
  bool tls_wanted_ = false;  // STARTTLS answered: handshake once the 220 is written
  bool done_ = false;
  Clock::time_point last_active_;
  Transaction txn_;
  std::array<char, 16 * 1024> buf_;
  std::string out_;   // replies not yet handed to the socket
  std::string wire_;  // replies being written
  std::deque<std::string> delayed_;
};

void Receiver::on_accept(tcp::socket socket) {
  if (stopping_) return;
  const auto id = ++next_id_;
  auto session = std::make_shared<Session>(*this, std::move(socket), id);
  sessions_.emplace(id, session);
  session->start();
}

// GET /stats over HTTP/1.0: one request per connection, answered and closed.
void Receiver::serve_control(tcp::socket socket) {
  struct Exchange {
    explicit Exchange(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string in;
    std::string out;
  };
  auto x = std::make_shared<Exchange>(std::move(socket));
  asio::async_read_until(x->socket, asio::dynamic_buffer(x->in, 8192), "\r\n\r\n",
                         [this, x](error_code ec, std::size_t) {
                           if (ec || stopping_) return;
                           const auto request_line = x->in.substr(0, x->in.find("\r\n"));
                           std::string status = "200 OK", body;
                           if (request_line.rfind("GET /stats ", 0) == 0) {
                             body = stats_.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
                           } else {
                             status = "404 Not Found";
                             body = R"({"error":"only GET /stats is served"})";
                           }
                           body += '\n';
                           x->out = "HTTP/1.0 " + status +
                                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body;
                           asio::async_write(x->socket, asio::buffer(x->out), [x](error_code, std::size_t) {
                             error_code ignored;
                             x->socket.shutdown(tcp::socket::shutdown_both, ignored);
                           });
                         });
}

void Receiver::sweep() {
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this](error_code ec) {
    if (ec || stopping_) return;
    const auto now = Clock::now();
    for (const auto& [id, weak] : std::vector(sessions_.begin(), sessions_.end()))
      if (auto s = weak.lock()) s->check_idle(now);
    sweep();
  });
}

void Receiver::stop() {
  stopping_ = true;
  for (auto& a : acceptors_) a->close();
  sweep_timer_.cancel();
  for (const auto& [id, weak] : std::vector(sessions_.begin(), sessions_.end()))
    if (auto s = weak.lock()) s->finish("receiver stopping");
  log_.flush();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"volley-receiver: a scriptable SMTP receiver for tests and load tests"};
  std::vector<std::string> listen;
  std::string script_path, log_path, control;
  std::size_t max_connections = 1000;
  std::string tls_cert, tls_key;
  bool tls_broken = false, log_content = false;
  app.add_option("--listen", listen, "address:port to accept SMTP on (repeatable; port 0 = any free port)")
      ->required();
  app.add_option("--script", script_path, "behaviour file (TOML); without one every recipient is accepted");
  app.add_option("--log", log_path, "event log, one JSON object per line");
  app.add_option("--control", control, "address:port serving GET /stats (port 0 = any free port)");
  app.add_option("--max-connections", max_connections, "open sessions beyond which connections get 421")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  app.add_option("--tls-cert", tls_cert, "PEM certificate chain: offer STARTTLS (with --tls-key)");
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
  app.add_flag("--tls-broken", tls_broken,
               "offer STARTTLS but fail every handshake (220, then garbage for the client's hello); for tests");
  app.add_flag("--log-content", log_content, "each data event carries the message as received; for tests");
  CLI11_PARSE(app, argc, argv);
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "volley-receiver: --tls-cert and --tls-key go together" << std::endl;
    return 2;
  }

  // Hundreds of sessions need more descriptors than the usual soft limit of 1024.
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }

  try {
    Script script = script_path.empty() ? Script{} : Script::parse(read_text(script_path), script_path);
    asio::io_context io(1);
    const std::string bounce_to = script.bounce_to;
    auto tls = tls_cert.empty() ? nullptr : volley::make_server_tls_context(tls_cert, tls_key);
    Receiver rx(io, std::move(script), log_path, max_connections, std::move(tls), tls_broken);
    if (!bounce_to.empty()) rx.set_bounce_to(parse_endpoint(bounce_to));
    rx.set_log_content(log_content);
    // The bound addresses, first thing on stdout: a test that asked for port 0 reads them here.
    std::string bound;
    for (const auto& l : listen) bound += "listening " + endpoint_text(rx.listen(parse_endpoint(l))) + '\n';
    if (!control.empty()) bound += "control " + endpoint_text(rx.control(parse_endpoint(control))) + '\n';
    std::cout << bound << std::flush;

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](error_code ec, int) {
      if (ec) return;
      rx.stop();
      io.stop();  // what is left (timers, control exchanges) is dropped unrun
    });
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "volley-receiver: " << e.what() << std::endl;
    return 2;
  }
  return 0;
}
