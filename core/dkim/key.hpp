#pragma once
// DKIM private keys: read from PEM text with the checks a signer owes its receivers (RSA of at
// least 1024 bits, RFC 8301; or Ed25519, RFC 8463), generated for `volleyd dkim-keygen`, and the
// DNS TXT record that publishes a key's public half.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace volley::dkim {

enum class Algorithm { rsa_sha256, ed25519_sha256 };
// "rsa-sha256", "ed25519-sha256" (the a= tag)
const char* algorithm_name(Algorithm a);

inline constexpr int kMinRsaBits = 1024;

class PrivateKey {
 public:
  Algorithm algorithm() const { return algorithm_; }
  int bits() const { return bits_; }
  evp_pkey_st* get() const { return key_.get(); }

  // Ed25519 keys also keep libsodium's 64-byte secret key (seed and public half): libsodium
  // signs about 2.5 times faster than OpenSSL 3.0 here, and Ed25519 is deterministic, so the
  // signatures are the same bytes either way (tests/unit/dkim compares them).
  struct SodiumSecret;
  const SodiumSecret* sodium() const { return sodium_.get(); }

 private:
  friend bool attach_sodium(PrivateKey& key, std::string* error);
  friend std::optional<PrivateKey> parse_private_key(std::string_view pem, std::string* error);
  friend std::optional<PrivateKey> generate_key(Algorithm a, int rsa_bits, std::string* error);
  std::shared_ptr<evp_pkey_st> key_;
  std::shared_ptr<const SodiumSecret> sodium_;
  Algorithm algorithm_ = Algorithm::rsa_sha256;
  int bits_ = 0;
};

// An unencrypted PEM private key ("PRIVATE KEY" PKCS#8, or "RSA PRIVATE KEY"). nullopt and
// *error (a sentence, e.g. "an EC key (256 bits): DKIM signs with RSA or Ed25519 keys") otherwise.
std::optional<PrivateKey> parse_private_key(std::string_view pem, std::string* error);

// A new key (rsa_bits for RSA only); nullopt and *error when OpenSSL cannot make one.
std::optional<PrivateKey> generate_key(Algorithm a, int rsa_bits, std::string* error);
// PKCS#8 PEM text of a key.
std::string private_key_pem(const PrivateKey& key);

// The p= value: base64 of the DER SubjectPublicKeyInfo for RSA, of the 32 raw bytes for Ed25519.
std::string public_key_base64(const PrivateKey& key);
// The key record's text, "v=DKIM1; k=ed25519; p=...".
std::string key_record(const PrivateKey& key);
// The zone file line that publishes it: `<selector>._domainkey.<domain>. TXT "..." "..."`, the
// record cut into quoted strings of at most 255 bytes (RFC 1035 character-strings).
std::string dns_txt_line(std::string_view domain, std::string_view selector, const PrivateKey& key);

// The signature over the header hash input (RFC 6376 §3.7): RSASSA-PKCS1-v1_5 with SHA-256 of
// `data`, or Ed25519 of SHA-256(data) (RFC 8463 §3). Throws std::runtime_error when OpenSSL fails
// (a key that parsed cannot make it fail).
std::string sign_data(const PrivateKey& key, std::string_view data);
// The same signature made by OpenSSL alone, for the test that both agree.
std::string sign_data_openssl(const PrivateKey& key, std::string_view data);

}  // namespace volley::dkim
