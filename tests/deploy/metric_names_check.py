#!/usr/bin/python3
"""Every metric that deploy/grafana/volley.json and deploy/prometheus/alerts.yml name exists in
the /metrics of a real volleyd.

The test starts volleyd (the build's binary) on loopback with a [[route]] to a real SMTP sink
(tests/support/smtp_sink.py, aiosmtpd) that accepts one recipient, refuses one (550) and defers
one (451), and a [[webhook]] to a closed port; it sends a message to each and waits until
/metrics counts a delivery, a bounce and a deferral. Then, for every name the expressions use:
  - a family with samples is present;
  - a family with no sample yet (counters that only rare events create: complaints, DKIM,
    unsubscribes, TLS policy failures, ...) must at least have its # HELP / # TYPE lines, which
    volleyd prints for every family it registers;
  - `up` is made by Prometheus, not volleyd, and is the only name allowed to be absent.
Before that, every expression (Grafana's variables replaced) must parse: promtool check rules on
a rule file made of them.

Usage: metric_names_check.py SOURCE_DIR VOLLEYD_BINARY
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

src, volleyd = sys.argv[1], sys.argv[2]
PROMETHEUS_MADE = {"up"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
            "offset", "inf", "nan", "le"}


def expressions():
    exprs = []
    alerts = yaml.safe_load(open(os.path.join(src, "deploy/prometheus/alerts.yml")))
    for group in alerts["groups"]:
        for rule in group["rules"]:
            exprs.append((f"alerts.yml {rule.get('alert') or rule.get('record')}", rule["expr"]))
    dashboard = json.load(open(os.path.join(src, "deploy/grafana/volley.json")))
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            exprs.append((f"volley.json panel {panel['title']!r}", t["expr"]))
    for var in dashboard["templating"]["list"]:
        q = var.get("query")
        if isinstance(q, dict):
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q["query"])
            if m:
                exprs.append((f"volley.json variable {var['name']}", m.group(1)))
    # Grafana's variables, as Grafana would put them.
    subst = [(r"\$__rate_interval", "5m"), (r"\$__interval", "1m"), (r"\$\{?\w+\}?", ".*")]
    out = []
    for where, e in exprs:
        for pattern, value in subst:
            e = re.sub(pattern, value, e)
        out.append((where, e))
    return out


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # strings
    e = re.sub(r"\{[^}]*\}", "", e)                       # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                      # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or m.group(0).lower() in KEYWORDS:
            continue  # a function or an operator
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # a number's exponent or unit (1e9, 5m)
        names.add(m.group(0))
    return names


def check_syntax(exprs, tmp):
    rules = {"groups": [{"name": "expressions", "rules": [{"record": f"check:expr_{i}", "expr": e}
                                                          for i, (_, e) in enumerate(exprs)]}]}
    path = os.path.join(tmp, "expressions.yml")
    with open(path, "w") as f:
        yaml.safe_dump(rules, f)
    r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        for i, (where, e) in enumerate(exprs):
            if f"expr_{i}" in r.stderr or f"expr_{i}" in r.stdout:
                print(f"  expr_{i}: {where}: {e}", file=sys.stderr)
        sys.exit("FAIL: an expression does not parse (promtool check rules)")
    print(f"ok: {len(exprs)} expressions parse")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"FAIL: {what}: the process exited with {proc.returncode}")
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"FAIL: {what}: not within {timeout} s")


def http(url, body=None):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def sample_value(metrics_text, name):
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    exprs = expressions()
    wanted = {}
    for where, e in exprs:
        for n in metric_names(e):
            wanted.setdefault(n, where)
    with tempfile.TemporaryDirectory(prefix="volley-metric-names-") as tmp:
        check_syntax(exprs, tmp)
        smtp_port, http_port, webhook_port = free_port(), free_port(), free_port()
        with open(os.path.join(tmp, "script.json"), "w") as f:
            json.dump({"bounce@sink.test": {"rcpt": "550 5.1.1 no such user"},
                       "defer@sink.test": {"rcpt": "451 4.7.1 try again later"}}, f)
        ready = os.path.join(tmp, "sink.ready")
        sink = subprocess.Popen(["/usr/bin/python3", os.path.join(src, "tests/support/smtp_sink.py"),
                                 "--listen", f"127.0.0.1:{smtp_port}", "--maildir", os.path.join(tmp, "mail"),
                                 "--script", os.path.join(tmp, "script.json"), "--ready-file", ready],
                                stdout=open(os.path.join(tmp, "sink.log"), "w"), stderr=subprocess.STDOUT)
        config = os.path.join(tmp, "volley.toml")
        with open(config, "w") as f:
            f.write(f'''hostname = "volley.test"
[http]
listen = "127.0.0.1:{http_port}"
[spool]
path = "{tmp}/spool"
[dns]
servers = ["127.0.0.1:{free_port()}"]
timeout = "1s"
[delivery]
ehlo_name = "mta.volley.test"
retry_first = "1s"
retry_max_interval = "2s"
[log]
event_log = "{tmp}/events.jsonl"
[suppression]
path = "{tmp}/suppressions"
[events]
webhook_queue = "{tmp}/webhooks"
[[webhook]]
name = "app"
url = "http://127.0.0.1:{webhook_port}/events"
secret = "0123456789abcdef0123"
[[route]]
domain = "sink.test"
host = "127.0.0.1"
port = {smtp_port}
''')
        log = open(os.path.join(tmp, "volleyd.log"), "w")
        daemon = subprocess.Popen([volleyd, "--config", config], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for("smtp_sink.py ready", lambda: os.path.exists(ready), 30, sink)
            base = f"http://127.0.0.1:{http_port}"
            wait_for("volleyd /healthz", lambda: http(base + "/healthz")[0] == 200, 60, daemon)
            for rcpt in ("ok@sink.test", "bounce@sink.test", "defer@sink.test"):
                status, body = http(base + "/api/v1/messages", json.dumps(
                    {"from": "app@volley.test", "to": [rcpt], "subject": "metrics", "text": "hello"}).encode())
                if status != 202:
                    sys.exit(f"FAIL: injection to {rcpt} answered {status}: {body}")

            def counted():
                status, text = http(base + "/metrics")
                if status != 200:
                    return None
                done = all(sample_value(text, n) > 0 for n in (
                    "volley_messages_delivered_total", "volley_messages_bounced_total", "volley_messages_deferred_total",
                    "volley_webhook_deliveries_total"))
                return text if done else None
            text = wait_for("a delivery, a bounce, a deferral and a webhook attempt in /metrics", counted, 90, daemon)
        finally:
            daemon.terminate()
            sink.terminate()
            for p in (daemon, sink):
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            if daemon.returncode not in (0, -15):
                print(open(os.path.join(tmp, "volleyd.log")).read()[-4000:], file=sys.stderr)

    declared = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    sampled = {re.match(r"[^{ ]+", line).group(0) for line in text.splitlines() if line and not line.startswith("#")}
    missing, help_only = [], []
    for name, where in sorted(wanted.items()):
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in declared else name
        if name in PROMETHEUS_MADE:
            continue
        if name in sampled:
            continue
        if family in declared:
            help_only.append(name)
        else:
            missing.append(f"{name} (first used in {where})")
    print(f"ok: {len(wanted)} metric names used; {len(wanted) - len(missing) - len(help_only)} with samples in a live /metrics")
    if help_only:
        print("declared (# TYPE) with no sample yet, as expected of rare events: " + ", ".join(help_only))
    for m in missing:
        print("FAIL: not in /metrics:", m, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
