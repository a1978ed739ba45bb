#pragma once
// The suppression list over HTTP, for the tenant the request acts for (req.tenant: any API key
// manages its own tenant's list; an admin key may name another with ?tenant=<name>, another key
// naming another tenant is 403):
//   GET    /api/v1/suppressions?limit=N&cursor=C  -> 200 {"suppressions":[entry...],"next_cursor":C|null}
//                                                    (limit 1..1000, default 100)
//   GET    /api/v1/suppressions/{email}           -> 200 entry, 404
//   POST   /api/v1/suppressions                   {"email","reason","category","description"} or
//                                                 {"suppressions":[{...}]} (<= 1000), all or nothing
//                                                 -> 201 the stored entry / {"suppressions":[...]},
//                                                    200 when every address was already listed
//   DELETE /api/v1/suppressions/{email}           -> 204, 404
// An entry is {"email","tenant","reason","category","source","description","created_at",
// "updated_at"}, times in milliseconds since the epoch. {email} is percent-decoded. Other paths
// go to `next`.
//
// Reads and writes go to RocksDB on a worker thread of this handler's own, never on the io
// thread that carries every SMTP session and HTTP connection: a POST waits for one synced write
// (about a millisecond), and the answer goes back through the Responder.
#include <functional>
#include <memory>

#include "net/http_server.hpp"
#include "storage/suppression_list.hpp"

namespace volley::api {

class DiskGuard;

struct SuppressionApiConfig {
  std::shared_ptr<storage::SuppressionList> list;  // null: these routes answer 503
  // Called for every entry a POST stored (new or updated), after the write; may be empty.
  std::function<void(const suppression::Entry&)> on_added;
  // While it says the disk is (nearly) full, POST and DELETE answer 503 storage_full (null: never).
  std::shared_ptr<DiskGuard> disk_guard;
};

Handler make_suppression_handler(SuppressionApiConfig cfg, Handler next);

}  // namespace volley::api
