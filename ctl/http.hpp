#pragma once
// volleyctl's HTTP/1.1 client, over TCP or TLS (https://): one request at a time to the daemon's
// API, every step bounded by the --timeout, and a streamed GET that hands over lines as they
// arrive (events --follow). Beast and OpenSSL stay in http.cpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ctl/errors.hpp"

namespace volley::ctl {

struct Url {
  bool tls = false;  // https://
  std::string host;
  std::uint16_t port = 0;
  std::string base;  // a path prefix without the trailing '/', "" for none
  // "https://host:port/prefix", as the daemon is addressed in messages ([::1] for IPv6).
  std::string text() const;
};
// "http[s]://host:port[/prefix]" (port default 80, or 443 for https; [::1] for IPv6). Throws
// UsageError.
Url parse_url(std::string_view text);

struct Response {
  int status = 0;
  std::string content_type;
  std::string body;
};

class Client {
 public:
  // https: the daemon's certificate must verify against the system's trust store, or against the
  // CA certificates of `cacert` (PEM) alone when it is not "", and name url.host. Throws
  // UsageError when `cacert` cannot be loaded.
  Client(Url url, std::string key, std::chrono::milliseconds timeout, const std::string& cacert = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Throws Unreachable when the daemon cannot be reached or does not answer within the timeout.
  Response request(std::string_view method, std::string_view target, std::string body = {},
                   std::string_view content_type = "application/json");
  Response get(std::string_view target) { return request("GET", target); }

  // GETs a streamed answer. A status other than 200 is returned with its whole body; else
  // `on_open` runs once the headers are in, then `on_line` for every line (without its '\n')
  // until the daemon ends the stream or on_line answers false. Reads wait without a timeout.
  Response stream_lines(std::string_view target, const std::function<void()>& on_open,
                        const std::function<bool(std::string_view)>& on_line);

  const std::string& url_text() const { return url_text_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_text_;
};

// RFC 3986 unreserved characters kept, everything else %XX: for path segments and query values.
std::string percent_encode(std::string_view s);

}  // namespace volley::ctl
