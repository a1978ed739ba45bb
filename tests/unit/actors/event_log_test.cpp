#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/event_log.hpp"
#include "../spool/spool_fixtures.hpp"

using volley::EventLog;
using volley::spool::testing::TempDir;
using volley::spool::testing::slurp;


TEST_CASE("event log: appends lines and rotates by size, keeping `keep` files", "[event_log]") {
  TempDir dir;
  const std::string path = dir.sub("events.jsonl");
  const std::string line(100, 'x');
  {
    EventLog log(path, 250, 2);  // rotated once a file reaches 250 bytes
    for (int i = 0; i < 9; ++i) REQUIRE(log.append(line + std::to_string(i) + "\n"));
  }
  // 102 bytes a line: three lines reach 250, so lines 0-2, 3-5 and 6-8 fill one file each; the
  // last write rotated too, and the oldest file (0-2) went beyond keep = 2.
  CHECK(slurp(path).empty());
  CHECK(slurp(path + ".1") == line + "6\n" + line + "7\n" + line + "8\n");
  CHECK(slurp(path + ".2") == line + "3\n" + line + "4\n" + line + "5\n");
  CHECK_FALSE(std::filesystem::exists(path + ".3"));
}

TEST_CASE("event log: a reopened log continues the file and counts its size", "[event_log]") {
  TempDir dir;
  const std::string path = dir.sub("sub/events.jsonl");  // the directory is created
  {
    EventLog log(path, 1000, 3);
    REQUIRE(log.append(std::string(600, 'a') + "\n"));
  }
  {
    EventLog log(path, 1000, 3);
    REQUIRE(log.append(std::string(600, 'b') + "\n"));  // 1202 bytes: rotated
  }
  CHECK(slurp(path + ".1").size() == 1202);
  CHECK(slurp(path).empty());
}

TEST_CASE("event log: without a path nothing is written and appends succeed", "[event_log]") {
  EventLog log;
  CHECK(log.append("{}\n"));
}
