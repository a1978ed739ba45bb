#include <utility>  // before Boost.Asio (Boost 1.74 + C++20)

#include "net/webhook_client.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

namespace volley {

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Strand = net::strand<net::io_context::executor_type>;

// We read the answer only for its status; a bigger body is an endpoint misbehaving.
constexpr std::uint64_t kMaxResponseBody = 1u << 20;

// One TCP (or TLS) connection. Shared by the handlers of the operations on it, so that closing
// it (timeout, close()) never frees a stream an aborted operation is still unwinding on.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    beast::error_code ec;
    lowest().socket().close(ec);
  }
  template <class Fn>
  void with_stream(Fn&& fn) {
    if (tls) {
      fn(*tls);
    } else {
      fn(*plain);
    }
  }
};

// One POST, including its one possible resend on a fresh connection.
struct Exchange {
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  WebhookClient::Done done;
  bool reused = false;    // sent on a connection kept from an earlier POST
  bool finished = false;  // done called (or dropped by close()): later completions are stale
};

}  // namespace

struct WebhookClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& io, events::WebhookUrl u, const std::string& ca_file)
      : strand(net::make_strand(io)), url(std::move(u)), resolver(strand), deadline(strand) {
    if (!url.tls) return;
    tls_ctx.emplace(ssl::context::tls_client);
    tls_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_ctx->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (ca_file.empty()) {
      tls_ctx->set_default_verify_paths(ec);
    } else {
      tls_ctx->load_verify_file(ca_file, ec);
    }
    if (ec) throw std::runtime_error("webhook: CA certificates " + ca_file + ": " + ec.message());
  }

  Strand strand;
  events::WebhookUrl url;
  std::optional<ssl::context> tls_ctx;
  tcp::resolver resolver;
  net::steady_timer deadline;
  std::shared_ptr<Connection> conn;  // null: not connected
  std::shared_ptr<Exchange> current;
  bool closed = false;

  void start(std::shared_ptr<Exchange> ex, std::chrono::milliseconds timeout) {
    if (closed) return;
    current = ex;
    deadline.expires_after(timeout);
    deadline.async_wait([self = shared_from_this(), ex](beast::error_code ec) {
      if (ec || ex->finished) return;
      self->resolver.cancel();
      self->drop_connection();
      self->finish(*ex, {0, "timed out"});
    });
    if (conn) {
      ex->reused = true;
      send(ex, conn);
    } else {
      connect(ex);
    }
  }

  void connect(std::shared_ptr<Exchange> ex) {
    drop_connection();
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [self = shared_from_this(), ex](beast::error_code ec, tcp::resolver::results_type results) {
          if (ex->finished) return;
          if (ec) return self->finish(*ex, {0, "resolve " + self->url.host + ": " + ec.message()});
          self->connect_to(ex, results);
        });
  }

  void connect_to(std::shared_ptr<Exchange> ex, const tcp::resolver::results_type& results) {
    auto c = std::make_shared<Connection>();
    if (url.tls) {
      c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand, *tls_ctx);
      beast::error_code ec;
      net::ip::make_address(url.host, ec);
      // SNI for names only (RFC 6066 forbids literal addresses); the check covers both.
      if (ec) SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str());
      c->tls->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(strand);
    }
    conn = c;
    c->lowest().async_connect(results, [self = shared_from_this(), ex, c](
                                           beast::error_code ec, const tcp::endpoint&) {
      if (ex->finished) return;
      if (ec) return self->finish(*ex, {0, "connect: " + ec.message()});
      if (!c->tls) return self->send(ex, c);
      c->tls->async_handshake(ssl::stream_base::client, [self, ex, c](beast::error_code ec) {
        if (ex->finished) return;
        if (ec) return self->finish(*ex, {0, "TLS handshake: " + ec.message()});
        self->send(ex, c);
      });
    });
  }

  void send(std::shared_ptr<Exchange> ex, std::shared_ptr<Connection> c) {
    c->with_stream([&](auto& stream) {
      http::async_write(stream, ex->req, [self = shared_from_this(), ex, c](beast::error_code ec, std::size_t) {
        if (ex->finished) return;
        if (ec) return self->failed_on_connection(ex, "write: " + ec.message());
        self->receive(ex, c);
      });
    });
  }

  void receive(std::shared_ptr<Exchange> ex, std::shared_ptr<Connection> c) {
    ex->parser.emplace();
    ex->parser->body_limit(kMaxResponseBody);
    c->with_stream([&](auto& stream) {
      http::async_read(stream, c->buffer, *ex->parser,
                       [self = shared_from_this(), ex, c](beast::error_code ec, std::size_t) {
                         if (ex->finished) return;
                         if (ec && !ex->parser->got_some()) {
                           return self->failed_on_connection(ex, "read: " + ec.message());
                         }
                         if (ec) return self->finish_closing(*ex, {0, "read: " + ec.message()});
                         const auto& res = ex->parser->get();
                         WebhookResponse r{static_cast<unsigned>(res.result_int()), {}};
                         if (!res.keep_alive()) return self->finish_closing(*ex, std::move(r));
                         self->finish(*ex, std::move(r));
                       });
    });
  }

  // Nothing came back on this connection: when it was an idle one from an earlier POST, the
  // server may just have closed it, so the POST goes once more on a new one.
  void failed_on_connection(std::shared_ptr<Exchange> ex, std::string why) {
    if (ex->reused) {
      ex->reused = false;
      return connect(ex);
    }
    finish_closing(*ex, {0, std::move(why)});
  }

  void finish_closing(Exchange& ex, WebhookResponse r) {
    drop_connection();
    finish(ex, std::move(r));
  }

  void finish(Exchange& ex, WebhookResponse r) {
    if (ex.finished) return;
    ex.finished = true;
    deadline.cancel();
    auto done = std::move(ex.done);
    if (current.get() == &ex) current.reset();
    done(std::move(r));
  }

  void drop_connection() {
    if (conn) conn->close();
    conn.reset();
  }

  void shut() {
    closed = true;
    if (current) current->finished = true;
    current.reset();
    resolver.cancel();
    deadline.cancel();
    drop_connection();
  }
};

WebhookClient::WebhookClient(net::io_context& io, events::WebhookUrl url, std::string ca_file)
    : impl_(std::make_shared<Impl>(io, std::move(url), ca_file)) {}

WebhookClient::~WebhookClient() { close(); }

void WebhookClient::post(std::string body, Headers headers, std::chrono::milliseconds timeout,
                         Done done) {
  auto ex = std::make_shared<Exchange>();
  ex->req.method(http::verb::post);
  ex->req.target(impl_->url.target);
  ex->req.version(11);
  ex->req.set(http::field::host, impl_->url.host_header());
  ex->req.set(http::field::user_agent, "Volley-Webhook/1");
  ex->req.set(http::field::content_type, "application/json");
  for (auto& [name, value] : headers) ex->req.set(name, value);
  ex->req.keep_alive(true);
  ex->req.body() = std::move(body);
  ex->req.prepare_payload();
  ex->done = std::move(done);
  net::post(impl_->strand, [impl = impl_, ex, timeout]() mutable { impl->start(std::move(ex), timeout); });
}

void WebhookClient::close() {
  net::post(impl_->strand, [impl = impl_] { impl->shut(); });
}

}  // namespace volley
