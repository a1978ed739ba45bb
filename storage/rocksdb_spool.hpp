#pragma once
// The spool (core/spool/spool.hpp) on RocksDB: one default column family, key prefixes per
// record kind (see spool.hpp), tuned for a queue (storage/spool_options.cpp);
// message bodies in segment files under <path>/bodies (storage/body_segments.hpp).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/spool/spool.hpp"

namespace volley::storage {

// How the body segments are kept (tests make both small).
struct SpoolTuning {
  std::uint64_t segment_bytes = 64u << 20;                        // a new segment past this
  std::chrono::milliseconds compaction_interval = std::chrono::seconds(1);  // at most one pass per
};

// Opens (creating if needed) the spool at path. nullptr and *error on failure. What the open
// finds and mends (a group commit a crash cut short, corrupt records) goes to reporter (stderr
// without one); set_reporter() replaces it afterwards.
std::unique_ptr<spool::Spool> open_spool(const std::string& path, std::string* error, SpoolTuning tuning = {},
                                         spool::Spool::Reporter reporter = {});

}  // namespace volley::storage
