#pragma once
// DNS for integration tests: zone files for tests/support/nsd_server.hpp (a real NSD on
// 127.0.0.1), so volleyd's resolver meets real DNS answers (MX, null MX, NXDOMAIN), and a
// one-question probe to check what the zone really answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../support/nsd_server.hpp"

namespace volley::test {

// One zone: its origin ("test") and the records below the SOA/NS that zone_file() adds, in
// zone-file syntax relative to the origin, e.g. "a IN MX 10 mx.a\nmx.a IN A 127.0.0.2\n".
struct Zone {
  std::string origin;
  std::string records;
};

inline std::string zone_file(const Zone& zone) {
  return "$ORIGIN " + zone.origin + ".\n$TTL 30\n" +
         "@ IN SOA ns." + zone.origin + ". hostmaster." + zone.origin +
         ". 1 3600 600 86400 30\n"
         "@ IN NS ns." + zone.origin + ".\n"
         "ns IN A 127.0.0.1\n" + zone.records;
}

// The zone "test" with the given records, as NsdServer takes it.
inline NsdZone test_zone(const std::string& records) {
  return NsdZone{"test", zone_file(Zone{"test", records})};
}

// Sends one UDP query (RD clear) and returns the answer's RCODE, or nullopt when nothing valid
// came back within `timeout`. Just enough DNS to see that a server answers.
inline std::optional<int> dns_query_rcode(std::uint16_t port, const std::string& name,
                                          std::uint16_t qtype,
                                          std::chrono::milliseconds timeout) {
  std::string q;
  const std::uint16_t id = static_cast<std::uint16_t>(::getpid() ^ port);
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // flags, 1 question
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q += static_cast<char>(dot - start);
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q += '\0';
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xff);
  q += std::string("\x00\x01", 2);  // class IN

  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::optional<int> rcode;
  if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(q.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      unsigned char buf[512];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n >= 12 && buf[0] == (id >> 8) && buf[1] == (id & 0xff) && (buf[2] & 0x80))
        rcode = buf[3] & 0x0f;
    }
  }
  ::close(fd);
  return rcode;
}

}  // namespace volley::test
