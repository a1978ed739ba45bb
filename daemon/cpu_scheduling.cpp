#include "daemon/cpu_scheduling.hpp"

#include <dirent.h>
#include <sched.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace volley {

std::string apply_scheduling_policy(const std::string& policy) {
  if (policy != "batch") return {};
  // SCHED_BATCH keeps the nice value; from SCHED_OTHER an unprivileged process may choose it
  // (sched(7)). Every thread there is already, not only this one: jemalloc starts its background
  // thread before main() when MALLOC_CONF asks for it.
  sched_param param{};
  param.sched_priority = 0;
  if (::sched_setscheduler(0, SCHED_BATCH, &param) != 0)
    return std::string("sched_setscheduler(SCHED_BATCH): ") + std::strerror(errno);
  if (DIR* tasks = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(tasks)) {
      const int tid = std::atoi(e->d_name);
      if (tid > 0) ::sched_setscheduler(tid, SCHED_BATCH, &param);  // one that ended meanwhile: ESRCH
    }
    ::closedir(tasks);
  }
  return {};
}

}  // namespace volley
