// An egress path takes a reload's new limits and keeps what it counts: its open connections
// (a lower limit closes nothing, it only stops new ones) and its rate history.
#include <catch2/catch.hpp>

#include "actors/egress_path.hpp"

using volley::EgressPath;
using volley::delivery::Limits;
using volley::delivery::Rate;

TEST_CASE("egress path: set_limits changes the connection limit and rate, open connections stay counted") {
  Limits two;
  two.max_connections = 2;
  EgressPath path(two);
  std::int64_t retry = 0;
  REQUIRE(path.try_open(0, &retry));
  REQUIRE(path.try_open(0, &retry));
  CHECK_FALSE(path.try_open(0, &retry));

  Limits one = two;
  one.max_connections = 1;
  one.max_message_rate = Rate{1, 1000};
  path.set_limits(one);
  CHECK(path.snapshot(0).connections == 2);
  CHECK(path.snapshot(0).max_connections == 1);
  CHECK(path.over_limit(0));
  path.closed();
  path.closed();
  CHECK(path.try_open(0, &retry));
  CHECK_FALSE(path.try_open(0, &retry));

  CHECK(path.try_send(0, &retry));
  CHECK_FALSE(path.try_send(10, &retry));  // 1/s now
  CHECK(retry >= 10);
  CHECK(path.try_send(1000, &retry));
}
