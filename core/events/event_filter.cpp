#include "core/events/event_filter.hpp"

#include <algorithm>

#include "core/util/ascii.hpp"

namespace volley::events {

bool matches(const EventFilter& f, const EventKey& e) {
  if (!f.tenant.empty() && f.tenant != e.tenant) return false;
  if (!f.types.empty() && std::find(f.types.begin(), f.types.end(), e.type) == f.types.end()) return false;
  // Domains compare without case: the filter comes from a person, the event from an address.
  if (!f.domain.empty() && !util::ascii_iequals(f.domain, e.domain)) return false;
  if (!f.id.empty() && f.id != e.rcpt_id && f.id != e.message_id) return false;
  return true;
}

}  // namespace volley::events
