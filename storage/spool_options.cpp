#include "storage/spool_options.hpp"

#include <rocksdb/utilities/table_properties_collectors.h>

#include "storage/rocksdb_open.hpp"

namespace volley::storage {

// Options for a queue: nearly every key is written once, read at most a few times, then
// deleted within minutes. Reasons, one per choice:
// - Durability comes from the WAL, fsync'd once per group commit (WriteOptions::sync), and
//   recovery replays it to the last intact record (point-in-time): a torn tail can only be
//   unsynced outcome writes, which are safe to lose (a recipient is tried again).
// - A 32 MiB write buffer (up to 3 of them) lets most messages be put and deleted while still in
//   the memtable: the flush then drops the records and keeps only small tombstones, so records
//   of delivered mail mostly never reach an SST file (bodies are not here at all: they are in
//   segment files, storage/body_segments.hpp). max_total_wal_size bounds the WAL the
//   memtables pin (and so the replay time after a crash) by forcing a flush past 128 MiB.
// - Level compaction with dynamic level sizes moves data (and tombstones) to the last level
//   quickly, where tombstones are dropped; the compact-on-deletion collector marks SST files
//   made mostly of deletes for compaction, so prefix scans at recovery do not wade through
//   millions of tombstones. Scans also carry an upper bound for the same reason.
// - No compression: bodies are mostly base64 or already dense, and on two cores the CPU is
//   worth more than the disk.
// - A Bloom filter: idempotency lookups mostly miss, and the filter answers a miss without
//   reading a data block.
rocksdb::Options spool_options() {
  rocksdb::Options o = base_options();
  o.max_background_jobs = 2;
  o.write_buffer_size = 32u << 20;
  o.max_write_buffer_number = 3;
  o.max_total_wal_size = 128u << 20;
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level_compaction_dynamic_level_bytes = true;
  o.compression = rocksdb::kNoCompression;
  o.bottommost_compression = rocksdb::kNoCompression;
  o.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/128,
                                                    /*deletion_trigger=*/64));
  add_bloom_filter(o);
  return o;
}

}  // namespace volley::storage
