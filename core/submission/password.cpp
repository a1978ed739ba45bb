#include "core/submission/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace volley::submission {

namespace {

constexpr const char* kYescryptPrefix = "$y$";

std::optional<std::string> crypt_with(std::string_view password, const std::string& setting) {
  if (password.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  // crypt_rn answers nullptr, or a string starting with '*', for a setting it cannot use.
  if (out == nullptr || out[0] == '*') return std::nullopt;
  return std::string(out);
}

}  // namespace

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.size() < 3 || hash[0] != '$') return false;
  const auto computed = crypt_with(password, hash);
  if (!computed || computed->size() != hash.size()) return false;
  return CRYPTO_memcmp(computed->data(), hash.data(), hash.size()) == 0;
}

std::optional<std::string> hash_password(std::string_view password, std::string* error) {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  char setting[CRYPT_GENSALT_OUTPUT_SIZE] = {};
  if (crypt_gensalt_rn(kYescryptPrefix, 0, reinterpret_cast<const char*>(random.data()), static_cast<int>(random.size()),
                       setting, sizeof setting) == nullptr) {
    if (error) *error = "libcrypt cannot make a yescrypt salt";
    return std::nullopt;
  }
  auto hash = crypt_with(password, setting);
  if (!hash && error) *error = password.find('\0') != std::string_view::npos ? "the password contains a NUL byte"
                                                                              : "libcrypt cannot hash the password";
  return hash;
}

const std::string& decoy_hash() {
  static const std::string decoy = [] {
    std::string error;
    auto h = hash_password("volley decoy password: never a user's", &error);
    return h ? *h : std::string(kYescryptPrefix);
  }();
  return decoy;
}

}  // namespace volley::submission
