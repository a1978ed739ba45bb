#pragma once
// One listening TCP socket and its accept loop, shared by every listener (the HTTP server, the
// inbound SMTP listener, the load-test receiver): open, SO_REUSEADDR, bind, listen, then accept
// until closed, handing each connection on. A failed accept (out of descriptors, most likely)
// backs off briefly instead of spinning, and the loop goes on.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace volley {

class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Endpoint = boost::asio::ip::tcp::endpoint;

  struct Options {
    std::string name = "listener";  // begins the errors listen() throws: "<name> <where>: bind: ..."
    // Each connection on a strand of its own, for listeners whose io_context runs on several
    // threads; false: on the io_context itself (a single-threaded program).
    bool strand_per_connection = true;
    std::chrono::milliseconds retry_after{100};  // after a failed accept
    // Told of each failed accept before the pause (e.g. to log it); may be empty.
    std::function<void(const boost::system::error_code&)> on_error;
  };
  // Called with each accepted connection, on the acceptor's strand; must not block.
  using OnAccept = std::function<void(Socket)>;

  static std::shared_ptr<Acceptor> make(boost::asio::io_context& io, Options options, OnAccept on_accept);

  // The address to bind for host (an IP literal, or a name resolved here, passive) and port;
  // nullopt when the name does not resolve.
  static std::optional<Endpoint> resolve(boost::asio::io_context& io, const std::string& host, std::uint16_t port);

  // Binds endpoint (port 0: any free port) and listens; the bound address. Throws
  // std::runtime_error "<name> <where>: <open|SO_REUSEADDR|bind|listen>: <error>". Call once,
  // before start().
  Endpoint listen(const Endpoint& endpoint, const std::string& where);
  // Starts the accept loop (on the acceptor's strand).
  void start();
  // Stops accepting and closes the socket (on the acceptor's strand). Idempotent, callable from
  // any thread; connections already handed on are the caller's.
  void close();

  std::uint16_t port() const { return port_.load(); }  // the bound port, after listen()

 private:
  Acceptor(boost::asio::io_context& io, Options options, OnAccept on_accept);
  void accept();
  void on_accept(const boost::system::error_code& ec, Socket socket);

  boost::asio::io_context& io_;
  Options options_;
  OnAccept on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace volley
