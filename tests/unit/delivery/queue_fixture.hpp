#pragma once
// A destination queue on simulated time, with a listener that records what it decides.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/delivery/destination_queue.hpp"

namespace volley::delivery::testing {

// What a queue needs of a message (job.hpp).
struct TestMessage {
  std::string id;
  std::string pool;  // "" = the default pool
  std::int64_t received_at_ms = 0;
  Body stored;  // what body() finds (as if another job still held it)
  Body body() const { return stored; }
};
using TestJob = Job<TestMessage>;
using TestQueue = DestinationQueue<TestMessage>;

struct Recorded {
  std::string recipient;
  std::size_t lane = kNoSource;
  std::string mx_host;
  std::uint32_t attempts = 0;
  std::uint16_t greylist_retries = 0;
  Decision decision;
};

class Recorder final : public QueueListener<TestMessage> {
 public:
  void outcome(const TestJob&, const PendingRcpt& r, std::size_t lane, const std::string& mx_host,
               Decision d) override {
    outcomes.push_back(Recorded{r.recipient, lane, mx_host, r.attempts, r.greylist_retries, std::move(d)});
  }
  void rate_limited(std::size_t lane, std::int64_t now_ms) override { slowed.emplace_back(lane, now_ms); }
  void unknown_pool(const std::string& pool) override { unknown.push_back(pool); }

  std::vector<Recorded> take() { return std::exchange(outcomes, {}); }

  std::vector<Recorded> outcomes;
  std::vector<std::pair<std::size_t, std::int64_t>> slowed;
  std::vector<std::string> unknown;
};

inline constexpr std::int64_t kSecond = 1000;
inline constexpr std::int64_t kMinute = 60 * kSecond;
inline constexpr std::int64_t kHour = 60 * kMinute;

// Two sources of equal weight in pool "shared" (the default), one source alone in pool "solo".
inline IpPools two_sources() {
  IpPools p;
  p.sources = {{"ip1", "192.0.2.1", "o1.example"}, {"ip2", "192.0.2.2", "o2.example"}, {"ip3", "192.0.2.3", "o3.example"}};
  p.pools = {{"shared", {{"ip1", 1}, {"ip2", 1}}}, {"solo", {{"ip3", 1}}}};
  p.default_pool = "shared";
  return p;
}

inline Limits test_limits() {
  Limits l;
  l.max_connections = 2;
  l.retry.first = std::chrono::seconds(300);
  l.retry.max_interval = std::chrono::seconds(3600);
  l.retry.max_age = std::chrono::seconds(24 * 3600);
  l.retry.greylist = {std::chrono::seconds(60), std::chrono::seconds(120)};
  return l;
}

// The queue with its pools, classifier, budget and recorder.
struct QueueRig {
  explicit QueueRig(Limits limits = test_limits(), std::int64_t budget_limit = 1 << 20,
                    EgressControlPtr control = nullptr)
      : pools(two_sources()),
        classifier(ReplyClassifier::builtin()),
        queue("example.com", QueueSettings{&pools, limits, &classifier, &budget, budget_limit}, std::move(control)) {}

  // A message of n recipients r0@example.com..., received at received_ms, due at due_ms.
  TestJob job(const std::string& id, std::size_t n, std::int64_t received_ms = 0, std::int64_t due_ms = 0,
              std::string pool = "", std::size_t body_bytes = 100) {
    auto msg = std::make_shared<TestMessage>();
    msg->id = id;
    msg->pool = std::move(pool);
    msg->received_at_ms = received_ms;
    TestJob j{msg, {}, std::make_shared<const std::string>(body_bytes, 'x'), {}};
    for (std::size_t i = 0; i < n; ++i)
      j.rcpts.push_back(PendingRcpt{"r" + std::to_string(i) + "@example.com", static_cast<std::uint32_t>(i), 0, due_ms});
    return j;
  }
  // The lane that holds ready work (kNoSource: none does).
  std::size_t ready_lane() const {
    for (std::size_t l = 0; l < queue.lane_count(); ++l)
      if (!queue.lane(l).ready.empty()) return l;
    return kNoSource;
  }

  IpPools pools;
  ReplyClassifier classifier;
  BodyBudget budget{0};
  Recorder out;
  TestQueue queue;
};

// Replies a destination gives.
inline smtp::Reply greylisted() { return smtp::Reply::synthetic(451, "4.7.1", "greylisted, please try again later"); }
inline smtp::Reply local_problem() { return smtp::Reply::synthetic(451, "4.3.0", "local problem"); }
inline smtp::Reply too_many() { return smtp::Reply::synthetic(421, "4.7.0", "too many connections from your IP"); }
inline smtp::Reply accepted() { return smtp::Reply::synthetic(250, "2.0.0", "ok"); }

inline EgressControlPtr control_with(QueueScope::Kind kind, const std::string& name, std::int64_t until_ms = 0) {
  auto c = std::make_shared<EgressControl>();
  Suspension s{0, until_ms, "maintenance"};
  (kind == QueueScope::Kind::domain ? c->domains : kind == QueueScope::Kind::pool ? c->pools : c->sources)[name] = s;
  return c;
}

}  // namespace volley::delivery::testing
