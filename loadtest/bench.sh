#!/usr/bin/env bash
# Volley against Postfix on one machine, loopback only: the same messages, resolved through the
# same DNS server (nsd) and delivered to the same SMTP sink (Postfix's smtp-sink), plus the sink's
# own ceiling. Runs interleave (sink, volley, postfix, sink, ...) and repeat; medians are printed.
# With --dkim and --tls both MTAs sign (Volley itself, Postfix through OpenDKIM as its milter) and
# deliver over STARTTLS (to volley-receiver with a certificate); --matrix runs every combination
# the cost table of loadtest/README.md asks for, interleaved, and prints that table.
# Every wait is bounded; the bench stops by itself and removes its processes and files.
# Needs root (nsd on port 53 of a loopback address, a mount namespace for Postfix's resolv.conf).
# See loadtest/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: loadtest/bench.sh [options]
  -n, --messages N     messages per run, one recipient each (default 20000)
  -s, --size SIZE      body size: 1KiB, 10KiB, 100KiB or bytes (default 10KiB)
      --domains D      recipient domains, e.g. 1, 20 or 10000 (default 20)
  -r, --repeat R       rounds of sink, volley, postfix (default 3)
      --conns C        SMTP sessions per destination domain, both MTAs (default 4)
      --concurrency C  injection connections, both MTAs (default 32)
      --rate R         Volley's injection at most R msg/s (volley-loadgen -r; default 0, as fast as it
                       takes them): the injection latency at a given load, e.g. half the maximum
      --sink-sessions S  smtp-source sessions for the sink ceiling (default 32)
      --sink-chunking  the sink is volley-receiver offering CHUNKING in every mode (Volley then
                       sends BDAT; Postfix and smtp-source never do)
      --only LIST      some of sink,volley,postfix (default all three)
      --volley-inject I  how mail enters Volley: http (volley-loadgen, default) or smtp: its
                       submission listener from a trusted network, with the injector Postfix gets
                       (the comparison on equal terms: SMTP in, SMTP out)
      --smtp-injector I  how mail enters Postfix: source (smtp-source), python (bench/smtp_inject.py)
                       or auto: smtp-source unless domains > concurrency (default auto)
      --quick          2000 messages, 1 round (for development)
      --timeout S      give up on one run after S seconds (default 180)
      --budget S       start no new run after S seconds in all (default 720): with the timeout,
                       the bench ends within budget + timeout + a minute
      --dns-addr A     loopback address for nsd on port 53 (default 127.53.0.1)
      --sink-addr A    loopback address of the sink, the MX hosts' address (default 127.0.0.2)
      --workdir DIR    where the temporary directory goes; spools fsync there (default /tmp)
      --results FILE   also keep the per-run JSON lines here
      --keep           keep the temporary directory (logs, configs) for a look afterwards
      --volley-toml F  TOML appended to volleyd's configuration (e.g. a [[webhook]] to measure)
  DKIM and TLS (see loadtest/README.md, "DKIM and TLS"):
      --dkim MODE      none, ed25519, rsa (RSA-2048) or both: Volley signs with [[dkim]] keys the
                       bench makes, Postfix through OpenDKIM milters with the same keys (default none)
      --tls            the sink is volley-receiver offering STARTTLS (self-signed certificate);
                       Volley delivers with its default opportunistic TLS, Postfix with "may"
      --modes LIST     several of none, ed25519, rsa, both, tls, ed25519+tls, rsa+tls, both+tls,
                       interleaved in every round, with a table of what each costs
      --matrix         --modes none,ed25519,rsa,both,tls,rsa+tls; unless given, --budget 2700
                       and --timeout 300
      --shape matrix   every shape of issue 14's table in turn (10 KiB, 1 KiB, 100 KiB at 20 domains,
                       10 KiB at 10,000 domains, DKIM + STARTTLS), one table against the targets
                       (loadtest/shapes.sh; -r, -n and the other options apply to every shape)
      --verify         check the signatures: smtp-sink keeps every message (-d) and python3-dkim
                       verifies them after each run (a check, not a measurement; modes without TLS)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/loadtest/bench
# VOLLEY_BUILD: another build directory (a before/after with one bench.sh); VOLLEYD_WRAP: a command
# volleyd runs under (e.g. "heaptrack -o FILE" to count allocations per message; CPU figures then
# include the wrapper).
BUILD=${VOLLEY_BUILD:-$ROOT/build}
# Debian's python3 (deps.sh installs it); a version manager's shim would add its start-up to every call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TOOL=("$PY" "$HERE/benchtool.py")

MESSAGES=20000 SIZE=10240 DOMAINS=20 REPEAT=3 CONNS=4 CONCURRENCY=32 SINK_SESSIONS=32 RATE=0
ONLY=sink,volley,postfix TIMEOUT=180 BUDGET=720 DNS_ADDR=127.53.0.1 SINK_ADDR=127.0.0.2
WORKBASE=${TMPDIR:-/tmp} RESULTS="" KEEP=0 QUICK=0 INJECTOR=auto VOLLEY_TOML="" VOLLEY_INJECT=http SINK_CHUNKING=0
DKIM_OPT=none TLS_OPT=0 MODES="" VERIFY=0 BUDGET_SET=0 TIMEOUT_SET=0
# The From: domain of both MTAs' messages (volley-loadgen --from, smtp-source -f) and the d= of
# their signatures.
SIGN_DOMAIN=client.bench.test
MATRIX=none,ed25519,rsa,both,tls,rsa+tls

size_bytes() {
  case "${1,,}" in
    *kib | *k) echo $(( ${1%[kK]*} * 1024 )) ;;
    *mib | *m) echo $(( ${1%[mM]*} * 1024 * 1024 )) ;;
    *[!0-9]* | "") echo "bench: bad size '$1'" >&2; exit 2 ;;
    *) echo "$1" ;;
  esac
}
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "bench: $1 needs a positive integer, not '$2'" >&2; exit 2; }; }

ALL_ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --messages) MESSAGES=$2; shift 2 ;;
    -s | --size) SIZE=$(size_bytes "$2"); shift 2 ;;
    --domains) DOMAINS=$2; shift 2 ;;
    -r | --repeat) REPEAT=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --sink-sessions) SINK_SESSIONS=$2; shift 2 ;;
    --sink-chunking) SINK_CHUNKING=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --smtp-injector) INJECTOR=$2; shift 2 ;;
    --volley-inject) VOLLEY_INJECT=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --timeout) TIMEOUT=$2; TIMEOUT_SET=1; shift 2 ;;
    --budget) BUDGET=$2; BUDGET_SET=1; shift 2 ;;
    --dkim) DKIM_OPT=$2; shift 2 ;;
    --tls) TLS_OPT=1; shift ;;
    --modes) MODES=$2; shift 2 ;;
    --matrix) MODES=$MATRIX; shift ;;
    --verify) VERIFY=1; shift ;;
    --shape)
      [ "${2:-}" = matrix ] || { echo "bench: --shape takes 'matrix'" >&2; exit 2; }
      PASS=()
      for a in "${ALL_ARGS[@]}"; do [ "$a" = --shape ] || [ "$a" = matrix ] || PASS+=("$a"); done
      exec bash "$(dirname "$0")/shapes.sh" "${PASS[@]}" ;;
    --dns-addr) DNS_ADDR=$2; shift 2 ;;
    --sink-addr) SINK_ADDR=$2; shift 2 ;;
    --workdir) WORKBASE=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --volley-toml) VOLLEY_TOML=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then MESSAGES=2000 REPEAT=1; fi
[[ "$DKIM_OPT" =~ ^(none|ed25519|rsa|both)$ ]] || { echo "bench: --dkim is none, ed25519, rsa or both" >&2; exit 2; }
# A mode is a DKIM choice, "+tls" for STARTTLS; "tls" alone is none+tls.
mode_name() { # dkim tls(0|1)
  if [ "$2" = 1 ]; then [ "$1" = none ] && echo tls || echo "$1+tls"; else echo "$1"; fi
}
if [ -z "$MODES" ]; then
  MODES=$(mode_name "$DKIM_OPT" "$TLS_OPT")
elif [ "$DKIM_OPT" != none ] || [ "$TLS_OPT" = 1 ]; then
  echo "bench: --modes/--matrix replace --dkim and --tls" >&2; exit 2
fi
MODE_LIST=()
for m in ${MODES//,/ }; do
  [[ "$m" =~ ^(none|ed25519|rsa|both)(\+tls)?$|^tls$ ]] || { echo "bench: unknown mode '$m'" >&2; exit 2; }
  [[ " ${MODE_LIST[*]} " == *" $m "* ]] || MODE_LIST+=("$m")
done
[ "${#MODE_LIST[@]}" -gt 0 ] || { echo "bench: --modes is empty" >&2; exit 2; }
if [ "${#MODE_LIST[@]}" -gt 1 ]; then
  [ "$BUDGET_SET" = 1 ] || BUDGET=2700
  [ "$TIMEOUT_SET" = 1 ] || TIMEOUT=300
fi
# What the modes need, all of them together.
NEED_RSA=0 NEED_ED=0 NEED_TLS=0 NEED_DKIM=0
for m in "${MODE_LIST[@]}"; do
  case "$m" in rsa* | both*) NEED_RSA=1 NEED_DKIM=1 ;; esac
  case "$m" in ed25519* | both*) NEED_ED=1 NEED_DKIM=1 ;; esac
  case "$m" in *tls) NEED_TLS=1 ;; esac
done
for v in MESSAGES SIZE DOMAINS REPEAT CONNS CONCURRENCY SINK_SESSIONS TIMEOUT BUDGET; do positive "$v" "${!v}"; done
[[ "$RATE" =~ ^[0-9]+$ ]] || { echo "bench: --rate needs a whole number of msg/s, not '$RATE'" >&2; exit 2; }
[[ "$INJECTOR" =~ ^(auto|source|python)$ ]] || { echo "bench: --smtp-injector is auto, source or python" >&2; exit 2; }
[[ "$VOLLEY_INJECT" =~ ^(http|smtp)$ ]] || { echo "bench: --volley-inject is http or smtp" >&2; exit 2; }
# Volley's submission listener needs a certificate even when the bench's clients do not use TLS.
[ "$VOLLEY_INJECT" = http ] || NEED_TLS=1
if [ "$INJECTOR" = auto ]; then
  INJECTOR=source
  [ "$DOMAINS" -le "$CONCURRENCY" ] || INJECTOR=python
fi
[ "$DOMAINS" -le 10000 ] || { echo "bench: at most 10000 domains" >&2; exit 2; }
for a in "$DNS_ADDR" "$SINK_ADDR"; do
  [[ "$a" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ && "$a" != 127.0.0.1 ]] ||
    { echo "bench: $a: use a 127.x.y.z address other than 127.0.0.1 (Postfix listens there)" >&2; exit 2; }
done

# --- prerequisites --------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (nsd on port 53, mount namespace for Postfix)" >&2; exit 1; }
for b in nsd nsd-checkzone smtp-sink smtp-source postfix postconf unshare python3 curl; do
  command -v "$b" >/dev/null || { echo "bench: $b missing; run scripts/deps.sh" >&2; exit 1; }
done
if [ "$NEED_DKIM" = 1 ] || [ "$NEED_TLS" = 1 ]; then
  command -v openssl >/dev/null || { echo "bench: openssl missing" >&2; exit 1; }
fi
if [ "$NEED_DKIM" = 1 ]; then
  command -v opendkim >/dev/null || { echo "bench: opendkim missing; run scripts/deps.sh" >&2; exit 1; }
fi
if [ "$VERIFY" = 1 ]; then
  "$PY" -c "import dkim, nacl" 2>/dev/null || { echo "bench: --verify needs python3-dkim and python3-nacl" >&2; exit 1; }
fi
# Always through ninja: a binary left from an older checkout would bench the wrong code (or refuse
# the config). Up to date, this costs a second.
TARGETS=(volleyd volley-loadgen)
[ "$NEED_TLS" = 0 ] || TARGETS+=(volley-receiver)
echo "bench: building ${TARGETS[*]} (Release) into $BUILD"
[ -f "$BUILD/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" "${TARGETS[@]}"

WORK=$(mktemp -d "$WORKBASE/volley-bench.XXXXXX")
chmod 755 "$WORK"  # Postfix daemons, running as "postfix", walk down to their directories
RESULTS_TMP=$WORK/results.jsonl
BG_PIDS=()          # every background process this script started
POSTFIX_CONF=""     # the running Postfix instance, if any

# The process and everything under it (smtp-source processes do not die with their subshell). The
# parent first, so a daemon (nsd) can still reap its own children.
kill_tree() {
  local pid=$1 child children
  children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  for child in $children; do kill_tree "$child"; done
}

# True while PID runs. A zombie does not count: ours stay zombies until `wait`, and a daemon's
# (Postfix's master) stay zombies where PID 1 does not reap, as in some containers.
alive() {
  local stat
  read -r stat 2>/dev/null </proc/"$1"/stat || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# Waits for PID to end, at most $2 seconds, then SIGKILLs it.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  kill_tree "$pid"
  for ((i = 0; i < grace * 20; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

master_pid() { [ -n "$POSTFIX_CONF" ] && tr -d ' \n' <"$(dirname "$POSTFIX_CONF")/queue/pid/master.pid" 2>/dev/null; }

stop_postfix() {
  [ -n "$POSTFIX_CONF" ] || return 0
  local master i
  master=$(master_pid || true)
  postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1 || true
  if [ -n "$master" ]; then
    for ((i = 0; i < 200; i++)); do alive "$master" || break; sleep 0.05; done
    if alive "$master"; then
      kill_tree "$master"; sleep 0.5; kill -KILL "$master" 2>/dev/null || true
    fi
  fi
  POSTFIX_CONF=""
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  stop_postfix
  for pid in "${BG_PIDS[@]}"; do stop_pid "$pid" 5; done
  if [ "$KEEP" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a command in the background and remembers it for the cleanup; its pid is in $LAST_PID.
start_bg() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  LAST_PID=$!
  BG_PIDS+=("$LAST_PID")
}

# Runs a command in the background and waits for it: bash acts on a signal only once a foreground
# command has ended, but interrupts `wait` at once. Output goes to the file given first.
wait_on() { # output-file command...
  local out=$1 pid rc=0
  shift
  "$@" >"$out" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return "$rc"
}

forget_pid() {
  local keep=() p
  for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}

now() { date +%s.%N; }
calc() { "$PY" -c "print($1)"; }
fill() { # template, output, then KEY=VALUE pairs: @KEY@ -> VALUE
  local in=$1 out=$2 args=() kv; shift 2
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$in" >"$out"
}
note() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# --- DNS: one nsd for the whole bench ------------------------------------------------------
DOMAIN_LIST=$(seq -f "d%g.test" 1 "$DOMAINS" | paste -sd,)
mkdir -p "$WORK/dns"
"${TOOL[@]}" zone "$DOMAINS" "$DNS_ADDR" "$SINK_ADDR" >"$WORK/dns/test.zone"
nsd-checkzone test "$WORK/dns/test.zone" >/dev/null
fill "$HERE/nsd.conf.in" "$WORK/dns/nsd.conf" DIR="$WORK/dns" DNS_ADDR="$DNS_ADDR"
start_bg "$WORK/dns/nsd.out" nsd -d -c "$WORK/dns/nsd.conf"
if ! wait_on "$WORK/dns/ready.out" "${TOOL[@]}" dns-ready "$DNS_ADDR" test 20; then
  echo "bench: nsd does not answer on $DNS_ADDR:53 (port taken by a wildcard listener? try --dns-addr):" >&2
  cat "$WORK/dns/nsd.out" "$WORK/dns/nsd.log" >&2 2>/dev/null || true
  exit 1
fi
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_ADDR" >"$WORK/resolv.conf"

# --- keys and certificate, made once for the whole bench -------------------------------------
KEYS=$WORK/keys
mkdir -p "$KEYS"
chmod 700 "$KEYS"
if [ "$NEED_RSA" = 1 ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/dkim-rsa.pem" 2>/dev/null
fi
if [ "$NEED_ED" = 1 ]; then
  openssl genpkey -algorithm ed25519 -out "$KEYS/dkim-ed25519.pem" 2>/dev/null
fi
if [ "$NEED_TLS" = 1 ]; then
  # The MX hosts' certificate, self-signed (opportunistic TLS does not judge it): P-256, what
  # certbot issues by default.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=mx1.test \
    -addext subjectAltName=DNS:mx1.test,DNS:mx2.test,DNS:mx3.test,DNS:mx4.test \
    -keyout "$KEYS/tls-key.pem" -out "$KEYS/tls-cert.pem" 2>/dev/null
fi
chmod 600 "$KEYS"/*.pem 2>/dev/null || true

# The current mode's settings: MODE (its name), DKIM (none, ed25519, rsa, both), TLS (0 or 1),
# SINK_KIND (smtp-sink, or volley-receiver for STARTTLS), DKIM_KEYS (selector=key file, RSA first).
set_mode() { # mode
  MODE=$1 TLS=0 DKIM=${1%+tls}
  case "$1" in *tls) TLS=1 ;; esac
  [ "$DKIM" != tls ] || DKIM=none
  SINK_KIND=smtp-sink
  [ "$TLS" = 0 ] && [ "$SINK_CHUNKING" = 0 ] || SINK_KIND=volley-receiver
  DKIM_KEYS=()
  case "$DKIM" in rsa | both) DKIM_KEYS+=("bench-rsa=$KEYS/dkim-rsa.pem") ;; esac
  case "$DKIM" in ed25519 | both) DKIM_KEYS+=("bench-ed25519=$KEYS/dkim-ed25519.pem") ;; esac
  RUN_TAGS="\"mode\": \"$MODE\", \"volley_inject\": \"$VOLLEY_INJECT\", \"dkim\": \"$DKIM\", \"tls\": $([ "$TLS" = 1 ] && echo true || echo false)"
}
set_mode "${MODE_LIST[0]}"
# smtp-sink keeps every message for --verify where signatures are to be checked.
dumping() { [ "$VERIFY" = 1 ] && [ "$DKIM" != none ] && [ "$SINK_KIND" = smtp-sink ]; }

# --- the sink ------------------------------------------------------------------------------
# One fresh sink per run, so its counter starts at zero. smtp-sink's -c writes "sess=.. quit=..
# mesg=N" after every message: the run is over when mesg reaches the run's message count. With
# STARTTLS the sink is volley-receiver (smtp-sink offers no STARTTLS) with the bench's
# certificate, and its GET /stats "messages" is the count; with --sink-chunking too (smtp-sink
# offers no CHUNKING either).
start_sink() { # dir
  if [ "$SINK_KIND" = volley-receiver ]; then
    local extra=()
    [ "$TLS" = 0 ] || extra+=(--tls-cert "$KEYS/tls-cert.pem" --tls-key "$KEYS/tls-key.pem")
    if [ "$SINK_CHUNKING" = 1 ]; then
      printf 'chunking = true\n' >"$1/sink-script.toml"
      extra+=(--script "$1/sink-script.toml")
    fi
    start_bg "$1/sink.out" "$BUILD/loadtest/volley-receiver" --listen "$SINK_ADDR:0" --control 127.0.0.1:0 \
      "${extra[@]}" --max-connections 4000
    SINK_PID=$LAST_PID
    local bound control
    wait_on "$1/sink-ready.out" "${TOOL[@]}" wait-line "$1/sink.out" control 10 ||
      { echo "bench: volley-receiver did not start:" >&2; cat "$1/sink.out" >&2; exit 1; }
    control=$(cat "$1/sink-ready.out")
    bound=$("${TOOL[@]}" wait-line "$1/sink.out" listening 1)
    SINK_PORT=${bound##*:}
    SINK_STATS=http://$control/stats
    return
  fi
  SINK_PORT=$("${TOOL[@]}" free-port "$SINK_ADDR")
  local dump=()
  if dumping; then
    mkdir -p "$1/dump"
    chmod 777 "$1/dump"  # smtp-sink writes as nobody
    dump=(-d "$1/dump/%H%M%S.")
  fi
  start_bg "$1/sink.out" smtp-sink -u nobody -c -4 -m 4000 "${dump[@]}" "$SINK_ADDR:$SINK_PORT" 4000
  SINK_PID=$LAST_PID
  wait_on "$1/sink-ready.out" "${TOOL[@]}" wait-port "$SINK_ADDR" "$SINK_PORT" 10 || { echo "bench: smtp-sink did not start" >&2; exit 1; }
}
stop_sink() { stop_pid "$SINK_PID" 5; forget_pid "$SINK_PID"; }

# --verify: the signatures of every message the sink kept; the JSON counts in $1/dkim-check.json,
# false when one does not verify or is missing.
check_signatures() { # dir
  dumping || return 0
  wait_on "$1/dkim-check.json" "${TOOL[@]}" dkim-check "$1/dump" "$SIGN_DOMAIN" "${DKIM_KEYS[@]}" || {
    echo "bench: DKIM check failed in $1: $(cat "$1/dkim-check.json")" >&2
    rm -rf "$1/dump"
    return 1
  }
  rm -rf "$1/dump"
}
check_json() { # dir: the check's counts for the run's JSON line, null without a check
  "$PY" -c "import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).read().splitlines()[-1])))" \
    "$1/dkim-check.json" 2>/dev/null || echo null
}

# Starts a benchtool.py helper in the background (LAST_PID) and returns once it is ready (see
# BENCH_READY in benchtool.py): started beside the injector, a Python interpreter's start took
# the two CPUs from the first 100-300 ms of every run, and volley-loadgen measured that as
# Volley's injection latency (loadtest/README.md, issue 14, sixth round). False if it never is.
start_ready() { # log command...
  local log=$1 i
  shift
  rm -f "$log.ready"
  BENCH_READY=$log.ready start_bg "$log" "$@"
  for ((i = 0; i < 400; i++)); do
    [ -e "$log.ready" ] && return 0
    alive "$LAST_PID" || return 1
    sleep 0.025
  done
  return 1
}

# Starts the wait for the sink to count MESSAGES, before the injector (start_ready says why);
# wait_delivered then waits for it.
start_delivered_wait() { # dir
  if [ "$SINK_KIND" = volley-receiver ]; then
    start_ready "$1/delivered.json" "${TOOL[@]}" wait-stats "$SINK_STATS" "$MESSAGES" "$TIMEOUT" || true
  else
    start_ready "$1/delivered.json" "${TOOL[@]}" wait-count "$1/sink.out" "$MESSAGES" "$TIMEOUT" || true
  fi
  DELIVERED_PID=$LAST_PID
}

# Waits for the sink to count MESSAGES; sets END (unix time), COUNT and, from volley-receiver,
# SINK_TLS (messages it received over TLS; 0 from smtp-sink); false on timeout.
wait_delivered() { # dir
  local rc=0
  wait "$DELIVERED_PID" || rc=$?
  forget_pid "$DELIVERED_PID"
  END=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['end'])" "$1/delivered.json")
  COUNT=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['count'])" "$1/delivered.json")
  SINK_TLS=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1])).get('tls_messages', 0))" "$1/delivered.json")
  return "$rc"
}
# With STARTTLS, every message reached the sink over TLS (the receiver's own count).
all_over_tls() { [ "$TLS" = 0 ] || [ "${SINK_TLS:-0}" -ge "$MESSAGES" ]; }

record() { # JSON object text
  echo "$1" >>"$RESULTS_TMP"
}

# Writes one run's line. Arguments: system rep ok seconds cpu_s inject_per_s mem.json extra-json
record_run() {
  "$PY" - "$@" <<'EOF' >>"$RESULTS_TMP"
import json, sys
system, rep, ok, seconds, cpu, inject, memfile, extra = sys.argv[1:9]
mem = json.load(open(memfile)) if memfile and memfile != "-" else {}
n = int(extra and json.loads(extra).get("messages", 0) or 0)
seconds, cpu = float(seconds), float(cpu)
# Volley is one process: its own high-water mark is its peak RSS. Postfix is many processes,
# sampled: the largest sum seen (RSS counts shared libraries once per process; PSS shares them).
rss = mem.get("root_hwm_kib") if system != "postfix" else mem.get("peak_rss_kib")
line = {"kind": "run", "system": system, "rep": int(rep), "ok": ok == "1",
        "seconds": round(seconds, 3),
        "msgs_per_s": round(n / seconds, 1) if seconds > 0 else None,
        "inject_per_s": round(float(inject), 1) if inject not in ("", "-") else None,
        "cpu_s": round(cpu, 2), "cpu_s_per_1000": round(cpu / n * 1000, 4) if n else None,
        "peak_rss_mib": round(rss / 1024, 1) if rss else None,
        "peak_pss_mib": round(mem["peak_pss_kib"] / 1024, 1) if mem.get("peak_pss_kib") else None}
line.update(json.loads(extra) if extra else {})
print(json.dumps(line))
EOF
}

# --- one run of each kind --------------------------------------------------------------------
# The sink's ceiling: smtp-source straight into the sink, sessions reused (-d). smtp-source
# speaks no STARTTLS: volley-receiver's ceiling is in clear text.
run_sink() { # rep
  local dir=$WORK/sink-$1-$SINK_KIND t0 ok=1 cpu0 cpu1
  mkdir -p "$dir"
  start_sink "$dir"
  cpu0=$("${TOOL[@]}" cpu "$SINK_PID")
  start_delivered_wait "$dir"
  start_ready "$dir/mem.out" "${TOOL[@]}" memwatch "$SINK_PID" "$dir/mem.json" 1 || true
  local mem_pid=$LAST_PID
  t0=$(now)
  start_bg "$dir/source.out" smtp-source -4 -d -s "$SINK_SESSIONS" -m "$MESSAGES" -l "$SIZE" \
    -M client.bench.test -f "sender@$SIGN_DOMAIN" -t user@d1.test "$SINK_ADDR:$SINK_PORT"
  local src_pid=$LAST_PID
  wait_delivered "$dir" || ok=0
  cpu1=$("${TOOL[@]}" cpu "$SINK_PID")
  stop_pid "$mem_pid" 5; forget_pid "$mem_pid"
  stop_pid "$src_pid" 5; forget_pid "$src_pid"
  stop_sink
  record_run sink "$1" "$ok" "$(calc "$END - $t0")" "$(calc "$cpu1 - $cpu0")" "" "$dir/mem.json" \
    "{\"messages\": $MESSAGES, \"sink_count\": $COUNT, \"sessions\": $SINK_SESSIONS, \"sink\": \"$SINK_KIND\"}"
}

run_volley() { # rep
  local dir=$WORK/volley-$1-$MODE t0 ok=1 cpu0 cpu1 http_port i inject events signed=0 encrypted=0 key
  mkdir -p "$dir"
  start_sink "$dir"
  http_port=$("${TOOL[@]}" free-port 127.0.0.1)
  fill "$HERE/volleyd.toml.in" "$dir/volleyd.toml" DIR="$dir" HTTP_PORT="$http_port" \
    DNS_ADDR="$DNS_ADDR" SINK_PORT="$SINK_PORT" CONNS="$CONNS" LOG_LEVEL=info
  # One [[dkim]] per key for the From: domain. TLS needs nothing: opportunistic is the default.
  for key in "${DKIM_KEYS[@]}"; do
    printf '\n[[dkim]]\ndomain = "%s"\nselector = "%s"\nkey_file = "%s"\n' \
      "$SIGN_DOMAIN" "${key%%=*}" "${key#*=}" >>"$dir/volleyd.toml"
  done
  local sub_port=""
  if [ "$VOLLEY_INJECT" = smtp ]; then
    # SMTP in as Postfix gets it: the same injector, from a trusted network, without AUTH.
    sub_port=$("${TOOL[@]}" free-port 127.0.0.1)
    printf '\n[submission]\nlisten = "127.0.0.1:%s"\nhostname = "volley.bench.test"\ntls_certificate = "%s"\ntls_private_key = "%s"\ntrusted_networks = ["127.0.0.0/8"]\n' \
      "$sub_port" "$KEYS/tls-cert.pem" "$KEYS/tls-key.pem" >>"$dir/volleyd.toml"
  fi
  [ -z "$VOLLEY_TOML" ] || cat "$VOLLEY_TOML" >> "$dir/volleyd.toml"
  start_bg "$dir/volleyd.log" ${VOLLEYD_WRAP:-} "$BUILD/volleyd" --config "$dir/volleyd.toml"
  local vpid=$LAST_PID
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$http_port/healthz" && break
    alive "$vpid" || break
    sleep 0.1
  done
  curl -sf -o /dev/null "http://127.0.0.1:$http_port/healthz" ||
    { echo "bench: volleyd did not start:" >&2; cat "$dir/volleyd.log" >&2; exit 1; }
  cpu0=$("${TOOL[@]}" cpu "$vpid")
  start_delivered_wait "$dir"
  start_ready "$dir/mem.out" "${TOOL[@]}" memwatch "$vpid" "$dir/mem.json" 1 || true
  local mem_pid=$LAST_PID
  t0=$(now)
  if [ -n "$sub_port" ]; then
    start_bg "$dir/inject.out" postfix_inject "$sub_port" "$dir/inject.end"
  else
    start_bg "$dir/loadgen.out" "$BUILD/loadtest/volley-loadgen" --target "127.0.0.1:$http_port" \
      -n "$MESSAGES" -c "$CONCURRENCY" -s "$SIZE" --domains "$DOMAIN_LIST" --json "$dir/loadgen.json" \
      --trace "$dir/loadgen.trace" --from "sender@$SIGN_DOMAIN" --no-progress -d "$TIMEOUT" -r "$RATE"
  fi
  local gen_pid=$LAST_PID
  wait_delivered "$dir" || ok=0
  cpu1=$("${TOOL[@]}" cpu "$vpid")
  stop_pid "$mem_pid" 5; forget_pid "$mem_pid"
  # The loadgen has finished by now if every message arrived; otherwise this ends it.
  for ((i = 0; i < 100; i++)); do alive "$gen_pid" || break; sleep 0.05; done
  stop_pid "$gen_pid" 5; forget_pid "$gen_pid"
  inject=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['injected_per_second'])" \
    "$dir/loadgen.json" 2>/dev/null || echo "")
  [ ! -s "$dir/inject.end" ] || inject=$(calc "$MESSAGES / ($(cat "$dir/inject.end") - $t0)")
  "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); l=j['latency_ms']; w=j['latency_after_first_second_ms']; print('          injection latency ms: p50 %.1f, p99 %.1f, max %.1f; after the first second: %s' % (l['p50'], l['p99'], l['max'], 'p50 %.1f, p99 %.1f, max %.1f' % (w['p50'], w['p99'], w['max']) if w['requests'] else 'no requests'))" \
    "$dir/loadgen.json" 2>/dev/null || true
  # Cross-check: one "delivered" event per recipient (written just after the sink's 250).
  for ((i = 0; i < 50; i++)); do
    events=$(grep -c '"event":"delivered"' "$dir/events.jsonl" 2>/dev/null || true)
    [ "${events:-0}" -ge "$MESSAGES" ] && break
    sleep 0.1
  done
  stop_pid "$vpid" 20; forget_pid "$vpid"
  stop_sink
  [ "${events:-0}" -ge "$MESSAGES" ] || ok=0
  # Signed and encrypted as asked: the delivered events' "dkim" list and "tls" object.
  if [ "$DKIM" != none ]; then
    signed=$(grep '"event":"delivered"' "$dir/events.jsonl" | grep -c '"dkim":\[{' || true)
    [ "${signed:-0}" -ge "$MESSAGES" ] || ok=0
  fi
  if [ "$TLS" = 1 ]; then
    encrypted=$(grep '"event":"delivered"' "$dir/events.jsonl" | grep -c '"tls":{' || true)
    [ "${encrypted:-0}" -ge "$MESSAGES" ] || ok=0
  fi
  check_signatures "$dir" || ok=0
  all_over_tls || ok=0
  record_run volley "$1" "$ok" "$(calc "$END - $t0")" "$(calc "$cpu1 - $cpu0")" "$inject" "$dir/mem.json" \
    "{\"messages\": $MESSAGES, \"sink_count\": $COUNT, \"delivered_events\": ${events:-0}, \"signed_events\": ${signed:-0}, \"tls_events\": ${encrypted:-0}, \"sink_tls_messages\": ${SINK_TLS:-0}, \"dkim_check\": $(check_json "$dir"), $RUN_TAGS}"
  rm -rf "$dir/spool" "$dir/suppressions" "$dir/webhooks"
}

# Injects MESSAGES into Postfix over CONCURRENCY SMTP sessions, writes the time it finished to $2.
# smtp-source sends everything of one process to a single recipient domain, so with it the domains
# are dealt out to G = min(domains, concurrency) processes side by side, each going through its
# domains in turn, and the sessions are shared out among them. With more domains than sessions
# that would mean a process start and a new session every few messages: then (and with
# --smtp-injector python) bench/smtp_inject.py sends message i to domain i mod D, as volley-loadgen
# spreads them, over CONCURRENCY pipelining sessions.
postfix_inject() { # port end-file
  local rc=0
  if [ "$INJECTOR" = python ]; then
    "$PY" "$HERE/smtp_inject.py" 127.0.0.1 "$1" "$MESSAGES" "$CONCURRENCY" "$SIZE" "$DOMAINS" "$TIMEOUT" || rc=1
    now >"$2"
    return "$rc"
  fi
  local groups=$((DOMAINS < CONCURRENCY ? DOMAINS : CONCURRENCY)) g d m s pids=()
  for ((g = 0; g < groups; g++)); do
    local sessions=$((CONCURRENCY / groups + (g < CONCURRENCY % groups ? 1 : 0)))
    (
      for ((d = g + 1; d <= DOMAINS; d += groups)); do
        m=$((MESSAGES / DOMAINS + (d <= MESSAGES % DOMAINS ? 1 : 0)))
        [ "$m" -gt 0 ] || continue
        s=$((sessions < m ? sessions : m))
        smtp-source -4 -d -N -s "$s" -m "$m" -l "$SIZE" -M client.bench.test \
          -f "sender@$SIGN_DOMAIN" -t "user@d$d.test" "127.0.0.1:$1" || exit 1
      done
    ) &
    pids+=($!)
  done
  for g in "${pids[@]}"; do wait "$g" || rc=1; done
  now >"$2"
  return "$rc"
}

# OpenDKIM for this run's Postfix: one instance per key (Debian 12's OpenDKIM 2.11 signs with one
# algorithm per instance); sets MILTERS (for smtpd_milters) and OPENDKIM_PIDS (comma-separated).
start_opendkim() { # dir
  local key name port alg
  MILTERS="" OPENDKIM_PIDS=""
  for key in "${DKIM_KEYS[@]}"; do
    name=${key%%=*} name=${name#bench-}
    alg=rsa-sha256
    [ "$name" != ed25519 ] || alg=ed25519-sha256
    port=$("${TOOL[@]}" free-port 127.0.0.1)
    fill "$HERE/opendkim.conf.in" "$1/opendkim-$name.conf" PORT="$port" DIR="$1" NAME="$name" \
      DOMAIN="$SIGN_DOMAIN" SELECTOR="${key%%=*}" KEY="${key#*=}" ALGORITHM="$alg"
    start_bg "$1/opendkim-$name.out" opendkim -f -x "$1/opendkim-$name.conf"
    OPENDKIM_PIDS+=${OPENDKIM_PIDS:+,}$LAST_PID
    wait_on "$1/opendkim-$name-ready.out" "${TOOL[@]}" wait-port 127.0.0.1 "$port" 10 ||
      { echo "bench: opendkim did not start:" >&2; cat "$1/opendkim-$name.out" >&2; exit 1; }
    MILTERS+=${MILTERS:+, }inet:127.0.0.1:$port
  done
}
stop_opendkim() {
  local pid
  for pid in ${OPENDKIM_PIDS//,/ }; do stop_pid "$pid" 5; forget_pid "$pid"; done
  OPENDKIM_PIDS=""
}

run_postfix() { # rep
  local dir=$WORK/postfix-$1-$MODE t0 ok=1 cpu0 cpu1 smtpd_port master i sent inject="" tls_sessions=0
  local od_cpu0=0 od_cpu1=0
  mkdir -p "$dir/conf" "$dir/queue" "$dir/data"
  chown postfix "$dir/data"
  start_sink "$dir"
  OPENDKIM_PIDS="" MILTERS=""
  [ "$DKIM" = none ] || start_opendkim "$dir"
  smtpd_port=$("${TOOL[@]}" free-port 127.0.0.1)
  # Enough processes for every destination's sessions, capped: more than a few hundred
  # delivery processes only cost context switches on a small machine.
  local limit=$((DOMAINS * CONNS))
  [ "$limit" -le 500 ] || limit=500
  [ "$limit" -ge $((CONCURRENCY + 10)) ] || limit=$((CONCURRENCY + 10))
  fill "$HERE/postfix-main.cf.in" "$dir/conf/main.cf" DIR="$dir" SINK_PORT="$SINK_PORT" \
    PROCESS_LIMIT="$limit" CONNS="$CONNS"
  if [ "$TLS" = 1 ]; then
    cat "$HERE/postfix-tls.cf" >>"$dir/conf/main.cf"
  else
    printf '\nsmtp_tls_security_level = none\n' >>"$dir/conf/main.cf"
  fi
  if [ -n "$MILTERS" ]; then
    fill "$HERE/postfix-milter.cf.in" "$dir/milter.cf" MILTERS="$MILTERS"
    cat "$dir/milter.cf" >>"$dir/conf/main.cf"
  fi
  fill "$HERE/postfix-master.cf.in" "$dir/conf/master.cf" SMTPD_ADDR=127.0.0.1 SMTPD_PORT="$smtpd_port"
  POSTFIX_CONF=$dir/conf
  # Postfix resolves through the system resolver, which knows only port 53 and /etc/resolv.conf:
  # the instance runs in its own mount namespace where /etc/resolv.conf names the bench's nsd.
  if ! unshare --mount --propagation private sh -c \
    'mount --bind "$1" /etc/resolv.conf && exec postfix -c "$2" start' sh "$WORK/resolv.conf" "$dir/conf" \
    >"$dir/start.out" 2>&1; then
    echo "bench: postfix did not start:" >&2
    cat "$dir/start.out" "$dir/maillog" >&2 2>/dev/null || true
    exit 1
  fi
  wait_on "$dir/smtpd-ready.out" "${TOOL[@]}" wait-port 127.0.0.1 "$smtpd_port" 20 || { echo "bench: postfix smtpd not listening" >&2; cat "$dir/maillog" >&2; exit 1; }
  master=$(master_pid)
  # OpenDKIM is part of this MTA: its CPU and memory count with Postfix's.
  cpu0=$("${TOOL[@]}" cpu "$master${OPENDKIM_PIDS:+,$OPENDKIM_PIDS}")
  [ -z "$OPENDKIM_PIDS" ] || od_cpu0=$("${TOOL[@]}" cpu "$OPENDKIM_PIDS")
  start_delivered_wait "$dir"
  start_ready "$dir/mem.out" "${TOOL[@]}" memwatch "$master${OPENDKIM_PIDS:+,$OPENDKIM_PIDS}" "$dir/mem.json" 1 || true
  local mem_pid=$LAST_PID
  t0=$(now)
  start_bg "$dir/inject.out" postfix_inject "$smtpd_port" "$dir/inject.end"
  local inj_pid=$LAST_PID
  wait_delivered "$dir" || ok=0
  cpu1=$("${TOOL[@]}" cpu "$master${OPENDKIM_PIDS:+,$OPENDKIM_PIDS}")
  [ -z "$OPENDKIM_PIDS" ] || od_cpu1=$("${TOOL[@]}" cpu "$OPENDKIM_PIDS")
  local by_name
  by_name=$("${TOOL[@]}" cpu-by-name "$master")
  stop_pid "$mem_pid" 5; forget_pid "$mem_pid"
  for ((i = 0; i < 100; i++)); do alive "$inj_pid" || break; sleep 0.05; done
  stop_pid "$inj_pid" 5; forget_pid "$inj_pid"
  [ -s "$dir/inject.end" ] && inject=$(calc "$MESSAGES / ($(cat "$dir/inject.end") - $t0)")
  # Cross-check: one "status=sent" line per recipient in the maillog (postlogd writes it a moment later).
  for ((i = 0; i < 50; i++)); do
    sent=$(grep -c ' status=sent ' "$dir/maillog" 2>/dev/null || true)
    [ "${sent:-0}" -ge "$MESSAGES" ] && break
    sleep 0.1
  done
  stop_postfix
  stop_opendkim
  stop_sink
  [ "${sent:-0}" -ge "$MESSAGES" ] || ok=0
  # STARTTLS used: smtp logs one line per new TLS session (smtp_tls_loglevel = 1; tlsproxy a second).
  if [ "$TLS" = 1 ]; then
    tls_sessions=$(grep -c 'postfix/smtp\[[0-9]*\]: .*TLS connection established to' "$dir/maillog" 2>/dev/null || true)
    [ "${tls_sessions:-0}" -gt 0 ] || ok=0
  fi
  check_signatures "$dir" || ok=0
  all_over_tls || ok=0
  record_run postfix "$1" "$ok" "$(calc "$END - $t0")" "$(calc "$cpu1 - $cpu0")" "$inject" "$dir/mem.json" \
    "{\"messages\": $MESSAGES, \"sink_count\": $COUNT, \"status_sent\": ${sent:-0}, \"process_limit\": $limit, \"injector\": \"$INJECTOR\", \"cpu_by_process_name\": $by_name, \"cpu_opendkim_s\": $(calc "round($od_cpu1 - $od_cpu0, 2)"), \"opendkim_instances\": ${#DKIM_KEYS[@]}, \"tls_sessions\": ${tls_sessions:-0}, \"sink_tls_messages\": ${SINK_TLS:-0}, \"dkim_check\": $(check_json "$dir"), $RUN_TAGS}"
  rm -rf "$dir/queue"
}

# --- the bench -----------------------------------------------------------------------------
STARTED=$SECONDS
record "$("$PY" - "$MESSAGES" "$SIZE" "$DOMAINS" "$REPEAT" "$CONNS" "$CONCURRENCY" "${MODE_LIST[*]}" "$VOLLEY_INJECT" <<'EOF'
import json, os, subprocess, sys
m, size, d, r, conns, conc = (int(x) for x in sys.argv[1:7])
print(json.dumps({"kind": "meta", "messages": m, "size": size, "domains": d, "repeat": r,
                  "conns": conns, "concurrency": conc, "cpus": os.cpu_count(),
                  "modes": sys.argv[7].split(), "volley_inject": sys.argv[8],
                  "load_before": " ".join(open("/proc/loadavg").read().split()[:3]),
                  "postfix": subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True,
                                            text=True).stdout.strip()}))
EOF
)"
note "bench in $WORK: $MESSAGES messages of $SIZE bytes, $DOMAINS domains, $REPEAT rounds of $ONLY, modes ${MODE_LIST[*]}"
# Every round runs every mode: the sink's ceiling once per kind of sink, then Volley and Postfix.
for ((rep = 1; rep <= REPEAT; rep++)); do
  sinks_done=" "
  for mode in "${MODE_LIST[@]}"; do
    set_mode "$mode"
    for system in sink volley postfix; do
      [[ ",$ONLY," == *",$system,"* ]] || continue
      if [ "$system" = sink ]; then
        [[ "$sinks_done" != *" $SINK_KIND "* ]] || continue
        sinks_done+="$SINK_KIND "
      fi
      if [ $((SECONDS - STARTED)) -ge "$BUDGET" ]; then
        note "time budget of ${BUDGET}s spent: no more runs"
        break 3
      fi
      if [ "$system" = sink ]; then
        note "round $rep: sink ($SINK_KIND)"
      elif [ "${#MODE_LIST[@]}" -gt 1 ] || [ "$MODE" != none ]; then
        note "round $rep, $MODE: $system"
      else
        note "round $rep: $system"
      fi
      # Each run starts on a quiet machine, not on the tail of the one before (benchtool settle).
      note "          quiet after $("${TOOL[@]}" settle 30)"
      "run_$system" "$rep"
      "$PY" -c "import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[-1]); \
print('          %s: %s, %.0f msg/s, %.2fs, CPU %.3f s/1000, RSS %s MiB, PSS %s MiB' % (r['system'], \
'ok' if r['ok'] else 'FAILED', r['msgs_per_s'], r['seconds'], r['cpu_s_per_1000'], r['peak_rss_mib'], r['peak_pss_mib']))" "$RESULTS_TMP"
    done
  done
done
"$PY" - "$RESULTS_TMP" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
meta = json.loads(lines[0])
meta["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
lines[0] = json.dumps(meta)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
echo
status=0
"${TOOL[@]}" summary "$RESULTS_TMP" || status=1
[ -z "$RESULTS" ] || cp "$RESULTS_TMP" "$RESULTS"
exit $status
