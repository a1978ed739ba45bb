#include "core/util/sha256.hpp"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace volley::util {

static_assert(std::tuple_size_v<Sha256> == SHA256_DIGEST_LENGTH);

const evp_md_st* sha256_method() {
  // Never freed: it lives as long as the process, as OpenSSL's own default provider does.
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!fetched) throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return fetched;
  }();
  return md;
}

Sha256 sha256(std::string_view bytes) {
  Sha256 digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, sha256_method(), nullptr) != 1 ||
      size != digest.size())
    throw std::runtime_error("SHA-256 failed");
  return digest;
}

}  // namespace volley::util
