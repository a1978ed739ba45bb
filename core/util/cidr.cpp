#include "core/util/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace volley::util {

namespace {

struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
};

std::optional<Address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  Address a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  // ::ffff:a.b.c.d is a v4 client on a dual-stack socket.
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), a.bytes.begin())) {
    std::copy(a.bytes.begin() + 12, a.bytes.end(), a.bytes.begin());
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    return a;
  }
  a.v6 = true;
  return a;
}

// The first `prefix` bits of a and b are equal.
bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, int prefix) {
  int i = 0;
  for (; prefix >= 8; prefix -= 8, ++i)
    if (a[i] != b[i]) return false;
  if (prefix == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - prefix));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

std::optional<IpNetwork> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork n;
  n.bytes = address->bytes;
  n.v6 = address->v6;
  const int max = n.v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n.prefix);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n.prefix < 0 || n.prefix > max)
      return std::nullopt;
  }
  // Host bits beyond the prefix must be zero.
  std::array<std::uint8_t, 16> masked{};
  for (int bit = 0; bit < n.prefix; ++bit) masked[bit / 8] |= n.bytes[bit / 8] & (0x80 >> (bit % 8));
  if (masked != n.bytes) return std::nullopt;
  return n;
}

bool IpNetwork::contains(std::string_view address) const {
  const auto a = parse_address(address);
  return a && a->v6 == v6 && same_prefix(a->bytes, bytes, prefix);
}

std::string IpNetwork::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

bool in_any_network(const std::vector<IpNetwork>& networks, std::string_view address) {
  return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.contains(address); });
}

}  // namespace volley::util
