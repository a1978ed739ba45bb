#pragma once
// When a sender may use the MTA-STS policy it cached and when it must fetch it again
// (RFC 8461 §5.1): a cached policy lives for its max_age; a new TXT id means a new policy to
// fetch; a failed fetch (or lookup) keeps a cached policy that has not expired, and a domain
// whose TXT record is gone keeps its unexpired policy too (a published "mode: none" policy is how
// a domain withdraws one, RFC 8461 §8.3). Time is passed in.
#include <chrono>
#include <optional>
#include <string>

#include "core/tls/inputs.hpp"

namespace volley::mta_sts {

using Clock = std::chrono::steady_clock;

struct CachedPolicy {
  tls::StsPolicy policy;
  Clock::time_point fetched_at;

  bool expired(Clock::time_point now) const { return now >= fetched_at + policy.max_age; }
};

// What the _mta-sts TXT lookup said just now.
struct TxtAnswer {
  enum class Kind { record, no_record, failed };
  Kind kind = Kind::failed;
  std::string id;  // kind record: the one STSv1 record's id
};

enum class Action {
  use_cached,  // the cached policy is in force
  fetch,       // fetch the policy (on failure: fallback() below)
  none,        // no policy (and drop any cached one: it has expired)
};

Action decide(const std::optional<CachedPolicy>& cached, const TxtAnswer& txt, Clock::time_point now);

// After a failed fetch: the cached policy while it has not expired, else none.
Action after_failed_fetch(const std::optional<CachedPolicy>& cached, Clock::time_point now);

}  // namespace volley::mta_sts
