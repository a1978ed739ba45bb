#pragma once
// SMTP TLS Reporting (RFC 8460) for operators, admin keys only:
//   GET  /api/v1/tls-reports        the running aggregate and the days waiting to be sent
//   POST /api/v1/tls-reports/send   ends the current period now and sends every report due;
//                                   answers with each report's destinations and results
// Anything else goes to `next`. Without [tls_reporting] enabled both answer 404.
#include <caf/fwd.hpp>

#include "actors/tls_report_actor.hpp"
#include "net/http_server.hpp"

namespace volley::api {

struct TlsReportApiConfig {
  caf::actor_system* system = nullptr;
  tls_report_actor reports;  // invalid: reporting is off
};

Handler make_tls_report_handler(TlsReportApiConfig config, Handler next);

}  // namespace volley::api
