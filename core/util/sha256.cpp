#include "core/util/sha256.hpp"

#include <openssl/sha.h>

namespace volley::util {

static_assert(std::tuple_size_v<Sha256> == SHA256_DIGEST_LENGTH);

Sha256 sha256(std::string_view bytes) {
  Sha256 digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  return digest;
}

}  // namespace volley::util
