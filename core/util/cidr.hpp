#pragma once
// IP networks written as CIDRs ("192.0.2.0/24", "2001:db8::/32", a bare address for one host),
// and whether an address is inside one. IPv4-mapped IPv6 addresses ("::ffff:192.0.2.7", as a
// dual-stack socket reports a v4 client) match v4 networks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::util {

struct IpNetwork {
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4
  bool v6 = false;
  int prefix = 0;  // 0..32 or 0..128

  bool contains(std::string_view address) const;
  std::string to_string() const;
};

// nullopt when `text` is not an address or a CIDR, or has host bits set beyond the prefix
// ("192.0.2.1/24" is refused: it says two things).
std::optional<IpNetwork> parse_cidr(std::string_view text);

// True when `address` (an IP address in text, without brackets or port) is in any of `networks`.
bool in_any_network(const std::vector<IpNetwork>& networks, std::string_view address);

}  // namespace volley::util
