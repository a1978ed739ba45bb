#!/usr/bin/python3
"""Where the CPUs go during a Volley run of bench.sh: the CPU of volleyd, volley-loadgen,
smtp-sink and nsd, and of each volleyd thread, from /proc, between the moment volley-loadgen
starts and the moment it exits (the injection; delivery ends within milliseconds of it).

  python3 loadtest/cpu_split.py OUT & bash loadtest/bench.sh --only volley -r 1 -n 20000; wait

It waits at most 120 s for volley-loadgen and follows it at most 300 s; it only reads /proc.
"""
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
PROCESSES = ("volleyd", "volley-loadgen", "smtp-sink", "nsd")


def cpu_of(stat_path):
    text = open(stat_path).read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime + stime


def processes():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
            if comm in PROCESSES:
                out[int(pid)] = (comm, cpu_of(f"/proc/{pid}/stat"))
        except OSError:
            pass
    return out


def threads(pid):
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            out[int(tid)] = (comm, cpu_of(f"/proc/{pid}/task/{tid}/stat"), *switches(pid, tid))
        except OSError:
            pass
    return out


def switches(pid, tid):
    """Voluntary and involuntary context switches of a thread so far (0, 0 when it is gone)."""
    counts = [0, 0]
    try:
        for line in open(f"/proc/{pid}/task/{tid}/status"):
            if line.startswith("voluntary_ctxt_switches:"):
                counts[0] = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                counts[1] = int(line.split()[1])
    except OSError:
        pass
    return counts


def running(snapshot, name):
    return any(comm == name for comm, _ in snapshot.values())


def main():
    out_path = sys.argv[1]
    deadline = time.time() + 120
    first = processes()
    while not running(first, "volley-loadgen"):
        if time.time() > deadline:
            sys.exit("volley-loadgen did not start within 120 s")
        time.sleep(0.005)
        first = processes()
    volleyd = next((pid for pid, (comm, _) in first.items() if comm == "volleyd"), None)
    first_threads = threads(volleyd) if volleyd else {}
    start = time.time()
    last, last_threads, end = first, first_threads, start
    deadline = start + 300
    while time.time() < deadline:
        time.sleep(0.02)
        now = processes()
        if not running(now, "volley-loadgen"):
            break
        last, last_threads, end = now, threads(volleyd) if volleyd else {}, time.time()
    wall = max(end - start, 1e-9)
    per_process = {}
    for pid, (comm, cpu) in last.items():
        per_process[comm] = per_process.get(comm, 0.0) + cpu - first.get(pid, (comm, 0.0))[1]
    with open(out_path, "w") as f:
        f.write(f"wall {wall:.2f} s (volley-loadgen running)\n")
        for comm, cpu in sorted(per_process.items(), key=lambda kv: -kv[1]):
            f.write(f"{comm:16s} {cpu:6.2f} s CPU  {cpu / wall:.2f} cores\n")
        # Context switches: a thread that sleeps and is woken for each message costs a switch
        # each way, which in a VM is dearer than most of the work it wakes for.
        f.write("volleyd threads (CPU; context switches voluntary/involuntary during the injection):\n")
        for tid, (comm, cpu, vol, invol) in sorted(last_threads.items()):
            _, cpu0, vol0, invol0 = first_threads.get(tid, (comm, 0.0, 0, 0))
            used = cpu - cpu0
            if used >= 0.01:
                f.write(f"  {tid:7d} {comm:16s} {used:6.2f} s CPU  {used / wall:.2f} cores"
                        f"  switches {vol - vol0}/{invol - invol0}\n")


if __name__ == "__main__":
    main()
