#!/usr/bin/env bash
# Issue 3's queue target: N messages queued behind a destination that defers everything, then
# Volley's memory, a restart, how long re-enumerating the spool takes and how soon a new message is
# delivered after the restart. Loopback only; every wait is bounded. Needs a Release build
# (./run.sh or bench.sh makes one) and smtp-sink (scripts/deps.sh).
#   loadtest/queue_memory.sh [N messages, default 1000000] [body bytes, default 1024]
set -euo pipefail
N=${1:-1000000} SIZE=${2:-1024}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
[ -x "$B/volleyd" ] && [ -x "$B/loadtest/volley-loadgen" ] || { echo "build volleyd first (./run.sh or loadtest/bench.sh)" >&2; exit 1; }
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: run scripts/deps.sh" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/volley-queue.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
HTTP=127.0.0.1:18127
cat >"$W/volleyd.toml" <<T
hostname = "volley.queue.test"
[http]
listen = "$HTTP"
[spool]
path = "$W/spool"
[delivery]
connect_timeout = "2s"
# Nothing listens on port 9 of 127.0.0.1: every attempt is refused and deferred (first retry
# after 5 minutes), so the whole queue stays queued for the measurement.
[[route]]
domain = "deferred.test"
host = "127.0.0.1"
port = 9
[[route]]
domain = "live.test"
host = "127.0.0.1"
port = 18128
[log]
event_log = "$W/events.jsonl"
level = "info"
T
user=(); [ "$(id -u)" -eq 0 ] && user=(-u nobody)
smtp-sink "${user[@]}" 127.0.0.1:18128 100 >"$W/sink.log" 2>&1 & PIDS+=($!)
start() { "$B/volleyd" --config "$W/volleyd.toml" >>"$W/volleyd.log" 2>&1 & V=$!; PIDS+=($V); }
wait_http() { for _ in $(seq 1200); do curl -sf "http://$HTTP/healthz" >/dev/null && return 0; sleep 0.05; done; return 1; }
rss() { awk '/VmRSS|VmHWM/ {printf "%s %.0f MiB  ", $1, $2/1024}' "/proc/$1/status"; }
secs() { python3 -c "print(round($2 - $1, 2))"; }

start; wait_http || { echo "volleyd did not start:"; cat "$W/volleyd.log"; exit 1; } >&2
echo "injecting $N messages of $SIZE bytes to a deferring destination"
"$B/loadtest/volley-loadgen" --target "$HTTP" -n "$N" -d 1800 -c 16 -b 100 -s "$SIZE" \
  --domains deferred.test --no-progress --json "$W/inject.json" >/dev/null
python3 -c "import json; j=json.load(open('$W/inject.json')); print('injected', j['injected'], 'at', round(j['injected_per_second']), 'msg/s')"
sleep 5  # the last batches' first attempts and deferrals settle
echo "queued:        $(rss "$V") spool $(du -sh "$W/spool" | cut -f1)"
kill "$V"; wait "$V" || true
t0=$(date +%s.%N); start
wait_http || { echo "volleyd did not come back" >&2; exit 1; }
t1=$(date +%s.%N)
curl -sf -XPOST -H 'Content-Type: application/json' "http://$HTTP/api/v1/messages" \
  -d '{"from":"a@volley.test","to":["x@live.test"],"subject":"after restart","text":"hi"}' >/dev/null
for _ in $(seq 1200); do grep -q '"delivered"' "$W/events.jsonl" 2>/dev/null && break; sleep 0.05; done
t2=$(date +%s.%N)
grep -q '"delivered"' "$W/events.jsonl" || { echo "the new message was not delivered within 60 s" >&2; exit 1; }
echo "restart:       API up after $(secs "$t0" "$t1") s (spool re-enumerated), new message delivered $(secs "$t0" "$t2") s after start"
grep -h "spool recovery:" "$W/volleyd.log" | tail -1
sleep 3
echo "after restart: $(rss "$V")"
