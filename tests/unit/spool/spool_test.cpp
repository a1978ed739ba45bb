#include "storage/rocksdb_spool.hpp"

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "tests/unit/spool/open_spool.hpp"
#include "tests/unit/spool/spool_fixtures.hpp"

using namespace volley::spool;
using volley::spool::testing::make_message;
using volley::spool::testing::TempDir;

namespace {

const auto open_or_fail = volley::spool::testing::open_spool_or_fail;

std::vector<MessageRecord> all_messages(Spool& s) {
  std::vector<MessageRecord> out;
  s.for_each_message([&](MessageRecord&& m) { out.push_back(std::move(m)); });
  return out;
}

std::map<std::string, RecipientRecord> all_recipients(Spool& s) {
  std::map<std::string, RecipientRecord> out;
  s.for_each_recipient([&](RecipientRecord&& r) { out.emplace(r.id, std::move(r)); });
  return out;
}

bool commit(Spool& s, const std::vector<const NewMessage*>& messages,
            std::vector<IdempotentAnswer> idempotency = {},
            std::int64_t now_ms = 1000) {
  CommitBatch batch;
  batch.messages = messages;
  batch.idempotency = std::move(idempotency);
  batch.now_ms = now_ms;
  std::string error;
  bool ok = s.commit(batch, &error);
  INFO(error);
  return ok;
}

}  // namespace

TEST_CASE("spool: commit, enumerate, update and remove", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  const NewMessage a = make_message("aaaa", 3, 2000);
  const NewMessage b = make_message("bbbb", 1, 10);
  REQUIRE(commit(*spool, {&b, &a}));

  auto messages = all_messages(*spool);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == a.message);  // key order, not commit order
  CHECK(messages[1] == b.message);

  auto rcpts = all_recipients(*spool);
  REQUIRE(rcpts.size() == 4);
  CHECK(rcpts.at("aaaa-2") == a.recipients[2]);
  CHECK(rcpts.at("bbbb-0") == b.recipients[0]);

  CHECK(spool->load_body("aaaa") == a.wire_data);
  CHECK(spool->load_body("bbbb") == b.wire_data);
  CHECK_FALSE(spool->load_body("cccc"));

  RecipientRecord deferred = a.recipients[1];
  deferred.state = RecipientState::deferred;
  deferred.attempts = 2;
  deferred.next_attempt_ms = 99999;
  deferred.last_reply = "421 try later";
  spool->update_recipient(deferred);
  CHECK(all_recipients(*spool).at("aaaa-1") == deferred);
  CHECK(spool->find_recipient("aaaa-1") == deferred);
  CHECK(spool->find_recipient("aaaa-0") == a.recipients[0]);
  CHECK_FALSE(spool->find_recipient("aaaa-9"));
  CHECK(spool->find_message("aaaa") == a.message);

  spool->remove_recipient("bbbb-0");
  spool->remove_message("bbbb");
  CHECK_FALSE(spool->load_body("bbbb"));
  CHECK_FALSE(spool->find_message("bbbb"));
  CHECK_FALSE(spool->find_recipient("bbbb-0"));
  messages = all_messages(*spool);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].id == "aaaa");
  rcpts = all_recipients(*spool);
  CHECK(rcpts.size() == 3);
  CHECK(rcpts.count("bbbb-0") == 0);
}

TEST_CASE("spool: releases of many recipients in one write", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  const NewMessage a = make_message("aaaa", 2, 100);
  const NewMessage b = make_message("bbbb", 1, 100);
  REQUIRE(commit(*spool, {&a, &b}));
  spool->release({
      Release{"aaaa-0", "aaaa", R"({"event":"delivered"})", true, false},
      Release{"bbbb-0", "bbbb", R"({"event":"bounced"})", true, true},
      // Suppressed at injection: never spooled, only its history is written.
      Release{"cccc-0", "cccc", R"({"event":"suppressed"})", false, false},
  });
  CHECK_FALSE(spool->find_recipient("aaaa-0"));
  CHECK(spool->find_recipient("aaaa-1") == a.recipients[1]);
  CHECK(spool->find_message("aaaa") == a.message);
  CHECK(spool->load_body("aaaa") == a.wire_data);
  CHECK_FALSE(spool->find_recipient("bbbb-0"));
  CHECK_FALSE(spool->find_message("bbbb"));
  CHECK_FALSE(spool->load_body("bbbb"));
  CHECK(spool->find_history("aaaa-0") == R"({"event":"delivered"})");
  CHECK(spool->find_history("bbbb-0") == R"({"event":"bounced"})");
  CHECK(spool->find_history("cccc-0") == R"({"event":"suppressed"})");
  CHECK_FALSE(spool->find_history("aaaa-1"));
  spool->release({});
  CHECK(all_recipients(*spool).size() == 1);
}

TEST_CASE("spool: a batch is all or nothing", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  const NewMessage good = make_message("good", 1);
  NewMessage bad = make_message("bad", 1);
  bad.recipients[0].message_id = "other";  // a recipient of some other message

  CommitBatch batch;
  batch.messages = {&good, &bad};
  batch.idempotency = {{"key", "{}"}};
  std::string error;
  CHECK_FALSE(spool->commit(batch, &error));
  CHECK_THAT(error, Catch::Contains("does not belong"));
  CHECK(all_messages(*spool).empty());
  CHECK(all_recipients(*spool).empty());
  CHECK_FALSE(spool->find_idempotent("key", 0));

  CHECK(spool->commit(CommitBatch{}, &error));  // empty: nothing to write, nothing wrong
}

TEST_CASE("spool: idempotency lookup and expiry", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  const NewMessage m1 = make_message("m1", 1);
  const NewMessage m2 = make_message("m2", 1);
  REQUIRE(commit(*spool, {&m1}, {{"old", R"({"ids":["m1"]})"}}, 1000));
  REQUIRE(commit(*spool, {&m2}, {{"new", R"({"ids":["m2"]})"}}, 5000));
  REQUIRE(commit(*spool, {}, {{"newer", "{}"}}, 6000));  // keys alone are fine too

  CHECK(spool->find_idempotent("old", 1000) == R"({"ids":["m1"]})");
  CHECK_FALSE(spool->find_idempotent("old", 1001));  // too old for this window
  CHECK(spool->find_idempotent("new", 0) == R"({"ids":["m2"]})");
  CHECK_FALSE(spool->find_idempotent("unknown", 0));

  CHECK(spool->expire_idempotency(5000) == 1);
  CHECK_FALSE(spool->find_idempotent("old", 0));
  CHECK(spool->find_idempotent("new", 0));
  CHECK(spool->expire_idempotency(5000) == 0);
  CHECK(spool->expire_idempotency(10000) == 2);
  // Messages are untouched by key expiry.
  CHECK(all_messages(*spool).size() == 2);
}

TEST_CASE("spool: an idempotency key keeps the digest of the request it answered", "[spool]") {
  TempDir dir;
  {
    auto spool = open_or_fail(dir.path());
    REQUIRE(commit(*spool, {}, {{"k", "answer", "digest-1"}, {"bare", "{}"}}, 1000));
  }
  auto spool = open_or_fail(dir.path());  // it survives a reopen
  std::string digest;
  CHECK(spool->find_idempotent("k", 0, &digest) == "answer");
  CHECK(digest == "digest-1");
  CHECK(spool->find_idempotent("bare", 0, &digest) == "{}");
  CHECK(digest.empty());
  digest = "untouched";
  CHECK_FALSE(spool->find_idempotent("other", 0, &digest));
  CHECK(digest == "untouched");
}

TEST_CASE("spool: expiry handles many keys", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  std::vector<IdempotentAnswer> keys;
  for (int i = 0; i < 2500; ++i) keys.emplace_back("k" + std::to_string(i), "{}");
  REQUIRE(commit(*spool, {}, keys, 100));
  CHECK(spool->expire_idempotency(101) == 2500);
  CHECK_FALSE(spool->find_idempotent("k1234", 0));
}

TEST_CASE("spool: everything survives a reopen", "[spool]") {
  TempDir dir;
  const NewMessage a = make_message("0001", 2, 100000);
  const NewMessage b = make_message("0002", 1, 1);
  RecipientRecord updated = a.recipients[0];
  updated.attempts = 1;
  updated.last_reply = "450 mailbox busy";
  {
    auto spool = open_or_fail(dir.path());
    REQUIRE(commit(*spool, {&a, &b}, {{"k", "answer"}}, 42));
    spool->update_recipient(updated);  // unsynced, but a clean close keeps it
    spool->remove_recipient("0002-0");
  }
  auto spool = open_or_fail(dir.path());
  auto messages = all_messages(*spool);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == a.message);
  CHECK(messages[1] == b.message);
  auto rcpts = all_recipients(*spool);
  REQUIRE(rcpts.size() == 2);
  CHECK(rcpts.at("0001-0") == updated);
  CHECK(rcpts.at("0001-1") == a.recipients[1]);
  CHECK(spool->load_body("0001") == a.wire_data);
  CHECK(spool->find_idempotent("k", 42) == "answer");
}

TEST_CASE("spool: corrupt records are reported and skipped", "[spool]") {
  TempDir dir;
  const NewMessage good = make_message("good", 1);
  {
    auto spool = open_or_fail(dir.path());
    REQUIRE(commit(*spool, {&good}, {{"fine", "{}"}}, 10));
  }
  {
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    REQUIRE(db->Put({}, "m/bad", "\x01M\x05" "ab").ok());
    REQUIRE(db->Put({}, "r/bad-0", "garbage").ok());
    REQUIRE(db->Put({}, "i/bad", "").ok());
    REQUIRE(db->Close().ok());
  }
  auto spool = open_or_fail(dir.path());
  std::vector<std::string> problems;
  spool->set_reporter([&](const std::string& p) { problems.push_back(p); });

  auto messages = all_messages(*spool);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].id == "good");
  auto rcpts = all_recipients(*spool);
  REQUIRE(rcpts.size() == 1);
  CHECK(rcpts.count("good-0") == 1);
  REQUIRE(problems.size() == 2);
  CHECK_THAT(problems[0], Catch::Contains("m/bad") && Catch::Contains("string longer than record"));
  CHECK_THAT(problems[1], Catch::Contains("r/bad-0"));

  CHECK_FALSE(spool->find_idempotent("bad", 0));
  CHECK(problems.size() == 3);
  // A corrupt key is useless: expiry deletes it along with the old ones.
  CHECK(spool->expire_idempotency(0) == 1);
  CHECK(spool->find_idempotent("fine", 0) == "{}");
}

TEST_CASE("spool: a message's recipients still spooled are found by its id", "[spool]") {
  TempDir dir;
  auto spool = open_or_fail(dir.path());
  const NewMessage a = make_message("0001", 3);
  const NewMessage b = make_message("00011", 1);  // an id that a's id is a prefix of
  REQUIRE(commit(*spool, {&a, &b}));
  spool->remove_recipient("0001-1");
  const auto rcpts = spool->message_recipients("0001");
  REQUIRE(rcpts.size() == 2);
  CHECK(rcpts[0] == a.recipients[0]);
  CHECK(rcpts[1] == a.recipients[2]);
  CHECK(spool->message_recipients("00011").size() == 1);
  CHECK(spool->message_recipients("0002").empty());
}

TEST_CASE("spool: open reports why it failed", "[spool]") {
  TempDir dir;
  std::string error;
  auto first = volley::storage::open_spool(dir.path(), &error);
  REQUIRE(first);
  // The same directory is locked by its owner.
  auto second = volley::storage::open_spool(dir.path(), &error);
  CHECK_FALSE(second);
  CHECK_THAT(error, Catch::Contains(dir.path()));
}

TEST_CASE("a recipient id is its message id and its index, and only that spelling parses back") {
  using volley::spool::RecipientRecord;
  using volley::spool::recipient_id;
  using volley::spool::recipient_index;
  CHECK(recipient_id("0123abc", 0) == "0123abc-0");
  CHECK(recipient_id("m", 4294967295u) == "m-4294967295");
  auto rec = [](std::string id, std::string message_id) {
    RecipientRecord r;
    r.id = std::move(id);
    r.message_id = std::move(message_id);
    return r;
  };
  CHECK(recipient_index(rec("m1-0", "m1")) == 0u);
  CHECK(recipient_index(rec("m1-17", "m1")) == 17u);
  CHECK(recipient_index(rec("a-b-3", "a-b")) == 3u);
  CHECK_FALSE(recipient_index(rec("m1-", "m1")));
  CHECK_FALSE(recipient_index(rec("m1-01", "m1")));
  CHECK_FALSE(recipient_index(rec("m1-1x", "m1")));
  CHECK_FALSE(recipient_index(rec("m1-4294967296", "m1")));
  CHECK_FALSE(recipient_index(rec("m2-1", "m1")));
  CHECK_FALSE(recipient_index(rec("m1_1", "m1")));
  CHECK_FALSE(recipient_index(rec("m1", "m1")));
  CHECK_FALSE(recipient_index(rec("m1--1", "m1")));
}

TEST_CASE("spool: delivery history is found by recipient and by message, and expires by time", "[spool]") {
  TempDir dir;
  // Ids as core/util/ids makes them: 12 hex digits of milliseconds, then 12 random ones.
  const std::string old_msg = "000000001000aaaaaaaaaaaa";
  const std::string new_msg = "000000005000bbbbbbbbbbbb";
  {
    auto spool = open_or_fail(dir.path());
    spool->put_history(old_msg + "-0", R"({"event":"delivered","n":0})");
    spool->put_history(old_msg + "-1", R"({"event":"delivered","n":1})");
    spool->put_history(new_msg + "-0", R"({"event":"delivered","n":2})");
    CHECK(spool->find_history(old_msg + "-1") == R"({"event":"delivered","n":1})");
    CHECK_FALSE(spool->find_history(old_msg + "-7"));
    const auto all = spool->message_history(old_msg);
    REQUIRE(all.size() == 2);
    CHECK(all[0].first == old_msg + "-0");
    CHECK(all[1].second == R"({"event":"delivered","n":1})");
    CHECK(spool->message_history(new_msg).size() == 1);
  }
  auto spool = open_or_fail(dir.path());  // it survives a reopen
  CHECK(spool->find_history(new_msg + "-0"));
  spool->expire_history(0x5000);  // before the new message's time
  CHECK(spool->message_history(old_msg).empty());
  CHECK(spool->find_history(new_msg + "-0"));
  spool->expire_history(0x5001);
  CHECK_FALSE(spool->find_history(new_msg + "-0"));
}
