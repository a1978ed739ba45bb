#include "actors/messages.hpp"

namespace volley {

const char* to_string(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::delivered: return "delivered";
    case OutcomeKind::deferred: return "deferred";
    case OutcomeKind::bounced: return "bounced";
    case OutcomeKind::expired: return "expired";
  }
  return "unknown";
}

}  // namespace volley
