# Sourced by loadtest/profile.sh and loadtest/thread_stat.sh, which attach perf to the volleyd of
# a Volley-only bench run they started in the background.
#
# bench_volleyd HERE: prints the pid of that volleyd once volley-loadgen runs, or fails if it
# never started within a minute. The one run from our build (VOLLEY_BUILD or HERE/../build), not
# a test's or another on the machine, and the daemon of the run (--config .../volleyd.toml), not
# a short check before it. Attaching only once the injector runs matters to `perf record -p`,
# which samples the threads that exist when it attaches, and volleyd starts some (the spool's)
# after it is up.
bench_volleyd() { # here
  local binary pid="" p
  binary=$(realpath "${VOLLEY_BUILD:-$1/../build}/volleyd")
  for _ in $(seq 1 600); do  # volleyd starts within a minute (nsd and the sink come first)
    for p in $(pgrep -x volleyd || true); do
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$binary" ] || continue
      tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'volleyd.toml' && pid=$p
    done
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || return 1
  for _ in $(seq 1 1200); do pgrep -x volley-loadgen >/dev/null && break; sleep 0.05; done
  echo "$pid"
}
