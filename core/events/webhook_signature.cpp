#include "core/events/webhook_signature.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <stdexcept>

#include "core/util/hex.hpp"
#include "core/util/hmac.hpp"

namespace volley::events {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return util::to_hex(util::as_bytes(util::hmac_sha256(key, data)));
}

namespace {

std::string signed_payload(std::string_view timestamp, std::string_view body) {
  std::string payload;
  payload.reserve(timestamp.size() + 1 + body.size());
  payload.append(timestamp);
  payload.push_back('.');
  payload.append(body);
  return payload;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

SignatureHeaders sign(std::string_view secret, std::string_view body, std::int64_t unix_seconds) {
  SignatureHeaders h;
  h.timestamp = std::to_string(unix_seconds);
  h.signature = "v1=" + hmac_sha256_hex(secret, signed_payload(h.timestamp, body));
  return h;
}

bool verify(std::string_view secret, std::string_view body, std::string_view timestamp_header,
            std::string_view signature_header, std::int64_t now_unix_seconds,
            std::int64_t tolerance_seconds) {
  const std::string_view ts = trim(timestamp_header);
  if (ts.empty() || ts.size() > 18) return false;  // digits only, no overflow
  std::int64_t t = 0;
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
  if (ec != std::errc() || end != ts.data() + ts.size() || t < 0) return false;
  const std::int64_t skew = now_unix_seconds > t ? now_unix_seconds - t : t - now_unix_seconds;
  if (skew > tolerance_seconds) return false;

  const std::string expected = hmac_sha256_hex(secret, signed_payload(ts, body));
  bool ok = false;
  std::string_view rest = signature_header;
  // Every listed value is compared (no early exit), so timing says nothing about which matched.
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.substr(0, 3) != "v1=") continue;
    item.remove_prefix(3);
    if (item.size() == expected.size() &&
        CRYPTO_memcmp(item.data(), expected.data(), expected.size()) == 0) {
      ok = true;
    }
  }
  return ok;
}

}  // namespace volley::events
