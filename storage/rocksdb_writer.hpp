#pragma once
// Writing to a RocksDB database after a write failed.
#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/status.h>

namespace volley::storage {

// Runs a database's writes. After a failed write (disk full, I/O error) RocksDB may refuse every
// write until it is resumed. It resumes by itself once a full disk has room again (its
// SstFileManager polls every few seconds, wanting about one write buffer free); the first write
// after a failure also asks it to, so a database whose disk has some room again works without a
// restart. Not thread-safe: one writer (or one lock) per database.
class Writer {
 public:
  explicit Writer(rocksdb::DB* db) : db_(db) {}

  // op() performs one write and returns its status. Skipped while the database cannot resume
  // yet: the answer is then the failure that stopped it ("No space left on device"), which says
  // more than the resume's own ("Resource busy" while RocksDB recovers by itself).
  template <class Op>
  rocksdb::Status run(Op&& op) {
    if (!stopped_by_.ok()) {
      if (!db_->Resume().ok()) return stopped_by_;
      stopped_by_ = rocksdb::Status::OK();
    }
    // RocksDB counts into its thread-local perf context by default (kEnableCount), for every key
    // comparison too, and each count is a __tls_get_addr call into the shared library: 2.6 % of
    // volleyd's CPU at 10 KiB. Nothing reads the counts. Per thread: this writer's thread (and its
    // reads) from its first write on.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    rocksdb::Status s = op();
    if (!s.ok()) stopped_by_ = s;
    return s;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::Status stopped_by_;  // the last failure, until a resume succeeds
};

}  // namespace volley::storage
