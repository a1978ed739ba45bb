// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include "net/acceptor.hpp"

#include <stdexcept>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace volley {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::shared_ptr<Acceptor> Acceptor::make(asio::io_context& io, Options options, OnAccept on_accept) {
  return std::shared_ptr<Acceptor>(new Acceptor(io, std::move(options), std::move(on_accept)));
}

Acceptor::Acceptor(asio::io_context& io, Options options, OnAccept on_accept)
    : io_(io),
      options_(std::move(options)),
      on_accept_(std::move(on_accept)),
      acceptor_(asio::make_strand(io)),
      retry_timer_(acceptor_.get_executor()) {}

std::optional<Acceptor::Endpoint> Acceptor::resolve(asio::io_context& io, const std::string& host, std::uint16_t port) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return Endpoint(address, port);
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) return std::nullopt;
  return results.begin()->endpoint();
}

Acceptor::Endpoint Acceptor::listen(const Endpoint& endpoint, const std::string& where) {
  error_code ec;
  auto fail = [&](const char* step) {
    throw std::runtime_error(options_.name + " " + where + ": " + step + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec)) fail("open");
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec)) fail("SO_REUSEADDR");
  if (acceptor_.bind(endpoint, ec)) fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) fail("listen");
  const auto bound = acceptor_.local_endpoint(ec);
  if (ec) fail("local address");
  port_ = bound.port();
  return bound;
}

void Acceptor::start() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Acceptor::close() {
  // The acceptor is not thread-safe: close it on its own strand.
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void Acceptor::accept() {
  auto done = [self = shared_from_this()](error_code ec, tcp::socket socket) { self->on_accept(ec, std::move(socket)); };
  if (options_.strand_per_connection) {
    acceptor_.async_accept(asio::make_strand(io_), std::move(done));
  } else {
    acceptor_.async_accept(io_, std::move(done));
  }
}

void Acceptor::on_accept(const error_code& ec, Socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    if (options_.on_error) options_.on_error(ec);
    retry_timer_.expires_after(options_.retry_after);
    retry_timer_.async_wait([self = shared_from_this()](error_code e) {
      if (!e && self->acceptor_.is_open()) self->accept();
    });
    return;
  }
  on_accept_(std::move(socket));
  accept();
}

}  // namespace volley
