#pragma once
// SPF (RFC 7208) evaluated by libspf2 for the doctor, with a DNS layer of our own: libspf2's
// lookups go to the DoctorResolver (the configured [dns] servers), never to /etc/resolv.conf.
// libspf2 passes loopback clients unconditionally ("localhost is always allowed"): a 127.x
// source always passes.
#include <memory>
#include <string>

#include "core/doctor/auth_checks.hpp"
#include "net/doctor_resolver.hpp"

namespace volley {

class SpfEvaluator {
 public:
  // `resolver` must outlive the evaluator. Throws std::runtime_error if libspf2 cannot start.
  explicit SpfEvaluator(DoctorResolver& resolver);
  ~SpfEvaluator();
  SpfEvaluator(const SpfEvaluator&) = delete;
  SpfEvaluator& operator=(const SpfEvaluator&) = delete;

  // The verdict for mail from postmaster@<domain> sent from `address` saying EHLO `helo`.
  doctor::SpfVerdict evaluate(const std::string& domain, const std::string& address, const std::string& helo);

  struct Library;  // libspf2's server and our DNS layer (spf_evaluator.cpp)

 private:
  DoctorResolver& resolver_;
  std::unique_ptr<Library> lib_;
};

}  // namespace volley
