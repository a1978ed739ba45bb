#include "storage/torn_group.hpp"

#include <algorithm>
#include <limits>

#include <rocksdb/write_batch.h>

#include "core/spool/codec.hpp"
#include "storage/bounded_iterator.hpp"
#include "storage/spool_keys.hpp"

namespace volley::storage {

namespace {

// An idempotency entry is written in the same group as its messages, at the group's time, which
// is after each message's received_at (both read from the wall clock: a minute's slack for a
// clock stepped back).
constexpr std::int64_t kClockSlackMs = 60 * 1000;

}  // namespace

void NewestGroup::see(std::string_view id, const BodyLocation& at) {
  // Version 1 records were written after their bodies were durable: nothing to check.
  if (!at.checked) return;
  if (!members_.empty() && (at.segment < segment_ || (at.segment == segment_ && at.group < group_))) return;
  if (members_.empty() || at.segment != segment_ || at.group != group_) {
    members_.clear();
    segment_ = at.segment;
    group_ = at.group;
  }
  members_.emplace_back(std::string(id), at);
}

NewestGroup::Check NewestGroup::check(const BodySegments& bodies) const {
  Check out;
  if (members_.empty()) return out;
  if (!bodies.sync_segment(segment_, &out.error)) {
    out.synced = false;
    return out;
  }
  for (const auto& [id, at] : members_) {
    std::string error;
    const auto readback = bodies.read_back(at, &error);
    if (readback == BodySegments::Readback::intact) continue;
    if (out.error.empty() || readback == BodySegments::Readback::not_written) out.error = error;
    if (readback == BodySegments::Readback::not_written) {
      for (const auto& member : members_) out.torn.push_back(member.first);
      std::sort(out.torn.begin(), out.torn.end());
      break;
    }
  }
  return out;
}

rocksdb::Status drop_messages(rocksdb::DB& db, const std::vector<std::string>& ids) {
  rocksdb::WriteBatch wb;
  std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
  for (const auto& id : ids) {
    std::string value;
    const std::string key = spool::make_key(spool::kMessagePrefix, id);
    if (db.Get(rocksdb::ReadOptions(), key, &value).ok()) {
      if (auto m = spool::decode_message(value)) earliest = std::min(earliest, m->received_at_ms);
    }
    wb.Delete(key);
    wb.Delete(spool::make_key(spool::kBodyLocationPrefix, id));
    const std::string recipients = spool::make_key(spool::kRecipientPrefix, id + "-");
    const auto walked = scan_prefix(
        db, recipients, [&](std::string_view k, std::string_view) { wb.Delete(rocksdb::Slice(k.data(), k.size())); });
    if (!walked.ok()) return walked;
  }
  if (earliest == std::numeric_limits<std::int64_t>::max()) earliest = 0;  // no record read: check them all
  const auto scanned = scan_prefix(db, spool::kIdempotencyPrefix, [&](std::string_view k, std::string_view value) {
    const auto e = spool::decode_idempotency(value);
    if (!e || e->at_ms < earliest - kClockSlackMs) return;
    for (const auto& id : ids) {
      if (e->response_json.find("\"" + id + "\"") != std::string::npos) {
        wb.Delete(rocksdb::Slice(k.data(), k.size()));
        return;
      }
    }
  });
  if (!scanned.ok()) return scanned;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return db.Write(wo, &wb);
}

}  // namespace volley::storage
