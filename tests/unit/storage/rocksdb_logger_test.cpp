// RocksDB's info log goes to the sink, never into a LOG file next to the data: on a full disk,
// that file is what made Debian's RocksDB (built with assertions) abort the process.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "storage/event_queue.hpp"
#include "storage/rocksdb_spool.hpp"
#include "storage/rocksdb_logger.hpp"
#include "storage/rocksdb_open.hpp"
#include "storage/suppression_list.hpp"

using namespace volley;

namespace {

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("volley-storage-" + std::to_string(rd()) + std::to_string(rd()));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

// The files RocksDB's own file logger would have written: LOG and LOG.old.<time>.
std::vector<std::string> info_log_files(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name == "LOG" || name.rfind("LOG.", 0) == 0) out.push_back(entry.path().string());
  }
  return out;
}

// Collects what reaches the sink while it lives; restores the default sink afterwards.
struct CapturedLog {
  CapturedLog() {
    storage::set_log_sink([this](storage::LogLevel level, std::string_view database, std::string_view line) {
      std::lock_guard lock(mu);
      lines.push_back({level, std::string(database), std::string(line)});
    });
  }
  ~CapturedLog() { storage::set_log_sink({}); }
  struct Line {
    storage::LogLevel level;
    std::string database, text;
  };
  std::size_t from(const std::string& database) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& l : lines) n += l.database == database;
    return n;
  }
  std::mutex mu;
  std::vector<Line> lines;
};

}  // namespace

TEST_CASE("open_db creates the directory and routes the info log to the sink", "[storage]") {
  TempDir dir;
  CapturedLog log;
  rocksdb::Options options;
  options.create_if_missing = true;
  std::string error;
  {
    auto db = storage::open_db((dir.path / "a" / "b").string(), options, "test db", &error);
    INFO(error);
    REQUIRE(db);
    REQUIRE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
    REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
    REQUIRE(db->Close().ok());
  }
  CHECK(info_log_files(dir.path).empty());
  CHECK(log.from("test db") > 0);  // the options dump at open, the flush
  for (const auto& l : log.lines) {
    CHECK(l.level == storage::LogLevel::debug);  // INFO lines: many, and only for RocksDB problems
    CHECK((l.text.empty() || l.text.back() != '\n'));
  }
}

TEST_CASE("open_db names the database and the path when it cannot open", "[storage]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path);
  const auto file = dir.path / "not-a-directory";
  { std::ofstream(file) << "x"; }
  rocksdb::Options options;
  options.create_if_missing = true;
  std::string error;
  CHECK_FALSE(storage::open_db((file / "db").string(), options, "test db", &error));
  CHECK(error.rfind("test db: create " + (file / "db").string() + ": ", 0) == 0);
}

TEST_CASE("no database writes an info LOG into its directory", "[storage]") {
  TempDir dir;
  CapturedLog log;
  std::string error;
  {
    auto spool = storage::open_spool((dir.path / "spool").string(), &error);
    INFO(error);
    REQUIRE(spool);
    CHECK_FALSE(spool->instance_secret(&error).empty());
    auto list = storage::SuppressionList::open((dir.path / "suppressions").string(), &error);
    REQUIRE(list);
    auto queue = storage::EventQueue::open((dir.path / "webhooks").string(), &error);
    REQUIRE(queue);
    CHECK(queue->append("hook", {"{}"}, &error));
  }
  CHECK(info_log_files(dir.path).empty());
  CHECK(log.from("spool") > 0);
  CHECK(log.from("suppression list") > 0);
  CHECK(log.from("event queue") > 0);
}
