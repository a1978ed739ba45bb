#pragma once
// HMAC-SHA256 (RFC 2104), the one keyed digest Volley signs with: VERP tags, webhook signatures,
// unsubscribe tokens.
#include <string_view>

#include "core/util/sha256.hpp"

namespace volley::util {

// Any key, the empty one included. Throws std::runtime_error if OpenSSL fails (it does not with
// a valid digest).
Sha256 hmac_sha256(std::string_view key, std::string_view data);

inline std::string_view as_bytes(const Sha256& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace volley::util
