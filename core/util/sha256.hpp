#pragma once
// SHA-256 of a byte string, as raw bytes: for comparing secrets and bodies, not for signing
// (core/events/webhook_signature.hpp signs with HMAC).
#include <array>
#include <string_view>

namespace volley::util {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view bytes);

}  // namespace volley::util
