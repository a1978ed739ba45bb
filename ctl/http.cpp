#include "ctl/http.hpp"

// Boost 1.74's asio headers use std::exchange without including <utility> (C++20 build).
#include <utility>

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace volley::ctl {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

Url parse_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, 8) == "https://")
    throw UsageError("--url " + std::string(text) + ": https is not supported; use the API listener's http address");
  if (text.substr(0, kScheme.size()) != kScheme)
    throw UsageError("--url " + std::string(text) + ": must start with http://");
  std::string_view rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url url;
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
  url.port = 80;
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
// accepts and then says nothing still ends the command after --timeout.
struct Client::Impl {
  Url url;
  std::string key;
  std::chrono::milliseconds timeout;
  net::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  std::string where() const { return "http://" + url.host + ":" + std::to_string(url.port); }

  // Runs the operation started by `start` to completion; throws Unreachable on its error.
  template <class Start>
  void run(const char* what, Start start) {
    beast::error_code ec;
    start([&ec](beast::error_code e, auto&&...) { ec = e; });
    io.restart();
    io.run();
    if (!ec) return;
    stream.reset();
    buffer.clear();
    if (ec == beast::error::timeout)
      throw Unreachable(where() + ": no answer within " + std::to_string(timeout.count()) + " ms (" + what + ")");
    throw Unreachable(where() + ": " + what + " failed: " + ec.message());
  }

  void connect() {
    if (stream) return;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) throw Unreachable(where() + ": cannot resolve " + url.host + ": " + ec.message());
    stream.emplace(io);
    stream->expires_after(timeout);
    run("connect", [&](auto done) { stream->async_connect(endpoints, done); });
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

Client::Client(Url url, std::string key, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), url_text_("http://" + url.host + ":" + std::to_string(url.port) + url.base) {
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
    const bool reused = d.stream.has_value();
    d.connect();
    auto req = d.make(method, target, body, content_type);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    try {
      d.stream->expires_after(d.timeout);
      d.run("request", [&](auto done) { http::async_write(*d.stream, req, done); });
      d.stream->expires_after(d.timeout);
      d.run("answer", [&](auto done) { http::async_read(*d.stream, d.buffer, parser, done); });
    } catch (const Unreachable&) {
      if (reused && attempt == 0) continue;
      throw;
    }
    auto res = parser.release();
    if (!res.keep_alive()) {
      d.stream.reset();
      d.buffer.clear();
    }
    return Response{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                    std::move(res.body())};
  }
}

Response Client::stream_lines(std::string_view target, const std::function<void()>& on_open,
                              const std::function<bool(std::string_view)>& on_line) {
  auto& d = *impl_;
  d.stream.reset();  // a fresh connection: the stream keeps it to the end
  d.buffer.clear();
  d.connect();
  auto req = d.make("GET", target, {}, {});
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // a stream has no end to limit; lines are consumed as they come
  d.stream->expires_after(d.timeout);
  d.run("request", [&](auto done) { http::async_write(*d.stream, req, done); });
  d.stream->expires_after(d.timeout);
  d.run("answer", [&](auto done) { http::async_read_header(*d.stream, d.buffer, parser, done); });
  if (parser.get().result_int() != 200) {
    d.run("answer", [&](auto done) { http::async_read(*d.stream, d.buffer, parser, done); });
    auto res = parser.release();
    d.stream.reset();
    return Response{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), std::move(res.body())};
  }
  on_open();
  d.stream->expires_never();
  Response done{200, std::string(parser.get()[http::field::content_type]), {}};
  for (;;) {
    auto& body = parser.get().body();
    std::size_t start = 0;
    for (auto nl = body.find('\n'); nl != std::string::npos; nl = body.find('\n', start)) {
      const bool more = on_line(std::string_view(body).substr(start, nl - start));
      start = nl + 1;
      if (!more) {
        d.stream.reset();
        return done;
      }
    }
    body.erase(0, start);
    if (parser.is_done()) break;
    try {
      d.run("stream", [&](auto cb) { http::async_read_some(*d.stream, d.buffer, parser, cb); });
    } catch (const Unreachable&) {
      throw Unreachable(d.where() + ": the event stream broke off");
    }
  }
  d.stream.reset();
  return done;
}

}  // namespace volley::ctl
