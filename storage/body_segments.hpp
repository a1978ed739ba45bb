#pragma once
// Message bodies of the spool in append-only segment files beside its RocksDB (storage/
// rocksdb_spool.cpp), instead of as RocksDB values.
//
// Why: a body written into RocksDB is copied into a WriteBatch, the WAL and the memtable, and
// checksummed in software (Debian's librocksdb has no SSE 4.2 CRC32C): 45 % of Volley's CPU per
// 100 KiB message, measured (loadtest/README.md, issue 14). Here a group's bodies are one
// pwritev into the page cache and one fdatasync; RocksDB keeps a 41-byte location per message.
//
// Durability: the owner appends a group's bodies (start_append: one pwritev, the fdatasync
// started on a thread of its own, storage/background_sync.hpp), writes the records that point at
// them with a synced RocksDB write meanwhile, and answers the group only once both syncs are done
// (finish_append). Side by side, a power loss can leave durable records naming bytes that never
// reached the disk (zeros, a short file, or a recycled spare's older body): so each record carries
// a checksum of its body (XXH3-64) and the offset its group started at. A body that does not
// match is never returned (read()); at open, the owner syncs the newest group's segment (a
// process that died mid-sync left its bytes in the page cache), reads the newest group's bodies
// back (the only group whose syncs can have been cut short: groups are written one after another;
// a group is known by its segment and where it starts, so no two share that) and drops that
// group whole when one of them was never written: none of it was answered. Bytes
// appended without a durable record (a crash, a failed RocksDB write) are garbage no record names.
//
// Space: each segment knows the messages whose bodies are in it (their ids, kept in memory:
// tens of bytes a message). A sealed segment (no longer appended to) whose last body is released
// is retired, but only after the owner's next synced write (forget() then retire_emptied()): the
// deletes that released its bodies are unsynced, and a crash must not leave records pointing
// into a removed or overwritten file. Retired, it becomes a spare ("<n>.spare"), renamed to the
// next segment's name when one is started and written over from its start; past kMaxSpares, it
// is unlinked on a thread of its own (storage/file_remover.hpp). Why recycle: unlinking a 64 MiB
// segment took 25-37 ms on the spool's thread, and an fdatasync of bytes written over blocks the
// file already has allocates none (p50 0.20-0.24 against 0.24-0.33 ms appending: loadtest/
// README.md, issue 14, sixth round). A spare's old bytes past the append point are garbage no
// record names, like a crash's. One deferred message would keep a whole segment for days, so a
// sealed segment that is mostly garbage is compacted: its live bodies are copied into the active
// segment and their records rewritten by the owner (sparse(), then hold()/forget() per body
// moved), after which it empties like any other. At open, the owner names every body its records
// point at (hold()), then start() removes segments nothing names, keeps the spares (up to
// kMaxSpares) and appends in a new one (never after a possibly torn tail).
//
// Not thread-safe: the spool's one owner calls it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "storage/background_sync.hpp"
#include "storage/file_remover.hpp"

namespace volley::storage {

struct BodyLocation {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  // Written by start_append (version 2 records); absent from version 1 records, written before
  // the syncs ran side by side, when a record was only written after its body was durable.
  bool checked = false;
  std::uint64_t checksum = 0;  // XXH3-64 of the body
  std::uint64_t group = 0;     // offset of the first body appended with this one
};

// The record RocksDB keeps: a version byte and five little-endian 64-bit numbers (segment,
// offset, length, checksum, group). Version 1 records (the first three) still decode.
std::string encode_location(const BodyLocation& at);
std::optional<BodyLocation> decode_location(std::string_view value);
// Whether body is the one `at` names: its checksum, when the record has one.
bool body_matches(const BodyLocation& at, std::string_view body);

class BodySegments {
 public:
  // A new segment is started past this size.
  static constexpr std::uint64_t kSegmentBytes = 64u << 20;
  // Retired segments kept for reuse: the next segment and one more, for when two empty between
  // two starts (a drained backlog empties many at once: the rest are unlinked).
  static constexpr std::size_t kMaxSpares = 2;

  // Opens (creating) dir; then hold() each body the records name, then start(). nullptr and
  // *error on failure. A new segment is started once the active one holds segment_bytes.
  static std::unique_ptr<BodySegments> open(const std::string& dir, std::string* error,
                                            std::uint64_t segment_bytes = kSegmentBytes);
  // Removes the segments nothing holds and starts a new active segment.
  bool start(std::string* error);
  ~BodySegments();
  BodySegments(const BodySegments&) = delete;
  BodySegments& operator=(const BodySegments&) = delete;

  // Appends the bodies in one write and starts making them durable; their locations in *out, in
  // order. finish_append() must follow (and nothing else of this class's, but the owner's record
  // write meanwhile). The bodies count once the owner has written their records and hold()s them;
  // on failure *error says why and the bytes are garbage the next append may overwrite.
  bool start_append(const std::vector<std::string_view>& bodies, std::vector<BodyLocation>* out,
                    std::string* error);
  // Waits for start_append's sync: false and *error when it failed (the bytes are then garbage:
  // records already written that name them must be deleted). Their place is not written over:
  // records that could not be deleted must not come to name another group's bytes.
  bool finish_append(std::string* error);
  // start_append and finish_append at once: the bodies are durable when it returns true.
  bool append(const std::vector<std::string_view>& bodies, std::vector<BodyLocation>* out, std::string* error);
  // A record names message `id`'s body at `at` (after a write of records, and at open).
  void hold(const std::string& id, const BodyLocation& at);
  // Message `id`'s record no longer names its body at `at` (deleted, unsynced, or rewritten to a
  // new place). A sealed segment whose last body goes is retired by the next retire_emptied().
  void forget(const std::string& id, const BodyLocation& at);
  // Called after a synced write of the owner's: the segments emptied before it become spares, or
  // are unlinked (in the background) past kMaxSpares.
  void retire_emptied();

  // Sealed segments whose live bodies are under a quarter of their bytes, fullest of garbage
  // first, and the messages still in each: what compaction moves.
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> sparse(std::size_t max_segments) const;

  // A body's bytes; nullopt and *error when the segment or the range cannot be read, or when
  // they are not the bytes the record's checksum names.
  std::optional<std::string> read(const BodyLocation& at, std::string* error) const;
  // What reading a body back shows: its bytes, bytes that were never written there (the file
  // ends first, or the checksum differs: what a sync cut short leaves), or an error that says
  // nothing about the bytes (the file cannot be opened or read).
  enum class Readback { intact, not_written, unreadable };
  Readback read_back(const BodyLocation& at, std::string* error) const;
  // Makes what the segment file holds durable (at open: a process that died during a group's
  // sync left that group's bytes in the page cache only). False and *error on failure.
  bool sync_segment(std::uint64_t segment, std::string* error) const;

  std::string path_of(std::uint64_t segment) const;
  std::uint64_t active_segment() const { return active_; }
  std::size_t segment_count() const { return segments_.size(); }
  std::size_t spare_count() const { return spares_.size(); }
  // Returns once the unlinks asked for so far are done (tests).
  void wait_for_removals() { remover_.wait_idle(); }

 private:
  struct Segment {
    std::uint64_t bytes = 0;       // appended (final once sealed)
    std::uint64_t live_bytes = 0;  // of bodies still held
    std::unordered_set<std::string> ids;
  };

  BodySegments(std::string dir, std::uint64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  bool start_segment(std::uint64_t number, std::string* error);
  std::string spare_path(std::uint64_t segment) const;
  int open_next(std::uint64_t number);
  Readback read_into(const BodyLocation& at, std::string* body, std::string* error) const;

  std::string dir_;
  std::uint64_t segment_bytes_;
  int dir_fd_ = -1;
  int fd_ = -1;               // the active segment
  std::uint64_t active_ = 0;  // its number (0: none yet)
  std::map<std::uint64_t, Segment> segments_;  // on disk and held, the active one included
  std::map<std::uint64_t, std::uint64_t> found_;  // at open: segment files -> their sizes
  std::vector<std::uint64_t> emptied_;            // sealed, no body left: retired after the next sync
  std::vector<std::uint64_t> spares_;             // retired, "<n>.spare": the next segments' files
  std::optional<std::uint64_t> appending_;        // the active segment's bytes once the sync in progress is done
  BackgroundSync sync_;
  FileRemover remover_;  // last: its destructor finishes the unlinks before the rest goes
};

}  // namespace volley::storage
