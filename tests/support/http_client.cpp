// The test HTTP clients' code that needs no caller's type, compiled once for every test binary
// (see http_client.hpp for why).
#include "http_connection.hpp"

#include <boost/asio/write.hpp>

namespace volley::test {

HttpConnection::HttpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout), stream_(io_) {
  boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(host_), port_);
  run("connect", [&](auto handler) { stream_.async_connect(ep, handler); });
}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::write_raw(std::string_view bytes) {
  run("write", [&](auto handler) {
    boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), handler);
  });
}

Response HttpConnection::read() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  run("read", [&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
  return parser.release();
}

Response HttpConnection::request(std::string method, std::string target, std::string body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, host_);
  for (auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  send(req);
  return read();
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  char scratch[4096];
  auto& socket = stream_.socket();
  for (;;) {
    bool done = false;
    boost::beast::error_code result;
    socket.async_read_some(boost::asio::buffer(scratch), [&](boost::beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    io_.restart();
    io_.run_until(deadline);
    if (!done) {
      socket.cancel();
      io_.restart();
      io_.run();
      return false;
    }
    if (result) return true;
  }
}

void HttpConnection::close() {
  boost::beast::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
  buffer_.clear();
}

void HttpConnection::fail(const char* what, boost::beast::error_code result, std::size_t transferred) const {
  const bool closed = result == http::error::end_of_stream || result == boost::asio::error::eof ||
                      result == boost::asio::error::connection_reset || result == boost::asio::error::broken_pipe;
  // A failed connect or write leaves the server without a whole request to act on.
  const std::string_view stage(what);
  const bool nothing_received = stage == "connect" || stage == "write" || (closed && transferred == 0);
  throw HttpError(std::string(what) + " " + host_ + ":" + std::to_string(port_) + ": " + result.message(),
                  nothing_received);
}

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::close() { connection_.reset(); }

namespace {

HttpResponse exchange(HttpConnection& connection, http::request<http::string_body>& req, bool& keep_alive) {
  connection.send(req);
  if (connection.buffered() != 0) throw HttpError("unexpected bytes before the response", false);
  auto res = connection.read();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  out.content_type = std::string(res[http::field::content_type]);
  out.retry_after = std::string(res[http::field::retry_after]);
  keep_alive = res.keep_alive();
  return out;
}

}  // namespace

HttpResponse HttpClient::request(http::verb method, const std::string& target, const std::string& body,
                                 const std::string& content_type) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host_ + ":" + std::to_string(port_));
  req.set(http::field::user_agent, "volley-integration-test");
  req.keep_alive(true);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  if (!bearer_.empty()) req.set(http::field::authorization, "Bearer " + bearer_);
  for (const auto& [name, value] : headers_) req.set(name, value);
  if (method != http::verb::get || !body.empty()) {
    req.body() = body;
    req.prepare_payload();
  }
  const auto attempt = [&] {
    if (!connection_) connection_ = std::make_unique<HttpConnection>(host_, port_, timeout_);
    bool keep_alive = false;
    auto out = exchange(*connection_, req, keep_alive);
    if (!keep_alive) close();
    return out;
  };
  const bool reused = connection_ != nullptr;
  try {
    return attempt();
  } catch (const HttpError& e) {
    close();
    if (!reused || !e.nothing_received()) throw;
  }
  return attempt();
}

IoThreads::IoThreads(std::size_t threads) : guard_(boost::asio::make_work_guard(io)) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io.run(); });
}

IoThreads::~IoThreads() { join(); }

void IoThreads::join() {
  guard_.reset();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace volley::test
