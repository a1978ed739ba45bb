#pragma once
// The HTTP/1.1 clients of the tests, on Boost.Beast, one connection each on its own io_context,
// every operation bounded by a deadline so that a hung or misbehaving server fails a test instead
// of hanging it. Header-only so test binaries need no extra CMake source lists. Not thread-safe:
// one client per thread.
//   HttpConnection  one connection, request by request or byte by byte (the HTTP server's tests)
//   HttpClient      requests to a running volleyd: keep-alive, reopened when the server closed it
//   IoThreads       an io_context run by threads, for a server under test
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace volley::test {

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

class HttpError : public std::runtime_error {
 public:
  HttpError(const std::string& what, bool nothing_received)
      : std::runtime_error(what), nothing_received_(nothing_received) {}
  // True when the failure proves the server never answered (refused, reset or closed before
  // one byte of a response): only then may a request be sent again without risking a repeat.
  bool nothing_received() const { return nothing_received_; }

 private:
  bool nothing_received_;
};

// One connection, opened by the constructor (HttpError when it cannot be).
class HttpConnection {
 public:
  HttpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(port), timeout_(timeout), stream_(io_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(host_), port_);
    run("connect", [&](auto handler) { stream_.async_connect(ep, handler); });
  }
  ~HttpConnection() { close(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  template <class Message>
  void send(Message& msg) {
    run("write", [&](auto handler) { http::async_write(stream_, msg, handler); });
  }

  void write_raw(std::string_view bytes) {
    run("write", [&](auto handler) { boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), handler); });
  }

  Response read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    run("read", [&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
    return parser.release();
  }

  // Sends a request (Content-Length and Host filled in) and reads the answer.
  Response request(std::string method, std::string target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host_);
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    send(req);
    return read();
  }

  // True when the server closes the connection (EOF or reset) within `within`; any bytes the
  // server sends first are discarded.
  bool closed_by_peer(std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    char scratch[4096];
    auto& socket = stream_.socket();
    for (;;) {
      bool done = false;
      boost::beast::error_code result;
      socket.async_read_some(boost::asio::buffer(scratch), [&](boost::beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
      });
      io_.restart();
      io_.run_until(deadline);
      if (!done) {
        socket.cancel();
        io_.restart();
        io_.run();
        return false;
      }
      if (result) return true;
    }
  }

  // Bytes read past the last response (a pipelined answer, or garbage).
  std::size_t buffered() const { return buffer_.size(); }

  void close() {
    boost::beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
  }

 private:
  // Runs one async operation on our own io_context until it completes or the stream's timer
  // fires.
  template <class Start>
  void run(const char* what, Start&& start) {
    boost::beast::error_code result = boost::asio::error::would_block;
    std::size_t transferred = 0;
    stream_.expires_after(timeout_);
    start([&](boost::beast::error_code ec, auto... n) {  // connect passes no byte count
      result = ec;
      if constexpr (sizeof...(n) == 1) transferred = (n, ...);
    });
    io_.restart();
    io_.run();
    if (!result) return;
    const bool closed = result == http::error::end_of_stream || result == boost::asio::error::eof ||
                        result == boost::asio::error::connection_reset || result == boost::asio::error::broken_pipe;
    // A failed connect or write leaves the server without a whole request to act on.
    const std::string_view stage(what);
    const bool nothing_received = stage == "connect" || stage == "write" || (closed && transferred == 0);
    throw HttpError(std::string(what) + " " + host_ + ":" + std::to_string(port_) + ": " + result.message(),
                    nothing_received);
  }

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

// A connection to 127.0.0.1, for the tests of the HTTP server and the API handlers.
class HttpTestClient : public HttpConnection {
 public:
  explicit HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : HttpConnection("127.0.0.1", port, timeout) {}
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, "" when absent
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : host_(std::move(host)), port_(port), timeout_(timeout) {}

  // Every request from now on says "Authorization: Bearer <token>" ("" = none).
  void set_bearer(std::string token) { bearer_ = std::move(token); }
  // Every request from now on carries this header ("" = no longer), e.g. Idempotency-Key.
  void set_header(const std::string& name, std::string value) {
    if (value.empty()) {
      headers_.erase(name);
    } else {
      headers_[name] = std::move(value);
    }
  }

  HttpResponse get(const std::string& target) {
    return request(http::verb::get, target, {}, {});
  }
  HttpResponse post_json(const std::string& target, const std::string& json) {
    return request(http::verb::post, target, json, "application/json");
  }

  // Sends one request; throws HttpError when no answer could be had. A request that failed on
  // a reused connection because the server had closed it while idle (nothing came back) is
  // retried once on a fresh one, as browsers do; any other failure is reported.
  HttpResponse request(http::verb method, const std::string& target, const std::string& body,
                       const std::string& content_type) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_ + ":" + std::to_string(port_));
    req.set(http::field::user_agent, "volley-integration-test");
    req.keep_alive(true);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    if (!bearer_.empty()) req.set(http::field::authorization, "Bearer " + bearer_);
    for (const auto& [name, value] : headers_) req.set(name, value);
    if (method != http::verb::get || !body.empty()) {
      req.body() = body;
      req.prepare_payload();
    }
    const bool reused = connection_.has_value();
    try {
      return exchange(req);
    } catch (const HttpError& e) {
      close();
      if (!reused || !e.nothing_received()) throw;
    }
    return exchange(req);
  }

  void close() { connection_.reset(); }

 private:
  HttpResponse exchange(http::request<http::string_body>& req) {
    if (!connection_) connection_.emplace(host_, port_, timeout_);
    connection_->send(req);
    if (connection_->buffered() != 0) throw HttpError("unexpected bytes before the response", false);
    auto res = connection_->read();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    out.content_type = std::string(res[http::field::content_type]);
    out.retry_after = std::string(res[http::field::retry_after]);
    if (!res.keep_alive()) close();
    return out;
  }

  std::string host_;
  std::uint16_t port_;
  std::string bearer_;
  std::map<std::string, std::string> headers_;
  std::chrono::milliseconds timeout_;
  std::optional<HttpConnection> connection_;
};

// An io_context run by `threads` threads for the life of this object; the server under test
// lives on it.
class IoThreads {
 public:
  explicit IoThreads(std::size_t threads = 1) : guard_(boost::asio::make_work_guard(io)) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io.run(); });
  }
  ~IoThreads() { join(); }
  // Lets run() return once nothing is left to do, and waits for it.
  void join() {
    guard_.reset();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace volley::test
