#pragma once
// What the HTTP server's connections share (net/http_server.cpp and the streamed answers of
// net/http_streaming.hpp): the server state every connection holds, and how an HttpResponse's
// headers become a Beast message's. Internal to the HTTP server: Beast is included here.
#include <utility>  // before Boost.Asio: Boost 1.74 uses std::exchange without including it

#include <algorithm>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include <boost/beast/http/field.hpp>

#include "net/http_server.hpp"

namespace volley::http_detail {

// What stop() needs of a connection, whatever its stream.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void post_close() = 0;  // from any thread
};

// Whether answers may still reach connections. Open until HttpServer::stop(), which comes before
// the io_context goes: a Responder kept past that (by a handler's worker thread, an actor's
// callback) must not post to the io_context or be the one to destroy a connection. Apart from
// ServerShared because a Responder holds it: it must not keep the handlers alive.
struct AnswerGate {
  std::mutex mu;
  bool open = true;

  // Calls post(connection) under the gate's lock while it is open and the connection lives; false
  // when it is closed or the connection gone. `post` must hand the reference on to the posted
  // work, so that the calling thread never holds the connection's last one.
  template <class Conn, class Post>
  bool reach(const std::weak_ptr<Conn>& conn, Post&& post) {
    std::lock_guard lock(mu);
    if (!open) return false;
    auto c = conn.lock();
    if (!c) return false;
    post(std::move(c));
    return true;
  }
};

// What the acceptor and every connection share; outlives them all (held by shared_ptr).
struct ServerShared {
  Handler handler;
  HttpServerOptions options;  // options.tls: the context for the next connection, under mu
  bool tls = false;           // set before the first connection: whether they speak TLS
  std::mutex mu;
  bool stopped = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
  // Connections whose request is with the handler: the server keeps them alive until the answer
  // is written or the server stops (their Responders name them only weakly).
  std::unordered_map<Connection*, std::shared_ptr<Connection>> awaiting;
  std::shared_ptr<AnswerGate> gate = std::make_shared<AnswerGate>();
};

// A header the handler asks for must not be able to split the response.
inline bool safe_header_text(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

inline bool safe_header_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Server, Content-Type and the handler's extra headers, those that could split the answer left out.
template <class Message>
void set_answer_headers(Message& m, const HttpResponse& r, const std::string& server_name) {
  m.set(boost::beast::http::field::server, server_name);
  if (!r.content_type.empty() && safe_header_text(r.content_type))
    m.set(boost::beast::http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    if (safe_header_name(name) && safe_header_text(value)) m.insert(name, value);
  }
}

}  // namespace volley::http_detail
