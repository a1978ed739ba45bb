#!/usr/bin/env python3
"""Measuring helpers for loadtest/bench.sh: what is awkward or too slow in shell.

  zone DOMAINS NS_ADDR MX_ADDR       the zone file "test." with DOMAINS domains d1.test ... on stdout
  free-port ADDR                     a TCP port free on ADDR right now
  wait-port ADDR PORT TIMEOUT        waits until something accepts TCP connections on ADDR:PORT
  dns-ready ADDR NAME TIMEOUT        waits until the DNS server on ADDR:53 answers an SOA query for NAME
  wait-count FILE N TIMEOUT          waits until smtp-sink's -c counter in FILE reaches N; prints
                                     {"end": unix time, "count": n}; exit 1 on timeout
  wait-stats URL N TIMEOUT           the same for volley-receiver: its GET /stats "messages" total
                                     (and its tls_sessions, tls_messages)
  wait-line FILE PREFIX TIMEOUT      waits for a line "PREFIX rest" in FILE (a process's stdout), prints rest
  dkim-txt KEYFILE                   the p= value of the DNS TXT record for a PEM private key (RSA, Ed25519)
  dkim-check DIR DOMAIN SEL=KEYFILE... verifies the DKIM signatures of the messages smtp-sink -d dumped
                                     in DIR with python3-dkim, against these keys; prints JSON counts,
                                     exit 1 unless every message has a valid signature by every key
  cpu-by-name PID                    the same, living processes only, summed by command name (JSON)
  cpu PID[,PID...]                   CPU seconds (user+system) of PID and every descendant, living
                                     or reaped (a reaped child's time is in its parent's cutime/cstime)
  memwatch PID[,PID...] OUT INTERVAL samples the process trees under the PIDs every INTERVAL seconds
                                     until SIGTERM, then writes the peaks (RSS sum, PSS sum, the first
                                     PID's VmHWM) to OUT
  settle MAX_SECONDS                 syncs, then waits until the machine is quiet (the CPUs at least
                                     85 % idle and the disk's writeback under 1 MiB over half a second)
                                     or MAX_SECONDS passed; prints how long it waited and the idle share
  summary RESULTS.jsonl              the table of medians and the ratios

With BENCH_READY=FILE in the environment, wait-count, wait-stats and memwatch create FILE once
started and past their first poll: bench.sh starts them before the injector, and an interpreter
starting beside a run's first moments would be measured as the system's latency.
"""
import json
import os
import subprocess
import re
import signal
import socket
import statistics
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


READY_SAID = []


def ready():
    """Says BENCH_READY once; the helpers call it after every poll."""
    path = os.environ.get("BENCH_READY")
    if path and not READY_SAID:
        open(path, "w").close()
        READY_SAID.append(path)


def zone(domains, ns_addr, mx_addr):
    # Four MX host names, as bulk senders meet them (many domains hosted on few MX hosts); all lead
    # to the one sink address. TTLs are long: both MTAs may cache for the whole run.
    out = [
        "$ORIGIN test.",
        "$TTL 3600",
        "@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 3600",
        "@ IN NS ns.test.",
        f"ns IN A {ns_addr}",
    ]
    out += [f"mx{i} IN A {mx_addr}" for i in range(1, 5)]
    out += [f"d{i} IN MX 10 mx{1 + i % 4}" for i in range(1, domains + 1)]
    return "\n".join(out) + "\n"


def free_port(addr):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def wait_port(addr, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((addr, port), timeout=1):
                return 0
        except OSError:
            time.sleep(0.05)
    return 1


def dns_ready(addr, name, timeout):
    qid = os.getpid() & 0xFFFF
    query = qid.to_bytes(2, "big") + b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.strip(".").split("."):
        query += bytes([len(label)]) + label.encode()
    query += b"\x00\x00\x06\x00\x01"  # root, SOA, IN
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                s.sendto(query, (addr, 53))
                answer = s.recv(512)
                # Same id, a response, RCODE 0 (NOERROR): the zone is loaded.
                if len(answer) >= 12 and answer[:2] == query[:2] and answer[2] & 0x80 and answer[3] & 0x0F == 0:
                    return 0
            except OSError:
                time.sleep(0.05)
    return 1


SINK_COUNTER = re.compile(rb"mesg=(\d+)")


def sink_count(path):
    # smtp-sink -c rewrites one status line ("\rsess=3 quit=3 mesg=120") per event: the last
    # complete one in the file is the current count.
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256))
            tail = f.read()
    except FileNotFoundError:
        return 0
    found = SINK_COUNTER.findall(tail)
    return int(found[-1]) if found else 0


def wait_count(path, n, timeout):
    deadline = time.monotonic() + timeout
    while True:
        count = sink_count(path)
        ready()
        if count >= n:
            print(json.dumps({"end": time.time(), "count": count}))
            return 0
        if time.monotonic() >= deadline:
            print(json.dumps({"end": time.time(), "count": count}))
            return 1
        time.sleep(0.01)


def receiver_stats(url):
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.load(r)
    except (OSError, ValueError):
        return {}


def wait_stats(url, n, timeout):
    # Each poll is one HTTP exchange with the receiver's control port, on its one thread: every
    # 20 ms is a few hundred requests in a run, nothing beside its SMTP sessions.
    deadline = time.monotonic() + timeout
    while True:
        stats = receiver_stats(url)
        count = int(stats.get("messages", 0))
        ready()
        if count >= n or time.monotonic() >= deadline:
            print(json.dumps({"end": time.time(), "count": count,
                              "tls_sessions": stats.get("tls_sessions", 0),
                              "tls_messages": stats.get("tls_messages", 0)}))
            return 0 if count >= n else 1
        time.sleep(0.02)


def wait_line(path, prefix, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for line in open(path, errors="replace"):
                if line.startswith(prefix + " "):
                    print(line[len(prefix) + 1:].strip())
                    return 0
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return 1


def dkim_txt(keyfile):
    """The p= of a DKIM key record (RFC 6376 3.6.1, RFC 8463 4): base64 of the DER public key for
    RSA, of the raw 32 bytes for Ed25519."""
    import base64
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    ed25519 = b"\x06\x03\x2b\x65\x70" in der[:16]  # OID 1.3.101.112
    return ("ed25519" if ed25519 else "rsa"), base64.b64encode(der[-32:] if ed25519 else der).decode()


def dkim_check(directory, domain, keys):
    """Verifies what smtp-sink -d dumped: its own X-* envelope lines and Received: first, then the
    message as the sink got it. Counts the messages and, per selector, the valid signatures."""
    import dkim  # Debian's python3-dkim (python3-nacl beside it for Ed25519)
    records = {}
    for item in keys:
        sel, keyfile = item.split("=", 1)
        k, p = dkim_txt(keyfile)
        records[f"{sel}._domainkey.{domain}."] = f"v=DKIM1; k={k}; p={p}".encode()

    def dns(name, timeout=5):
        return records.get(name.decode() if isinstance(name, bytes) else name)

    out = {"messages": 0, "valid": {}, "invalid": {}, "unsigned": 0}
    for name in sorted(os.listdir(directory)):
        raw = open(os.path.join(directory, name), "rb").read().replace(b"\r\n", b"\n")
        lines = raw.split(b"\n")
        while lines and lines[0].startswith(b"X-"):
            lines.pop(0)
        msg = b"\r\n".join(lines)
        out["messages"] += 1
        d = dkim.DKIM(msg)
        sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
        if not sigs:
            out["unsigned"] += 1
        for i, sig in enumerate(sigs):
            tags = dict(t.strip().split(b"=", 1) for t in sig.split(b";") if b"=" in t)
            sel = tags.get(b"s", b"?").strip().decode()
            ok = d.verify(idx=i, dnsfunc=dns)
            bucket = out["valid" if ok else "invalid"]
            bucket[sel] = bucket.get(sel, 0) + 1
    print(json.dumps(out))
    # Every message carries a valid signature by every key, and no other.
    every = all(out["valid"].get(k.split("=", 1)[0]) == out["messages"] for k in keys)
    return 0 if out["messages"] and every and not out["invalid"] and not out["unsigned"] else 1


def proc_table(names=None):
    """pid -> (ppid, cpu ticks of the process and of its reaped children)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        table[int(name)] = (ppid, utime + stime + cutime + cstime)
        if names is not None:
            names[int(name)] = (stat[stat.find("(") + 1:stat.rfind(")")], utime + stime)
    return table


def tree(pid, table):
    children = {}
    for p, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in table:
            out.append(p)
            todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    table = proc_table()
    if pid not in table:
        raise SystemExit(f"cpu: no process {pid}")
    return sum(table[p][1] for p in tree(pid, table)) / CLK_TCK


def cpu_by_name(pid):
    names = {}
    table = proc_table(names)
    out = {}
    for p in tree(pid, table):
        name, ticks = names[p]
        out[name] = round(out.get(name, 0) + ticks / CLK_TCK, 2)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memwatch(roots, out, interval):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    peak_rss = peak_pss = hwm = samples = 0
    pid = roots[0]
    while True:
        table = proc_table()
        pids = [p for root in roots for p in tree(root, table)]
        if not pids:
            break
        peak_rss = max(peak_rss, sum(status_kib(p, "VmRSS") for p in pids))
        peak_pss = max(peak_pss, sum(pss_kib(p) for p in pids))
        hwm = max(hwm, status_kib(pid, "VmHWM"))
        samples += 1
        ready()
        if stop:
            break
        # Sleep in short steps so SIGTERM is answered quickly with a final sample.
        until = time.monotonic() + interval
        while not stop and time.monotonic() < until:
            time.sleep(0.02)
    with open(out, "w") as f:
        json.dump({"peak_rss_kib": peak_rss, "peak_pss_kib": peak_pss, "root_hwm_kib": hwm,
                   "samples": samples}, f)
        f.write("\n")


COLS = [("msgs_per_s", "delivered msg/s", "{:.0f}"),
        ("inject_per_s", "injected msg/s", "{:.0f}"),
        ("cpu_s_per_1000", "CPU s/1000 msg", "{:.3f}"),
        ("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
        ("peak_pss_mib", "peak PSS MiB", "{:.0f}")]


def mode_parts(mode):
    """"rsa+tls" -> ("rsa", True); "tls" -> ("none", True); "none" -> ("none", False)."""
    parts = mode.split("+")
    tls = "tls" in parts
    dkim = [p for p in parts if p != "tls"]
    return (dkim[0] if dkim else "none"), tls


def system_table(runs):
    """The table of one mode (sink, volley, postfix rows); returns the medians per system."""
    med = {}
    header = "| run | ok runs | " + " | ".join(c[1] for c in COLS) + " | delivered msg/s, each run |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for s in ["sink", "volley", "postfix"]:
        rs = [r for r in runs if r["system"] == s]
        if not rs:
            continue
        ok = [r for r in rs if r.get("ok")]
        med[s] = {}
        cells = []
        for key, _, fmt in COLS:
            vals = [r[key] for r in ok if r.get(key) is not None]
            if vals:
                med[s][key] = statistics.median(vals)
                cells.append(fmt.format(med[s][key]))
            else:
                cells.append("-")
        each = ", ".join(f"{r['msgs_per_s']:.0f}" if r.get("ok") else "FAIL" for r in rs)
        kind = rs[0].get("sink", "smtp-sink")
        name = f"sink ({kind})" if s == "sink" and kind != "smtp-sink" else s
        print(f"| {name} | {len(ok)}/{len(rs)} | " + " | ".join(cells) + f" | {each} |")

    def ratio(a, b, key):
        x, y = med.get(a, {}).get(key), med.get(b, {}).get(key)
        return f"{x / y:.2f}" if x and y else "-"

    print()
    print(f"Volley/Postfix delivered msg/s: {ratio('volley', 'postfix', 'msgs_per_s')}   "
          f"CPU per message: {ratio('volley', 'postfix', 'cpu_s_per_1000')}   "
          f"peak PSS: {ratio('volley', 'postfix', 'peak_pss_mib')}")
    print(f"Volley/sink ceiling msg/s: {ratio('volley', 'sink', 'msgs_per_s')}   "
          f"Postfix/sink ceiling msg/s: {ratio('postfix', 'sink', 'msgs_per_s')}")
    return med


MODE_TITLES = {"none": "no DKIM", "ed25519": "Ed25519", "rsa": "RSA-2048", "both": "RSA-2048 + Ed25519",
               "tls": "STARTTLS"}


def mode_title(mode):
    dkim, tls = mode_parts(mode)
    if mode == "tls":
        return "STARTTLS"
    return MODE_TITLES[dkim] + (" + STARTTLS" if tls else "")


def cost_table(modes, meds):
    """One row per mode, the columns of loadtest/README.md's cost table: what DKIM and TLS cost
    Volley against the mode without either ("none"), and Volley against Postfix in the same mode."""
    base = meds.get("none", {}).get("volley", {})
    bm, bc = base.get("msgs_per_s"), base.get("cpu_s_per_1000")
    print("| mode | Volley msg/s | CPU ms/msg | Postfix msg/s | ratio | cost vs no DKIM |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        v, p = meds.get(mode, {}).get("volley", {}), meds.get(mode, {}).get("postfix", {})
        vm, vc, pm = v.get("msgs_per_s"), v.get("cpu_s_per_1000"), p.get("msgs_per_s")
        cost = "-"
        if mode != "none" and vm and bm and vc and bc:
            cost = f"{(vm / bm - 1) * 100:+.1f} % msg/s, {vc - bc:+.3f} ms CPU"
        print(f"| {mode_title(mode)} (`{mode}`) | {f'{vm:.0f}' if vm else '-'} | {f'{vc:.3f}' if vc else '-'} "
              f"| {f'{pm:.0f}' if pm else '-'} | {f'{vm / pm:.1f}x' if vm and pm else '-'} | {cost} |")
    print()
    ed = meds.get("ed25519", {}).get("volley", {}).get("msgs_per_s")
    if ed and bm:
        loss = (1 - ed / bm) * 100
        print(f"Target, Ed25519 costs under 10 % of Volley's throughput: {loss:.1f} % "
              f"({'met' if loss < 10 else 'NOT met'})")
    rt = meds.get("rsa+tls", {})
    vm, pm = rt.get("volley", {}).get("msgs_per_s"), rt.get("postfix", {}).get("msgs_per_s")
    if vm and pm:
        print(f"Target, with RSA-2048 and STARTTLS Volley delivers at least 10x Postfix + OpenDKIM: "
              f"{vm / pm:.1f}x ({'met' if vm / pm >= 10 else 'NOT met'})")


def summary(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    meta = next((r for r in runs if r.get("kind") == "meta"), {})
    runs = [r for r in runs if r.get("kind") == "run"]
    modes = meta.get("modes") or ["none"]
    print(f"messages={meta.get('messages')} size={meta.get('size')} domains={meta.get('domains')} "
          f"repeats={meta.get('repeat')} conns/domain={meta.get('conns')} "
          f"inject concurrency={meta.get('concurrency')} "
          f"volley injected by={'SMTP submission' if meta.get('volley_inject') == 'smtp' else 'HTTP'}")
    print(f"cpus={meta.get('cpus')} loadavg before={meta.get('load_before')} "
          f"after={meta.get('load_after', '?')}")
    meds = {}
    for mode in modes:
        dkim, tls = mode_parts(mode)
        sink = "volley-receiver" if tls else "smtp-sink"
        mine = [r for r in runs if (r["system"] == "sink" and r.get("sink", "smtp-sink") == sink)
                or (r["system"] != "sink" and r.get("mode", "none") == mode)]
        if modes != ["none"]:
            print()
            print(f"mode {mode}: DKIM {dkim}, TLS {'STARTTLS' if tls else 'none'}, sink {sink}")
        meds[mode] = system_table(mine)
    if len(modes) > 1:
        print()
        cost_table(modes, meds)
    return 0 if all(r.get("ok") for r in runs) else 1


def cpu_busy_idle():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields), idle


def writeback_kib():
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            name, value = line.split(":", 1)
            if name in ("Dirty", "Writeback"):
                total += int(value.split()[0])
    return total


def settle(max_seconds):
    """A guard against one run's leftovers (Postfix's processes exiting, its queue files written
    back and deleted) landing in the next run's figures. When it was added the machine was quiet
    within half a second after every run: the 1-minute load of 15 seen after Postfix's runs is a
    lagging mean, not work still going on."""
    start = time.monotonic()
    os.sync()
    idle_share = 0.0
    while True:
        total0, idle0 = cpu_busy_idle()
        time.sleep(0.5)
        total1, idle1 = cpu_busy_idle()
        idle_share = (idle1 - idle0) / max(1, total1 - total0)
        if (idle_share >= 0.85 and writeback_kib() < 1024) or time.monotonic() - start >= max_seconds:
            break
    print(f"{time.monotonic() - start:.1f}s, {idle_share * 100:.0f}% idle")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "zone":
        sys.stdout.write(zone(int(args[0]), args[1], args[2]))
    elif cmd == "free-port":
        print(free_port(args[0]))
    elif cmd == "wait-port":
        return wait_port(args[0], int(args[1]), float(args[2]))
    elif cmd == "dns-ready":
        return dns_ready(args[0], args[1], float(args[2]))
    elif cmd == "wait-count":
        return wait_count(args[0], int(args[1]), float(args[2]))
    elif cmd == "wait-stats":
        return wait_stats(args[0], int(args[1]), float(args[2]))
    elif cmd == "wait-line":
        return wait_line(args[0], args[1], float(args[2]))
    elif cmd == "dkim-txt":
        print("v=DKIM1; k=%s; p=%s" % dkim_txt(args[0]))
    elif cmd == "dkim-check":
        return dkim_check(args[0], args[1], args[2:])
    elif cmd == "cpu":
        print(f"{sum(cpu_seconds(int(p)) for p in args[0].split(',')):.2f}")
    elif cmd == "cpu-by-name":
        print(json.dumps(cpu_by_name(int(args[0]))))
    elif cmd == "memwatch":
        memwatch([int(p) for p in args[0].split(",")], args[1], float(args[2]))
    elif cmd == "settle":
        settle(float(args[0]))
    elif cmd == "summary":
        return summary(args[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
