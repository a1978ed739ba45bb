#pragma once
// An HTTP/1.1 client for one webhook endpoint: one POST at a time, on a caller-owned
// io_context, keeping its connection alive between POSTs. Nothing here blocks: post() hands the
// request to the io_context and `done` is called there when the answer (or the failure) is in.
//
// A reused keep-alive connection that fails before any answer arrived is most likely one the
// server closed while idle: the POST is sent once more on a fresh connection, within the same
// deadline, instead of being reported as a failure (which would cost a whole backoff).
//
// Beast stays in the .cpp: this header is included by the webhook actor's users.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/events/webhook_url.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

struct WebhookResponse {
  unsigned status = 0;  // HTTP status; 0 when no answer came (network error, timeout)
  std::string error;    // why, when status is 0
};

class WebhookClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  using Done = std::function<void(WebhookResponse)>;

  // https: the peer is verified against ca_file, or the system CAs when ca_file is "".
  // Throws std::runtime_error when the CA file cannot be loaded.
  WebhookClient(boost::asio::io_context& io, events::WebhookUrl url, std::string ca_file = {});
  ~WebhookClient();  // close()s
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  // POSTs body with the given extra headers (Host, Content-Length, Content-Type
  // application/json and User-Agent are set here). The whole exchange, connecting included,
  // must finish within timeout. `done` is called exactly once, on the io_context, unless the
  // client is closed first. The caller waits for `done` before posting again.
  void post(std::string body, Headers headers, std::chrono::milliseconds timeout, Done done);

  // Drops the connection and any POST in flight (its `done` is not called). Any thread.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace volley
