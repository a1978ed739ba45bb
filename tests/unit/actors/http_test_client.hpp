#pragma once
// A small HTTP/1.1 client for the HTTP tests: real sockets on loopback, every operation bounded by
// a deadline (an async operation on the client's own io_context, run until done or the deadline)
// so that a misbehaving server fails a test instead of hanging it.
#include <utility>  // before Boost.Asio (Boost 1.74 + C++20)

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace volley::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;
using namespace std::chrono_literals;

class HttpTestClient {
 public:
  explicit HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = 10s)
      : socket_(io_), timeout_(timeout) {
    beast::error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) throw std::runtime_error("connect: " + ec.message());
  }

  // Sends a request (Content-Length and Host filled in) and reads the answer.
  Response request(std::string method, std::string target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    send(req);
    return read();
  }

  template <class Message>
  void send(Message& msg) {
    bool done = false;
    beast::error_code result;
    http::async_write(socket_, msg, [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    run_until(done, "write");
    if (result) throw std::runtime_error("write: " + result.message());
  }

  void write_raw(std::string_view bytes) {
    bool done = false;
    beast::error_code result;
    net::async_write(socket_, net::buffer(bytes.data(), bytes.size()), [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    run_until(done, "write");
    if (result) throw std::runtime_error("write: " + result.message());
  }

  Response read() {
    Response res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bool done = false;
    beast::error_code result;
    http::async_read(socket_, buffer_, parser, [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    run_until(done, "read");
    if (result) throw std::runtime_error("read: " + result.message());
    return parser.release();
  }

  // True when the server closes the connection (EOF or reset) within `within`; any bytes the
  // server sends first are discarded.
  bool closed_by_peer(std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    char scratch[4096];
    for (;;) {
      bool done = false;
      beast::error_code result;
      socket_.async_read_some(net::buffer(scratch), [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
      });
      io_.restart();
      io_.run_until(deadline);
      if (!done) {
        socket_.cancel();
        io_.restart();
        io_.run();
        return false;
      }
      if (result) return true;
    }
  }

 private:
  void run_until(bool& done, const char* what) {
    io_.restart();
    io_.run_for(timeout_);
    if (!done) {
      socket_.cancel();
      io_.restart();
      io_.run();
      throw std::runtime_error(std::string(what) + ": timed out");
    }
  }

  net::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

// An io_context run by `threads` threads for the life of this object; the server under test
// lives on it.
class IoThreads {
 public:
  explicit IoThreads(std::size_t threads = 1) : guard_(net::make_work_guard(io)) {
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

  net::io_context io;

 private:
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace volley::test
