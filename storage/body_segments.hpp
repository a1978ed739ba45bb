#pragma once
// Message bodies of the spool in append-only segment files beside its RocksDB (storage/
// rocksdb_spool.cpp), instead of as RocksDB values.
//
// Why: a body written into RocksDB is copied into a WriteBatch, the WAL and the memtable, and
// checksummed in software (Debian's librocksdb has no SSE 4.2 CRC32C): 45 % of Volley's CPU per
// 100 KiB message, measured (loadtest/README.md, issue 14). Here a group's bodies are one
// pwritev into the page cache and one fdatasync; RocksDB keeps a 25-byte location per message.
//
// Durability: the owner appends a group's bodies and only then writes (synced) the records that
// point at them, so a durable record always points at durable bytes. Bytes appended without a
// durable record (a crash between the two, a failed RocksDB write) are garbage no record names.
//
// Space: each segment counts the bodies still referenced in it; a segment no longer appended to
// (sealed) is unlinked when its count reaches zero, but only after the owner's next synced write
// (forget() then unlink_forgotten()): the deletes that released its bodies are unsynced, and a
// crash must not leave records pointing into a removed file. At open, segments no record names
// are removed and appending starts in a new one (never after a possibly torn tail).
//
// Not thread-safe: the spool's one owner calls it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::storage {

struct BodyLocation {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// The record RocksDB keeps: a version byte and three little-endian 64-bit numbers.
std::string encode_location(const BodyLocation& at);
std::optional<BodyLocation> decode_location(std::string_view value);

class BodySegments {
 public:
  // A new segment is started past this size.
  static constexpr std::uint64_t kSegmentBytes = 64u << 20;

  // Opens (creating) dir. counts: how many bodies the spool's records place in each segment
  // (from a scan of them); segments not in it are removed. A new segment is started once the
  // active one holds segment_bytes. nullptr and *error on failure.
  static std::unique_ptr<BodySegments> open(const std::string& dir, const std::map<std::uint64_t, std::uint64_t>& counts,
                                            std::string* error, std::uint64_t segment_bytes = kSegmentBytes);
  ~BodySegments();
  BodySegments(const BodySegments&) = delete;
  BodySegments& operator=(const BodySegments&) = delete;

  // Appends the bodies in one write and makes them durable; their locations in *out, in order.
  // On failure nothing appended is counted and *error says why.
  bool append(const std::vector<std::string_view>& bodies, std::vector<BodyLocation>* out, std::string* error);
  // Undoes append()'s counts for bodies whose records were not written after all.
  void unref(const std::vector<BodyLocation>& bodies);
  // A body's bytes; nullopt and *error when the segment or the range cannot be read.
  std::optional<std::string> read(const BodyLocation& at, std::string* error) const;

  // One body's record is deleted (unsynced). A sealed segment whose last body goes is unlinked by
  // the next unlink_forgotten().
  void forget(const BodyLocation& at);
  // Called after a synced write of the owner's: unlinks the segments emptied before it.
  void unlink_forgotten();

  std::string path_of(std::uint64_t segment) const;
  std::uint64_t active_segment() const { return active_; }
  std::size_t segment_count() const { return counts_.size(); }

 private:
  BodySegments(std::string dir, std::uint64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  bool start_segment(std::uint64_t number, std::string* error);

  std::string dir_;
  std::uint64_t segment_bytes_;
  int dir_fd_ = -1;
  int fd_ = -1;                  // the active segment
  std::uint64_t active_ = 0;     // its number
  std::uint64_t size_ = 0;       // its bytes appended so far
  std::map<std::uint64_t, std::uint64_t> counts_;  // segment -> bodies referenced (active included)
  std::vector<std::uint64_t> emptied_;             // sealed, no body left: unlinked after the next sync
};

}  // namespace volley::storage
