// A reload that adds, removes, renames or reorders sources (docs/lifecycle.md): a destination
// queue's lanes follow their sources by name, the work of a removed source goes to its pool's
// other sources, and a transaction in flight on it finishes there, reported once.
#include <catch2/catch.hpp>

#include "queue_fixture.hpp"

using namespace volley::delivery;
using namespace volley::delivery::testing;

namespace {

QueueSettings settings_for(QueueRig& rig, const IpPools& pools) {
  return QueueSettings{&pools, test_limits(), &rig.classifier, &rig.budget, 1 << 20};
}

std::size_t ready_jobs(const QueueRig& rig, std::size_t lane) { return rig.queue.lane(lane).ready.size(); }

}  // namespace

TEST_CASE("queue reload: a source added gets a lane its pool uses at once, and the others keep theirs") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);  // ip1: the first pick of "shared"
  REQUIRE(ready_jobs(rig, 0) == 1);
  rig.queue.session_opening(0);

  IpPools next = two_sources();
  next.sources.insert(next.sources.begin(), Source{"ip6", "127.0.0.6", "o6.example"});
  next.pools.push_back({"six", {{"ip6", 1}}});
  next.default_pool = "six";
  const auto moved = rig.queue.reconfigure(settings_for(rig, next), 0, rig.out);
  CHECK(moved == std::vector<std::size_t>{1, 2, 3});
  REQUIRE(rig.queue.lane_count() == 4);
  CHECK(rig.queue.source(0).name == "ip6");
  CHECK(rig.queue.source(1).name == "ip1");
  CHECK(ready_jobs(rig, 1) == 1);  // queued work stays where it was
  CHECK(rig.queue.lane(1).sessions == 1);

  rig.queue.add(rig.job("m2", 1), 0, rig.out);  // the default pool is "six" now
  CHECK(ready_jobs(rig, 0) == 1);
  CHECK(rig.queue.queued() == 2);
  CHECK(rig.out.outcomes.empty());
}

TEST_CASE("queue reload: a removed source's queued work goes to its pool's other source, its transaction in "
          "flight finishes on it once") {
  QueueRig rig;
  rig.queue.add(rig.job("a", 1), 0, rig.out);  // ip1
  rig.queue.add(rig.job("b", 1), 0, rig.out);  // ip2
  rig.queue.add(rig.job("c", 1), 0, rig.out);  // ip1
  REQUIRE(ready_jobs(rig, 0) == 2);
  REQUIRE(ready_jobs(rig, 1) == 1);
  rig.queue.session_opening(0);
  rig.queue.session_greeted(0);
  auto in_flight = rig.queue.take(0, 100);  // "a" leaves from ip1
  REQUIRE(in_flight.msg->id == "a");

  IpPools next = two_sources();
  next.sources.erase(next.sources.begin());  // ip1 goes
  next.pools[0].members = {{"ip2", 1}};
  const auto moved = rig.queue.reconfigure(settings_for(rig, next), 0, rig.out);
  // ip2 and ip3 move up; ip1 stays behind them, retired, while its session lasts.
  CHECK(moved == std::vector<std::size_t>{2, 0, 1});
  REQUIRE(rig.queue.lane_count() == 3);
  CHECK_FALSE(rig.queue.configured(2));
  CHECK(rig.queue.source(2).name == "ip1");
  CHECK(ready_jobs(rig, 2) == 0);
  CHECK(ready_jobs(rig, 0) == 2);  // b, and c taken over from ip1
  CHECK(rig.queue.queued() == 3);
  CHECK(rig.out.outcomes.empty());

  rig.queue.transaction_done(in_flight, {accepted()}, 2, "mx.example.com", 10, rig.out);
  REQUIRE(rig.out.outcomes.size() == 1);
  CHECK(rig.out.outcomes[0].lane == 2);  // reported from the source it left from
  CHECK(rig.out.outcomes[0].decision.verdict == Verdict::delivered);
  rig.queue.session_ended(2, true, {}, "", "mx.example.com", 20, rig.out);
  for (const char* id : {"b", "c"}) {
    auto job = rig.queue.take(0, 100);
    CHECK(job.msg->id == id);
    rig.queue.transaction_done(job, {accepted()}, 0, "mx.example.com", 30, rig.out);
  }
  CHECK(rig.out.outcomes.size() == 3);  // a, b, c: each once
  CHECK(rig.queue.queued() == 0);

  // The next reload drops the retired lane: no session uses it any more.
  const auto again = rig.queue.reconfigure(settings_for(rig, next), 40, rig.out);
  CHECK(again == std::vector<std::size_t>{0, 1, kNoSource});
  CHECK(rig.queue.lane_count() == 2);
}

TEST_CASE("queue reload: renamed and reordered sources, and a greylisting pin that follows its source or ends with it") {
  QueueRig rig;
  rig.queue.add(rig.job("g", 1), 0, rig.out);  // ip1
  REQUIRE(ready_jobs(rig, 0) == 1);
  auto job = rig.queue.take(0, 100);
  rig.queue.transaction_done(job, {greylisted()}, 0, "mx.example.com", 0, rig.out);
  REQUIRE(rig.queue.deferred_jobs() == 1);

  // ip1 moves to the end; ip3 is renamed ip9 (a removal and an addition).
  IpPools next;
  next.sources = {{"ip2", "192.0.2.2", "o2.example"}, {"ip9", "192.0.2.3", "o3.example"}, {"ip1", "192.0.2.1", "o1.example"}};
  next.pools = {{"shared", {{"ip1", 1}, {"ip2", 1}}}, {"solo", {{"ip9", 1}}}};
  next.default_pool = "shared";
  auto moved = rig.queue.reconfigure(settings_for(rig, next), 0, rig.out);
  CHECK(moved == std::vector<std::size_t>{2, 0, kNoSource});
  CHECK(rig.queue.source(1).name == "ip9");
  rig.queue.release_due(10 * kMinute, rig.out);
  CHECK(ready_jobs(rig, 2) == 1);  // still pinned to ip1, at its new place

  // Deferred again by greylisting, then ip1 is removed: the pin ends, the pool's other source takes it.
  job = rig.queue.take(2, 100);
  rig.queue.transaction_done(job, {greylisted()}, 2, "mx.example.com", 10 * kMinute, rig.out);
  IpPools last = next;
  last.sources.pop_back();
  last.pools[0].members = {{"ip2", 1}};
  moved = rig.queue.reconfigure(settings_for(rig, last), 10 * kMinute, rig.out);
  CHECK(moved == std::vector<std::size_t>{0, 1, kNoSource});
  rig.queue.release_due(kHour, rig.out);
  CHECK(ready_jobs(rig, 0) == 1);
}
