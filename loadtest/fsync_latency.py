#!/usr/bin/env python3
"""The disk's own durability latency, the floor under volleyd's injection latency: appends BYTES
to a file in DIR and fdatasync()s, COUNT times (bounded by SECONDS), as the spool's group commit
does once per batch (RocksDB's WAL), and prints the distribution in milliseconds.
Usage: fsync_latency.py [DIR=./var] [BYTES=131072] [COUNT=2000] [SECONDS=20]"""
import os
import sys
import tempfile
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "./var"
size = int(sys.argv[2]) if len(sys.argv) > 2 else 131072
count = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
limit = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
os.makedirs(directory, exist_ok=True)
block = os.urandom(size)
times = []
with tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-latency-") as f:
    fd = f.fileno()
    end = time.monotonic() + limit
    while len(times) < count and time.monotonic() < end:
        os.write(fd, block)
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - t) * 1000)
        if f.tell() > 256 << 20:  # stay small: start over, as a WAL does after a flush
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
times.sort()
n = len(times)
pick = lambda q: times[min(n - 1, int(q * n))]
print(f"fdatasync after {size} B appends, {n} times: p50 {pick(0.5):.2f} ms, p90 {pick(0.9):.2f} ms, "
      f"p99 {pick(0.99):.2f} ms, p99.9 {pick(0.999):.2f} ms, max {times[-1]:.2f} ms")
