#pragma once
// The HTTP/1.1 client of the integration tests: requests to a running volleyd, keep-alive, every
// operation bounded by a deadline so that a hung or misbehaving server fails a test instead of
// hanging it. Not thread-safe: one client per thread.
//
// Boost.Beast stays out of this header: its templates, instantiated in every test file that
// included them, took about 20 of the 35 seconds each integration test file needed to compile
// under the sanitizers. They are compiled once, in http_client.cpp (the volley_test_support
// library). A test that speaks HTTP byte by byte includes http_connection.hpp.
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace volley::test {

namespace http = boost::beast::http;

class HttpError : public std::runtime_error {
 public:
  HttpError(const std::string& what, bool nothing_received)
      : std::runtime_error(what), nothing_received_(nothing_received) {}
  // True when the failure proves the server never answered (refused, reset or closed before
  // one byte of a response): only then may a request be sent again without risking a repeat.
  bool nothing_received() const { return nothing_received_; }

 private:
  bool nothing_received_;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, "" when absent
};

class HttpConnection;  // http_connection.hpp

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Every request from now on says "Authorization: Bearer <token>" ("" = none).
  void set_bearer(std::string token) { bearer_ = std::move(token); }
  // Every request from now on carries this header ("" = no longer), e.g. Idempotency-Key.
  void set_header(const std::string& name, std::string value) {
    if (value.empty()) {
      headers_.erase(name);
    } else {
      headers_[name] = std::move(value);
    }
  }

  HttpResponse get(const std::string& target) { return request(http::verb::get, target, {}, {}); }
  HttpResponse post_json(const std::string& target, const std::string& json) {
    return request(http::verb::post, target, json, "application/json");
  }

  // Sends one request; throws HttpError when no answer could be had. A request that failed on
  // a reused connection because the server had closed it while idle (nothing came back) is
  // retried once on a fresh one, as browsers do; any other failure is reported.
  HttpResponse request(http::verb method, const std::string& target, const std::string& body,
                       const std::string& content_type);

  void close();

 private:
  std::string host_;
  std::uint16_t port_;
  std::string bearer_;
  std::map<std::string, std::string> headers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<HttpConnection> connection_;
};

}  // namespace volley::test
