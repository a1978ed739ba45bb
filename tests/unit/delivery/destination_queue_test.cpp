// The scheduler's decisions on simulated time: a destination queue is fed work, replies and the
// time; the recorder sees every outcome it decides.
#include <catch2/catch.hpp>

#include "queue_fixture.hpp"

using namespace volley::delivery;
using namespace volley::delivery::testing;
using volley::smtp::Reply;

namespace {

// Takes the lane's front job as a session would and answers every recipient with reply.
void answer(QueueRig& rig, std::size_t lane, const Reply& reply, std::int64_t now, std::size_t max_rcpts = 100) {
  auto job = rig.queue.take(lane, max_rcpts);
  std::vector<Reply> replies(job.rcpts.size(), reply);
  rig.queue.transaction_done(job, replies, lane, "mx.example.com", now, rig.out);
}

// The one outcome the queue has decided since the last look.
Recorded sole_outcome(QueueRig& rig) {
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 1);
  return outs[0];
}

}  // namespace

TEST_CASE("queue: new work is ready at once or deferred until it is due") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 2), 0, rig.out);
  rig.queue.add(rig.job("m2", 1, 0, 5 * kMinute), 0, rig.out);
  CHECK(rig.queue.queued() == 3);
  REQUIRE(rig.ready_lane() == 0);  // ip1: the first pick of "shared"
  CHECK(rig.queue.lane(0).ready.size() == 1);
  CHECK(rig.queue.next_due() == 5 * kMinute);
  rig.queue.release_due(5 * kMinute - 1, rig.out);
  CHECK(rig.queue.deferred_jobs() == 1);
  rig.queue.release_due(5 * kMinute, rig.out);
  CHECK(rig.queue.deferred_jobs() == 0);
  CHECK(rig.queue.next_due() == 0);
  CHECK(rig.queue.lane(0).ready.size() + rig.queue.lane(1).ready.size() == 2);
  CHECK(rig.out.outcomes.empty());
}

TEST_CASE("queue: a greylisted recipient retries from the same source") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  REQUIRE(rig.ready_lane() == 0);
  answer(rig, 0, greylisted(), 1000);
  auto out = sole_outcome(rig);
  CHECK(out.decision.verdict == Verdict::deferred);
  CHECK(out.decision.category == "greylisted");
  CHECK(out.lane == 0);
  CHECK(out.greylist_retries == 1);
  CHECK(out.decision.next_attempt_ms == 1000 + kMinute);  // greylist[0]
  CHECK(rig.queue.next_due() == 1000 + kMinute);
  // The pool's next pick would be ip2; the pin keeps ip1, the address the greylister saw.
  rig.queue.release_due(1000 + kMinute, rig.out);
  CHECK(rig.ready_lane() == 0);
  // A second greylisting reply takes the second delay of the greylist schedule.
  answer(rig, 0, greylisted(), 2 * kMinute);
  out = sole_outcome(rig);
  CHECK(out.attempts == 2);
  CHECK(out.decision.next_attempt_ms == 2 * kMinute + 2 * kMinute);  // greylist[1]
}

TEST_CASE("queue: other temporary failures back off and may change source") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  REQUIRE(rig.ready_lane() == 0);
  answer(rig, 0, local_problem(), 0);
  CHECK(sole_outcome(rig).decision.next_attempt_ms == 5 * kMinute);
  rig.queue.release_due(5 * kMinute, rig.out);
  CHECK(rig.ready_lane() == 1);  // not pinned: the pool's next source
  answer(rig, 1, local_problem(), 5 * kMinute);
  auto out = sole_outcome(rig);
  CHECK(out.attempts == 2);
  CHECK(out.decision.next_attempt_ms == 5 * kMinute + 10 * kMinute);  // doubled
  std::int64_t now = 15 * kMinute;
  for (int i = 0; i < 4; ++i) {  // 20 min, 40 min, then the one-hour cap
    rig.queue.release_due(now, rig.out);
    answer(rig, rig.ready_lane(), local_problem(), now);
    now = rig.out.take().at(0).decision.next_attempt_ms;
  }
  rig.queue.release_due(now, rig.out);
  answer(rig, rig.ready_lane(), local_problem(), now);
  CHECK(rig.out.take().at(0).decision.next_attempt_ms == now + kHour);
}

TEST_CASE("queue: a recipient still failing at its maximum age expires") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 2, 0, 0), 0, rig.out);
  const std::int64_t deadline = 24 * kHour;
  answer(rig, 0, local_problem(), deadline - kMinute);
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].decision.next_attempt_ms == deadline);  // one last attempt at the limit
  rig.queue.release_due(deadline, rig.out);
  answer(rig, rig.ready_lane(), local_problem(), deadline);
  outs = rig.out.take();
  REQUIRE(outs.size() == 2);
  for (const auto& o : outs) {
    CHECK(o.decision.verdict == Verdict::expired);
    CHECK(o.decision.category == "message-expired");
  }
  CHECK(rig.queue.queued() == 0);
}

TEST_CASE("queue: a suspended domain holds its work, which still expires") {
  QueueRig rig(test_limits(), 1 << 20, control_with(QueueScope::Kind::domain, "example.com", 48 * kHour));
  rig.queue.add(rig.job("old", 1, 0), 23 * kHour, rig.out);
  rig.queue.add(rig.job("new", 1, 23 * kHour), 23 * kHour, rig.out);
  CHECK(rig.queue.domain_suspended(23 * kHour));
  CHECK_FALSE(rig.queue.domain_suspended(48 * kHour));  // ended (until is absolute)
  CHECK(rig.queue.next_suspension_end(kHour) == 48 * kHour);
  // The work stays ready (the actor opens no session); a sweep expires what is too old.
  const std::int64_t next = rig.queue.sweep_held(24 * kHour, rig.out);
  CHECK(next == 24 * kHour + kMaxHoldSweepMs);  // max_age / 10 is more than the cap
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 1);
  CHECK(outs[0].recipient == "r0@example.com");
  CHECK(outs[0].decision.verdict == Verdict::expired);
  CHECK(outs[0].decision.reply == "gave up after 0 attempts: held past the maximum queue age");
  CHECK(rig.queue.queued() == 1);
  // Not again before the next sweep.
  CHECK(rig.queue.sweep_held(24 * kHour + 1, rig.out) == next);
}

TEST_CASE("queue: a suspended pool parks its work until the suspension ends or a resume") {
  QueueRig rig(test_limits(), 1 << 20, control_with(QueueScope::Kind::pool, "shared", 10 * kSecond));
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  CHECK(rig.ready_lane() == kNoSource);
  CHECK(rig.queue.next_due() == 10 * kSecond);  // the suspension's end, before kParkMs
  CHECK(rig.out.outcomes.empty());              // no attempt counted, nothing reported
  rig.queue.release_due(10 * kSecond, rig.out);
  CHECK(rig.ready_lane() == 0);

  // Without an end, parked for kParkMs; a new control version looks again at once.
  QueueRig held(test_limits(), 1 << 20, control_with(QueueScope::Kind::pool, "shared"));
  held.queue.add(held.job("m1", 1), 0, held.out);
  CHECK(held.queue.next_due() == kParkMs);
  held.queue.apply_control(std::make_shared<const EgressControl>(), 1000, held.out);
  CHECK(held.ready_lane() == 0);
  CHECK(held.queue.deferred_jobs() == 0);
}

TEST_CASE("queue: a suspended source's work goes out through the pool's other source") {
  QueueRig rig(test_limits(), 1 << 20, control_with(QueueScope::Kind::source, "ip1"));
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  rig.queue.add(rig.job("m2", 1), 0, rig.out);
  CHECK(rig.queue.lane(0).ready.empty());
  CHECK(rig.queue.lane(1).ready.size() == 2);
  // Ready work of a source suspended later waits: the "solo" pool has no other source.
  rig.queue.add(rig.job("m3", 1, 0, 0, "solo"), 0, rig.out);
  CHECK(rig.queue.lane(2).ready.size() == 1);
  rig.queue.apply_control(control_with(QueueScope::Kind::source, "ip3"), 1000, rig.out);
  CHECK(rig.queue.lane(2).ready.empty());
  CHECK(rig.queue.next_due() == 1000 + kParkMs);
  CHECK(rig.queue.source_suspended(2, 1000));
}

TEST_CASE("queue: a greylisting pin gives way while its source is suspended") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  answer(rig, 0, greylisted(), 0);
  rig.queue.apply_control(control_with(QueueScope::Kind::source, "ip1"), 1, rig.out);
  rig.queue.release_due(kMinute, rig.out);
  CHECK(rig.ready_lane() == 1);
}

TEST_CASE("queue: a transaction takes at most max recipients, the rest goes next") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 5), 0, rig.out);
  auto first = rig.queue.take(0, 2);
  REQUIRE(first.rcpts.size() == 2);
  CHECK(first.rcpts[0].recipient == "r0@example.com");
  CHECK(first.rcpts[1].attempts == 1);
  REQUIRE(rig.queue.lane(0).ready.size() == 1);
  const auto& rest = rig.queue.lane(0).ready.front();
  CHECK(rest.rcpts.size() == 3);
  CHECK(rest.rcpts[0].recipient == "r2@example.com");
  CHECK(rest.rcpts[0].attempts == 0);  // counted when taken
  CHECK(rest.body == first.body);      // shared, not copied
  // One recipient per transaction (VERP).
  auto one = rig.queue.take(0, 1);
  CHECK(one.rcpts.size() == 1);
  CHECK(rig.queue.lane(0).ready.front().rcpts.size() == 2);
  // 0 means 1: a transaction has at least one recipient.
  CHECK(rig.queue.take(0, 0).rcpts.size() == 1);
}

TEST_CASE("queue: bodies beyond the window stay in memory only within the shared budget") {
  Limits limits = test_limits();
  limits.max_connections = 1;  // window: 2 * 1 + 4 = 6 jobs
  QueueRig rig(limits, 250);
  for (int i = 0; i < 9; ++i) rig.queue.add(rig.job("m" + std::to_string(i), 1), 0, rig.out);
  const auto& ready = rig.queue.lane(0).ready;
  REQUIRE(ready.size() == 5);  // "shared" alternates ip1, ip2
  REQUIRE(rig.queue.lane(1).ready.size() == 4);
  CHECK(rig.budget.load() == 0);  // within each lane's window: no claim

  QueueRig deep(limits, 250);
  deep.queue.apply_control(control_with(QueueScope::Kind::source, "ip2"), 0, deep.out);
  for (int i = 0; i < 10; ++i) deep.queue.add(deep.job("m" + std::to_string(i), 1), 0, deep.out);
  const auto& lane = deep.queue.lane(0).ready;
  REQUIRE(lane.size() == 10);
  for (std::size_t i = 0; i < 8; ++i) CHECK(lane[i].body != nullptr);  // 6 in the window, 2 claimed
  CHECK(lane[8].body == nullptr);  // the budget (250 bytes) is full: read back when due
  CHECK(lane[9].body == nullptr);
  CHECK(deep.budget.load() == 200);
  // A job taken for a session gives its claim back; so does one bounced.
  for (int i = 0; i < 7; ++i) deep.queue.take(0, 100);
  CHECK(deep.budget.load() == 100);
  CHECK(deep.queue.bounce(QueueScope{QueueScope::Kind::domain, "example.com"}, "", deep.out) == 3);
  CHECK(deep.budget.load() == 0);
}

TEST_CASE("queue: the bodies the window needs are found, loaded once, or dropped when gone") {
  QueueRig rig;
  auto a = rig.job("a", 1);
  a.body = nullptr;  // recovered: read from the spool when due
  auto b = rig.job("b", 2);
  b.body = nullptr;
  rig.queue.apply_control(control_with(QueueScope::Kind::source, "ip2"), 0, rig.out);
  rig.queue.add(std::move(a), 0, rig.out);
  rig.queue.add(std::move(b), 0, rig.out);
  std::unordered_set<std::string> missing, loading;
  auto loads = rig.queue.collect_bodies(0, missing, loading);
  REQUIRE(loads.load.size() == 2);
  CHECK(loading.count("a") == 1);
  CHECK(rig.queue.collect_bodies(0, missing, loading).load.empty());  // already being read
  CHECK_FALSE(rig.queue.front_sendable(0));
  missing.insert("b");
  auto again = rig.queue.collect_bodies(0, missing, loading);
  REQUIRE(again.dropped.size() == 1);
  CHECK(again.dropped[0].msg->id == "b");
  CHECK(rig.queue.queued() == 1);
}

TEST_CASE("queue: a 421 at the greeting slows the path and defers the lane's work") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  rig.queue.add(rig.job("m2", 1), 0, rig.out);
  rig.queue.apply_control(control_with(QueueScope::Kind::source, "ip2"), 0, rig.out);
  REQUIRE(rig.queue.lane(0).ready.size() == 2);
  CHECK(rig.queue.wants_session(0));
  rig.queue.session_opening(0);
  rig.queue.session_opening(0);
  CHECK_FALSE(rig.queue.wants_session(0));  // max_connections
  rig.queue.session_ended(0, false, too_many(), "refused at the greeting", "mx.example.com", 1000, rig.out);
  REQUIRE(rig.out.slowed.size() == 1);
  CHECK(rig.out.slowed[0] == std::make_pair(std::size_t{0}, std::int64_t{1000}));
  CHECK(rig.queue.lane(0).connect_blocked);
  CHECK(rig.out.outcomes.empty());  // another session is still trying
  rig.queue.session_ended(0, false, too_many(), "refused at the greeting", "mx.example.com", 2000, rig.out);
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 2);
  for (const auto& o : outs) {
    CHECK(o.decision.verdict == Verdict::deferred);
    CHECK(o.decision.category == "rate_limited");
    CHECK(o.attempts == 1);
    CHECK(o.decision.next_attempt_ms == 2000 + 5 * kMinute);
  }
  // While connections fail, one probe at a time.
  rig.queue.release_due(2000 + 5 * kMinute, rig.out);
  CHECK(rig.queue.wants_session(0));
  rig.queue.session_opening(0);
  CHECK_FALSE(rig.queue.wants_session(0));
  rig.queue.session_greeted(0);
  CHECK_FALSE(rig.queue.lane(0).connect_blocked);
  CHECK(rig.queue.wants_session(0));
}

TEST_CASE("queue: a rate-limiting reply in a transaction slows the path, not the recipient") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  for (std::int64_t now = 0, i = 0; i < 3; ++i) {
    answer(rig, rig.ready_lane(), too_many(), now);
    const auto out = sole_outcome(rig);
    CHECK(out.decision.next_attempt_ms == now + 5 * kMinute);  // never growing
    now = out.decision.next_attempt_ms;
    rig.queue.release_due(now, rig.out);
  }
  CHECK(rig.out.slowed.size() == 3);
}

TEST_CASE("queue: replies per recipient: delivered, bounced and deferred apart") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 3), 0, rig.out);
  auto job = rig.queue.take(0, 100);
  rig.queue.transaction_done(job, {accepted(), Reply::synthetic(550, "5.1.1", "user unknown")}, 0, "mx.example.com",
                             0, rig.out);
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 3);
  CHECK(outs[0].decision.verdict == Verdict::delivered);
  CHECK(outs[0].mx_host == "mx.example.com");
  CHECK(outs[1].decision.verdict == Verdict::bounced);
  CHECK(outs[1].decision.category == "bad-mailbox");
  CHECK(outs[2].decision.verdict == Verdict::deferred);  // no reply for it
  CHECK(outs[2].decision.reply.find("no reply for recipient") != std::string::npos);
  CHECK(rig.queue.queued() == 1);
}

TEST_CASE("queue: DNS failures fail the ready work, operators bounce by scope") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1), 0, rig.out);
  rig.queue.add(rig.job("m2", 1, 0, 0, "solo"), 0, rig.out);
  rig.queue.fail_ready(Reply::synthetic(451, "4.4.3", "example.com: DNS: timeout"), false, "", 0, rig.out);
  auto outs = rig.out.take();
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].decision.verdict == Verdict::deferred);
  CHECK(outs[0].decision.category == "other");
  CHECK(outs[0].mx_host.empty());
  CHECK(rig.queue.bounce(QueueScope{QueueScope::Kind::pool, "solo"}, "cleanup", rig.out) == 1);
  outs = rig.out.take();
  REQUIRE(outs.size() == 1);
  CHECK(outs[0].recipient == "r0@example.com");
  CHECK(outs[0].lane == kNoSource);
  CHECK(outs[0].decision.reply == "554 5.0.0 bounced by an operator: cleanup");
  rig.queue.release_due(5 * kMinute, rig.out);
  rig.queue.fail_ready(Reply::synthetic(550, "5.1.2", "example.com: no mail server"), true, "bad-domain", 0, rig.out);
  outs = rig.out.take();
  REQUIRE(outs.size() == 1);
  CHECK(outs[0].decision.verdict == Verdict::bounced);
  CHECK(outs[0].decision.category == "bad-domain");
  CHECK(outs[0].attempts == 2);
  CHECK(rig.queue.queued() == 0);
}

TEST_CASE("queue: a pool that is not configured falls back to the default, reported once") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 1, 0, 0, "gone"), 0, rig.out);
  rig.queue.add(rig.job("m2", 1, 0, 0, "gone"), 0, rig.out);
  CHECK(rig.out.unknown == std::vector<std::string>{"gone"});
  CHECK(rig.queue.lane(0).ready.size() + rig.queue.lane(1).ready.size() == 2);
}

TEST_CASE("queue: the snapshot counts ready, deferred and in-flight recipients") {
  QueueRig rig;
  rig.queue.add(rig.job("m1", 2, 1000), 1000, rig.out);
  rig.queue.add(rig.job("m2", 1, 3000, 10 * kMinute), 3000, rig.out);
  rig.queue.add(rig.job("m3", 4, 5000), 5000, rig.out);
  auto job = rig.queue.take(0, 100);  // m1, in flight
  std::vector<std::optional<PathSnapshot>> paths(3);
  paths[0] = PathSnapshot{1, 2, {}, 1};
  Shaping shaping;
  shaping.rollup_key = "example.com";
  auto q = rig.queue.snapshot(61'000, paths, &shaping, job.msg->received_at_ms, 1);
  CHECK(q.domain == "example.com");
  CHECK(q.queued == 7);
  CHECK(q.ready == 4);
  CHECK(q.deferred == 1);
  CHECK(q.in_flight == 2);
  CHECK(q.oldest_age_seconds == 60);
  CHECK(q.connections == 1);
  REQUIRE(q.sources.size() == 2);  // ip1 has a path, ip2 ready work; ip3 nothing
  CHECK(q.sources[0].source == "ip1");
  CHECK(q.sources[0].path->backoff_level == 1);
  CHECK(q.sources[1].source == "ip2");
  CHECK(q.sources[1].ready == 1);
  CHECK(q.sources[1].max_connections == 2);
  CHECK_FALSE(q.sources[1].path);
  CHECK(q.rollup == "example.com");
  CHECK(q.state == "backoff");
  paths[0]->backoff_level = 0;
  CHECK(rig.queue.snapshot(61'000, paths, nullptr, 0, 1).state == "active");
  CHECK(rig.queue.snapshot(61'000, paths, nullptr, 0, 0).state == "waiting");
  CHECK_FALSE(rig.queue.snapshot(61'000, paths, nullptr, 0, 0).rollup);
  rig.queue.apply_control(control_with(QueueScope::Kind::domain, "example.com"), 61'000, rig.out);
  auto held = rig.queue.snapshot(61'000, paths, nullptr, 0, 0);
  CHECK(held.state == "suspended");
  REQUIRE(held.suspended);
  CHECK(held.suspended->reason == "maintenance");
}
