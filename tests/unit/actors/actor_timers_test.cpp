// ActorTimers (actors/actor_timers.hpp): delayed messages and request timeouts for actors,
// kept by a thread of its own instead of CAF's clock.
#include "actors/actor_timers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "tests/support/process.hpp"

// A test's message that holds the timers themselves (see the last test).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<volley::ActorTimers>)

using namespace volley;
using namespace std::chrono_literals;
using Clock = ActorTimers::Clock;
using volley::test::wait_until;

namespace {

using fired_atom = caf::atom_constant<caf::atom("tfired")>;
using ask_atom = caf::atom_constant<caf::atom("task")>;
using count_atom = caf::atom_constant<caf::atom("tcount")>;
using release_atom = caf::atom_constant<caf::atom("trelease")>;

struct System {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  System() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    sys.emplace(cfg);
  }
};

// Answers `ask` with its argument plus one: at once, or (silent) only when told `release`, which
// it answers after delivering what it held.
caf::behavior answerer(caf::event_based_actor* self, bool silent) {
  auto held = std::make_shared<std::vector<std::pair<caf::typed_response_promise<int>, int>>>();
  return {[=](ask_atom, int x) {
            auto promise = self->make_response_promise<int>();
            if (silent)
              held->emplace_back(promise, x);
            else
              promise.deliver(x + 1);
            return promise;
          },
          [=](release_atom) {
            for (auto& [promise, x] : *held) promise.deliver(x + 1);
            held->clear();
            return true;
          }};
}

// Asks `to` with a timeout kept by `timers`, and tells `observer` what came back: the answer, or
// the error's code. `count` answers how many times a handler ran. With `stale_timeout`, the
// answer handler has the timers send this request's timeout at once, after the answer.
struct AskerState {
  int handled = 0;
};
caf::behavior asker(caf::stateful_actor<AskerState>* self, ActorTimers* timers, caf::actor to,
                    Clock::duration timeout, caf::actor observer, bool stale_timeout) {
  auto handle = request_within(self, timers, to, timeout, ask_atom::value, 41);
  const auto id = handle.id();
  handle.then(
      [=](int answer) {
        ++self->state.handled;
        if (stale_timeout) timers->expire(caf::actor_cast<caf::strong_actor_ptr>(self), Clock::duration::zero(), id);
        self->send(observer, fired_atom::value, answer);
      },
      [=](const caf::error& err) {
        ++self->state.handled;
        self->send(observer, fired_atom::value, -static_cast<int>(err.code()));
      });
  return {[=](count_atom) { return self->state.handled; }};
}

// An asker and the actor it asks, reporting to the test's scoped actor.
struct AskRig {
  System s;
  ActorTimers timers;
  caf::scoped_actor self{*s.sys};
  caf::actor answering, asking;
  AskRig(bool silent, Clock::duration timeout, bool stale_timeout = false)
      : answering(s.sys->spawn(answerer, silent)),
        asking(s.sys->spawn(asker, &timers, answering, timeout, caf::actor_cast<caf::actor>(self), stale_timeout)) {}
  ~AskRig() {
    self->send_exit(asking, caf::exit_reason::user_shutdown);
    self->send_exit(answering, caf::exit_reason::user_shutdown);
  }
  // How many times the asker's handlers ran, once what is in its mailbox now has been handled.
  int handled() {
    int n = -1;
    self->request(asking, caf::infinite, count_atom::value).receive([&](int x) { n = x; }, [](caf::error&) {});
    return n;
  }
  // What the asker told the test.
  int reported() {
    int r = 0;
    self->receive([&](fired_atom, int x) { r = x; },
                  caf::after(std::chrono::seconds(10)) >> [&] { FAIL("the asker reported nothing"); });
    return r;
  }
};

// Takes what it is sent and does nothing. (An argument, because CAF 0.17 binds a null tuple for
// an actor spawned without any, which UBSan reports.)
caf::behavior quiet_actor(caf::event_based_actor*, int) {
  return {[](fired_atom, int) {}};
}

}  // namespace

TEST_CASE("ActorTimers: messages come in the order of their deadlines, none before its time",
          "[actors][timers]") {
  System s;
  ActorTimers timers;
  caf::scoped_actor self{*s.sys};
  const auto me = caf::actor_cast<caf::strong_actor_ptr>(self);
  // Longer ones first: each later, sooner timer must wake the thread that sleeps for the one
  // before it.
  const std::vector<std::pair<int, std::chrono::milliseconds>> set{{3, 60ms}, {2, 40ms}, {1, 10ms}, {0, 0ms}};
  std::map<int, Clock::time_point> set_at;
  for (const auto& [n, after] : set) {
    set_at[n] = Clock::now();
    timers.send(me, after, caf::make_message(fired_atom::value, n));
  }
  std::vector<int> order;
  for (std::size_t i = 0; i < set.size(); ++i) {
    self->receive(
        [&](fired_atom, int n) {
          const auto arrived = Clock::now();
          for (const auto& [m, after] : set)
            if (m == n) CHECK(arrived - set_at[n] >= after);
          order.push_back(n);
        },
        caf::after(std::chrono::seconds(10)) >> [&] { FAIL("a timer did not fire"); });
  }
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(wait_until([&] { return timers.pending() == 0; }, 5s, 1ms));
}

TEST_CASE("ActorTimers: a timer sooner than the one the thread sleeps for wakes it", "[actors][timers]") {
  System s;
  ActorTimers timers;
  caf::scoped_actor self{*s.sys};
  const auto me = caf::actor_cast<caf::strong_actor_ptr>(self);
  timers.send(me, std::chrono::hours(1), caf::make_message(fired_atom::value, 1));
  // From here the thread sleeps (or is about to) until the hour is up; a sooner timer that did
  // not wake it would come only then, long past the receive's bound.
  timers.send(me, 20ms, caf::make_message(fired_atom::value, 2));
  self->receive([](fired_atom, int n) { CHECK(n == 2); },
                caf::after(std::chrono::seconds(10)) >> [&] { FAIL("the sooner timer waited for the later one"); });
  // A fired timer counts until its whole batch is sent, which may be just after its message came.
  CHECK(wait_until([&] { return timers.pending() == 1; }, 5s, 1ms));
}

TEST_CASE("ActorTimers: a request nobody answers ends in sec::request_timeout, and an answer after it is dropped",
          "[actors][timers]") {
  AskRig rig(true, 30ms);
  CHECK(rig.reported() == -static_cast<int>(caf::sec::request_timeout));
  // The answer comes late: the asker's handlers have run once, and it says nothing more.
  rig.self->request(rig.answering, caf::infinite, release_atom::value).receive([](bool) {}, [](caf::error&) { FAIL(); });
  CHECK(rig.handled() == 1);
  rig.self->receive([](fired_atom, int) { FAIL("a second report"); }, caf::after(std::chrono::milliseconds(0)) >> [] {});
  CHECK(wait_until([&] { return rig.timers.pending() == 0; }, 5s, 1ms));
}

TEST_CASE("ActorTimers: an answer in time wins, and the timeout that follows it is dropped", "[actors][timers]") {
  // An hour's timeout, so the answer is first however slow the machine; the answer handler has
  // the timeout sent at once after it.
  AskRig rig(false, std::chrono::hours(1), true);
  CHECK(rig.reported() == 42);
  // pending() counts a timer until its message is in the asker's mailbox: the count asked after
  // that is answered after the stale timeout has been looked at.
  REQUIRE(wait_until([&] { return rig.timers.pending() == 1; }, 5s, 1ms));  // the hour's
  CHECK(rig.handled() == 1);
  rig.self->receive([](fired_atom, int) { FAIL("a second report"); }, caf::after(std::chrono::milliseconds(0)) >> [] {});
}

TEST_CASE("ActorTimers: a timer does not keep its actor alive", "[actors][timers]") {
  System s;
  ActorTimers timers;
  caf::scoped_actor self{*s.sys};
  auto quiet = s.sys->spawn(quiet_actor, 0);
  timers.send(caf::actor_cast<caf::strong_actor_ptr>(quiet), std::chrono::hours(1), caf::make_message(fired_atom::value, 1));
  self->monitor(quiet);
  quiet = nullptr;  // the test's was the last strong reference: the timer's is weak
  self->receive([](const caf::down_msg& down) { CHECK(down.reason == caf::exit_reason::unreachable); },
                caf::after(std::chrono::seconds(10)) >> [&] { FAIL("the actor stayed alive"); });
  CHECK(timers.pending() == 1);
}

TEST_CASE("ActorTimers: going away with timers pending drops them at once", "[actors][timers]") {
  System s;
  caf::scoped_actor self{*s.sys};
  const auto started = Clock::now();
  {
    ActorTimers timers;
    for (int i = 0; i < 100; ++i)
      timers.send(caf::actor_cast<caf::strong_actor_ptr>(self), std::chrono::hours(1), caf::make_message(fired_atom::value, i));
    CHECK(timers.pending() == 100);
  }
  CHECK(Clock::now() - started < 10s);
  self->receive([](fired_atom, int) { FAIL("a dropped timer fired"); }, caf::after(std::chrono::milliseconds(0)) >> [] {});
}

TEST_CASE("ActorTimers: the last owner may let go on the timer thread itself", "[actors][timers]") {
  // As when a fired message holds the last reference to an actor whose state holds the timers:
  // here the message itself holds them and its actor is gone, so the timer thread drops it, and
  // with it the timers. Joining itself there would end the process (std::terminate).
  auto timers = std::make_shared<ActorTimers>();
  std::weak_ptr<ActorTimers> watch = timers;
  timers->send(caf::strong_actor_ptr{}, 10ms, caf::make_message(fired_atom::value, timers));
  timers.reset();
  CHECK(wait_until([&] { return watch.expired(); }, 10s, 1ms));
}
