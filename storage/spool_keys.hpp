#pragma once
// The spool's keys in its RocksDB (one default column family): a prefix per record kind, then an
// id. Shared by the spool (storage/rocksdb_spool.cpp) and its recovery of a torn group
// (storage/torn_group.cpp).
#include <string>
#include <string_view>

namespace volley::spool {

constexpr std::string_view kMessagePrefix = "m/";
constexpr std::string_view kBodyPrefix = "b/";          // a body itself (spools written before segments)
constexpr std::string_view kBodyLocationPrefix = "p/";  // where a body is in the segments
constexpr std::string_view kRecipientPrefix = "r/";     // "r/<message id>-<index>"
constexpr std::string_view kIdempotencyPrefix = "i/";
constexpr std::string_view kHistoryPrefix = "h/";

inline std::string make_key(std::string_view prefix, std::string_view id) {
  std::string k;
  k.reserve(prefix.size() + id.size());
  k.append(prefix);
  k.append(id);
  return k;
}

}  // namespace volley::spool
