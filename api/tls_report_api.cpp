#include "api/tls_report_api.hpp"

#include <chrono>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "api/http_json.hpp"

namespace volley::api {

namespace {

// Sending waits for TXT lookups, POSTs and the spool, each bounded by the actor's own timeouts.
constexpr auto kSendTimeout = std::chrono::seconds(300);
constexpr auto kShowTimeout = std::chrono::seconds(30);

// One request to the report actor on a short-lived actor; the Responder may run on any thread.
template <class Atom>
void ask(const TlsReportApiConfig& cfg, Responder respond, std::chrono::seconds timeout, Atom atom) {
  cfg.system->spawn(
      [](caf::event_based_actor* self, tls_report_actor reports, Responder respond, std::chrono::seconds timeout, Atom atom) {
        self->request(reports, timeout, atom)
            .then([respond](const std::string& body) { respond(json_response(200, body)); },
                  [respond](const caf::error& err) {
                    respond(error_response(503, "tls_reports_unavailable",
                                           "the TLS report actor did not answer: " + to_string(err)));
                  });
      },
      cfg.reports, std::move(respond), timeout, atom);
}

}  // namespace

Handler make_tls_report_handler(TlsReportApiConfig config, Handler next) {
  auto cfg = std::make_shared<const TlsReportApiConfig>(std::move(config));
  return [cfg, next = std::move(next)](HttpRequest&& req, Responder respond) {
    const auto path = req.path();
    const bool list = path == "/api/v1/tls-reports", send = path == "/api/v1/tls-reports/send";
    if (!list && !send) return next(std::move(req), std::move(respond));
    if (!req.admin)
      return respond(error_response(403, "forbidden", "this API key may not use TLS reports (admin = false)"));
    if (!cfg->reports) return respond(error_response(404, "not_enabled", "[tls_reporting] is not enabled"));
    if (list) {
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      return ask(*cfg, std::move(respond), kShowTimeout, tls_reports_atom::value);
    }
    if (req.method != "POST") return respond(method_not_allowed("POST"));
    ask(*cfg, std::move(respond), kSendTimeout, tls_send_atom::value);
  };
}

}  // namespace volley::api
