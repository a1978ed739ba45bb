#pragma once
// Sends one DNS query to the configured servers and hands back the answer: UDP from a fresh
// socket (random source port) per try, retried across servers and attempts on timeout, over TCP
// when the UDP answer is truncated. All I/O runs on an Asio io_context; nothing here blocks.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dns/mx_lookup.hpp"

namespace boost::asio {
class io_context;
}

namespace volley {

struct DnsServer {
  std::string host;  // an IP literal
  std::uint16_t port = 53;
};

class DnsTransport {
 public:
  struct Settings {
    std::vector<DnsServer> servers;
    std::chrono::milliseconds timeout{2000};  // per try
    int attempts = 2;                         // passes over the server list
  };
  // The bytes of a response that answers the query (id and question checked), or nullopt
  // when no server gave one. A server answering SERVFAIL/REFUSED is passed over for the next;
  // if none does better, that error response is what comes back.
  using Reply = std::function<void(std::optional<std::vector<std::uint8_t>>)>;

  // Servers whose host is no IP literal are dropped (`invalid_servers` counts them).
  DnsTransport(boost::asio::io_context& io, Settings settings);
  ~DnsTransport();
  DnsTransport(const DnsTransport&) = delete;
  DnsTransport& operator=(const DnsTransport&) = delete;

  // Thread-safe. `reply` runs exactly once, on the io_context's thread; it must not block.
  void exchange(dns::Query query, Reply reply);

  std::size_t invalid_servers() const;

  struct Shared;  // what in-flight exchanges keep alive (dns_transport.cpp)

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace volley
