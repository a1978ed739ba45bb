#pragma once
// Webhook signatures: the receiver checks that a POST comes from us and is recent.
// The MAC covers "<timestamp>.<body>", so a captured request cannot be replayed with a fresh
// timestamp, and the timestamp window bounds how long a captured one stays replayable.
//   X-Volley-Timestamp: <unix seconds>
//   X-Volley-Signature: v1=<lower-case hex HMAC-SHA256(secret, timestamp "." body)>
// The signature header may carry several comma-separated "v1=" values (a receiver rotating
// its secret accepts either); verify() accepts the request when any of them matches.
#include <cstdint>
#include <string>
#include <string_view>

namespace volley::events {

inline constexpr std::string_view kTimestampHeader = "X-Volley-Timestamp";
inline constexpr std::string_view kSignatureHeader = "X-Volley-Signature";

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

struct SignatureHeaders {
  std::string timestamp;  // value of X-Volley-Timestamp
  std::string signature;  // value of X-Volley-Signature
};

SignatureHeaders sign(std::string_view secret, std::string_view body, std::int64_t unix_seconds);

// True when the timestamp is within tolerance of now (either direction: clocks drift) and a
// v1 signature matches, compared in constant time.
bool verify(std::string_view secret, std::string_view body, std::string_view timestamp_header,
            std::string_view signature_header, std::int64_t now_unix_seconds,
            std::int64_t tolerance_seconds = 300);

}  // namespace volley::events
