#include "net/http_server.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <nlohmann/json.hpp>

#include "net/acceptor.hpp"
#include "net/http_connection.hpp"
#include "net/http_request_body.hpp"
#include "net/http_streaming.hpp"
#include "core/util/ascii.hpp"

namespace volley {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

using util::ascii_lower;
using http_detail::Connection;
using http_detail::ServerShared;

// After an error that ends the connection the client may still be sending (an oversized body):
// read and discard a bounded amount for a short time so that closing does not reset the
// connection before the client has read our answer.
constexpr std::size_t kDrainLimit = 1024 * 1024;
constexpr std::chrono::seconds kDrainTime{1};
// The first read of a request: big enough that a typical injection (headers and a body of some
// KiB, written at once by the client) comes in one recv instead of three or four.
constexpr std::size_t kFirstRead = 16 * 1024;

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view HttpRequest::path() const {
  std::string_view t(target);
  const auto q = t.find_first_of("?#");
  return q == std::string_view::npos ? t : t.substr(0, q);
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            std::string_view field) {
  const nlohmann::json j = {{"error",
                             {{"code", std::string(code)},
                              {"message", std::string(message)},
                              {"field", std::string(field)}}}};
  // Messages may quote client input: never let invalid UTF-8 turn an answer into an exception.
  return json_response(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection over a plain TCP stream or a TLS stream: the same code, so the plain path
// (every injection) pays nothing for TLS.
template <class Stream>
class ServerConnection final : public Connection,
                               public http_detail::StreamedAnswers<ServerConnection<Stream>>,
                               public std::enable_shared_from_this<ServerConnection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  friend class http_detail::StreamedAnswers<ServerConnection>;

 public:
  ServerConnection(std::shared_ptr<ServerShared> shared, tcp::socket socket)
    requires(!kTls)
      : shared_(std::move(shared)), stream_(std::move(socket)) {}
  // Under shared->mu, which guards the context set_tls() may replace.
  ServerConnection(std::shared_ptr<ServerShared> shared, tcp::socket socket)
    requires(kTls)
      : shared_(std::move(shared)), tls_(shared_->options.tls), stream_(std::move(socket), *tls_) {}

  ~ServerConnection() override {
    this->end_stream();
    std::lock_guard lock(shared_->mu);
    shared_->live.erase(this);
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->wait_for_request();
      }
    });
  }

  void post_close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

  // From any thread; the write happens on the strand. `self` is this connection: the posted
  // work takes the caller's reference, so the caller is never left holding the last one.
  static void post_response(std::shared_ptr<ServerConnection> self, HttpResponse response) {
    auto executor = self->stream_.get_executor();
    net::post(executor, [self = std::move(self), r = std::move(response)]() mutable {
      self->write_response(std::move(r));
    });
  }

 private:
  const HttpServerOptions& opts() const { return shared_->options; }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // A client that does not finish its handshake in time is dropped like a slow request.
  void handshake() {
    lowest().expires_after(opts().request_timeout);
    stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->wait_for_request();
    });
  }

  void wait_for_request() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(opts().max_body_bytes));
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(opts().max_header_bytes, UINT32_MAX)));
    if (buffer_.size() > 0) {  // a pipelined request is already here
      start_request();
      return;
    }
    // Idle keep-alive: wait for the first byte of the next request under the idle timeout; the
    // request timeout starts with that byte.
    lowest().expires_after(opts().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->start_request();
                            });
  }

  void start_request() {
    deadline_ = std::chrono::steady_clock::now() + opts().request_timeout;
    continue_checked_ = false;
    parse_buffered();
  }

  // Feeds the parser what the buffer holds and reads more only when it needs more. Beast's
  // async_read_header and async_read would each complete through a post even when the bytes are
  // already here: a request that came in one recv took three turns of the io_context, each queued
  // behind every other connection's work (0.3 ms at the median under load, loadtest/README.md,
  // issue 14, eleventh round). Here it takes the one turn of its recv.
  void parse_buffered() {
    for (;;) {
      beast::error_code ec;
      std::size_t used = 0;
      if (buffer_.size() > 0) {
        used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
      }
      if (ec && ec != http::error::need_more) return on_read_error(ec);
      if (parser_->is_done()) return on_request();
      if (parser_->is_header_done() && !continue_checked_) {
        continue_checked_ = true;
        if (expects_continue()) return send_continue();
      }
      if (ec == http::error::need_more || used == 0) return read_more();
    }
  }

  bool expects_continue() const {
    const auto& req = parser_->get();
    const auto expect = req[http::field::expect];
    return req.version() >= 11 && util::ascii_iequals(std::string_view(expect.data(), expect.size()), "100-continue");
  }

  void send_continue() {
    static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
    lowest().expires_at(deadline_);  // under the request's deadline, not the idle or last write's
    net::async_write(stream_, net::buffer(k100.data(), k100.size()),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->parse_buffered();
                     });
  }

  void read_more() {
    lowest().expires_at(deadline_);
    // As Beast's own reads size it: at least 512 bytes, at most 64 KiB a recv.
    const std::size_t size = beast::read_size(buffer_, 64 * 1024);
    if (size == 0) return on_read_error(http::error::buffer_overflow);
    stream_.async_read_some(buffer_.prepare(size), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec == net::error::eof) {
        // As Beast's reads: the peer closed before a request began, or in the middle of one.
        if (!self->parser_->got_some()) return self->on_read_error(http::error::end_of_stream);
        self->parser_->put_eof(ec);
        if (!ec && self->parser_->is_done()) return self->on_request();
        return self->on_read_error(ec ? ec : beast::error_code(http::error::partial_message));
      }
      if (ec) return self->on_read_error(ec);
      self->buffer_.commit(n);
      self->parse_buffered();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      if (opts().body_too_large) {
        const auto target = parser_->get().target();
        return write_response(opts().body_too_large(std::string_view(target.data(), target.size()), opts().max_body_bytes),
                              /*keep_alive=*/false);
      }
      return write_response(error_response(413, "too_large",
                                           "request body exceeds " + std::to_string(opts().max_body_bytes) + " bytes"),
                            /*keep_alive=*/false);
    }
    if (ec == http::error::header_limit) {
      return write_response(error_response(431, "headers_too_large",
                                           "request line and headers exceed " +
                                               std::to_string(opts().max_header_bytes) + " bytes"),
                            false);
    }
    // The peer went away, or was too slow (slow-loris): nothing worth answering.
    const bool parse_error = ec.category() == beast::error_code(http::error::bad_method).category();
    if (!parse_error || ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    write_response(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()), false);
  }

  void on_request() {
    auto req = parser_->release();
    parser_.reset();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    lowest().expires_never();  // the handler's time is not the socket's: the Responder guards it

    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](char c) { return ascii_lower(c); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());

    auto self = this->shared_from_this();
    {
      std::lock_guard lock(shared_->mu);
      shared_->awaiting.emplace(this, self);
    }
    auto state = std::make_shared<ResponderState>(shared_->gate, self);
    Responder responder = [state](HttpResponse r) { state->answer(std::move(r)); };
    try {
      shared_->handler(std::move(request), std::move(responder));
    } catch (const std::exception& e) {
      state->answer(error_response(500, "internal_error", std::string("request handler failed: ") + e.what()));
    } catch (...) {
      state->answer(error_response(500, "internal_error", "request handler failed"));
    }
  }

  // Shared by every copy of one request's Responder: answers once; answers 500 if dropped. It
  // names the connection weakly (ServerShared::awaiting keeps it), and answers only while the
  // gate is open: the last copy may go on any thread at any time, even after the io_context.
  struct ResponderState {
    ResponderState(std::shared_ptr<http_detail::AnswerGate> g, std::weak_ptr<ServerConnection> c)
        : gate(std::move(g)), conn(std::move(c)) {}
    ~ResponderState() {
      if (!answered.load(std::memory_order_acquire))
        answer(error_response(500, "internal_error", "the request was dropped without an answer"));
    }
    void answer(HttpResponse r) {
      if (answered.exchange(true, std::memory_order_acq_rel)) return;
      gate->reach(conn, [&](std::shared_ptr<ServerConnection> c) { post_response(std::move(c), std::move(r)); });
    }
    std::shared_ptr<http_detail::AnswerGate> gate;
    std::weak_ptr<ServerConnection> conn;
    std::atomic<bool> answered{false};
  };

  // On the strand: the answer is here (or the connection ends), the server need not keep it.
  void stop_awaiting() {
    std::shared_ptr<Connection> kept;  // released outside the lock (a destructor takes it)
    std::lock_guard lock(shared_->mu);
    if (auto it = shared_->awaiting.find(this); it != shared_->awaiting.end()) {
      kept = std::move(it->second);
      shared_->awaiting.erase(it);
    }
  }

  void write_response(HttpResponse r) { write_response(std::move(r), keep_alive_); }

  void write_response(HttpResponse r, bool keep_alive) {
    stop_awaiting();
    if (closed_) return;
    parser_.reset();
    if (r.status < 100 || r.status > 599) {
      r = error_response(500, "internal_error", "handler answered with an invalid status");
    }
    if (r.stream) {
      if (version_ >= 11) return this->start_stream(std::move(r));
      r = error_response(505, "http_version_not_supported", "a streamed answer needs HTTP/1.1 (chunked)");
      keep_alive = false;
    }
    {
      std::lock_guard lock(shared_->mu);
      if (shared_->stopped) keep_alive = false;
    }
    keep_alive_ = keep_alive;
    response_ = {};
    response_.version(version_ == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(r.status));
    http_detail::set_answer_headers(response_, r, opts().server_name);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    lowest().expires_after(opts().write_timeout);
    http::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!self->keep_alive_) return self->close_gracefully();
      self->wait_for_request();
    });
  }

  void close_gracefully() {
    if constexpr (kTls) {
      // close_notify, then wait (bounded) for the client's: the TLS form of the drain below.
      lowest().expires_after(kDrainTime);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
      return;
    }
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    lowest().expires_after(kDrainTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ >= kDrainLimit) return self->close();
      self->drain();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    stop_awaiting();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
    this->end_stream();
  }

  std::shared_ptr<ServerShared> shared_;
  // TLS: the context this connection was made with, alive as long as it is (set_tls() may
  // replace the server's meanwhile). Nothing at all for a plain connection.
  [[no_unique_address]] std::conditional_t<kTls, std::shared_ptr<net::ssl::context>, std::monostate> tls_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http_detail::RequestBody>> parser_;
  http::response<http::string_body> response_;
  std::chrono::steady_clock::time_point deadline_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool continue_checked_ = false;  // this request's Expect: 100-continue looked at
  std::size_t drained_ = 0;
  std::array<char, 4096> scratch_{};
};

struct HttpServer::Impl {
  Impl(net::io_context& io_, Handler handler, HttpServerOptions options) : io(io_) {
    shared = std::make_shared<ServerShared>();
    shared->handler = std::move(handler);
    shared->options = std::move(options);
    shared->tls = shared->options.tls != nullptr;
    Acceptor::Options o;
    o.name = "HTTP listener";
    o.retry_after = std::chrono::milliseconds(50);
    acceptor = Acceptor::make(io, std::move(o), [shared = shared](tcp::socket socket) { admit(shared, std::move(socket)); });
  }

  static void admit(const std::shared_ptr<ServerShared>& shared, tcp::socket socket) {
    if (shared->tls) return admit_as<TlsStream>(shared, std::move(socket));
    admit_as<PlainStream>(shared, std::move(socket));
  }

  template <class Stream>
  static void admit_as(const std::shared_ptr<ServerShared>& shared, tcp::socket socket) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<ServerConnection<Stream>> conn;
    {
      std::lock_guard lock(shared->mu);
      if (!shared->stopped && shared->live.size() < shared->options.max_connections) {
        conn = std::make_shared<ServerConnection<Stream>>(shared, std::move(socket));
        shared->live.emplace(conn.get(), conn);
      }
    }
    if (conn) {
      conn->run();
    } else {
      socket.close(ignored);
    }
  }

  net::io_context& io;
  std::shared_ptr<ServerShared> shared;
  std::shared_ptr<Acceptor> acceptor;
  std::atomic<bool> stopped{false};
};

HttpServer::HttpServer(net::io_context& io, Handler handler, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(handler), std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const HostPort& listen) {
  const auto endpoint = Acceptor::resolve(impl_->io, listen.host, listen.port);
  if (!endpoint) throw std::runtime_error("cannot resolve listen host '" + listen.host + "'");
  impl_->acceptor->listen(*endpoint, listen.to_string());
  impl_->acceptor->start();
}

std::uint16_t HttpServer::port() const { return impl_->acceptor->port(); }

std::size_t HttpServer::connection_count() const {
  std::lock_guard lock(impl_->shared->mu);
  return impl_->shared->live.size();
}

void HttpServer::set_tls(std::shared_ptr<net::ssl::context> tls) {
  if (!impl_->shared->tls || !tls) throw std::logic_error("HttpServer::set_tls: the server was made without TLS");
  std::lock_guard lock(impl_->shared->mu);
  std::swap(impl_->shared->options.tls, tls);  // the old one goes with its last connection
}

void HttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->acceptor->close();
  {
    std::lock_guard lock(impl_->shared->gate->mu);
    impl_->shared->gate->open = false;  // no Responder touches a connection from now on
  }
  std::vector<std::shared_ptr<Connection>> open;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> awaiting;
  {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->stopped = true;
    for (auto& [ptr, weak] : impl_->shared->live) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    awaiting.swap(impl_->shared->awaiting);
  }
  // Each close takes its own reference to the io_context: these go here, outside the lock a
  // connection's destructor takes.
  for (auto& c : open) c->post_close();
}

}  // namespace volley
