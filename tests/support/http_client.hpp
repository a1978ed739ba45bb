#pragma once
// A small synchronous HTTP/1.1 client for tests, on Boost.Beast: one keep-alive connection,
// reopened when the server closed it, every operation bounded by a timeout. Header-only so test
// binaries need no extra CMake source lists. Not thread-safe: one client per thread.
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace volley::test {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, "" when absent
};

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
    return request(boost::beast::http::verb::get, target, {}, {});
  }
  HttpResponse post_json(const std::string& target, const std::string& json) {
    return request(boost::beast::http::verb::post, target, json, "application/json");
  }

  // Sends one request; throws HttpError when no answer could be had. A request that failed on
  // a reused connection because the server had closed it while idle (nothing came back) is
  // retried once on a fresh one, as browsers do; any other failure is reported.
  HttpResponse request(boost::beast::http::verb method, const std::string& target,
                       const std::string& body, const std::string& content_type) {
    namespace http = boost::beast::http;
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
    const bool reused = stream_.has_value();
    try {
      return exchange(req);
    } catch (const HttpError& e) {
      close();
      if (!reused || !e.nothing_received()) throw;
    }
    return exchange(req);
  }

  void close() {
    if (stream_) {
      boost::beast::error_code ec;
      stream_->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
      stream_->close();
    }
    stream_.reset();
    buffer_.clear();
  }

 private:
  // Runs one async operation on our own io_context until it completes or the stream's timer
  // fires, so a hung server fails the test instead of hanging it.
  template <class Start>
  void run(const char* what, Start&& start) {
    boost::beast::error_code result = boost::asio::error::would_block;
    std::size_t transferred = 0;
    stream_->expires_after(timeout_);
    start([&](boost::beast::error_code ec, auto... n) {  // connect passes no byte count
      result = ec;
      if constexpr (sizeof...(n) == 1) transferred = (n, ...);
    });
    io_.restart();
    io_.run();
    if (!result) return;
    const bool closed = result == boost::beast::http::error::end_of_stream ||
                        result == boost::asio::error::eof ||
                        result == boost::asio::error::connection_reset ||
                        result == boost::asio::error::broken_pipe;
    // A failed connect or write leaves the server without a whole request to act on.
    const std::string_view stage(what);
    const bool nothing_received =
        stage == "connect" || stage == "write" || (closed && transferred == 0);
    throw HttpError(std::string(what) + " " + host_ + ":" + std::to_string(port_) + ": " +
                        result.message(),
                    nothing_received);
  }

  HttpResponse exchange(
      boost::beast::http::request<boost::beast::http::string_body>& req) {
    namespace http = boost::beast::http;
    if (!stream_) {
      stream_.emplace(io_);
      boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(host_), port_);
      run("connect", [&](auto handler) { stream_->async_connect(ep, handler); });
    }
    run("write", [&](auto handler) { http::async_write(*stream_, req, handler); });
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (buffer_.size() != 0) throw HttpError("unexpected bytes before the response", false);
    run("read", [&](auto handler) { http::async_read(*stream_, buffer_, parser, handler); });
    auto res = parser.release();
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
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace volley::test
