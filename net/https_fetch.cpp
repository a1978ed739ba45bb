#include <utility>  // before Boost.Asio (Boost 1.74 + C++20)

#include "net/https_fetch.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
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

// Headers of a policy answer are a few lines; anything near this is not a policy server.
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

// One GET: its stream, timer and parser live as long as any handler of it may run.
struct Fetch : std::enable_shared_from_this<Fetch> {
  Fetch(net::io_context& io, std::shared_ptr<ssl::context> c, HttpsRequest r, HttpsFetcher::Done d)
      : ctx(std::move(c)), strand(net::make_strand(io)), request(std::move(r)), done(std::move(d)),
        resolver(strand), deadline(strand), stream(strand, *ctx) {}

  std::shared_ptr<ssl::context> ctx;  // outlives the fetcher when a fetch does
  Strand strand;
  HttpsRequest request;
  HttpsFetcher::Done done;
  tcp::resolver resolver;
  net::steady_timer deadline;
  beast::ssl_stream<beast::tcp_stream> stream;
  http::request<http::string_body> req;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  bool finished = false;

  void start() {
    deadline.expires_after(request.timeout);
    deadline.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished) return;
      self->fail("timed out after " + std::to_string(self->request.timeout.count()) + " ms");
    });
    // SNI and the host-name check: the certificate must name the policy host (RFC 8461 §3.3).
    if (!SSL_set_tlsext_host_name(stream.native_handle(), request.host.c_str()))
      return fail("cannot set SNI for " + request.host);
    // OpenSSL's own check (X509_VERIFY_PARAM host), so a mismatch reads "hostname mismatch".
    if (!SSL_set1_host(stream.native_handle(), request.host.c_str()))
      return fail("cannot check the certificate name " + request.host);
    stream.set_verify_mode(ssl::verify_peer);
    if (request.addresses.empty()) return resolve();
    std::vector<tcp::endpoint> endpoints;
    for (const auto& a : request.addresses) {
      beast::error_code ec;
      auto address = net::ip::make_address(a, ec);
      if (ec) return fail("not an IP address: " + a);
      endpoints.emplace_back(address, request.port);
    }
    connect(std::move(endpoints));
  }

  void resolve() {
    resolver.async_resolve(request.host, std::to_string(request.port),
                           [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                             if (self->finished) return;
                             if (ec) return self->fail("resolve " + self->request.host + ": " + ec.message());
                             self->connect(std::vector<tcp::endpoint>(results.begin(), results.end()));
                           });
  }

  void connect(std::vector<tcp::endpoint> endpoints) {
    auto eps = std::make_shared<std::vector<tcp::endpoint>>(std::move(endpoints));
    beast::get_lowest_layer(stream).async_connect(
        *eps, [self = shared_from_this(), eps](beast::error_code ec, const tcp::endpoint&) {
          if (self->finished) return;
          if (ec) return self->fail("connect to " + self->request.host + ": " + ec.message());
          self->handshake();
        });
  }

  void handshake() {
    stream.async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      if (self->finished) return;
      if (ec) return self->fail("TLS handshake with " + self->request.host + ": " + self->tls_error(ec));
      self->send();
    });
  }

  // A failed verification reads better as OpenSSL's reason ("certificate has expired") than as
  // the handshake's generic error.
  std::string tls_error(const beast::error_code& ec) {
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) return std::string("certificate: ") + X509_verify_cert_error_string(verify);
    return ec.message();
  }

  void send() {
    const bool post = !request.post_content_type.empty();
    req.method(post ? http::verb::post : http::verb::get);
    req.target(request.target);
    req.version(11);
    req.set(http::field::host, request.port == 443 ? request.host
                                                    : request.host + ":" + std::to_string(request.port));
    req.set(http::field::user_agent, request.user_agent);
    if (post) {
      req.set(http::field::content_type, request.post_content_type);
      req.body() = std::move(request.post_body);
      req.prepare_payload();
    } else {
      req.set(http::field::accept, "text/plain");
    }
    req.keep_alive(false);
    http::async_write(stream, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->finished) return;
      if (ec) return self->fail("write: " + ec.message());
      self->receive();
    });
  }

  void receive() {
    parser.emplace();
    parser->header_limit(kMaxHeaderBytes);
    parser->body_limit(request.max_body);
    http::async_read(stream, buffer, *parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->finished) return;
      if (ec == http::error::body_limit)
        return self->fail("body larger than " + std::to_string(self->request.max_body) + " bytes");
      if (ec) return self->fail("read: " + ec.message());
      self->answered();
    });
  }

  void answered() {
    auto& res = parser->get();
    HttpsResponse r;
    r.status = static_cast<unsigned>(res.result_int());
    r.content_type = std::string(res[http::field::content_type]);
    if (r.status >= 300 && r.status < 400) {
      r.error = "HTTP " + std::to_string(r.status) + " (redirects are not followed)";
    } else if (r.status != 200 && (request.post_content_type.empty() || r.status < 200 || r.status > 299)) {
      r.error = "HTTP " + std::to_string(r.status);
    } else {
      r.ok = true;
      r.body = std::move(res.body());
    }
    finish(std::move(r));
  }

  void fail(std::string why) {
    HttpsResponse r;
    r.error = std::move(why);
    finish(std::move(r));
  }

  void finish(HttpsResponse r) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    resolver.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);  // one request per connection
    auto d = std::move(done);
    d(std::move(r));
  }
};

}  // namespace

struct HttpsFetcher::Impl {
  Impl(net::io_context& i, const std::string& ca_file)
      : io(i), ctx(std::make_shared<ssl::context>(ssl::context::tls_client)) {
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("https fetch: system CA certificates: " + ec.message());
    if (!ca_file.empty()) {
      ctx->load_verify_file(ca_file, ec);
      if (ec) throw std::runtime_error("https fetch: CA certificates " + ca_file + ": " + ec.message());
    }
  }
  net::io_context& io;
  std::shared_ptr<ssl::context> ctx;
};

HttpsFetcher::HttpsFetcher(net::io_context& io, const std::string& ca_file)
    : impl_(std::make_shared<Impl>(io, ca_file)) {}

HttpsFetcher::~HttpsFetcher() = default;

void HttpsFetcher::fetch(HttpsRequest request, Done done) {
  auto f = std::make_shared<Fetch>(impl_->io, impl_->ctx, std::move(request), std::move(done));
  net::post(f->strand, [f] { f->start(); });
}

}  // namespace volley
