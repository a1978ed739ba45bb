#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "core/events/recent_ring.hpp"

using volley::events::RecentRing;

namespace {

std::vector<std::string> newest_first(const RecentRing& ring) {
  std::vector<std::string> out;
  ring.newest_first([&](std::string_view l) {
    out.emplace_back(l);
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("recent ring: keeps the newest lines, newest first, within its line bound") {
  RecentRing ring(3, 1000);
  for (const char* l : {"a", "bb", "ccc", "dddd"}) ring.add(l);
  CHECK(newest_first(ring) == std::vector<std::string>{"dddd", "ccc", "bb"});
  std::vector<std::string> first;
  ring.newest_first([&](std::string_view l) {
    first.emplace_back(l);
    return false;  // stop after one
  });
  CHECK(first == std::vector<std::string>{"dddd"});
}

TEST_CASE("recent ring: off with no lines, a line longer than the buffer is not kept") {
  RecentRing off(0, 1000);
  off.add("x");
  CHECK(off.size() == 0);
  RecentRing small(10, 8);
  small.add("12345678");
  small.add("123456789");
  CHECK(newest_first(small) == std::vector<std::string>{"12345678"});
}

TEST_CASE("recent ring: round and round, what it holds is always the newest lines, intact and within its bounds") {
  constexpr std::size_t kLines = 50, kBytes = 4096, kLongest = 300;
  RecentRing ring(kLines, kBytes);
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> len(1, kLongest);
  std::vector<std::string> added;
  for (int i = 0; i < 5000; ++i) {
    std::string line = std::to_string(i) + ':';
    line.resize(std::max(line.size(), len(rng)), static_cast<char>('a' + i % 26));
    ring.add(line);
    added.push_back(line);
    const auto held = newest_first(ring);
    REQUIRE(!held.empty());
    REQUIRE(held.size() <= kLines);
    std::size_t bytes = 0;
    for (std::size_t k = 0; k < held.size(); ++k) {
      REQUIRE(held[k] == added[added.size() - 1 - k]);  // the newest, in order, not overwritten
      bytes += held[k].size();
    }
    REQUIRE(bytes <= kBytes);
    // Nothing is dropped early: the buffer gives way only to what it cannot hold (less than a
    // line at the end of a lap, and the part of the last line given way that is not written over).
    if (held.size() < kLines && held.size() < added.size())
      REQUIRE(bytes + added[added.size() - 1 - held.size()].size() > kBytes - 2 * kLongest);
  }
}
