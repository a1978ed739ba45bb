#!/bin/bash
# The spool's group commits in a Volley-only bench run: how many, and their mean duration (the
# bodies' write and fdatasync, then the records' synced RocksDB write), from volleyd's own
# volley_spool_commit_seconds histogram, read from /metrics every 0.2 s while the run lasts (the
# last reading is printed). For comparing two builds' commit paths, interleaved.
#   bash loadtest/commit_latency.sh [bench.sh options...]      e.g. -n 20000
#   VOLLEY_BUILD=DIR  measures that build's volleyd (as bench.sh does)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/volley-commit-latency.XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$here/bench/bench_volleyd.sh"
bench_start "$here" "$work/bench.log" commit_latency.sh -n 20000 "$@"
# volleyd's HTTP listener: the bench's configuration names it.
config=$(tr '\0' '\n' <"/proc/$pid/cmdline" | grep 'volleyd.toml$')
listen=$(sed -n 's/^listen = "\(.*\)"$/\1/p' "$config" | head -1)
last=""
for _ in $(seq 1 1500); do  # at most 300 s, as the bench's own run timeout
  kill -0 "$pid" 2>/dev/null || break
  m=$(curl -s --max-time 1 "http://$listen/metrics" 2>/dev/null | grep -E '^volley_spool_commit_seconds_(sum|count) ' || true)
  [ -n "$m" ] && last=$m
  sleep 0.2
done
wait "$bench"
grep -E '^\| volley' "$work/bench.log"
echo "$last" | awk '/_count/ {c = $2} /_sum/ {s = $2} END {if (c > 0) printf "commits %d, mean %.3f ms\n", c, 1000 * s / c; else print "no commits read"}'
