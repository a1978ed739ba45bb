#include <catch2/catch.hpp>

#include "core/util/join.hpp"

using volley::util::joined;

TEST_CASE("joined lists items with commas, or says what stands for none") {
  CHECK(joined({"shaping"}) == "shaping");
  CHECK(joined({"shaping", "api_key", "dkim"}) == "shaping, api_key, dkim");
  CHECK(joined({}, "nothing") == "nothing");
  CHECK(joined({}).empty());
  CHECK(joined({"", "b"}) == ", b");  // an empty item keeps its place
}
