#include "ctl/http.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace volley::ctl {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string Url::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + base;
}

Url parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.substr(0, 7) == "http://") {
    rest = text.substr(7);
  } else if (text.substr(0, 8) == "https://") {
    rest = text.substr(8);
    url.tls = true;
  } else {
    throw UsageError("--url " + std::string(text) + ": must start with http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.base = std::string(rest.substr(slash));
    while (!url.base.empty() && url.base.back() == '/') url.base.pop_back();
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8025
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw UsageError("--url " + std::string(text) + ": unclosed '['");
    url.host = std::string(authority.substr(1, close - 1));
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') throw UsageError("--url " + std::string(text) + ": expected ':' after ']'");
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) throw UsageError("--url " + std::string(text) + ": no host");
  url.port = url.tls ? 443 : 80;
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || (value = value * 10 + static_cast<unsigned>(c - '0')) > 65535)
        throw UsageError("--url " + std::string(text) + ": bad port");
    }
    if (value == 0) throw UsageError("--url " + std::string(text) + ": bad port");
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Each step runs as an asynchronous operation under the stream's timer, so that a daemon that
// accepts and then says nothing still ends the command after --timeout. One connection at a time,
// plain or TLS: `run` hands the step whichever is open.
struct Client::Impl {
  Url url;
  std::string key;
  std::chrono::milliseconds timeout;
  net::io_context io;
  std::optional<net::ssl::context> trust;  // https: what the daemon's certificate must verify against
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  std::string where() const { return url.text(); }
  bool connected() const { return plain || tls; }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void disconnect() {
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  // Runs the operation `start` begins on `stream` to completion; throws Unreachable on its error.
  template <class Stream, class Start>
  void run_on(Stream& stream, const char* what, Start start) {
    beast::error_code ec;
    start(stream, [&ec](beast::error_code e, auto&&...) { ec = e; });
    io.restart();
    io.run();
    if (!ec) return;
    std::string why = ec.message();
    if (tls) why = tls_failure(ec);
    // A TLS listener drops a plain request without a word.
    if (!tls && ec == http::error::end_of_stream) why += " (no answer: an https:// listener?)";
    disconnect();
    if (ec == beast::error::timeout)
      throw Unreachable(where() + ": no answer within " + std::to_string(timeout.count()) + " ms (" + what + ")");
    throw Unreachable(where() + ": " + what + " failed: " + why);
  }

  // The same on the open connection, whichever it is (`start` takes either stream).
  template <class Start>
  void run(const char* what, Start start) {
    if (tls) return run_on(*tls, what, start);
    run_on(*plain, what, start);
  }

  // A certificate that does not verify says why (OpenSSL's reason: "self-signed certificate",
  // "hostname mismatch", "certificate has expired"); a plain-HTTP listener fails the handshake.
  std::string tls_failure(const beast::error_code& ec) {
    const long verify = SSL_get_verify_result(tls->native_handle());
    if (verify != X509_V_OK) {
      const bool issuer = verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                          verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                          verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
      return std::string("the daemon's certificate is not trusted: ") + X509_verify_cert_error_string(verify) +
             (issuer ? " (--cacert FILE trusts the CA that issued it)" : "");
    }
    if (ec.category() == net::error::get_ssl_category() && ERR_GET_REASON(ec.value()) == SSL_R_WRONG_VERSION_NUMBER)
      return ec.message() + " (the listener does not speak TLS: try http://)";
    return ec.message();
  }

  void connect() {
    if (connected()) return;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) throw Unreachable(where() + ": cannot resolve " + url.host + ": " + ec.message());
    if (!url.tls) {
      plain.emplace(io);
    } else {
      tls.emplace(io, *trust);
      check_name();
    }
    lowest().expires_after(timeout);
    run("connect", [&](auto& s, auto done) { beast::get_lowest_layer(s).async_connect(endpoints, done); });
    if (!tls) return;
    lowest().expires_after(timeout);
    run_on(*tls, "TLS handshake", [](auto& s, auto done) { s.async_handshake(net::ssl::stream_base::client, done); });
  }

  // The certificate must name the host of the URL: a DNS name (also sent as SNI) or an IP address.
  void check_name() {
    SSL* ssl = tls->native_handle();
    beast::error_code ec;
    net::ip::make_address(url.host, ec);
    const bool literal = !ec;
    const bool ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) == 1
                            : SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 && SSL_set1_host(ssl, url.host.c_str()) == 1;
    if (!ok) throw UsageError("--url " + where() + ": cannot check the certificate against " + url.host);
    tls->set_verify_mode(net::ssl::verify_peer);
  }

  http::request<http::string_body> make(std::string_view method, std::string_view target, std::string body,
                                        std::string_view content_type) {
    http::request<http::string_body> req;
    req.method_string(std::string(method));
    req.target(url.base + std::string(target));
    req.version(11);
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, "volleyctl");
    if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
    if (!body.empty()) req.set(http::field::content_type, std::string(content_type));
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }
};

Client::Client(Url url, std::string key, std::chrono::milliseconds timeout, const std::string& cacert)
    : impl_(std::make_unique<Impl>()), url_text_(url.text()) {
  if (url.tls) {
    auto& trust = impl_->trust.emplace(net::ssl::context::tls_client);
    trust.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (cacert.empty()) {
      trust.set_default_verify_paths(ec);
      if (ec) throw UsageError("the system's trust store cannot be loaded: " + ec.message() + " (use --cacert FILE)");
    } else {
      trust.load_verify_file(cacert, ec);
      if (ec) throw UsageError("--cacert " + cacert + ": no CA certificate can be loaded (PEM): " + ec.message());
    }
  }
  impl_->url = std::move(url);
  impl_->key = std::move(key);
  impl_->timeout = timeout;
}

Client::~Client() = default;

Response Client::request(std::string_view method, std::string_view target, std::string body,
                         std::string_view content_type) {
  auto& d = *impl_;
  // One retry on a kept-alive connection the daemon has closed meanwhile (its idle timeout).
  for (int attempt = 0;; ++attempt) {
    const bool reused = d.connected();
    d.connect();
    auto req = d.make(method, target, body, content_type);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    try {
      d.lowest().expires_after(d.timeout);
      d.run("request", [&](auto& s, auto done) { http::async_write(s, req, done); });
      d.lowest().expires_after(d.timeout);
      d.run("answer", [&](auto& s, auto done) { http::async_read(s, d.buffer, parser, done); });
    } catch (const Unreachable&) {
      if (reused && attempt == 0) continue;
      throw;
    }
    auto res = parser.release();
    if (!res.keep_alive()) d.disconnect();
    return Response{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                    std::move(res.body())};
  }
}

Response Client::stream_lines(std::string_view target, const std::function<void()>& on_open,
                              const std::function<bool(std::string_view)>& on_line) {
  auto& d = *impl_;
  d.disconnect();  // a fresh connection: the stream keeps it to the end
  d.connect();
  auto req = d.make("GET", target, {}, {});
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // a stream has no end to limit; lines are consumed as they come
  d.lowest().expires_after(d.timeout);
  d.run("request", [&](auto& s, auto done) { http::async_write(s, req, done); });
  d.lowest().expires_after(d.timeout);
  d.run("answer", [&](auto& s, auto done) { http::async_read_header(s, d.buffer, parser, done); });
  if (parser.get().result_int() != 200) {
    d.run("answer", [&](auto& s, auto done) { http::async_read(s, d.buffer, parser, done); });
    auto res = parser.release();
    d.disconnect();
    return Response{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), std::move(res.body())};
  }
  on_open();
  d.lowest().expires_never();
  Response done{200, std::string(parser.get()[http::field::content_type]), {}};
  for (;;) {
    auto& body = parser.get().body();
    std::size_t start = 0;
    for (auto nl = body.find('\n'); nl != std::string::npos; nl = body.find('\n', start)) {
      const bool more = on_line(std::string_view(body).substr(start, nl - start));
      start = nl + 1;
      if (!more) {
        d.disconnect();
        return done;
      }
    }
    body.erase(0, start);
    if (parser.is_done()) break;
    try {
      d.run("stream", [&](auto& s, auto cb) { http::async_read_some(s, d.buffer, parser, cb); });
    } catch (const Unreachable&) {
      throw Unreachable(d.where() + ": the event stream broke off");
    }
  }
  d.disconnect();
  return done;
}

}  // namespace volley::ctl
