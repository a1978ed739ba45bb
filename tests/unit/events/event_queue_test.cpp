#include "storage/event_queue.hpp"

#include <catch2/catch.hpp>

#include "../spool/spool_fixtures.hpp"

using volley::storage::EventQueue;
using volley::spool::testing::TempDir;

namespace {

std::unique_ptr<EventQueue> open_queue(const std::string& path) {
  std::string error;
  auto q = EventQueue::open(path, &error);
  INFO(error);
  REQUIRE(q);
  return q;
}

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(R"({"n":)" + std::to_string(i) + "}");
  return out;
}

}  // namespace

TEST_CASE("events come out in the order they went in, across appends") {
  TempDir dir;
  auto q = open_queue(dir.sub("q"));
  REQUIRE(q->append("a", numbered(0, 3)));
  REQUIRE(q->append("a", numbered(3, 300)));  // past 255: keys must sort numerically
  CHECK(q->depth("a") == 300);
  auto batch = q->peek("a", 1000, 1 << 20);
  CHECK(batch.events == numbered(0, 300));
  CHECK(batch.last_seq == 300);
  // peek does not consume.
  CHECK(q->peek("a", 2, 1 << 20).events == numbered(0, 2));
}

TEST_CASE("peek honours max_events and max_bytes, but always returns one event") {
  TempDir dir;
  auto q = open_queue(dir.sub("q"));
  REQUIRE(q->append("a", {std::string(100, 'x'), std::string(100, 'y'), std::string(100, 'z')}));
  auto b = q->peek("a", 2, 1 << 20);
  CHECK(b.events.size() == 2);
  CHECK(b.last_seq == 2);
  b = q->peek("a", 10, 250);
  CHECK(b.events.size() == 2);
  CHECK(b.bytes == 200);
  b = q->peek("a", 10, 10);
  CHECK(b.events.size() == 1);
  CHECK(b.last_seq == 1);
  CHECK(q->peek("a", 0, 1000).events.empty());
  CHECK(q->peek("nobody", 10, 1000).events.empty());
}

TEST_CASE("ack removes events up to a sequence number and depth follows") {
  TempDir dir;
  auto q = open_queue(dir.sub("q"));
  REQUIRE(q->append("a", numbered(0, 10)));
  auto b = q->peek("a", 4, 1 << 20);
  REQUIRE(q->ack("a", b.last_seq));
  CHECK(q->depth("a") == 6);
  CHECK(q->peek("a", 100, 1 << 20).events == numbered(4, 10));
  REQUIRE(q->ack("a", 2));  // already acknowledged: nothing happens
  CHECK(q->depth("a") == 6);
  REQUIRE(q->ack("a", 1000));  // capped at the last appended
  CHECK(q->depth("a") == 0);
  CHECK(q->peek("a", 100, 1 << 20).events.empty());
  REQUIRE(q->append("a", numbered(10, 12)));
  b = q->peek("a", 100, 1 << 20);
  CHECK(b.events == numbered(10, 12));
  CHECK(b.last_seq == 12);
}

TEST_CASE("endpoints have separate queues, even when one name prefixes another") {
  TempDir dir;
  auto q = open_queue(dir.sub("q"));
  REQUIRE(q->append("a", numbered(0, 3)));
  REQUIRE(q->append("ab", numbered(100, 105)));
  REQUIRE(q->append("a", numbered(3, 4)));
  CHECK(q->depth("a") == 4);
  CHECK(q->depth("ab") == 5);
  CHECK(q->peek("a", 100, 1 << 20).events == numbered(0, 4));
  CHECK(q->peek("ab", 100, 1 << 20).events == numbered(100, 105));
  REQUIRE(q->ack("ab", 5));
  CHECK(q->depth("a") == 4);
  CHECK(q->endpoints_with_events() == std::vector<std::string>{"a"});
  std::string error;
  CHECK_FALSE(q->append(std::string("a\0b", 3), numbered(0, 1), &error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("events and sequence numbers survive closing and reopening") {
  TempDir dir;
  {
    auto q = open_queue(dir.sub("q"));
    REQUIRE(q->append("a", numbered(0, 5)));
    REQUIRE(q->append("b", numbered(50, 52)));
    REQUIRE(q->ack("a", 2));
    REQUIRE(q->append("c", numbered(0, 3)));
    REQUIRE(q->ack("c", 3));  // empty, but its numbering must go on
  }
  auto q = open_queue(dir.sub("q"));
  CHECK(q->depth("a") == 3);
  CHECK(q->depth("b") == 2);
  CHECK(q->depth("c") == 0);
  auto b = q->peek("a", 100, 1 << 20);
  CHECK(b.events == numbered(2, 5));
  CHECK(b.last_seq == 5);
  REQUIRE(q->append("a", numbered(5, 6)));
  REQUIRE(q->append("c", numbered(3, 4)));
  CHECK(q->peek("a", 100, 1 << 20).last_seq == 6);
  b = q->peek("c", 100, 1 << 20);
  CHECK(b.events == numbered(3, 4));
  CHECK(b.last_seq == 4);
}

TEST_CASE("a queue that is open cannot be opened twice") {
  TempDir dir;
  auto q = open_queue(dir.sub("q"));
  std::string error;
  CHECK_FALSE(EventQueue::open(dir.sub("q"), &error));
  CHECK_FALSE(error.empty());
}
