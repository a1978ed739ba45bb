#pragma once
// SHA-256 of a byte string, as raw bytes: for comparing secrets and bodies, not for signing
// (core/events/webhook_signature.hpp signs with HMAC).
#include <array>
#include <string_view>

struct evp_md_st;

namespace volley::util {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view bytes);

// OpenSSL's SHA-256 method, fetched once for the process: EVP_sha256() in OpenSSL 3 looks the
// implementation up again at every EVP_DigestInit_ex, which shows in a profile at thousands of
// messages a second. For streaming digests (EVP_DigestInit_ex2).
const evp_md_st* sha256_method();

}  // namespace volley::util
