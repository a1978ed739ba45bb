#!/usr/bin/env python3
"""Where in a run the slow injection requests were: reads volley-loadgen's --trace file and prints
the latency percentiles, then each stall (slow requests closer than GAP ms to each other) with its
time since the start, on CLOCK_MONOTONIC too (to line it up with `perf trace --full-time` or
`perf sched timehist` of the same run), how many requests it held and the slowest.
Usage: latency_trace.py TRACE [SLOW_MS=8] [GAP_MS=20] [SKIP_MS=0: ignore requests sent before]"""
import signal
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head

path = sys.argv[1]
slow_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
gap_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
skip_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
start = 0.0
rows = []
with open(path) as f:
    for line in f:
        if line.startswith("# start_monotonic_ms"):
            start = float(line.split()[2])
        elif line and line[0].isdigit():
            sent, latency = map(float, line.split())
            if sent >= skip_ms:
                rows.append((sent, latency))
rows.sort()
lat = sorted(l for _, l in rows)
n = len(lat)
if n == 0:
    sys.exit("no requests in " + path)
pick = lambda q: lat[min(n - 1, int(q * n))]
print(f"{n} requests: p50 {pick(0.5):.1f} ms, p90 {pick(0.9):.1f}, p99 {pick(0.99):.1f}, "
      f"p99.9 {pick(0.999):.1f}, max {lat[-1]:.1f}; over {slow_ms:g} ms: {sum(l > slow_ms for l in lat)}")
stalls = []
for sent, latency in rows:
    if latency <= slow_ms:
        continue
    if stalls and sent - stalls[-1][1] < gap_ms:
        s = stalls[-1]
        s[1] = sent
        s[2] += 1
        s[3] = max(s[3], latency)
    else:
        stalls.append([sent, sent, 1, latency])
print("  sent at ms (monotonic ms)       requests  slowest ms")
for first, last, count, worst in stalls:
    print(f"  {first:9.1f}-{last:9.1f} ({start + first:.1f})  {count:6d}  {worst:8.1f}")
