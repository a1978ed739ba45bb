#include <catch2/catch.hpp>

#include <set>

#include "core/util/ids.hpp"

TEST_CASE("message ids are unique, fixed-length hex and time-ordered") {
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 10000; ++i) {
    auto id = volley::new_message_id();
    REQUIRE(id.size() == 24);
    REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    REQUIRE(seen.insert(id).second);
    // The first 12 characters are the millisecond clock: never goes backwards within a run.
    if (!prev.empty()) REQUIRE(id.substr(0, 12) >= prev.substr(0, 12));
    prev = id;
  }
}
