#pragma once
// The one place Volley opens a RocksDB database.
// Every database (spool, suppression list, webhook queue) opens through open_db(), so what all of
// them need is said once: the directory and its parents are created, and the info log goes to
// the process-wide sink (rocksdb_logger.hpp), never to a LOG file on the disk that may fill.
// Each starts from base_options() and sets its buffer sizes next to the reasons for them.
#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

namespace volley::storage {

// What every database shares: created when missing; after a crash the WAL is replayed to its last
// intact record (point-in-time), since a torn tail can only hold writes each database was willing
// to lose (unsynced ones).
rocksdb::Options base_options();
// A Bloom filter (10 bits per key) on the block-based table: a lookup that misses is answered
// without reading a data block.
void add_bloom_filter(rocksdb::Options& options);

// Opens (creating if needed, with its parent directories) the database at `path`. `database`
// names it in log lines and errors. Sets options.info_log; the caller's other options stand.
// nullptr and *error ("<database>: open <path>: ...") on failure.
std::unique_ptr<rocksdb::DB> open_db(const std::string& path, rocksdb::Options options, const std::string& database,
                                     std::string* error);

}  // namespace volley::storage
