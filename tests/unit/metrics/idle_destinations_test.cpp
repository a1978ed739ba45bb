#include <catch2/catch.hpp>

#include <algorithm>

#include "core/metrics/idle_destinations.hpp"

using volley::metrics::IdleDestinations;

namespace {
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("a destination with no event for the ttl is idle once, then forgotten", "[metrics]") {
  IdleDestinations idle(1000);
  idle.touch("a.example", 0);
  idle.touch("b.example", 500);
  CHECK(idle.take_idle(999).empty());
  CHECK(idle.take_idle(1000) == std::vector<std::string>{"a.example"});
  CHECK(idle.take_idle(1000).empty());
  idle.touch("b.example", 1400);  // an event restarts its clock
  CHECK(idle.take_idle(2399).empty());
  CHECK(idle.take_idle(2400) == std::vector<std::string>{"b.example"});
  CHECK(idle.size() == 0);
}

TEST_CASE("a destination with mail queued or a connection open is never idle", "[metrics]") {
  IdleDestinations idle(1000);
  idle.set_busy("slow.example", true, 0);
  idle.touch("quick.example", 0);
  CHECK(idle.take_idle(1'000'000) == std::vector<std::string>{"quick.example"});
  idle.set_busy("slow.example", false, 2'000'000);  // its queue emptied: the ttl counts from here
  CHECK(idle.take_idle(2'000'999).empty());
  CHECK(idle.take_idle(2'001'000) == std::vector<std::string>{"slow.example"});
}

TEST_CASE("an event older than the last does not move a destination's clock back", "[metrics]") {
  IdleDestinations idle(1000);
  idle.touch("a.example", 5000);
  idle.touch("a.example", 100);
  idle.touch("c.example", 100);
  CHECK(sorted(idle.take_idle(5999)) == std::vector<std::string>{"c.example"});
}

TEST_CASE("ttl 0 keeps every destination", "[metrics]") {
  IdleDestinations idle(0);
  CHECK_FALSE(idle.enabled());
  idle.touch("a.example", 0);
  idle.set_busy("b.example", false, 0);
  CHECK(idle.take_idle(1'000'000'000).empty());
  CHECK(idle.size() == 0);  // nothing is even tracked
}

TEST_CASE("sweeps come a quarter ttl apart, within bounds", "[metrics]") {
  CHECK(IdleDestinations(2000).sweep_interval_ms() == 500);
  CHECK(IdleDestinations(100).sweep_interval_ms() == 250);
  CHECK(IdleDestinations(3'600'000).sweep_interval_ms() == 60'000);
}
