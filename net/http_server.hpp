#pragma once
// Volley's HTTP/1.1 edge: an asynchronous server with keep-alive on a caller-owned io_context
// (run by one or more threads; each connection runs on its own strand). It only turns bytes
// into HttpRequest values and HttpResponse values back into bytes, and enforces the limits
// that protect the process from hostile clients. What a request means is the Handler's business.
//
// Beast stays in http_server.cpp: this header is included by code that must build fast.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/host_port.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace volley {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // origin-form with query, e.g. "/api/v1/messages?x=1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in order
  std::string body;
  // Who is asking, as the authentication layer (api/api_auth) found: the tenant the request acts
  // for and whether it may use queue control. Without API keys the API is open: every request
  // is the default tenant's, with every right.
  std::string tenant = "default";
  bool admin = true;
  std::string key_name;  // the API key's name ([[api_key]] name); "" without keys (audit lines)

  // The first value of a header (name given in lower case), nullopt when absent.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // target without its query string.
  std::string_view path() const;
};

// The body of a streamed response (an event stream), written chunk by chunk as it is produced.
// Thread-safe and never blocking, so an actor can write to it.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues one chunk. False once the stream is over: the client closed, the server stopped, or
  // more than HttpServerOptions::max_stream_buffer bytes wait unwritten (a reader that does not
  // keep up is dropped rather than buffered without bound). The producer then stops writing.
  virtual bool write(std::string chunk) = 0;
  // The last chunk; the connection closes after it.
  virtual void end() = 0;
  // `f` runs once when the stream is over for any reason (at once if it already is), on any thread.
  virtual void on_close(std::function<void()> f) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";  // "" = no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Retry-After
  // Set: a streamed answer. The status and headers go out with Transfer-Encoding: chunked (body
  // ignored), then this is called with the stream to write to. The connection serves no other
  // request afterwards.
  std::function<void(std::shared_ptr<HttpStream>)> stream;
};

// Answers one request. Call it exactly once, from any thread: it posts to the connection's
// strand. A Responder destroyed without being called answers 500, so a lost request never
// leaves its connection hanging. Calls after the first are ignored.
using Responder = std::function<void(HttpResponse)>;
// Called on the connection's strand. Must not block: answer later through the Responder.
using Handler = std::function<void(HttpRequest&&, Responder)>;

struct HttpServerOptions {
  // Largest request body. The default leaves room above the 25 MiB message limit for the JSON
  // around a message (escaped raw messages, base64 attachments already counted in the message
  // size, metadata): 32 MiB. Bigger bodies are refused with 413 as soon as their Content-Length
  // is seen (chunked: as soon as the limit is crossed), without reading the rest.
  std::size_t max_body_bytes = 32 * 1024 * 1024;
  // The 413 for a body over max_body_bytes, chosen by the request target (known from the request
  // line before the body is read): the batch endpoint names the batch limit. Empty: 413 too_large.
  std::function<HttpResponse(std::string_view target, std::size_t max_body_bytes)> body_too_large;
  // Request line plus all header fields; more -> 431.
  std::size_t max_header_bytes = 16 * 1024;
  // From the first byte of a request to its last (slow-loris): past it the connection closes.
  std::chrono::milliseconds request_timeout{30'000};
  // Keep-alive connections with no request in flight close after this.
  std::chrono::milliseconds idle_timeout{60'000};
  // Writing one response (a client that does not read).
  std::chrono::milliseconds write_timeout{30'000};
  // A streamed response's chunks not yet written to the socket; past this the client is dropped.
  std::size_t max_stream_buffer = 1024 * 1024;
  // Connections beyond this are closed as soon as they are accepted.
  std::size_t max_connections = 10'000;
  std::string server_name = "volley";
  // Set: HTTPS, TLS from the first byte (net/tls_context.hpp makes one). The handshake must end
  // within request_timeout. HttpServer::set_tls() replaces it for the connections that follow.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler handler, HttpServerOptions options = {});
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on an address the config reader parsed ({"127.0.0.1", 8025}, {"::1", 0};
  // port 0 picks a free port; a host name is resolved) and starts accepting. Throws
  // std::runtime_error when the host does not resolve or the address cannot be bound. Call once.
  void start(const HostPort& listen);
  // The bound port (after start()).
  std::uint16_t port() const;
  // Stops accepting and closes every connection; requests in flight get no answer. Idempotent,
  // callable from any thread. io_context::run() returns once the last connection is gone.
  void stop();

  std::size_t connection_count() const;

  // Serves the connections accepted from now on with another TLS context (a renewed
  // certificate); open connections keep theirs. Callable from any thread. Only for a server made
  // with HttpServerOptions::tls: throws std::logic_error otherwise, or for a null context.
  void set_tls(std::shared_ptr<boost::asio::ssl::context> tls);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// JSON answers in the shape of every Volley API answer (api/http_json.hpp), the server's own
// (400, 413, 431, 500) included; errors are {"error":{"code":"...","message":"...","field":"..."}}.
HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            std::string_view field = {});

}  // namespace volley
