#pragma once
// HTTP/1.1 on one connection, request by request or byte by byte, for the tests of the HTTP
// server and the API handlers; and an io_context run by threads for a server under test. Every
// operation is bounded by the connection's deadline. Not thread-safe: one connection per thread.
//   HttpConnection  one connection, opened by the constructor
//   HttpTestClient  a connection to 127.0.0.1
//   IoThreads       an io_context run by threads, for a server under test
// The members that need no caller's type are compiled once, in http_client.cpp.
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http_client.hpp"

namespace volley::test {

using Response = http::response<http::string_body>;

// One connection, opened by the constructor (HttpError when it cannot be).
class HttpConnection {
 public:
  HttpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  template <class Message>
  void send(Message& msg) {
    run("write", [&](auto handler) { http::async_write(stream_, msg, handler); });
  }

  void write_raw(std::string_view bytes);
  Response read();

  // Sends a request (Content-Length and Host filled in) and reads the answer.
  Response request(std::string method, std::string target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {});

  // True when the server closes the connection (EOF or reset) within `within`; any bytes the
  // server sends first are discarded.
  bool closed_by_peer(std::chrono::milliseconds within);

  // Bytes read past the last response (a pipelined answer, or garbage).
  std::size_t buffered() const { return buffer_.size(); }

  void close();

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
    if (result) fail(what, result, transferred);
  }
  [[noreturn]] void fail(const char* what, boost::beast::error_code result, std::size_t transferred) const;

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

class HttpTestClient : public HttpConnection {
 public:
  explicit HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : HttpConnection("127.0.0.1", port, timeout) {}
};

// An io_context run by `threads` threads for the life of this object; the server under test
// lives on it.
class IoThreads {
 public:
  explicit IoThreads(std::size_t threads = 1);
  ~IoThreads();
  // Lets run() return once nothing is left to do, and waits for it.
  void join();

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace volley::test
