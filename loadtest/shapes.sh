#!/usr/bin/env bash
# The shapes of issue 14's table in one go: loadtest/bench.sh once per shape (Volley, Postfix and
# the sink ceiling in the same run, as always), then one table of every shape against its target.
# Reached as `loadtest/bench.sh --shape matrix [-r R] [-n N]`; other bench options are passed on.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
OUT=$(mktemp -d "${TMPDIR:-/tmp}/volley-shapes.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# name | bench options | target (printed, and checked where it is a ratio or a share of the sink)
SHAPES=(
  "10KiB x 20 domains|-s 10KiB --domains 20|ratio>=15 sink>=0.60 cpu<=0.18"
  "1KiB x 20 domains|-s 1KiB --domains 20|ratio>=15"
  "100KiB x 20 domains|-s 100KiB --domains 20|sink>=0.80 cpu<=0.60"
  "10KiB x 10000 domains|-s 10KiB --domains 10000|ratio>=5 cpu<=0.45"
  "10KiB x 20, DKIM Ed25519 + STARTTLS|-s 10KiB --domains 20 --modes ed25519+tls|ratio>=10"
  "10KiB x 20, DKIM RSA-2048 + STARTTLS|-s 10KiB --domains 20 --modes rsa+tls|ratio>=10"
)

i=0
for shape in "${SHAPES[@]}"; do
  IFS='|' read -r name opts target <<<"$shape"
  i=$((i + 1))
  echo "[$(date +%H:%M:%S)] shape $i/${#SHAPES[@]}: $name" >&2
  # shellcheck disable=SC2086  # opts are words on purpose
  if ! bash "$HERE/bench.sh" $opts --results "$OUT/$i.jsonl" "$@" >"$OUT/$i.log" 2>&1; then
    echo "shapes: '$name' failed; its log:" >&2
    tail -20 "$OUT/$i.log" >&2
  fi
  printf '%s\t%s\n' "$name" "$target" >"$OUT/$i.name"
done

"$PY" - "$OUT" "${#SHAPES[@]}" <<'PYEOF'
import json, os, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
print("| shape | Volley msg/s | CPU ms/msg | Postfix msg/s | ratio | sink msg/s | share of sink | target | met |")
print("|---|---|---|---|---|---|---|---|---|")
for i in range(1, n + 1):
    name, target = open(os.path.join(out, f"{i}.name")).read().rstrip("\n").split("\t")
    path = os.path.join(out, f"{i}.jsonl")
    runs = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    meta = next((r for r in runs if r.get("kind") == "meta"), {})
    def med(system, key):
        xs = [r[key] for r in runs if r.get("kind") == "run" and r.get("system") == system and r.get("ok")]
        return statistics.median(xs) if xs else None
    v, p, s = med("volley", "msgs_per_s"), med("postfix", "msgs_per_s"), med("sink", "msgs_per_s")
    cpu = med("volley", "cpu_s_per_1000")
    ratio = v / p if v and p else None
    share = v / s if v and s else None
    met = []
    for t in target.split():
        key, limit = t.split(">=") if ">=" in t else t.split("<=")
        value = {"ratio": ratio, "sink": share, "cpu": cpu}[key]
        ok = value is not None and (value >= float(limit) if ">=" in t else value <= float(limit))
        met.append("yes" if ok else "no")
    f = lambda x, fmt: fmt.format(x) if x is not None else "-"
    print(f"| {name} | {f(v, '{:.0f}')} | {f(cpu, '{:.3f}')} | {f(p, '{:.0f}')} | {f(ratio, '{:.1f}x')} | "
          f"{f(s, '{:.0f}')} | {f(share, '{:.0%}')} | {target} | {', '.join(met)} |")
    if meta:
        print(f"<!-- {name}: load {meta.get('load_before')} -> {meta.get('load_after')} -->")
PYEOF
