#include "api/doctor_api.hpp"

#include <memory>
#include <utility>

#include "api/http_json.hpp"

namespace volley::api {

Handler make_doctor_handler(DoctorApiConfig config, Handler next) {
  auto cfg = std::make_shared<const DoctorApiConfig>(std::move(config));
  return [cfg, next = std::move(next)](HttpRequest&& req, Responder respond) {
    if (req.path() != "/api/v1/doctor") return next(std::move(req), std::move(respond));
    if (!req.admin) return respond(error_response(403, "forbidden", "this API key may not run the doctor (admin = false)"));
    if (req.method != "GET") return respond(method_not_allowed("GET"));
    if (!cfg->run) return respond(error_response(404, "not_enabled", "the doctor is not available"));
    const bool started = cfg->run([respond](std::string body) { respond(json_response(200, std::move(body))); });
    if (!started) respond(error_response(409, "doctor_running", "a doctor run is under way: ask again when it is over"));
  };
}

}  // namespace volley::api
