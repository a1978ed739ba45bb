#pragma once
// The unit of work of a destination queue: recipients of one message, for one destination,
// delivered in one SMTP transaction (split when a transaction may take fewer recipients).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/delivery/body_budget.hpp"

namespace volley::delivery {

// A message body in SMTP wire form, shared read-only by every recipient and attempt that sends it.
using Body = std::shared_ptr<const std::string>;

// A recipient as a destination queue holds it. Its message and domain are its job's and its
// queue's, and its last reply stays in the spool: a million deferred recipients live here.
struct PendingRcpt {
  std::string recipient;
  std::uint32_t index = 0;  // its id is spool::recipient_id(message id, index)
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::uint16_t greylist_retries = 0;  // greylisting replies so far (they have their own schedule)
};

// No source: work that no source may send now, or an outcome reached before any connection.
inline constexpr std::size_t kNoSource = ~std::size_t{0};

// Msg is the queued message (actors use QueuedMessage; tests their own): the queue reads its
// `id`, `pool` ("" = the default pool), `received_at_ms`, and `body()` (a Body while anyone
// holds it, else null).
template <class Msg>
struct Job {
  std::shared_ptr<const Msg> msg;
  std::vector<PendingRcpt> rcpts;
  Body body;  // held only while the job is ready or in flight
  BudgetClaim claim = {};  // when the body is held beyond the body window
  // The source a greylister saw: greylisting keys on the client address, so retries go out
  // from the same one (an index into IpPools::sources).
  std::size_t pinned = kNoSource;
};

}  // namespace volley::delivery
