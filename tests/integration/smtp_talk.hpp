#pragma once
// A plain SMTP client for tests that speak SMTP byte by byte (volley-receiver's behaviours,
// volleyd's inbound drain): every wait is bounded, so a server that stops answering fails the
// test instead of hanging it.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio.hpp>

namespace volley::test {

// A blocking-style SMTP client whose every wait is bounded: each operation runs the client's own
// io_context until it completes or the timeout passes.
class SmtpTalk {
 public:
  explicit SmtpTalk(std::uint16_t port, const std::string& from_ip = "127.0.0.1") : socket_(io_) {
    socket_.open(boost::asio::ip::tcp::v4());
    socket_.bind({boost::asio::ip::make_address(from_ip), 0});
    run([&](auto done) { socket_.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, done); });
  }

  void send(const std::string& bytes) {
    run([&](auto done) { boost::asio::async_write(socket_, boost::asio::buffer(bytes), done); });
  }

  // One whole reply, every line of it ("250-a\r\n250 b\r\n"); "" when the server closed first.
  std::string reply() {
    std::string out;
    for (;;) {
      const auto nl = in_.find('\n');
      if (nl == std::string::npos) {
        if (!fill()) return out;
        continue;
      }
      const auto line = in_.substr(0, nl + 1);
      in_.erase(0, nl + 1);
      out += line;
      if (line.size() < 4 || line[3] != '-') return out;
    }
  }
  std::string command(const std::string& line) {
    send(line + "\r\n");
    return reply();
  }
  // True when the server closed the connection with nothing more to say.
  bool closed() { return in_.empty() && !fill(); }

  // MAIL, every RCPT, and DATA with a small message when a recipient was taken; returns
  // the replies to the RCPTs and, last, to the end of data (or to DATA when it was refused).
  std::vector<std::string> transaction(const std::string& from, const std::vector<std::string>& to) {
    std::vector<std::string> replies;
    const auto mail = command("MAIL FROM:<" + from + ">");
    if (mail.rfind("250", 0) != 0) return {mail};
    for (const auto& r : to) replies.push_back(command("RCPT TO:<" + r + ">"));
    const auto data = command("DATA");
    if (data.rfind("354", 0) != 0) {
      replies.push_back(data);
      command("RSET");  // the transaction stays open after a refused DATA (as with Postfix)
      return replies;
    }
    replies.push_back(command("Subject: test\r\n\r\nhello\r\n."));
    return replies;
  }

 private:
  template <class Start>
  void run(Start&& start) {
    std::optional<boost::system::error_code> result;
    start([&](boost::system::error_code ec, auto...) { result = ec; });
    io_.restart();
    io_.run_for(std::chrono::seconds(10));
    if (!result) throw std::runtime_error("SMTP client: timed out");
    if (*result) throw boost::system::system_error(*result);
  }

  // Reads more into in_; false on end of stream (or reset).
  bool fill() {
    std::array<char, 4096> buf;
    std::optional<boost::system::error_code> result;
    std::size_t n = 0;
    socket_.async_read_some(boost::asio::buffer(buf), [&](boost::system::error_code ec, std::size_t got) {
      result = ec;
      n = got;
    });
    io_.restart();
    io_.run_for(std::chrono::seconds(10));
    if (!result) throw std::runtime_error("SMTP client: timed out waiting for a reply");
    if (*result == boost::asio::error::eof || *result == boost::asio::error::connection_reset) return false;
    if (*result) throw boost::system::system_error(*result);
    in_.append(buf.data(), n);
    return true;
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string in_;
};

}  // namespace volley::test
