#!/usr/bin/env python3
"""The disk's own durability latency, the floor under volleyd's injection latency: appends BYTES
to a file in DIR and fdatasync()s, COUNT times (bounded by SECONDS), as the spool's group commit
does once per batch (RocksDB's WAL, the body segment), and prints the distribution in
milliseconds. With MODE "overwrite", the file is first written to 64 MiB and synced, and the
writes then go over it from its start, as into a recycled body segment (a spare): no new blocks
to allocate, the file's size unchanged. Also times the unlink of the file at the end.
Usage: fsync_latency.py [DIR=./var] [BYTES=131072] [COUNT=2000] [SECONDS=20] [MODE=append|overwrite]"""
import os
import sys
import tempfile
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "./var"
size = int(sys.argv[2]) if len(sys.argv) > 2 else 131072
count = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
limit = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
mode = sys.argv[5] if len(sys.argv) > 5 else "append"
if mode not in ("append", "overwrite"):
    sys.exit("MODE is append or overwrite")
os.makedirs(directory, exist_ok=True)
block = os.urandom(size)
times = []
f = tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-latency-", delete=False)
fd = f.fileno()
prefilled = 0
if mode == "overwrite":
    chunk = os.urandom(1 << 20)
    for _ in range(64):
        os.write(fd, chunk)
    os.fsync(fd)
    prefilled = 64 << 20
    os.lseek(fd, 0, os.SEEK_SET)
end = time.monotonic() + limit
while len(times) < count and time.monotonic() < end:
    os.write(fd, block)
    t = time.perf_counter()
    os.fdatasync(fd)
    times.append((time.perf_counter() - t) * 1000)
    position = os.lseek(fd, 0, os.SEEK_CUR)
    if mode == "overwrite" and position + size > prefilled:  # stay inside the written blocks
        os.lseek(fd, 0, os.SEEK_SET)
    elif position > 256 << 20:  # stay small: start over, as a WAL does after a flush
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
grown = os.fstat(fd).st_size
f.close()
t = time.perf_counter()
os.unlink(f.name)
unlink_ms = (time.perf_counter() - t) * 1000
times.sort()
n = len(times)
pick = lambda q: times[min(n - 1, int(q * n))]
what = "appends" if mode == "append" else "writes over a 64 MiB file's existing blocks"
print(f"fdatasync after {size} B {what}, {n} times: p50 {pick(0.5):.2f} ms, p90 {pick(0.9):.2f} ms, "
      f"p99 {pick(0.99):.2f} ms, p99.9 {pick(0.999):.2f} ms, max {times[-1]:.2f} ms; "
      f"unlink of the {grown >> 20} MiB file: {unlink_ms:.1f} ms")
