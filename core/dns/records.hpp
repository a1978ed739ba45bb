#pragma once
// Answers to the lookups that secure delivery needs besides MX: TXT (the _mta-sts record) and
// TLSA (DANE). `secure` is true only when the answer came from a validating resolver with the AD
// bit set and [dns] dnssec is on (RFC 7672 §2.1: only authenticated TLSA records count).
#include <cstdint>
#include <string>
#include <vector>

#include "core/dns/mx.hpp"
#include "core/tls/inputs.hpp"

namespace volley::dns {

struct TxtResolution {
  Status status = Status::temp_fail;  // ok: at least one record; perm_fail: NXDOMAIN or none
  std::vector<std::string> texts;     // one per TXT record, its character-strings concatenated
  bool secure = false;
  std::string error;
  std::uint32_t ttl = 0;
};

struct TlsaResolution {
  Status status = Status::temp_fail;  // ok: at least one record; perm_fail: NXDOMAIN or none
  std::vector<tls::Tlsa> records;     // for _<port>._tcp.<host>
  bool secure = false;
  std::string error;
  std::uint32_t ttl = 0;
};

}  // namespace volley::dns
