// ActorTimers (actors/actor_timers.hpp): delayed messages and request timeouts for actors,
// kept by a thread of its own instead of CAF's clock.
#include "actors/actor_timers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
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

struct System {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  System() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    sys.emplace(cfg);
  }
};

// Answers `ask` with its argument plus one, or never (holding the promise) when told to be silent.
caf::behavior answerer(caf::event_based_actor* self, bool silent) {
  auto held = std::make_shared<std::vector<caf::typed_response_promise<int>>>();
  return {[=](ask_atom, int x) {
    auto promise = self->make_response_promise<int>();
    if (silent)
      held->push_back(promise);
    else
      promise.deliver(x + 1);
    return promise;
  }};
}

// Asks `to` with a timeout kept by `timers`, and tells `observer` what came back: the answer, or
// the error's code. `count` answers how many times a handler ran.
struct AskerState {
  int handled = 0;
};
caf::behavior asker(caf::stateful_actor<AskerState>* self, ActorTimers* timers, caf::actor to,
                    Clock::duration timeout, caf::actor observer) {
  request_within(self, timers, to, timeout, ask_atom::value, 41)
      .then(
          [=](int answer) {
            ++self->state.handled;
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
  AskRig(bool silent, Clock::duration timeout)
      : answering(s.sys->spawn(answerer, silent)),
        asking(s.sys->spawn(asker, &timers, answering, timeout, caf::actor_cast<caf::actor>(self))) {}
  ~AskRig() {
    self->send_exit(asking, caf::exit_reason::user_shutdown);
    self->send_exit(answering, caf::exit_reason::user_shutdown);
  }
  // How many times the asker's handlers ran.
  int handled() {
    int n = -1;
    self->request(asking, caf::infinite, count_atom::value).receive([&](int x) { n = x; }, [](caf::error&) {});
    return n;
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
  const auto start = Clock::now();
  // The longest first: each later, sooner timer must wake the thread that sleeps for it.
  const std::vector<std::pair<int, std::chrono::milliseconds>> set{{4, 60ms}, {3, 40ms}, {1, 10ms}, {2, 10ms}, {0, 0ms}};
  for (const auto& [n, after] : set) timers.send(me, after, caf::make_message(fired_atom::value, n));
  std::vector<int> order;
  for (std::size_t i = 0; i < set.size(); ++i) {
    self->receive(
        [&](fired_atom, int n) {
          const auto elapsed = Clock::now() - start;
          for (const auto& [m, after] : set)
            if (m == n) CHECK(elapsed >= after);
          order.push_back(n);
        },
        caf::after(std::chrono::seconds(10)) >> [&] { FAIL("a timer did not fire"); });
  }
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});  // equal deadlines in the order set
  CHECK(wait_until([&] { return timers.pending() == 0; }, 5s, 1ms));
}

TEST_CASE("ActorTimers: a request nobody answers ends in sec::request_timeout, once",
          "[actors][timers]") {
  AskRig rig(true, 30ms);
  rig.self->receive([&](fired_atom, int code) { CHECK(code == -static_cast<int>(caf::sec::request_timeout)); },
                    caf::after(std::chrono::seconds(10)) >> [&] { FAIL("no timeout came"); });
  CHECK(rig.handled() == 1);
}

TEST_CASE("ActorTimers: an answer in time wins, and the timeout that follows it is dropped",
          "[actors][timers]") {
  AskRig rig(false, 50ms);
  rig.self->receive([&](fired_atom, int answer) { CHECK(answer == 42); },
                    caf::after(std::chrono::seconds(10)) >> [&] { FAIL("no answer came"); });
  // The timeout is sent (to the asker's mailbox) before pending() drops to zero; the count asked
  // after it is answered after the timeout has been looked at.
  REQUIRE(wait_until([&] { return rig.timers.pending() == 0; }, 5s, 1ms));
  CHECK(rig.handled() == 1);
}

TEST_CASE("ActorTimers: a timer does not keep its actor alive, and its message is dropped", "[actors][timers]") {
  System s;
  ActorTimers timers;
  caf::scoped_actor self{*s.sys};
  auto quiet = s.sys->spawn(quiet_actor, 0);
  timers.send(caf::actor_cast<caf::strong_actor_ptr>(quiet), 30ms, caf::make_message(fired_atom::value, 1));
  self->monitor(quiet);
  quiet = nullptr;  // the test's was the last strong reference: the timer's is weak
  self->receive([](const caf::down_msg& down) { CHECK(down.reason == caf::exit_reason::unreachable); },
                caf::after(std::chrono::seconds(10)) >> [&] { FAIL("the actor stayed alive"); });
  CHECK(timers.pending() == 1);
  CHECK(wait_until([&] { return timers.pending() == 0; }, 5s, 1ms));  // fired into nothing
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
  // here the message itself holds them, and its actor is gone, so the timer thread drops it.
  auto timers = std::make_shared<ActorTimers>();
  std::weak_ptr<ActorTimers> watch = timers;
  timers->send(caf::strong_actor_ptr{}, 10ms, caf::make_message(fired_atom::value, timers));
  timers.reset();
  CHECK(wait_until([&] { return watch.expired(); }, 10s, 1ms));
}
