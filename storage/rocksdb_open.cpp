#include "storage/rocksdb_open.hpp"

#include <filesystem>
#include <system_error>
#include <utility>

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "storage/rocksdb_logger.hpp"

namespace volley::storage {

rocksdb::Options base_options() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return o;
}

void add_bloom_filter(rocksdb::Options& options) {
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

std::unique_ptr<rocksdb::DB> open_db(const std::string& path, rocksdb::Options options, const std::string& database,
                                     std::string* error) {
  // RocksDB creates only the last directory; a fresh install has none of the parents yet.
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    if (error) *error = database + ": create " + path + ": " + ec.message();
    return nullptr;
  }
  // Also the logger of the SstFileManager RocksDB makes for the database, whose disk-full
  // recovery thread is what logged into a failed LOG file.
  options.info_log = make_logger(database);
  rocksdb::DB* raw = nullptr;
  const auto s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) {
    if (error) *error = database + ": open " + path + ": " + s.ToString();
    return nullptr;
  }
  return std::unique_ptr<rocksdb::DB>(raw);
}

}  // namespace volley::storage
