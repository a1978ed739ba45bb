#pragma once
// The parts of a destination queue (destination_queue.hpp) that its owner sees: the listener
// its decisions go to, a lane (one source's share of the destination), and its settings.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "core/delivery/body_budget.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/job.hpp"
#include "core/delivery/outcome_policy.hpp"
#include "core/delivery/shaping.hpp"

namespace volley::delivery {

// Where a queue's decisions go: the delivery actor reports them (events, metrics, spool), a test
// records them.
template <class Msg>
class QueueListener {
 public:
  virtual ~QueueListener() = default;
  // A recipient's outcome: final (delivered, bounced, expired), or deferred (rcpt.attempts and
  // greylist_retries as they stand, decision.next_attempt_ms when it goes again). lane is
  // kNoSource before a source was chosen; mx_host is "" before a server was reached.
  virtual void outcome(const Job<Msg>& job, const PendingRcpt& rcpt, std::size_t lane, const std::string& mx_host,
                       Decision decision) = 0;
  // The destination told the lane's source to slow down: its egress path backs off.
  virtual void rate_limited(std::size_t lane, std::int64_t now_ms) = 0;
  // A message names a pool that is not configured (any more); its messages use the default pool.
  virtual void unknown_pool(const std::string& pool) = 0;
};

template <class Msg>
struct Lane {
  Source source;  // where it leaves from; a lane follows its source's name across reloads
  std::deque<Job<Msg>> ready;
  Limits limits;
  std::size_t sessions = 0;    // open or opening
  std::size_t connecting = 0;  // not greeted yet
  // After a session of this lane failed to connect or was refused at the greeting, no new
  // session while one is open, and one probe when none is, until a new one is greeted: a dead
  // destination gets one connection attempt per retry, and one that refuses connections beyond
  // what it already has ("421 too many connections") is not asked again after every message.
  bool connect_blocked = false;
};

struct QueueSettings {
  const IpPools* pools = nullptr;         // the sources (one lane each) and pools; outlives the queue
  Limits defaults;                        // before the MX hosts are known, and without shaping rules
  const ReplyClassifier* classifier = nullptr;  // outlives the queue
  BodyBudget* body_budget = nullptr;      // shared by every queue; null: no body beyond the window
  std::int64_t body_budget_limit = 0;
};

// Work that no source may send now (its pool or every source of it suspended) waits this long
// before it is looked at again; a control change looks at it at once.
inline constexpr std::int64_t kParkMs = 30'000;
// How often (at most) the work of a suspended domain is checked against its max age.
inline constexpr std::int64_t kMaxHoldSweepMs = 60'000;
// A source whose socket could not be bound is left out of its pools for this long.
inline constexpr std::int64_t kFailingSourceMs = 60'000;

}  // namespace volley::delivery
