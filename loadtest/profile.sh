#!/bin/bash
# Profiles volleyd during one Volley-only bench run and draws the flame graph:
#   bash loadtest/profile.sh OUT.svg [bench.sh options...]      e.g. -n 10000 --domains 10000
# perf samples volleyd (all its threads, DWARF call graphs, 999 Hz) from the injector's start to volleyd's exit;
# the SVG is loadtest/flamegraph.py's, the text summary (top symbols, self time) goes next to it
# as OUT.txt. Needs perf (linux-perf) and a Release build in build/. Root (or
# kernel.perf_event_paranoid <= 1) for kernel frames. KEEP_PERF=FILE keeps perf.data there
# (for `perf report --children` and other views); VOLLEY_BUILD=DIR profiles that build's volleyd.
set -euo pipefail
out=${1:?usage: profile.sh OUT.svg [bench.sh options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/volley-profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$here/bench/bench_volleyd.sh"
bench_start "$here" "$work/bench.log" profile.sh "$@"
perf record -q -F 999 --call-graph dwarf,16384 -p "$pid" -o "$work/perf.data" 2>/dev/null || true
wait "$bench" || true
[ -z "${KEEP_PERF:-}" ] || cp "$work/perf.data" "$KEEP_PERF"
grep -E '^\| volley|loadavg' "$work/bench.log" || { cat "$work/bench.log"; exit 1; }
perf script -i "$work/perf.data" 2>/dev/null |
  /usr/bin/python3 "$here/flamegraph.py" --title "volleyd: bench.sh --only volley $*" >"$out"
{
  echo "# bench.sh --only volley -r 1 $*"
  grep -E '^\| volley|loadavg' "$work/bench.log"
  echo "# threads"
  perf report -i "$work/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep '%'
  echo "# self time by symbol (top 40)"
  perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep '%' | head -40
} >"${out%.svg}.txt"
echo "wrote $out and ${out%.svg}.txt"
