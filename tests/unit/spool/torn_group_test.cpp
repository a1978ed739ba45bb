// A group commit cut short by a crash (storage/torn_group.hpp): its bodies and its records are
// synced side by side, so a power loss can leave its records on disk and some of its bodies not.
// A test cannot pull the plug; it writes two groups and then does to the segment file what the
// lost writes would have left: other bytes in a body's place, or a file that ends early.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/rocksdb_spool.hpp"
#include "tests/unit/spool/open_spool.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley;
using spool::testing::make_message;
using spool::testing::open_spool_or_fail;
using spool::testing::TempDir;

namespace {

// The stored answer of a request that injected `ids` (the injection API's shape).
std::string answer_naming(const std::vector<std::string>& ids) {
  std::string json = R"({"messages":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) json += ",";
    json += R"({"id":")" + ids[i] + R"(","recipients":[{"email":"user0@dest0.example","id":")" + ids[i] +
            R"(-0","status":"queued"}]})";
  }
  return json + "]}";
}

void commit_group(spool::Spool& s, const std::vector<spool::NewMessage>& messages, const std::string& key) {
  spool::CommitBatch batch;
  std::vector<std::string> ids;
  for (const auto& m : messages) {
    batch.messages.push_back(&m);
    ids.push_back(m.message.id);
  }
  batch.idempotency.push_back({key, answer_naming(ids), "digest-" + key});
  batch.now_ms = 1700000000500;  // after the messages' received_at
  std::string error;
  INFO(error);
  REQUIRE(s.commit(batch, &error));
}

std::set<std::string> message_ids(spool::Spool& s) {
  std::set<std::string> out;
  s.for_each_message([&](spool::MessageRecord&& m) { out.insert(m.id); });
  return out;
}
std::set<std::string> recipient_ids(spool::Spool& s) {
  std::set<std::string> out;
  s.for_each_recipient([&](spool::RecipientRecord&& r) { out.insert(r.id); });
  return out;
}

// Two groups in one segment: "a" (2 messages, key "key-a"), then "b" (3, key "key-b").
struct TwoGroups {
  TempDir dir;
  std::vector<spool::NewMessage> a{make_message("torn-a1", 1, 3000), make_message("torn-a2", 2, 5000)};
  std::vector<spool::NewMessage> b{make_message("torn-b1", 1, 4000), make_message("torn-b2", 2, 6000),
                                   make_message("torn-b3", 3, 2000)};
  std::string segment;

  TwoGroups() {
    auto s = open_spool_or_fail(dir.path());
    commit_group(*s, a, "key-a");
    commit_group(*s, b, "key-b");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/bodies")) files.push_back(e.path());
    REQUIRE(files.size() == 1);
    segment = files[0];
  }
  // Where message i of all five (a's then b's) starts in the segment.
  std::uint64_t offset_of(std::size_t i) const {
    std::uint64_t at = 0;
    for (std::size_t k = 0; k < i; ++k) at += (k < a.size() ? a[k] : b[k - a.size()]).wire_data.size();
    return at;
  }
  void overwrite(std::uint64_t at, const std::string& bytes) const {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

void check_kept(spool::Spool& s, const std::vector<spool::NewMessage>& group) {
  const auto rcpts = recipient_ids(s);
  for (const auto& m : group) {
    CHECK(s.find_message(m.message.id));
    CHECK(s.load_body(m.message.id) == m.wire_data);
    for (const auto& r : m.recipients) CHECK(rcpts.count(r.id) == 1);
  }
}

void check_dropped(spool::Spool& s, const std::vector<spool::NewMessage>& group) {
  const auto rcpts = recipient_ids(s);
  for (const auto& m : group) {
    CHECK_FALSE(s.find_message(m.message.id));
    CHECK_FALSE(s.load_body(m.message.id));
    for (const auto& r : m.recipients) CHECK(rcpts.count(r.id) == 0);
  }
}

}  // namespace

TEST_CASE("spool: the newest group is dropped whole at open when one of its bodies did not reach the disk, with "
          "the idempotency keys that answered it",
          "[spool][segments][crash]") {
  TwoGroups g;
  SECTION("another body's bytes in one body's place (b2's)") {
    g.overwrite(g.offset_of(3) + 100, std::string(64, '\0'));
  }
  SECTION("the file ends in the last body (b3's)") {
    std::filesystem::resize_file(g.segment, g.offset_of(4) + 10);
  }
  SECTION("the file ends before the group") {
    std::filesystem::resize_file(g.segment, g.offset_of(2));
  }
  std::vector<std::string> reports;
  std::string error;
  auto s = storage::open_spool(g.dir.path(), &error, {}, [&](const std::string& r) { reports.push_back(r); });
  INFO(error);
  REQUIRE(s);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].find("cut short") != std::string::npos);
  CHECK(reports[0].find("its 3 messages, never acknowledged, are dropped (first torn-b1, last torn-b3)") !=
        std::string::npos);
  check_kept(*s, g.a);
  check_dropped(*s, g.b);  // b1 and b3 read back intact in the first case, and go with the group
  CHECK(message_ids(*s) == std::set<std::string>{"torn-a1", "torn-a2"});
  CHECK(s->find_idempotent("key-a", 0, nullptr));
  CHECK_FALSE(s->find_idempotent("key-b", 0, nullptr));  // a retry with the key is taken as new

  // The spool goes on: a new group is written and read back, and the next open drops nothing.
  const auto c = make_message("torn-c1", 1, 700);
  commit_group(*s, {c}, "key-c");
  s.reset();
  reports.clear();
  s = storage::open_spool(g.dir.path(), &error, {}, [&](const std::string& r) { reports.push_back(r); });
  REQUIRE(s);
  CHECK(reports.empty());
  check_kept(*s, g.a);
  check_kept(*s, {c});
  CHECK(s->find_idempotent("key-a", 0, nullptr));
  CHECK(s->find_idempotent("key-c", 0, nullptr));
}

TEST_CASE("spool: a body that does not match in an older group is not taken for a cut-short group: nothing is dropped",
          "[spool][segments][crash]") {
  TwoGroups g;
  g.overwrite(g.offset_of(1) + 50, std::string(16, 'Z'));  // a2: written before b, answered
  auto s = open_spool_or_fail(g.dir.path());
  check_kept(*s, g.b);
  check_kept(*s, {g.a[0]});
  // a2 stays spooled; its body is refused rather than sent altered.
  CHECK(s->find_message("torn-a2"));
  CHECK_FALSE(s->load_body("torn-a2"));
  CHECK(s->find_idempotent("key-a", 0, nullptr));
  CHECK(s->find_idempotent("key-b", 0, nullptr));
}

TEST_CASE("spool: an intact newest group is kept at open", "[spool][segments][crash]") {
  TwoGroups g;
  auto s = open_spool_or_fail(g.dir.path());
  check_kept(*s, g.a);
  check_kept(*s, g.b);
  CHECK(s->find_idempotent("key-b", 0, nullptr));
}

TEST_CASE("spool: the newest group is the one in the newest segment: a group cut short after a new segment began goes, "
          "the groups of the segment before stay",
          "[spool][segments][crash]") {
  TempDir dir;
  const storage::SpoolTuning small{10000, std::chrono::seconds(1)};
  // "a" fills the first segment past 10,000 bytes; "b" begins the second.
  const std::vector<spool::NewMessage> a{make_message("roll-a1", 1, 6000), make_message("roll-a2", 1, 6000)};
  const std::vector<spool::NewMessage> b{make_message("roll-b1", 1, 3000), make_message("roll-b2", 1, 3000)};
  std::string error;
  {
    auto s = storage::open_spool(dir.path(), &error, small);
    REQUIRE(s);
    commit_group(*s, a, "key-a");
    commit_group(*s, b, "key-b");
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/bodies")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == 2);
  std::filesystem::resize_file(files[1], 3000 + 100);  // b2 never reached the disk
  std::vector<std::string> reports;
  auto s = storage::open_spool(dir.path(), &error, small, [&](const std::string& r) { reports.push_back(r); });
  INFO(error);
  REQUIRE(s);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].find("its 2 messages, never acknowledged, are dropped") != std::string::npos);
  check_kept(*s, a);
  check_dropped(*s, b);
  CHECK(s->find_idempotent("key-a", 0, nullptr));
  CHECK_FALSE(s->find_idempotent("key-b", 0, nullptr));
}

TEST_CASE("spool: a newest group whose bodies cannot be read at all is kept and reported, not dropped",
          "[spool][segments][crash]") {
  TwoGroups g;
  std::filesystem::remove(g.segment);  // says nothing about what was written
  std::vector<std::string> reports;
  std::string error;
  auto s = storage::open_spool(g.dir.path(), &error, {}, [&](const std::string& r) { reports.push_back(r); });
  INFO(error);
  REQUIRE(s);
  REQUIRE_FALSE(reports.empty());
  CHECK(reports[0].find("could not all be checked; kept") != std::string::npos);
  CHECK(message_ids(*s) == std::set<std::string>{"torn-a1", "torn-a2", "torn-b1", "torn-b2", "torn-b3"});
  CHECK(s->find_idempotent("key-b", 0, nullptr));
  CHECK_FALSE(s->load_body("torn-b1"));  // the loss shows where the body is wanted
}
