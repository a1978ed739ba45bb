#pragma once
// A raw SMTP client for the inbound SMTP tests: real sockets on loopback, bytes written exactly as
// given (so tests can pipeline, stuff dots or misbehave), replies read whole. Every operation is
// bounded by a deadline (an async operation on the client's own io_context, run until done or
// the deadline) so that a misbehaving server fails a test instead of hanging it. start_tls()
// upgrades the connection in place after a 220 to STARTTLS (no certificate verification).
#include <utility>  // before Boost.Asio (Boost 1.74 + C++20)

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

namespace volley::test {

namespace net = boost::asio;
using namespace std::chrono_literals;

class SmtpTestClient {
 public:
  explicit SmtpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = 10s)
      : socket_(io_), timeout_(timeout) {
    boost::system::error_code ec;
    socket_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) throw std::runtime_error("connect: " + ec.message());
  }

  void send(std::string_view bytes) {
    bool done = false;
    boost::system::error_code result;
    auto on_write = [&](boost::system::error_code ec, std::size_t) {
      result = ec;
      done = true;
    };
    if (tls_) {
      net::async_write(*tls_, net::buffer(bytes.data(), bytes.size()), on_write);
    } else {
      net::async_write(socket_, net::buffer(bytes.data(), bytes.size()), on_write);
    }
    run_until(done, "write", timeout_);
    if (result) throw std::runtime_error("write: " + result.message());
  }

  // One whole reply, multi-line ones included, CRLFs kept ("250-a\r\n250 b\r\n").
  std::string reply() { return reply(timeout_); }
  std::string reply(std::chrono::milliseconds within) {
    std::string out;
    for (int lines = 0; lines < 100; ++lines) {  // bounded: no server sends 100 lines here
      const auto line = read_line(within);
      out += line;
      if (line.size() < 4 || line[3] != '-') return out;
    }
    throw std::runtime_error("reply: too many lines");
  }

  // Sends `command` (CRLF added) and returns its reply.
  std::string command(std::string_view command) {
    send(std::string(command) + "\r\n");
    return reply();
  }

  // True when the server closes the connection (EOF or reset) within `within` without sending
  // anything more first.
  bool closed_by_peer(std::chrono::milliseconds within) {
    if (!in_.empty()) return false;
    char scratch[256];
    bool done = false;
    boost::system::error_code result;
    std::size_t got = 0;
    auto on_read = [&](boost::system::error_code ec, std::size_t n) {
      result = ec;
      got = n;
      done = true;
    };
    if (tls_) {
      tls_->async_read_some(net::buffer(scratch), on_read);
    } else {
      socket_.async_read_some(net::buffer(scratch), on_read);
    }
    try {
      run_until(done, "read", within);
    } catch (const std::runtime_error&) {
      return false;
    }
    return result && got == 0;
  }

  // After the server's 220 to STARTTLS. Anything the server sent beyond it would be a bug.
  void start_tls() {
    if (!in_.empty()) throw std::runtime_error("start_tls: plaintext bytes after the 220");
    tls_context_.emplace(net::ssl::context::tls_client);
    tls_context_->set_verify_mode(net::ssl::verify_none);
    tls_.emplace(socket_, *tls_context_);
    bool done = false;
    boost::system::error_code result;
    tls_->async_handshake(net::ssl::stream_base::client, [&](boost::system::error_code ec) {
      result = ec;
      done = true;
    });
    run_until(done, "TLS handshake", timeout_);
    if (result) throw std::runtime_error("TLS handshake: " + result.message());
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  std::string read_line(std::chrono::milliseconds within) {
    bool done = false;
    boost::system::error_code result;
    std::size_t n = 0;
    auto on_read = [&](boost::system::error_code ec, std::size_t len) {
      result = ec;
      n = len;
      done = true;
    };
    if (tls_) {
      net::async_read_until(*tls_, net::dynamic_buffer(in_, 64 * 1024), "\r\n", on_read);
    } else {
      net::async_read_until(socket_, net::dynamic_buffer(in_, 64 * 1024), "\r\n", on_read);
    }
    run_until(done, "read", within);
    if (result) throw std::runtime_error("read: " + result.message());
    auto line = in_.substr(0, n);
    in_.erase(0, n);
    return line;
  }

  void run_until(bool& done, const char* what, std::chrono::milliseconds within) {
    io_.restart();
    io_.run_for(within);
    if (!done) {
      socket_.cancel();
      io_.restart();
      io_.run();
      throw std::runtime_error(std::string(what) + ": timed out");
    }
  }

  net::io_context io_;
  net::ip::tcp::socket socket_;
  std::optional<net::ssl::context> tls_context_;
  std::optional<net::ssl::stream<net::ip::tcp::socket&>> tls_;  // after start_tls()
  std::string in_;
  std::chrono::milliseconds timeout_;
};

// An io_context run by one thread for the life of this object; the server under test lives on it.
class IoThread {
 public:
  IoThread() : guard_(net::make_work_guard(io)), thread_([this] { io.run(); }) {}
  ~IoThread() {
    guard_.reset();
    thread_.join();
  }

  net::io_context io;

 private:
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace volley::test
