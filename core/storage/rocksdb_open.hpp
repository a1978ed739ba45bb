#pragma once
// The one place Volley opens a RocksDB database.
// Every database (spool, suppression list, webhook queue) opens through open_db(), so what all of
// them need is said once: the directory and its parents are created, and the info log goes to
// the process-wide sink (rocksdb_logger.hpp), never to a LOG file on the disk that may fill.
#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

namespace volley::storage {

// Opens (creating if needed, with its parent directories) the database at `path`. `database`
// names it in log lines and errors. Sets options.info_log; the caller's other options stand.
// nullptr and *error ("<database>: open <path>: ...") on failure.
std::unique_ptr<rocksdb::DB> open_db(const std::string& path, rocksdb::Options options, const std::string& database,
                                     std::string* error);

}  // namespace volley::storage
