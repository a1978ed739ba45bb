#pragma once
// Cancelling scheduled mail (docs/scheduling.md):
//   POST /api/v1/messages/{id}/cancel          a message held for its send_at or its tenant's
//                                              sending window -> 200 {"id","cancelled":<recipients>}
//   POST /api/v1/campaigns/{campaign}/cancel   every held message of the campaign
//                                              -> 200 {"campaign","cancelled":<messages>}
// Both act on the caller's tenant only (an admin key too: cancelling is the tenant's business).
// Another tenant's message is 404 as its status is; a message that is known but not held (its
// first attempt was made or is under way, it was delivered, or it was cancelled already) is
// 409 not_scheduled. Each cancelled recipient gets the event "cancelled" and leaves the spool.
// Anything else goes to `next`.
#include <caf/fwd.hpp>

#include "actors/router.hpp"
#include "api/injection_api.hpp"
#include "net/http_server.hpp"

namespace volley::api {

struct CancelApiConfig {
  caf::actor_system* system = nullptr;
  router_actor router;  // holds the scheduled messages
  StatusLookup status;  // tells a message that is not held from one that does not exist
};

Handler make_cancel_handler(CancelApiConfig config, Handler next);

}  // namespace volley::api
