#pragma once
// The sender's DNS checked on demand, admin keys only:
//   GET /api/v1/doctor   runs the doctor (docs/doctor.md) and answers its findings as JSON:
//                        {"ok": ..., "counts": {...}, "findings": [...]}, 200 whatever they say
// One run at a time: a request during a run answers 409. Anything else goes to `next`.
#include <functional>
#include <string>

#include "net/http_server.hpp"

namespace volley::api {

struct DoctorApiConfig {
  // Starts a run that calls `done` with the JSON body when it is over, on any thread; false
  // (and `done` never called) when a run is already under way.
  std::function<bool(std::function<void(std::string)> done)> run;
};

Handler make_doctor_handler(DoctorApiConfig config, Handler next);

}  // namespace volley::api
