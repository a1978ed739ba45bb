#pragma once
// Who may use the HTTP API. With no keys configured the API is open (it should then listen on
// loopback only). With keys, every request under /api/ needs "Authorization: Bearer <key>": an
// unknown or missing key is 401, and the key decides the request's tenant and whether it may use
// queue control (HttpRequest::tenant, ::admin). /healthz and /metrics stay open for probes and
// scrapers. Keys are kept as SHA-256 digests and compared in constant time.
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "core/config/config.hpp"

namespace volley::api {

using ApiKeyEntry = Config::ApiKey;

Handler make_auth_handler(std::vector<ApiKeyEntry> keys, Handler next);

}  // namespace volley::api
