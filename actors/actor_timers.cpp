#include "actors/actor_timers.hpp"

#include <pthread.h>

#include <caf/abstract_actor.hpp>
#include <caf/sec.hpp>

namespace volley {

ActorTimers::ActorTimers() : thread_([core = core_] { run(core); }) {}

ActorTimers::~ActorTimers() {
  {
    std::lock_guard lock(core_->mutex);
    core_->stopping = true;
  }
  core_->wake.notify_one();
  if (thread_.get_id() == std::this_thread::get_id())
    thread_.detach();  // going on the timer thread itself: it stops when this firing is done
  else
    thread_.join();
}

void ActorTimers::send(const caf::strong_actor_ptr& to, Clock::duration after, caf::message content) {
  add(Entry{Clock::now() + after, 0, caf::weak_actor_ptr(to.get()), std::move(content), {}});
}

void ActorTimers::expire(const caf::strong_actor_ptr& self, Clock::duration after, caf::message_id response_id) {
  add(Entry{Clock::now() + after, 0, caf::weak_actor_ptr(self.get()), {}, response_id});
}

std::size_t ActorTimers::pending() const {
  std::lock_guard lock(core_->mutex);
  return core_->heap.size() + core_->firing;
}

void ActorTimers::add(Entry e) {
  auto& c = *core_;
  bool sooner = false;
  {
    std::lock_guard lock(c.mutex);
    e.seq = c.next_seq++;
    // The thread sleeps until planned_wake: only a timer due before that needs it now.
    sooner = e.due + kSlack < c.planned_wake;
    if (sooner) c.planned_wake = e.due + kSlack;
    c.heap.push(std::move(e));
  }
  if (sooner) c.wake.notify_one();
}

void ActorTimers::run(const std::shared_ptr<Core>& core) {
  pthread_setname_np(pthread_self(), "volley.timers");
  auto& c = *core;
  std::vector<Entry> due;
  std::unique_lock lock(c.mutex);
  while (!c.stopping) {
    const auto now = Clock::now();
    while (!c.heap.empty() && c.heap.top().due <= now) {
      // priority_queue's top is const; the entry is moved out just before it is popped (the
      // order, by due and seq, survives the move).
      due.push_back(std::move(const_cast<Entry&>(c.heap.top())));
      c.heap.pop();
    }
    if (!due.empty()) {
      c.firing = due.size();
      lock.unlock();
      for (auto& e : due) fire(e);
      due.clear();
      lock.lock();
      c.firing = 0;
      continue;  // time passed while firing
    }
    c.planned_wake = c.heap.empty() ? Clock::time_point::max() : c.heap.top().due + kSlack;
    const auto until = c.planned_wake;  // add() may move planned_wake while this waits
    if (until == Clock::time_point::max())
      c.wake.wait(lock);
    else
      c.wake.wait_until(lock, until);
  }
}

void ActorTimers::fire(Entry& e) {
  auto to = e.to.lock();
  if (!to) return;  // the actor is gone, and its mail with it
  if (e.response.is_response())
    to->get()->eq_impl(e.response, to, nullptr, caf::sec::request_timeout);
  else
    to->enqueue(nullptr, caf::make_message_id(), std::move(e.content), nullptr);
}

}  // namespace volley
