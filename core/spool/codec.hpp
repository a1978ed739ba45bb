#pragma once
// The spool's on-disk record format: compact, versioned, and safe to decode from any bytes.
//
// Every record starts with a format version byte and a record kind byte, then its fields in a
// fixed order: strings as a LEB128 length and the bytes, unsigned integers as LEB128, signed
// integers zig-zagged then LEB128, booleans packed in one flags byte. A decoder accepts exactly
// one version and kind, and rejects truncation, overlong varints, unknown flag bits, unknown
// enum values and trailing bytes, so a damaged record is reported rather than half-read.
// A new field means a new version: the decoder then learns both.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/spool/records.hpp"

namespace volley::spool {

inline constexpr std::uint8_t kRecordFormatVersion = 1;
// Message records: version 2 added the pool, version 3 the DKIM signatures, version 4 send_at.
// All are read; version 4 is written.
inline constexpr std::uint8_t kMessageFormatVersion = 4;
// Idempotency entries: version 2 added the request digest. Both are read; version 2 is written.
inline constexpr std::uint8_t kIdempotencyFormatVersion = 2;

std::string encode_message(const MessageRecord& m);
std::string encode_recipient(const RecipientRecord& r);

// A stored idempotency answer: when it was given, the JSON body to repeat, and the digest of
// the request it answered ("" in version 1 entries).
struct IdempotencyEntry {
  std::int64_t at_ms = 0;
  std::string response_json;
  std::string request_digest = {};
};
std::string encode_idempotency(const IdempotencyEntry& e);

// nullopt and *error (if given) when the bytes are not a well-formed record of that kind.
std::optional<MessageRecord> decode_message(std::string_view bytes, std::string* error = nullptr);
std::optional<RecipientRecord> decode_recipient(std::string_view bytes,
                                                std::string* error = nullptr);
std::optional<IdempotencyEntry> decode_idempotency(std::string_view bytes,
                                                   std::string* error = nullptr);

}  // namespace volley::spool
