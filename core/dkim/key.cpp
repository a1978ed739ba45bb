#include "core/dkim/key.hpp"

#include <array>
#include <stdexcept>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/message/transfer_encoding.hpp"
#include "core/util/sha256.hpp"

namespace volley::dkim {

namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// No passphrase is ever asked for: an encrypted key fails to load instead of blocking on a prompt.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

const char* key_kind(int id) {
  switch (id) {
    case EVP_PKEY_EC: return "an EC key";
    case EVP_PKEY_DSA: return "a DSA key";
    case EVP_PKEY_DH: return "a DH key";
    case EVP_PKEY_ED448: return "an Ed448 key";
    case EVP_PKEY_X25519: return "an X25519 key";
    case EVP_PKEY_RSA_PSS: return "an RSA-PSS key";
    default: return "a key of an unsupported type";
  }
}

}  // namespace

struct PrivateKey::SodiumSecret {
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> bytes{};
  SodiumSecret() = default;
  SodiumSecret(const SodiumSecret&) = delete;
  SodiumSecret& operator=(const SodiumSecret&) = delete;
  ~SodiumSecret() { sodium_memzero(bytes.data(), bytes.size()); }
};

// Derives libsodium's secret key from the Ed25519 seed OpenSSL read, and checks that both
// libraries see the same public key.
bool attach_sodium(PrivateKey& key, std::string* error) {
  static const bool ready = sodium_init() >= 0;
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  if (!ready) return fail("libsodium failed to initialise");
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  std::size_t seed_size = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), seed.data(), &seed_size) != 1 || seed_size != seed.size())
    return fail("the Ed25519 key's seed cannot be read (" + openssl_error() + ")");
  auto secret = std::make_shared<PrivateKey::SodiumSecret>();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> sodium_public{};
  const int made = crypto_sign_seed_keypair(sodium_public.data(), secret->bytes.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  if (made != 0) return fail("libsodium cannot use the Ed25519 key");
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> openssl_public{};
  std::size_t public_size = openssl_public.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), openssl_public.data(), &public_size) != 1 ||
      public_size != openssl_public.size() || openssl_public != sodium_public)
    return fail("the Ed25519 key's public half does not match its seed");
  key.sodium_ = std::move(secret);
  return true;
}

const char* algorithm_name(Algorithm a) { return a == Algorithm::ed25519_sha256 ? "ed25519-sha256" : "rsa-sha256"; }

std::optional<PrivateKey> parse_private_key(std::string_view pem, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<PrivateKey> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (pem.find("-----BEGIN ") == std::string_view::npos) return fail("not a PEM file (no -----BEGIN line)");
  if (pem.find("ENCRYPTED") != std::string_view::npos) return fail("an encrypted key: give volleyd an unencrypted one");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) throw std::runtime_error("BIO_new_mem_buf failed");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (!raw) return fail("not a PEM private key (" + openssl_error() + ")");
  PrivateKey key;
  key.key_ = std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free);
  key.bits_ = EVP_PKEY_get_bits(raw);
  const int id = EVP_PKEY_get_base_id(raw);
  if (id == EVP_PKEY_RSA) {
    if (key.bits_ < kMinRsaBits)
      return fail("an RSA key of " + std::to_string(key.bits_) + " bits: DKIM needs at least " +
                  std::to_string(kMinRsaBits) + " (2048 advised)");
    key.algorithm_ = Algorithm::rsa_sha256;
  } else if (id == EVP_PKEY_ED25519) {
    key.algorithm_ = Algorithm::ed25519_sha256;
    std::string why;
    if (!attach_sodium(key, &why)) return fail(why);
  } else {
    return fail(std::string(key_kind(id)) + " (" + std::to_string(key.bits_) +
                " bits): DKIM signs with RSA (at least 1024 bits) or Ed25519 keys");
  }
  return key;
}

std::optional<PrivateKey> generate_key(Algorithm a, int rsa_bits, std::string* error) {
  EVP_PKEY* raw = a == Algorithm::ed25519_sha256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits));
  if (!raw) {
    if (error) *error = "key generation failed: " + openssl_error();
    return std::nullopt;
  }
  PrivateKey key;
  key.key_ = std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free);
  key.algorithm_ = a;
  key.bits_ = EVP_PKEY_get_bits(raw);
  if (a == Algorithm::ed25519_sha256 && !attach_sodium(key, error)) return std::nullopt;
  return key;
}

std::string private_key_pem(const PrivateKey& key) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("PEM_write_bio_PrivateKey failed: " + openssl_error());
  return bio_text(bio.get());
}

std::string public_key_base64(const PrivateKey& key) {
  if (key.algorithm() == Algorithm::ed25519_sha256) {
    unsigned char raw[32];
    std::size_t size = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &size) != 1 || size != sizeof raw)
      throw std::runtime_error("EVP_PKEY_get_raw_public_key failed: " + openssl_error());
    return message::base64_encode(std::string_view(reinterpret_cast<const char*>(raw), size));
  }
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key.get(), &der);
  if (size <= 0) throw std::runtime_error("i2d_PUBKEY failed: " + openssl_error());
  std::string out = message::base64_encode(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return out;
}

std::string key_record(const PrivateKey& key) {
  return std::string("v=DKIM1; k=") + (key.algorithm() == Algorithm::ed25519_sha256 ? "ed25519" : "rsa") +
         "; p=" + public_key_base64(key);
}

std::string dns_txt_line(std::string_view domain, std::string_view selector, const PrivateKey& key) {
  constexpr std::size_t kMaxString = 255;
  const std::string record = key_record(key);
  std::string out;
  out.append(selector).append("._domainkey.").append(domain).append(". TXT");
  for (std::size_t i = 0; i < record.size(); i += kMaxString) {
    out.append(" \"").append(record.substr(i, kMaxString)).append("\"");
  }
  return out;
}

std::string sign_data_openssl(const PrivateKey& key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  const bool ed = key.algorithm() == Algorithm::ed25519_sha256;
  util::Sha256 digest{};
  if (ed) {
    digest = util::sha256(data);
    data = std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, ed ? nullptr : util::sha256_method(), nullptr, key.get()) != 1)
    throw std::runtime_error("EVP_DigestSignInit failed: " + openssl_error());
  std::size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &size, in, data.size()) != 1)
    throw std::runtime_error("EVP_DigestSign failed: " + openssl_error());
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, in, data.size()) != 1)
    throw std::runtime_error("EVP_DigestSign failed: " + openssl_error());
  sig.resize(size);
  return sig;
}

std::string sign_data(const PrivateKey& key, std::string_view data) {
  const auto* secret = key.sodium();
  if (key.algorithm() != Algorithm::ed25519_sha256 || !secret) return sign_data_openssl(key, data);
  // RFC 8463 §3: Ed25519 (pure) over the SHA-256 of the header hash input.
  const util::Sha256 digest = util::sha256(data);
  std::string sig(crypto_sign_BYTES, '\0');
  if (crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, digest.data(), digest.size(),
                           secret->bytes.data()) != 0)
    throw std::runtime_error("crypto_sign_detached failed");
  return sig;
}

}  // namespace volley::dkim
