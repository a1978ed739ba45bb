#!/usr/bin/python3
"""The README's first-five-minutes configuration starts volleyd: volleyd runs with the file (its
API moved to a free port, in a temporary working directory so that ./var/ is the test's own),
logs where its API listens, and GET /healthz answers 200. Then, with METRICS_DOC, every metric
family the fresh daemon's /metrics has (its # TYPE lines) is documented there: a new series
cannot go undocumented. (Series that appear only with traffic, per destination, are not seen
here; deploy/'s dashboard test covers the names the alerts and the dashboard use.)

Usage: check_first_five_minutes.py VOLLEYD CONFIG [METRICS_DOC]. Exit 0 when all holds, 1 otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

DEADLINE_S = 60


def main():
    volleyd, config = sys.argv[1], sys.argv[2]
    text = open(config, encoding="utf-8").read()
    if "[http]" in text:
        print(f"{config}: sets [http]; this test moves the API to a free port by adding that table")
        return 1
    with tempfile.TemporaryDirectory(prefix="volley-five-minutes-") as tmp:
        conf = os.path.join(tmp, "volley.toml")
        # The file as shipped, plus the API on a port the kernel chooses (ctest runs in parallel).
        open(conf, "w", encoding="utf-8").write(text + '\n[http]\nlisten = "127.0.0.1:0"\n')
        proc = subprocess.Popen([volleyd, "--config", conf], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines, port = [], []
        found = threading.Event()

        def read():
            for line in proc.stdout:
                lines.append(line)
                if m := re.search(r"HTTP API on 127\.0\.0\.1:(\d+)", line):
                    port.append(int(m.group(1)))
                    found.set()
            found.set()  # volleyd ended: stop waiting

        threading.Thread(target=read, daemon=True).start()
        try:
            if not found.wait(DEADLINE_S) or not port:
                print(f"volleyd did not say where its API listens within {DEADLINE_S}s:\n" + "".join(lines))
                return 1
            url = f"http://127.0.0.1:{port[0]}/healthz"
            deadline = time.monotonic() + DEADLINE_S
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        print(f"{config}: volleyd started, GET /healthz {r.status} {r.read().decode().strip()}")
                        if r.status != 200:
                            return 1
                    break
                except OSError as e:
                    if time.monotonic() > deadline:
                        print(f"GET {url}: {e}\n" + "".join(lines))
                        return 1
                    time.sleep(0.05)  # polling the listener, not waiting for a guess
            if len(sys.argv) < 4:
                return 0
            with urllib.request.urlopen(f"http://127.0.0.1:{port[0]}/metrics", timeout=10) as r:
                families = re.findall(r"^# TYPE (\S+) ", r.read().decode(), re.MULTILINE)
            doc = open(sys.argv[3], encoding="utf-8").read()
            missing = [f for f in families if f"`{f}`" not in doc]
            for f in missing:
                print(f"{sys.argv[3]}: /metrics has {f}, which it does not document")
            if not missing:
                print(f"{sys.argv[3]}: documents all {len(families)} metric families of a fresh volleyd")
            return 1 if missing else 0
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
