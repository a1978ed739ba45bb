#pragma once
// Opens (creating) a RocksDB spool for a test; the test stops with the reason if it cannot.
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "storage/rocksdb_spool.hpp"

namespace volley::spool::testing {

inline std::unique_ptr<Spool> open_spool_or_fail(const std::string& path) {
  std::string error;
  auto spool = storage::open_spool(path, &error);
  INFO(error);
  REQUIRE(spool);
  return spool;
}

}  // namespace volley::spool::testing
