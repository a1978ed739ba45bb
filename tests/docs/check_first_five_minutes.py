#!/usr/bin/python3
"""The README's first five minutes, run: a volley-receiver, volleyd with the shipped
configuration (its route pointed at the receiver's port and its API at a free port, both chosen
by the kernel, in a temporary working directory so that ./var/ is the test's own), one message
sent as the README sends it, and then what the README shows: the `delivered` event in the event
log, status `delivered` from the status API, volley_messages_delivered_total at 1, and the
receiver's count. Then every metric family of that /metrics (its # TYPE lines) must be in
METRICS_DOC, so that a new series cannot go undocumented. (Series that appear only with other
traffic, bounces, complaints, webhooks, are not seen here; deploy/'s dashboard test covers the
names the alerts and the dashboard use.)

Usage: check_first_five_minutes.py VOLLEYD VOLLEY_RECEIVER CONFIG METRICS_DOC.
Exit 0 when all of it holds, 1 with what did not.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

DEADLINE_S = 60


class Process:
    """A child whose output is read line by line (so it never blocks on a full pipe)."""

    def __init__(self, args, cwd):
        self.lines = []
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern):
        """The first match of pattern in the output, waiting up to DEADLINE_S; None if it ends first."""
        deadline = time.monotonic() + DEADLINE_S
        with self._changed:
            while True:
                for line in self.lines:
                    if m := re.search(pattern, line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._changed.wait(left)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def poll(what, fn):
    """fn() until it returns a true value, for up to DEADLINE_S (polling, not a guessed sleep)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            if value := fn():
                return value
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE_S}s")
        time.sleep(0.05)


def main():
    volleyd, receiver_bin, config, metrics_doc = sys.argv[1:5]
    text = open(config, encoding="utf-8").read()
    if "[http]" in text or text.count("port = 2525") != 1:
        print(f"{config}: expected no [http] table and one route to port 2525 (the README's)")
        return 1
    with tempfile.TemporaryDirectory(prefix="volley-five-minutes-") as tmp:
        receiver = Process([receiver_bin, "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"], tmp)
        daemon = None
        try:
            smtp, control = receiver.wait_for(r"listening 127\.0\.0\.1:(\d+)"), receiver.wait_for(
                r"control 127\.0\.0\.1:(\d+)")
            if not smtp or not control:
                raise AssertionError("volley-receiver did not say where it listens:\n" + "".join(receiver.lines))
            conf = os.path.join(tmp, "volley.toml")
            # The file as shipped, its route at the receiver's port, the API on a free port.
            open(conf, "w", encoding="utf-8").write(
                text.replace("port = 2525", f"port = {smtp.group(1)}") + '\n[http]\nlisten = "127.0.0.1:0"\n')
            daemon = Process([volleyd, "--config", conf], tmp)
            api = daemon.wait_for(r"HTTP API on 127\.0\.0\.1:(\d+)")
            if not api:
                raise AssertionError("volleyd did not say where its API listens:\n" + "".join(daemon.lines))
            base = f"http://127.0.0.1:{api.group(1)}"
            poll("GET /healthz 200", lambda: get(base + "/healthz")[0] == 200)

            body = json.dumps({"from": "me@example.com", "to": ["alice@example.test"],
                               "subject": "Hello from Volley", "text": "My first message."}).encode()
            req = urllib.request.Request(base + "/api/v1/messages", data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                answer = json.loads(r.read())
                assert r.status == 202, f"POST /api/v1/messages: {r.status} {answer}"
            rid = answer["recipients"][0]["id"]

            status = poll(f"GET /api/v1/messages/{rid} delivered",
                          lambda: (s := json.loads(get(f"{base}/api/v1/messages/{rid}")[1]))["status"] == "delivered"
                          and s)
            log = os.path.join(tmp, "var", "events.jsonl")

            def kinds_logged():  # the log is written within 100 ms of the outcome
                kinds = [e["event"] for e in map(json.loads, open(log)) if e["id"] == rid]
                return "delivered" in kinds and kinds

            kinds = poll(f"a delivered event for {rid} in var/events.jsonl", kinds_logged)
            metrics = get(base + "/metrics")[1]
            assert re.search(r'^volley_messages_delivered_total\{domain="example.test",[^}]*\} 1$', metrics,
                             re.MULTILINE), "volley_messages_delivered_total for example.test is not 1"
            stats = json.loads(get(f"http://127.0.0.1:{control.group(1)}/stats")[1])
            assert stats["domains"]["example.test"]["accepted"] == 1, f"receiver: {stats}"
            print(f"{config}: delivered to volley-receiver ({status['reply']}), events {kinds}")

            families = re.findall(r"^# TYPE (\S+) ", metrics, re.MULTILINE)
            doc = open(metrics_doc, encoding="utf-8").read()
            missing = [f for f in families if f"`{f}`" not in doc]
            for f in missing:
                print(f"{metrics_doc}: /metrics has {f}, which it does not document")
            if missing:
                return 1
            print(f"{metrics_doc}: documents all {len(families)} metric families of that /metrics")
            return 0
        except (AssertionError, OSError, KeyError, ValueError) as e:
            print(f"first five minutes: {e}")
            if daemon:
                print("volleyd said:\n" + "".join(daemon.lines))
            return 1
        finally:
            if daemon:
                daemon.stop()
            receiver.stop()


if __name__ == "__main__":
    sys.exit(main())
