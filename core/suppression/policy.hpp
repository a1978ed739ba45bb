#pragma once
// Whether an outcome puts its recipient's address on the tenant's suppression list: the one
// decision every path that suppresses takes (synchronous bounces, asynchronous bounces,
// complaints). Pure; the suppression actor writes what it decides.
//   - bounced (a 5xx in the session): its category is one of the suppressing categories, and
//     the reply was about the recipient (smtp::about_recipient: a refused greeting, EHLO, MAIL
//     or DATA is about our client, our sender or the transaction, not the address);
//   - async_bounce: its category is one of the suppressing categories;
//   - complaint: complaints suppress ([suppression] complaints), any feedback type but not-spam;
//   - anything else (delivered, deferred, expired, received, suppressed): never.
// An outcome without a tenant or a recipient has no list to go on.
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/events/outcome.hpp"
#include "core/suppression/entry.hpp"

namespace volley::suppression {

struct Policy {
  std::unordered_set<std::string> bounce_categories;  // [suppression] bounce_categories
  bool complaints = true;                             // [suppression] complaints

  Policy() = default;
  Policy(const std::vector<std::string>& categories, bool suppress_complaints)
      : bounce_categories(categories.begin(), categories.end()), complaints(suppress_complaints) {}
};

// Whether the outcome calls for suppressing its address. Allocation-free: the events actor asks
// it of every outcome delivery reports.
bool suppresses(const events::Outcome& o, const Policy& policy);

// The entry the outcome calls for, or nullopt when it calls for none (suppresses() is false).
// Its email is the recipient as reported (the list normalises it), its times 0 (the list stamps
// them).
std::optional<Entry> entry_for(const events::Outcome& o, const Policy& policy);

}  // namespace volley::suppression
