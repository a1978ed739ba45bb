#pragma once
// Timers for the actors that set many of them (one delivery actor per destination, the MTA-STS
// actor), instead of CAF's clock.
//
// Why: CAF 0.17's clock (thread_safe_actor_clock, the `caf.clock` thread) wakes its thread for
// every timer set: a futex wake on the thread that sets it and a context switch on the clock's.
// At 10,000 destinations a message set about four (an idle session's timer, pacing, and the
// guards of requests to the DNS and MTA-STS actors), and the clock was 11 % of volleyd's CPU
// (loadtest/README.md, issue 14, eighth round). Here setting a timer takes a lock and a heap
// push; the thread is woken only for a deadline earlier than the one it sleeps for. It wakes
// kSlack after the first deadline and fires everything due by then, so that deadlines close
// together share one wake: a timer never fires early, and at most kSlack late (plus scheduling).
//
// A timer holds a weak reference: it keeps its actor alive no longer than the actor's own
// references do (CAF's clock holds a strong one until the timer fires), and its message is
// dropped if the actor is gone. Timers not yet due are dropped when this object goes (those
// being fired at that moment are still sent).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/duration.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>

namespace volley {

class ActorTimers {
 public:
  using Clock = std::chrono::steady_clock;
  // What a timer may be late, for the wakes it saves: at 2,000 timers a second, about one wake
  // for four timers. Pacing, idle sessions and request guards count in tens of milliseconds.
  static constexpr std::chrono::milliseconds kSlack{2};

  ActorTimers();
  ~ActorTimers();
  ActorTimers(const ActorTimers&) = delete;
  ActorTimers& operator=(const ActorTimers&) = delete;

  // `content` to `to` once `after` has passed, from no sender (as anon_send).
  void send(const caf::strong_actor_ptr& to, Clock::duration after, caf::message content);
  // The sec::request_timeout error that CAF's clock would send for request `response_id` of
  // `self` once `after` has passed; an answer that came first makes it a stale response, which
  // CAF drops (as it drops the clock's own after an answer).
  void expire(const caf::strong_actor_ptr& self, Clock::duration after, caf::message_id response_id);

  // Timers set whose message is not yet sent (or dropped, for a gone actor).
  std::size_t pending() const;

 private:
  struct Entry {
    Clock::time_point due;
    std::uint64_t seq;  // ties fire in the order set
    caf::weak_actor_ptr to;
    caf::message content;       // empty: a request's timeout
    caf::message_id response;   // the request's, for a timeout
    bool operator>(const Entry& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  // What the thread shares with the owner. The thread holds it too: the owner may go on the
  // thread itself (a message it fires can hold an actor's last reference, whose state holds the
  // owner), and then the thread cannot be joined and finishes on its own.
  struct Core {
    std::mutex mutex;
    std::condition_variable wake;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    Clock::time_point planned_wake = Clock::time_point::max();  // what the thread sleeps until
    std::uint64_t next_seq = 0;
    std::size_t firing = 0;  // taken off the heap, not yet sent
    bool stopping = false;
  };

  void add(Entry e);
  static void run(const std::shared_ptr<Core>& core);
  static void fire(Entry& e);

  std::shared_ptr<Core> core_ = std::make_shared<Core>();
  std::thread thread_;  // last: started once the core is made
};

// An actor's delayed_send through `timers`; with none, CAF's own (a unit test's deterministic
// scheduler keeps virtual time in CAF's clock).
template <class Self, class... Ts>
void send_later(Self* self, ActorTimers* timers, ActorTimers::Clock::duration after, Ts&&... xs) {
  if (timers == nullptr) return self->delayed_send(self, after, std::forward<Ts>(xs)...);
  timers->send(caf::actor_cast<caf::strong_actor_ptr>(self), after, caf::make_message(std::forward<Ts>(xs)...));
}

// An actor's request with a timeout kept by `timers` (with none, by CAF's clock): the same
// answers, the same sec::request_timeout error.
template <class Self, class Dest, class... Ts>
auto request_within(Self* self, ActorTimers* timers, const Dest& dest, ActorTimers::Clock::duration timeout,
                    Ts&&... xs) {
  if (timers == nullptr) return self->request(dest, timeout, std::forward<Ts>(xs)...);
  auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  timers->expire(caf::actor_cast<caf::strong_actor_ptr>(self), timeout, handle.id());
  return handle;
}

}  // namespace volley
