#pragma once
// Who may use the HTTP API. With no keys configured the API is open (it should then listen on
// loopback only). With keys, every request under /api/ needs "Authorization: Bearer <key>": an
// unknown or missing key is 401, and the key decides the request's tenant and whether it may use
// queue control (HttpRequest::tenant, ::admin). /healthz and /metrics stay open for probes and
// scrapers. Keys are kept as SHA-256 digests and compared in constant time.
#include <memory>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "core/config/config.hpp"
#include "core/util/reloadable.hpp"

namespace volley::api {

using ApiKeyEntry = Config::ApiKey;

// The keys as the handler holds them: a reload (SIGHUP) replaces the whole list at once.
using ApiKeyList = std::vector<ApiKeyEntry>;
using ReloadableApiKeys = util::Reloadable<ApiKeyList>;

Handler make_auth_handler(std::vector<ApiKeyEntry> keys, Handler next);
Handler make_auth_handler(std::shared_ptr<ReloadableApiKeys> keys, Handler next);

}  // namespace volley::api
