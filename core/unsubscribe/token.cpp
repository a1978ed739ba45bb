#include "core/unsubscribe/token.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/util/ascii.hpp"
#include "core/util/hex.hpp"
#include "core/util/hmac.hpp"

namespace volley::unsubscribe {
namespace {

constexpr unsigned char kVersion = 1;
constexpr std::size_t kMessageIdBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kMaxField = 255;
// Version, message id, index, three length bytes, tag: the smallest valid token.
constexpr std::size_t kFixedBytes = 1 + kMessageIdBytes + 4 + 3 + kTagBytes;

std::string hmac(std::string_view key, std::string_view data) {
  return std::string(util::as_bytes(util::hmac_sha256(key, data)));
}

// base64url without padding, through OpenSSL's base64 (EVP_EncodeBlock / EVP_DecodeBlock).
std::string base64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// Only the canonical form: the alphabet, no padding, a length that base64url can produce, and
// zero bits after the last byte (checked by encoding the result again).
std::optional<std::string> from_base64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string b64(text);
  for (char& c : b64) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return std::nullopt;
    }
  }
  const std::size_t padding = (4 - b64.size() % 4) % 4;
  b64.append(padding, '=');
  std::string out(3 * b64.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);  // EVP_DecodeBlock counts the padding as zero bytes
  if (base64url(out) != text) return std::nullopt;
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void put_field(std::string& out, std::string_view field, const char* name) {
  if (field.size() > kMaxField) throw std::invalid_argument(std::string("unsubscribe token: ") + name + " over 255 bytes");
  out += static_cast<char>(field.size());
  out.append(field);
}

// Reads one length-prefixed field at *pos of the payload.
bool take_field(std::string_view payload, std::size_t* pos, std::string* out) {
  if (*pos >= payload.size()) return false;
  const auto len = static_cast<unsigned char>(payload[*pos]);
  if (payload.size() - *pos - 1 < len) return false;
  out->assign(payload.substr(*pos + 1, len));
  *pos += 1 + len;
  return true;
}

std::optional<Recipient> refuse(std::string* error, const char* why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

TokenKey::TokenKey(std::string_view instance_secret)
    : key_(hmac(instance_secret, "unsubscribe")), signer_({}, key_) {}

std::string TokenKey::token(const Recipient& r) const {
  if (!delivery::looks_like_recipient_id(r.rcpt_id))
    throw std::invalid_argument("unsubscribe token: not a recipient id: " + r.rcpt_id);
  std::string payload;
  payload.reserve(kFixedBytes + r.tenant.size() + r.address.size() + r.campaign.size());
  payload += static_cast<char>(kVersion);
  for (std::size_t i = 0; i < kMessageIdBytes; ++i)
    payload += static_cast<char>(hex_value(r.rcpt_id[2 * i]) << 4 | hex_value(r.rcpt_id[2 * i + 1]));
  const auto index = static_cast<std::uint32_t>(std::stoul(r.rcpt_id.substr(2 * kMessageIdBytes + 1)));
  for (int shift = 24; shift >= 0; shift -= 8) payload += static_cast<char>((index >> shift) & 0xff);
  put_field(payload, r.tenant, "tenant");
  put_field(payload, r.address, "address");
  put_field(payload, r.campaign, "campaign");
  payload += hmac(key_, payload).substr(0, kTagBytes);
  return base64url(payload);
}

std::optional<Recipient> TokenKey::read(std::string_view token, std::string* error) const {
  const auto bytes = from_base64url(token);
  if (!bytes) return refuse(error, "not base64url");
  if (bytes->size() < kFixedBytes) return refuse(error, "too short");
  const std::string_view payload = std::string_view(*bytes).substr(0, bytes->size() - kTagBytes);
  const std::string expected = hmac(key_, payload);
  if (CRYPTO_memcmp(expected.data(), bytes->data() + payload.size(), kTagBytes) != 0)
    return refuse(error, "wrong tag");
  // Signed by this key: anything odd below is a bug of an older version, not an attack.
  if (static_cast<unsigned char>(payload[0]) != kVersion) return refuse(error, "unknown version");
  Recipient r;
  util::append_hex(r.rcpt_id, payload.substr(1, kMessageIdBytes));
  std::uint32_t index = 0;
  for (std::size_t i = 0; i < 4; ++i) index = index << 8 | static_cast<unsigned char>(payload[1 + kMessageIdBytes + i]);
  r.rcpt_id += '-' + std::to_string(index);
  std::size_t pos = 1 + kMessageIdBytes + 4;
  if (!take_field(payload, &pos, &r.tenant) || !take_field(payload, &pos, &r.address) ||
      !take_field(payload, &pos, &r.campaign) || pos != payload.size() || r.tenant.empty() || r.address.empty())
    return refuse(error, "malformed fields");
  return r;
}

std::string TokenKey::mailto_local_part(std::string_view rcpt_id) const {
  return std::string(kMailtoPrefix) + signer_.signed_id(rcpt_id);
}

std::string TokenKey::mailto_rcpt_id(std::string_view local_part) const {
  if (local_part.size() <= kMailtoPrefix.size() || !util::ascii_iequals(local_part.substr(0, kMailtoPrefix.size()), kMailtoPrefix))
    return {};
  std::string id = signer_.verified_id(local_part.substr(kMailtoPrefix.size()));
  return delivery::looks_like_recipient_id(id) ? id : std::string{};
}

}  // namespace volley::unsubscribe
