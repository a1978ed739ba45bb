#pragma once
// The spool's recovery of a group commit that a crash cut short.
//
// Why: a group's bodies and its records are synced side by side (storage/body_segments.hpp), so
// after a power loss the records of the newest group can be on disk while some of its bodies are
// not. None of that group was answered (an answer waits for both syncs), so the group is dropped
// whole: its messages' records and the idempotency entries whose stored answers name them, so
// that the client's retry, with or without its key, is taken as new. Older groups cannot be
// affected: each one's syncs were done before the next group was written.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

#include "storage/body_segments.hpp"

namespace volley::storage {

// The newest group of bodies the records name, gathered from the scan of locations at open.
class NewestGroup {
 public:
  // A record names message `id`'s body at `at`.
  void see(std::string_view id, const BodyLocation& at);
  struct Check {
    bool synced = true;             // false: the group's segment could not be synced (error says why)
    std::vector<std::string> torn;  // the group's ids, sorted, when one of its bodies was never written
    std::string error;              // the first problem met: why torn, or a body that could not be read
  };
  // Syncs the group's segment (a process that died during the group's sync left its bytes in the
  // page cache: read back from there they would pass, and then be lost to a power cut), then
  // reads each body back. Only bytes shown never written (the file ends first, or the checksum
  // differs) make the group torn; a body that cannot be read at all (EIO, a removed file) says
  // nothing about what was written, and the group is kept.
  Check check(const BodySegments& bodies) const;
  // The group's bodies, by message id.
  const std::vector<std::pair<std::string, BodyLocation>>& members() const { return members_; }

 private:
  std::uint64_t segment_ = 0;
  std::uint64_t group_ = 0;
  std::vector<std::pair<std::string, BodyLocation>> members_;
};

// Deletes the messages' records (m/, p/, r/) and the idempotency entries whose answers name one
// of them, in one synced write.
rocksdb::Status drop_messages(rocksdb::DB& db, const std::vector<std::string>& ids);

}  // namespace volley::storage
