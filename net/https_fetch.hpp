#pragma once
// One HTTPS GET at a time per call, on a caller-owned io_context: the MTA-STS policy fetch
// (RFC 8461 §3.3); or one POST (a TLS report, RFC 8460 §5.4), where any 2xx answer counts. The server's certificate must verify against the system CA store (or the
// extra CA file) and name the host; redirects are not followed (a 3xx is a failure) and only a
// 200 answer counts. Nothing blocks: `done` is called on the io_context when the body (or the
// reason there is none) is in.
//
// Beast stays in the .cpp: this header is included by the MTA-STS actor.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace volley {

struct HttpsRequest {
  std::string host;       // SNI, Host header and the name the certificate must carry
  std::uint16_t port = 443;
  std::string target = "/";
  // IP literals to connect to, tried in order; empty: the system resolver's addresses of host.
  std::vector<std::string> addresses;
  std::chrono::milliseconds timeout{30000};  // the whole exchange, connecting included
  std::size_t max_body = 64 * 1024;          // a bigger body is a failure
  std::string post_content_type;             // "" : GET; else a POST of post_body with this type
  std::string post_body;
  std::string user_agent = "Volley-MTA-STS/1";
};

struct HttpsResponse {
  bool ok = false;           // status 200 and a whole body within max_body
  unsigned status = 0;       // HTTP status; 0 when no answer came
  std::string content_type;
  std::string body;
  std::string error;         // why, when !ok
};

class HttpsFetcher {
 public:
  using Done = std::function<void(HttpsResponse)>;

  // Peers are verified against the system CA store and, when ca_file is not "", the CAs in
  // that PEM file too. Throws std::runtime_error when ca_file cannot be loaded.
  explicit HttpsFetcher(boost::asio::io_context& io, const std::string& ca_file = {});
  ~HttpsFetcher();
  HttpsFetcher(const HttpsFetcher&) = delete;
  HttpsFetcher& operator=(const HttpsFetcher&) = delete;

  // Any thread. `done` is called exactly once, on the io_context, even when the fetcher is
  // destroyed first (the fetch in flight keeps what it needs alive until it ends).
  void fetch(HttpsRequest request, Done done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace volley
