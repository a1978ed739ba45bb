#include "actors/actor_timers.hpp"

#include <pthread.h>

#include <caf/abstract_actor.hpp>
#include <caf/sec.hpp>

namespace volley {

ActorTimers::ActorTimers() : thread_([this] { run(); }) {}

ActorTimers::~ActorTimers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ActorTimers::send(const caf::strong_actor_ptr& to, Clock::duration after, caf::message content) {
  add(Entry{Clock::now() + after, 0, caf::weak_actor_ptr(to.get()), std::move(content), {}});
}

void ActorTimers::expire(const caf::strong_actor_ptr& self, Clock::duration after, caf::message_id response_id) {
  add(Entry{Clock::now() + after, 0, caf::weak_actor_ptr(self.get()), {}, response_id});
}

std::size_t ActorTimers::pending() const {
  std::lock_guard lock(mutex_);
  return heap_.size() + firing_;
}

void ActorTimers::add(Entry e) {
  bool sooner = false;
  {
    std::lock_guard lock(mutex_);
    e.seq = next_seq_++;
    // The thread sleeps until planned_wake_: only a timer due before that needs it now.
    sooner = e.due + kSlack < planned_wake_;
    if (sooner) planned_wake_ = e.due + kSlack;
    heap_.push(std::move(e));
  }
  if (sooner) wake_.notify_one();
}

void ActorTimers::run() {
  pthread_setname_np(pthread_self(), "volley.timers");
  std::vector<Entry> due;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    while (!heap_.empty() && heap_.top().due <= now) {
      // priority_queue's top is const; the entry is moved out just before it is popped.
      due.push_back(std::move(const_cast<Entry&>(heap_.top())));
      heap_.pop();
    }
    if (!due.empty()) {
      firing_ = due.size();
      lock.unlock();
      for (auto& e : due) fire(e);
      due.clear();
      lock.lock();
      firing_ = 0;
      continue;  // time passed while firing
    }
    planned_wake_ = heap_.empty() ? Clock::time_point::max() : heap_.top().due + kSlack;
    if (planned_wake_ == Clock::time_point::max())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, planned_wake_);
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
