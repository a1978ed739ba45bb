#pragma once
// The outcome of resolving where mail for a domain goes (RFC 5321 §5.1, RFC 7505).
#include <cstdint>
#include <string>
#include <vector>

namespace volley::dns {

enum class Status {
  ok,         // hosts holds at least one host with at least one address
  temp_fail,  // SERVFAIL, timeout, truncated-and-unrecoverable, no address yet for any MX: retry
  perm_fail,  // NXDOMAIN, null MX (RFC 7505), no MX and no A/AAAA: bounce
};

struct MxHost {
  std::string name;                    // exchange host name, lower case, no trailing dot
  std::uint16_t preference = 0;        // 0 for the implicit MX
  std::vector<std::string> addresses;  // IPv4 / IPv6 literals ("127.0.0.1", "::1")
};

struct MxResolution {
  Status status = Status::temp_fail;
  std::vector<MxHost> hosts;  // ascending preference; equal preferences in random order
  bool implicit_mx = false;   // no MX record: the domain's own A/AAAA (RFC 5321 §5.1)
  std::string error;          // why, when status != ok ("NXDOMAIN", "null MX", "SERVFAIL", ...)
  std::uint32_t ttl = 0;      // seconds this answer may be cached (min of the TTLs used)
  // The MX answer was authenticated (AD bit from a validating resolver, [dns] dnssec on): only
  // then may DANE be used for its hosts (RFC 7672 §2.2).
  bool secure = false;
};

}  // namespace volley::dns
