// Bodies in segment files (storage/body_segments.hpp) and the spool's use of them: what is
// appended reads back, a segment goes only once its bodies are released and a synced write has
// made the releases durable, a retired segment's file is reused for a later one (up to two kept,
// the rest unlinked), what no record names is removed at open, and bodies written into RocksDB
// by an older Volley still load and are released.
#include "storage/body_segments.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "storage/rocksdb_spool.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/spool/open_spool.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley;
using spool::testing::make_message;
using spool::testing::open_spool_or_fail;
using spool::testing::TempDir;

namespace {

// The names in dir ending in suffix, sorted.
std::vector<std::string> files_ending(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> segment_files(const std::string& dir) { return files_ending(dir, ".seg"); }
std::vector<std::string> spare_files(const std::string& dir) { return files_ending(dir, ".spare"); }
std::vector<std::string> all_files(const std::string& dir) { return files_ending(dir, ""); }

ino_t inode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// Opens dir with the bodies `held` named by records, as the spool does at open.
std::unique_ptr<storage::BodySegments> open_segments(
    const std::string& dir, const std::vector<std::pair<std::string, storage::BodyLocation>>& held = {},
    std::uint64_t segment_bytes = storage::BodySegments::kSegmentBytes) {
  std::string error;
  auto s = storage::BodySegments::open(dir, &error, segment_bytes);
  INFO(error);
  REQUIRE(s);
  for (const auto& [id, at] : held) s->hold(id, at);
  REQUIRE(s->start(&error));
  return s;
}

bool commit(spool::Spool& s, const std::vector<const spool::NewMessage*>& messages) {
  spool::CommitBatch batch;
  batch.messages = messages;
  batch.now_ms = 1000;
  std::string error;
  const bool ok = s.commit(batch, &error);
  INFO(error);
  return ok;
}

spool::Release finished(const std::string& message_id) {
  return spool::Release{message_id + "-0", message_id, "", true, true};
}

}  // namespace

TEST_CASE("body locations round-trip, version 1 records still decode, and nothing else decodes as one",
          "[spool][segments]") {
  const storage::BodyLocation at{7, 1u << 20, 123456, true, 0x0123456789abcdefull, (1u << 20) - 4096};
  const std::string encoded = storage::encode_location(at);
  const auto back = storage::decode_location(encoded);
  REQUIRE(back);
  CHECK(back->segment == 7);
  CHECK(back->offset == (1u << 20));
  CHECK(back->length == 123456);
  CHECK(back->checked);
  CHECK(back->checksum == 0x0123456789abcdefull);
  CHECK(back->group == (1u << 20) - 4096);

  // A version 1 record (written before checksums): its first 25 bytes, version byte 1.
  std::string v1 = encoded.substr(0, 25);
  v1[0] = 1;
  const auto old = storage::decode_location(v1);
  REQUIRE(old);
  CHECK(old->segment == 7);
  CHECK(old->offset == (1u << 20));
  CHECK(old->length == 123456);
  CHECK_FALSE(old->checked);
  CHECK(storage::body_matches(*old, std::string(123456, 'x')));  // unchecked: only the length
  CHECK_FALSE(storage::body_matches(*old, std::string(123455, 'x')));

  CHECK_FALSE(storage::decode_location(""));
  CHECK_FALSE(storage::decode_location("Subject: hi\r\n\r\nbody\r\n.\r\n"));
  for (char version : {'\0', '\1', '\3'}) {
    std::string wrong_version = encoded;
    wrong_version[0] = version;
    CHECK_FALSE(storage::decode_location(wrong_version));
  }
  v1[0] = 2;
  CHECK_FALSE(storage::decode_location(v1));
}

TEST_CASE("segments: a body is read back only if it is the one its record's checksum names", "[spool][segments]") {
  TempDir dir;
  const std::string path = dir.path() + "/bodies";
  auto s = open_segments(path);
  std::vector<storage::BodyLocation> at;
  std::string error;
  REQUIRE(s->append({"a group before"}, &at, &error));
  REQUIRE(s->start_append({"first body", "second body", "third"}, &at, &error));
  REQUIRE(s->finish_append(&error));
  REQUIRE(at.size() == 3);
  for (const auto& a : at) {
    CHECK(a.checked);
    CHECK(a.group == 14);  // one group, starting where the one before ended
  }
  CHECK(at[0].checksum != at[1].checksum);
  CHECK(s->read(at[1], &error) == "second body");

  // The same length at the same place but other bytes: what a crash can leave (zeros never
  // written over, or a recycled file's older body).
  {
    std::fstream f(s->path_of(at[1].segment), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at[1].offset));
    f.write("SECOND", 6);
  }
  error.clear();
  CHECK_FALSE(s->read(at[1], &error));
  CHECK(error.find("checksum") != std::string::npos);
  CHECK(s->read(at[0], &error) == "first body");
  CHECK(s->read(at[2], &error) == "third");

  // A version 1 record's body has no checksum to compare: its bytes are returned as they are.
  storage::BodyLocation unchecked = at[1];
  unchecked.checked = false;
  CHECK(s->read(unchecked, &error) == "SECOND body");
}

TEST_CASE("segments: appended bodies read back, a full segment is followed by a new one, and an emptied one goes "
          "only after the next synced write",
          "[spool][segments]") {
  TempDir dir;
  const std::string path = dir.path() + "/bodies";
  auto s = open_segments(path, {}, /*segment_bytes=*/100);
  const std::uint64_t first = s->active_segment();

  std::vector<storage::BodyLocation> a, b;
  std::string error;
  const std::string big(80, 'x');
  REQUIRE(s->append({big, "", "short"}, &a, &error));
  REQUIRE(a.size() == 3);
  s->hold("a0", a[0]);
  s->hold("a1", a[1]);
  s->hold("a2", a[2]);
  CHECK(s->read(a[0], &error) == big);
  CHECK(s->read(a[1], &error) == std::string());
  CHECK(s->read(a[2], &error) == std::string("short"));

  // 85 bytes written, under 100: the same segment; past 100, the next append starts a new one.
  REQUIRE(s->append({std::string(20, 'y')}, &b, &error));
  s->hold("b0", b[0]);
  CHECK(b[0].segment == first);
  std::vector<storage::BodyLocation> c;
  REQUIRE(s->append({"next"}, &c, &error));
  s->hold("c0", c[0]);
  CHECK(c[0].segment == first + 1);
  CHECK(segment_files(path).size() == 2);
  CHECK(s->read(b[0], &error) == std::string(20, 'y'));  // a sealed segment still reads

  // Every body of the sealed segment released: the file stays until the owner has synced.
  s->forget("a0", a[0]);
  s->forget("a1", a[1]);
  s->forget("a2", a[2]);
  s->forget("a2", a[2]);  // twice: counted once
  CHECK(segment_files(path).size() == 2);
  s->forget("b0", b[0]);
  CHECK(segment_files(path).size() == 2);
  s->retire_emptied();
  CHECK(segment_files(path).size() == 1);
  CHECK(spare_files(path).size() == 1);  // kept for the next segment, under a name no record uses
  CHECK_FALSE(s->read(a[0], &error));
  CHECK(s->read(c[0], &error) == std::string("next"));

  // The active segment is never removed, even when empty.
  s->forget("c0", c[0]);
  s->retire_emptied();
  CHECK(segment_files(path).size() == 1);
}

TEST_CASE("segments: a sealed segment mostly released is offered for compaction with the messages still in it",
          "[spool][segments]") {
  TempDir dir;
  auto s = open_segments(dir.path() + "/bodies", {}, /*segment_bytes=*/100);
  std::vector<storage::BodyLocation> at;
  std::string error;
  REQUIRE(s->append({std::string(40, 'a'), std::string(40, 'b'), std::string(20, 'c')}, &at, &error));
  s->hold("a", at[0]);
  s->hold("b", at[1]);
  s->hold("c", at[2]);
  std::vector<storage::BodyLocation> next;
  REQUIRE(s->append({"d"}, &next, &error));  // seals the first segment
  s->hold("d", next[0]);
  CHECK(s->sparse(4).empty());  // 100 bytes, all live
  s->forget("a", at[0]);
  CHECK(s->sparse(4).empty());  // 60 of 100 live
  s->forget("b", at[1]);
  const auto sparse = s->sparse(4);  // 20 of 100 live: under a quarter
  REQUIRE(sparse.size() == 1);
  CHECK(sparse[0].first == at[2].segment);
  CHECK(sparse[0].second == std::vector<std::string>{"c"});
}

TEST_CASE("segments: at open, segments no record names are removed and appending starts in a new one",
          "[spool][segments]") {
  TempDir dir;
  const std::string path = dir.path() + "/bodies";
  std::vector<storage::BodyLocation> kept, orphan;
  std::string error;
  {
    auto s = open_segments(path, {}, /*segment_bytes=*/10);
    REQUIRE(s->append({"kept body!!"}, &kept, &error));      // fills the first segment
    REQUIRE(s->append({"orphan body"}, &orphan, &error));    // the next, never recorded
    REQUIRE(kept[0].segment != orphan[0].segment);
  }
  auto s = open_segments(path, {{"kept", kept[0]}});
  CHECK(s->read(kept[0], &error) == std::string("kept body!!"));
  CHECK_FALSE(s->read(orphan[0], &error));
  CHECK_THAT(error, Catch::Contains("No such file"));
  CHECK(s->active_segment() > orphan[0].segment);  // numbers are never reused
  CHECK(segment_files(path).size() == 2);          // the kept one and the new active one
}

TEST_CASE("spool: bodies live in segments, and a released message's segment goes after the next commit",
          "[spool][segments]") {
  TempDir dir;
  const std::string bodies = dir.path() + "/bodies";
  auto spool = open_spool_or_fail(dir.path());
  const auto a = make_message("seg-a", 1, 5000);
  const auto b = make_message("seg-b", 1, 5000);
  REQUIRE(commit(*spool, {&a, &b}));
  CHECK(spool->load_body("seg-a") == a.wire_data);
  CHECK(spool->load_body("seg-b") == b.wire_data);
  const auto files = segment_files(bodies);
  REQUIRE(files.size() == 1);
  CHECK(std::filesystem::file_size(bodies + "/" + files[0]) == a.wire_data.size() + b.wire_data.size());

  // Reopened: the bodies are still there, and new ones go to a new segment.
  spool.reset();
  spool = open_spool_or_fail(dir.path());
  CHECK(spool->load_body("seg-a") == a.wire_data);
  const auto c = make_message("seg-c", 1, 100);
  REQUIRE(commit(*spool, {&c}));
  CHECK(segment_files(bodies).size() == 2);

  // Both messages of the first segment finish; its file goes once a synced write follows.
  spool->release({finished("seg-a"), finished("seg-b")});
  CHECK_FALSE(spool->load_body("seg-a"));
  CHECK(segment_files(bodies).size() == 2);
  const auto d = make_message("seg-d", 1, 100);
  REQUIRE(commit(*spool, {&d}));
  CHECK(segment_files(bodies).size() == 1);
  CHECK(spool->load_body("seg-c") == c.wire_data);
  CHECK(spool->load_body("seg-d") == d.wire_data);
}

TEST_CASE("spool: a body written into RocksDB by an older Volley still loads and is released", "[spool][segments]") {
  TempDir dir;
  const auto old = make_message("old-1", 1, 300);
  {
    auto spool = open_spool_or_fail(dir.path());
    REQUIRE(commit(*spool, {&old}));
  }
  {
    // Rewrite the message as the spool used to hold it: the body itself under b/, no location.
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db->Delete(wo, "p/old-1").ok());
    REQUIRE(db->Put(wo, "b/old-1", old.wire_data).ok());
  }
  auto spool = open_spool_or_fail(dir.path());
  CHECK(segment_files(dir.path() + "/bodies").size() == 1);  // the old segment, named by nothing, is gone
  CHECK(spool->load_body("old-1") == old.wire_data);
  spool->release({finished("old-1")});
  CHECK_FALSE(spool->load_body("old-1"));
  CHECK_FALSE(spool->find_message("old-1"));
}

TEST_CASE("spool: a segment kept by one long-lived body is compacted: the body moves, the segment goes",
          "[spool][segments]") {
  TempDir dir;
  const std::string bodies = dir.path() + "/bodies";
  storage::SpoolTuning tuning;
  tuning.segment_bytes = 500;
  tuning.compaction_interval = std::chrono::milliseconds(0);
  std::string error;
  auto spool = storage::open_spool(dir.path(), &error, tuning);
  REQUIRE(spool);
  const auto big = make_message("cmp-big", 1, 900);   // delivered at once
  const auto kept = make_message("cmp-kept", 1, 40);  // deferred for days
  REQUIRE(commit(*spool, {&big, &kept}));
  const auto later = make_message("cmp-later", 1, 40);
  REQUIRE(commit(*spool, {&later}));  // past 500 bytes: a new segment
  REQUIRE(segment_files(bodies).size() == 2);
  const auto first = segment_files(bodies).front();

  spool->release({finished("cmp-big")});
  CHECK(segment_files(bodies).size() == 2);  // the first segment is kept by cmp-kept alone
  const auto next = make_message("cmp-next", 1, 40);
  REQUIRE(commit(*spool, {&next}));
  spool->compact();  // what the spool actor calls after answering a commit: cmp-kept moves forward

  const auto files = segment_files(bodies);
  CHECK(std::find(files.begin(), files.end(), first) == files.end());
  CHECK(spool->load_body("cmp-kept") == kept.wire_data);
  CHECK(spool->load_body("cmp-later") == later.wire_data);
  CHECK(spool->load_body("cmp-next") == next.wire_data);

  spool.reset();
  spool = open_spool_or_fail(dir.path());
  CHECK(spool->load_body("cmp-kept") == kept.wire_data);
  CHECK(spool->find_message("cmp-kept"));
  CHECK_FALSE(spool->find_message("cmp-big"));
}

TEST_CASE("segments: a retired segment's file becomes the next segment, written over from its start, and spares "
          "past two are unlinked",
          "[spool][segments]") {
  TempDir dir;
  const std::string path = dir.path() + "/bodies";
  auto s = open_segments(path, {}, /*segment_bytes=*/10);
  std::string error;
  // Four segments of 30 bytes each (each append fills one: the next append starts another).
  std::vector<storage::BodyLocation> at;
  std::vector<std::uint64_t> numbers;
  for (int i = 0; i < 4; ++i) {
    std::vector<storage::BodyLocation> one;
    REQUIRE(s->append({std::string(30, static_cast<char>('a' + i))}, &one, &error));
    s->hold("m" + std::to_string(i), one[0]);
    at.push_back(one[0]);
    numbers.push_back(one[0].segment);
  }
  REQUIRE(segment_files(path).size() == 4);

  // The three sealed segments empty: two become spares, the third is unlinked (in the background).
  const ino_t inode0 = inode_of(s->path_of(numbers[0]));
  const ino_t inode1 = inode_of(s->path_of(numbers[1]));
  for (int i = 0; i < 3; ++i) s->forget("m" + std::to_string(i), at[static_cast<std::size_t>(i)]);
  s->retire_emptied();
  s->wait_for_removals();
  CHECK(s->spare_count() == storage::BodySegments::kMaxSpares);
  CHECK(spare_files(path).size() == 2);
  CHECK(segment_files(path).size() == 1);
  CHECK(all_files(path).size() == 3);

  // The next segment is a spare renamed: same file, old bytes past what is appended now.
  std::vector<storage::BodyLocation> fresh;
  REQUIRE(s->append({"new!"}, &fresh, &error));
  s->hold("fresh", fresh[0]);
  CHECK(fresh[0].segment > numbers[3]);
  CHECK(fresh[0].offset == 0);
  CHECK(s->spare_count() == 1);
  const std::string reused = s->path_of(fresh[0].segment);
  CHECK(std::filesystem::file_size(reused) == 30);  // written over, not truncated
  CHECK(s->read(fresh[0], &error) == std::string("new!"));
  const ino_t reused_inode = inode_of(reused);
  CHECK((reused_inode == inode0 || reused_inode == inode1));
  CHECK(s->read(at[3], &error) == std::string(30, 'd'));

  // A body longer than the spare goes past its old end.
  std::vector<storage::BodyLocation> more;
  REQUIRE(s->append({std::string(40, 'z')}, &more, &error));  // 4 bytes in: still this segment
  CHECK(more[0].segment == fresh[0].segment);
  CHECK(s->read(more[0], &error) == std::string(40, 'z'));
  CHECK(s->read(fresh[0], &error) == std::string("new!"));
}

TEST_CASE("segments: spares outlive a restart and are reused, and past two the open removes them", "[spool][segments]") {
  TempDir dir;
  const std::string path = dir.path() + "/bodies";
  std::vector<storage::BodyLocation> live;
  {
    auto s = open_segments(path, {}, /*segment_bytes=*/10);
    std::string error;
    std::vector<storage::BodyLocation> at;
    REQUIRE(s->append({std::string(20, 'a')}, &at, &error));
    s->hold("a", at[0]);
    s->forget("a", at[0]);  // the active one: stays
    std::vector<storage::BodyLocation> b;
    REQUIRE(s->append({std::string(20, 'b')}, &b, &error));  // seals a's segment, empty: emptied
    s->hold("b", b[0]);
    s->retire_emptied();
    REQUIRE(s->spare_count() == 1);
    live = b;
  }
  // Two more spares left by an older run than this one (as if it had kept more).
  for (const char* name : {"00000000000000f0.spare", "00000000000000f1.spare"})
    test::write_file(path + "/" + name, "old bytes");
  REQUIRE(spare_files(path).size() == 3);
  // Reopened with b named: a spare becomes the new active segment, one more is kept, one removed.
  auto s = open_segments(path, {{"b", live[0]}}, /*segment_bytes=*/10);
  std::string error;
  CHECK(s->read(live[0], &error) == std::string(20, 'b'));
  CHECK(s->spare_count() == 1);
  CHECK(spare_files(path).size() == 1);
  CHECK(segment_files(path).size() == 2);  // b's and the new active one
  CHECK(s->active_segment() > 0xf0);       // numbers go on past the spares' names
  std::vector<storage::BodyLocation> c;
  REQUIRE(s->append({"c"}, &c, &error));
  CHECK(c[0].segment == s->active_segment());
  CHECK(s->read(c[0], &error) == std::string("c"));
}
