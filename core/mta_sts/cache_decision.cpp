#include "core/mta_sts/cache_decision.hpp"

namespace volley::mta_sts {

Action decide(const std::optional<CachedPolicy>& cached, const TxtAnswer& txt, Clock::time_point now) {
  const bool usable = cached && !cached->expired(now);
  switch (txt.kind) {
    case TxtAnswer::Kind::record:
      // Same id and still fresh: nothing changed. A new id, or an expired policy whose domain
      // still publishes one, is fetched again.
      if (usable && cached->policy.id == txt.id) return Action::use_cached;
      return Action::fetch;
    case TxtAnswer::Kind::no_record:
    case TxtAnswer::Kind::failed:
      return usable ? Action::use_cached : Action::none;
  }
  return Action::none;
}

Action after_failed_fetch(const std::optional<CachedPolicy>& cached, Clock::time_point now) {
  return cached && !cached->expired(now) ? Action::use_cached : Action::none;
}

}  // namespace volley::mta_sts
