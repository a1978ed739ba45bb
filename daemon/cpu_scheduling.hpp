#pragma once
// The Linux scheduling policy volleyd's threads run under ([top level] scheduling_policy).
//
// volleyd's work for one message hops between threads (the HTTP thread, the spool's, the bodies'
// sync, the actors' worker, the SMTP sockets' thread), and each hop wakes a sleeping thread. Under
// the default policy (SCHED_OTHER) the woken thread preempts the one that woke it when they share
// a CPU, so the waker is switched out in the middle of handing over more work, and switched back
// in soon after: about 3 context switches per message on 2 CPUs at 10 KiB. Under SCHED_BATCH a
// woken thread waits for its turn instead (it still gets its fair share of the CPU, and an idle CPU
// runs it at once): a third as many switches, 7-15 % less CPU per message and 2-6 % more messages
// a second on the bench (loadtest/README.md, issue 14's thirteenth round); the injection p99 at half
// the maximum rate did not move.
#include <string>

namespace volley {

// Sets the calling thread's policy: "batch" (SCHED_BATCH) or "inherit" (left as volleyd was
// started, for example by systemd's CPUSchedulingPolicy=). Called before any other thread is
// made, so that every thread inherits it (CAF's, Asio's, RocksDB's). Returns "" or, when the
// kernel refuses (a seccomp filter, for one), what it said: volleyd then runs on as it was.
std::string apply_scheduling_policy(const std::string& policy);

}  // namespace volley
