// storage/file_remover.hpp: what is handed over is unlinked (wait_idle() says when), a path
// already gone is no error, and the destructor finishes what was queued.
#include "storage/file_remover.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/process.hpp"

using volley::test::TempDir;
using volley::test::write_file;
using volley::storage::FileRemover;

namespace {
std::string make_file(const TempDir& dir, const std::string& name) {
  const std::string path = (dir / name).string();
  write_file(path, "x");
  return path;
}
}  // namespace

TEST_CASE("file remover: queued files are unlinked, and a missing one is no error", "[storage]") {
  TempDir dir;
  FileRemover remover;
  const auto a = make_file(dir, "a");
  const auto b = make_file(dir, "b");
  const auto keep = make_file(dir, "keep");
  remover.remove(a);
  remover.remove((dir / "never-there").string());
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
      paths.push_back(make_file(dir, "f" + std::to_string(i)));
      remover.remove(paths.back());
    }
  }
  for (const auto& p : paths) CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("file remover: one never used is idle at once and stops at once", "[storage]") {
  FileRemover remover;
  remover.wait_idle();
}
