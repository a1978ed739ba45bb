#include "daemon/cpu_scheduling.hpp"

#include <sched.h>

#include <cerrno>
#include <cstring>

namespace volley {

std::string apply_scheduling_policy(const std::string& policy) {
  if (policy != "batch") return {};
  // SCHED_BATCH keeps the nice value; an unprivileged process may choose it (sched(7)).
  sched_param param{};
  param.sched_priority = 0;
  if (::sched_setscheduler(0, SCHED_BATCH, &param) == 0) return {};
  return std::string("sched_setscheduler(SCHED_BATCH): ") + std::strerror(errno);
}

}  // namespace volley
