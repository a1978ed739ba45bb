// storage/file_remover.hpp: what is handed over is unlinked (wait_idle() says when), a path
// already gone is no error, and the destructor finishes what was queued.
#include "storage/file_remover.hpp"

#include <cstdio>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/spool/spool_fixtures.hpp"

using volley::spool::testing::TempDir;
using volley::storage::FileRemover;

namespace {
std::string make_file(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  std::fputs("x", f);
  std::fclose(f);
  return path;
}
}  // namespace

TEST_CASE("file remover: queued files are unlinked, and a missing one is no error", "[storage]") {
  TempDir dir;
  FileRemover remover;
  const auto a = make_file(dir.path(), "a");
  const auto b = make_file(dir.path(), "b");
  const auto keep = make_file(dir.path(), "keep");
  remover.remove(a);
  remover.remove(dir.path() + "/never-there");
  remover.remove(b);
  remover.wait_idle();
  CHECK_FALSE(std::filesystem::exists(a));
  CHECK_FALSE(std::filesystem::exists(b));
  CHECK(std::filesystem::exists(keep));
  remover.wait_idle();  // idle with nothing queued returns at once
}

TEST_CASE("file remover: the destructor unlinks what is still queued", "[storage]") {
  TempDir dir;
  std::vector<std::string> paths;
  {
    FileRemover remover;
    for (int i = 0; i < 20; ++i) {
      paths.push_back(make_file(dir.path(), "f" + std::to_string(i)));
      remover.remove(paths.back());
    }
  }
  for (const auto& p : paths) CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("file remover: one never used is idle at once and stops at once", "[storage]") {
  FileRemover remover;
  remover.wait_idle();
}
