# Sourced by loadtest/profile.sh, thread_stat.sh and commit_latency.sh, which watch the volleyd of
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

# bench_start HERE LOG NAME [bench.sh options]: starts a Volley-only bench run (one round) in the
# background, its output in LOG, and waits for its volleyd as above. Sets `bench` (the run's pid,
# to wait for) and `pid` (volleyd's); prints the log and exits as NAME if volleyd never started.
bench_start() { # here log name [bench.sh options]
  local here=$1 log=$2 name=$3
  shift 3
  bash "$here/bench.sh" --only volley -r 1 "$@" >"$log" 2>&1 &
  bench=$!
  pid=$(bench_volleyd "$here") || { cat "$log"; echo "$name: volleyd never started" >&2; exit 1; }
}
