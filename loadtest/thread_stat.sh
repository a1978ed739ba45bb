#!/bin/bash
# Per-thread CPU, context switches and system calls of the bench's volleyd in a window of a
# Volley-only bench run: `perf stat --per-thread` attached 1.5 s after the injector starts, for
# WINDOW seconds (default 4), so the run's start and end stay out of it. Finer than the whole
# run's CPU per message for comparing two builds: which thread changed, and by how many calls.
#   bash loadtest/thread_stat.sh OUT [bench.sh options...]    e.g. --sink-chunking
#   VOLLEY_BUILD=DIR  measures that build's volleyd (as bench.sh does)
# OUT gets perf's table; the bench's Volley line is printed. Needs perf (linux-perf) and root (or
# kernel.perf_event_paranoid <= 1) for the syscall tracepoints.
set -euo pipefail
out=${1:?usage: thread_stat.sh OUT [bench.sh options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/volley-thread-stat.XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$here/bench/bench_volleyd.sh"
bench_start "$here" "$work/bench.log" thread_stat.sh -n 30000 "$@"
sleep 1.5
perf stat --per-thread -o "$out" -p "$pid" \
  -e task-clock,cs,syscalls:sys_enter_futex,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom \
  -e syscalls:sys_enter_recvmsg,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_write,syscalls:sys_enter_fdatasync \
  -- sleep "${WINDOW:-4}"
wait "$bench"
grep -E '^\| volley' "$work/bench.log"
