#pragma once
// The spool's RocksDB options: a queue, not a store (storage/spool_options.cpp says why each).
#include <rocksdb/options.h>

namespace volley::storage {

rocksdb::Options spool_options();

}  // namespace volley::storage
