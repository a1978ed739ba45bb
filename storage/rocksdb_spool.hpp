#pragma once
// The spool (core/spool/spool.hpp) on RocksDB: one default column family, key prefixes per
// record kind (see spool.hpp), tuned for a queue (see spool_options() in rocksdb_spool.cpp).
#include <memory>
#include <string>

#include "core/spool/spool.hpp"

namespace volley::storage {

// Opens (creating if needed) the spool at path. nullptr and *error on failure.
std::unique_ptr<spool::Spool> open_spool(const std::string& path, std::string* error);

}  // namespace volley::storage
