#include "net/dns_transport.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <array>

#include <boost/asio.hpp>

#include "core/dns/wire.hpp"

namespace volley {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
using Bytes = std::vector<std::uint8_t>;
using boost::system::error_code;

struct DnsTransport::Shared {
  asio::io_context& io;
  std::vector<asio::ip::address> servers;
  std::vector<std::uint16_t> ports;
  std::chrono::milliseconds timeout;
  int attempts;
  std::size_t invalid = 0;
};

namespace {

// We advertise 1232 bytes (EDNS0) and without EDNS a server may send 512: anything that
// fills this buffer broke the limit and is treated as truncated.
constexpr std::size_t udp_buffer_size = 4096;

bool is_server_error(std::uint8_t rc) {
  return rc == dns::rcode::servfail || rc == dns::rcode::refused || rc == dns::rcode::notimp ||
         rc == dns::rcode::formerr;
}

// One query's way through the servers. Every try bumps `round_`; a completion from an
// abandoned try sees a different round and does nothing.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<const DnsTransport::Shared> shared, dns::Query query,
           DnsTransport::Reply reply)
      : shared_(std::move(shared)),
        query_(std::move(query)),
        reply_(std::move(reply)),
        udp_(shared_->io),
        tcp_(shared_->io),
        timer_(shared_->io),
        errored_(shared_->servers.size(), false) {}

  void start() { next_try(); }

 private:
  void next_try() {
    const std::size_t n = shared_->servers.size();
    const std::size_t total = n * static_cast<std::size_t>(std::max(shared_->attempts, 1));
    while (tries_ < total) {
      const std::size_t server = tries_++ % n;
      if (errored_[server]) continue;  // it answered; asking again changes nothing
      try_udp(server);
      return;
    }
    finish(std::move(error_response_));
  }

  void abandon_try() {
    ++round_;
    error_code ignored;
    timer_.cancel();
    udp_.close(ignored);
    tcp_.close(ignored);
  }

  void try_udp(std::size_t server) {
    abandon_try();
    server_ = server;
    const udp::endpoint peer(shared_->servers[server], shared_->ports[server]);
    error_code ec;
    udp_.open(peer.protocol(), ec);
    // A connected socket only hears its peer, and ICMP "port unreachable" ends the try early.
    if (!ec) udp_.connect(peer, ec);
    if (ec) return next_try();
    const std::uint64_t round = round_;
    auto self = shared_from_this();
    timer_.expires_after(shared_->timeout);
    timer_.async_wait([self, round](const error_code& e) {
      if (e || round != self->round_) return;
      self->abandon_try();
      self->next_try();
    });
    udp_.async_send(asio::buffer(query_.wire), [self, round](const error_code& e, std::size_t) {
      if (!e || round != self->round_) return;
      self->abandon_try();
      self->next_try();
    });
    buffer_.resize(udp_buffer_size);
    receive_udp();
  }

  void receive_udp() {
    const std::uint64_t round = round_;
    auto self = shared_from_this();
    udp_.async_receive(asio::buffer(buffer_), [self, round](const error_code& e, std::size_t n) {
      if (round != self->round_) return;
      if (e) {
        self->abandon_try();
        return self->next_try();
      }
      self->on_datagram(n);
    });
  }

  void on_datagram(std::size_t n) {
    const std::span<const std::uint8_t> bytes(buffer_.data(), n);
    const bool overflowed =
        n == buffer_.size() && n >= 2 && ((bytes[0] << 8) | bytes[1]) == query_.id;
    if (overflowed) return try_tcp(Bytes(bytes.begin(), bytes.end()));
    auto response = dns::decode_response(bytes);
    // Spoofed, stray or broken: keep listening until the try's deadline.
    if (!response || !dns::answers_query(*response, query_.id, query_.name, query_.type)) {
      return receive_udp();
    }
    if (response->truncated) return try_tcp(Bytes(bytes.begin(), bytes.end()));
    if (is_server_error(response->rcode)) {
      errored_[server_] = true;
      error_response_ = Bytes(bytes.begin(), bytes.end());
      abandon_try();
      return next_try();
    }
    finish(Bytes(bytes.begin(), bytes.end()));
  }

  // The same server over TCP (RFC 7766). If that fails, the truncated answer is the answer.
  void try_tcp(Bytes truncated) {
    abandon_try();
    truncated_ = std::move(truncated);
    const tcp::endpoint peer(shared_->servers[server_], shared_->ports[server_]);
    const std::uint64_t round = round_;
    auto self = shared_from_this();
    timer_.expires_after(shared_->timeout);
    timer_.async_wait([self, round](const error_code& e) {
      if (e || round != self->round_) return;
      self->finish(std::move(self->truncated_));
    });
    tcp_.async_connect(peer, [self, round](const error_code& e) {
      if (round != self->round_) return;
      if (e) return self->finish(std::move(self->truncated_));
      self->send_tcp(round);
    });
  }

  void send_tcp(std::uint64_t round) {
    const std::size_t size = query_.wire.size();
    out_.clear();
    out_.push_back(static_cast<std::uint8_t>(size >> 8));
    out_.push_back(static_cast<std::uint8_t>(size & 0xff));
    out_.insert(out_.end(), query_.wire.begin(), query_.wire.end());
    auto self = shared_from_this();
    asio::async_write(tcp_, asio::buffer(out_), [self, round](const error_code& e, std::size_t) {
      if (round != self->round_) return;
      if (e) return self->finish(std::move(self->truncated_));
      asio::async_read(self->tcp_, asio::buffer(self->length_),
                       [self, round](const error_code& e2, std::size_t) {
                         if (round != self->round_) return;
                         const std::size_t len = (self->length_[0] << 8) | self->length_[1];
                         if (e2 || len < 12) return self->finish(std::move(self->truncated_));
                         self->read_tcp_body(round, len);
                       });
    });
  }

  void read_tcp_body(std::uint64_t round, std::size_t len) {
    buffer_.assign(len, 0);
    auto self = shared_from_this();
    asio::async_read(tcp_, asio::buffer(buffer_), [self, round](const error_code& e, std::size_t) {
      if (round != self->round_) return;
      auto response = e ? std::nullopt : dns::decode_response(self->buffer_);
      if (!response ||
          !dns::answers_query(*response, self->query_.id, self->query_.name, self->query_.type)) {
        return self->finish(std::move(self->truncated_));
      }
      self->finish(std::move(self->buffer_));
    });
  }

  void finish(std::optional<Bytes> result) {
    if (finished_) return;
    finished_ = true;
    abandon_try();
    auto reply = std::move(reply_);
    reply(std::move(result));
  }

  std::shared_ptr<const DnsTransport::Shared> shared_;
  dns::Query query_;
  DnsTransport::Reply reply_;
  udp::socket udp_;
  tcp::socket tcp_;
  asio::steady_timer timer_;
  Bytes buffer_;
  Bytes out_;
  std::array<std::uint8_t, 2> length_{};
  Bytes truncated_;
  std::vector<bool> errored_;  // servers that answered with an error rcode
  std::optional<Bytes> error_response_;
  std::size_t tries_ = 0;  // over attempts x servers
  std::size_t server_ = 0;
  std::uint64_t round_ = 0;
  bool finished_ = false;
};

}  // namespace

DnsTransport::DnsTransport(asio::io_context& io, Settings settings)
    : shared_(std::make_shared<Shared>(Shared{io, {}, {}, settings.timeout, settings.attempts})) {
  for (const auto& s : settings.servers) {
    error_code ec;
    auto address = asio::ip::make_address(s.host, ec);
    if (ec || s.port == 0) {
      ++shared_->invalid;
      continue;
    }
    shared_->servers.push_back(address);
    shared_->ports.push_back(s.port);
  }
}

DnsTransport::~DnsTransport() = default;

void DnsTransport::exchange(dns::Query query, Reply reply) {
  std::shared_ptr<const Shared> shared = shared_;
  asio::post(shared->io, [shared, query = std::move(query), reply = std::move(reply)]() mutable {
    std::make_shared<Exchange>(shared, std::move(query), std::move(reply))->start();
  });
}

std::size_t DnsTransport::invalid_servers() const { return shared_->invalid; }

}  // namespace volley
