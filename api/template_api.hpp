#pragma once
// Stored templates over HTTP (docs/templates.md), for the tenant of the request's API key; another
// tenant's template is answered 404 as if it did not exist (admin keys included):
//   PUT    /api/v1/templates/{name}             {"subject","text","html","headers"?}
//                                               -> 201 {"name","version",...} (the new version)
//   GET    /api/v1/templates/{name}[?version=N] -> 200 the latest (or version N), 404
//   DELETE /api/v1/templates/{name}             -> 204 (every version), 404
//   GET    /api/v1/templates                    -> 200 {"templates":[the latest of each, by name]}
// {name} is [A-Za-z0-9_.-]{1,64}. Other paths go to `next`. Reads and synced writes run on a
// worker thread of this handler's own, never on the io thread.
#include <memory>

#include "net/http_server.hpp"

namespace volley::storage {
class TemplateStore;
}

namespace volley::api {

class DiskGuard;

struct TemplateApiConfig {
  std::shared_ptr<storage::TemplateStore> store;  // null: these routes answer 503
  // While it says the disk is (nearly) full, PUT and DELETE answer 503 storage_full (null: never).
  std::shared_ptr<DiskGuard> disk_guard;
};

Handler make_template_handler(TemplateApiConfig cfg, Handler next);

}  // namespace volley::api
