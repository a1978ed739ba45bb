#!/usr/bin/python3
"""Every metric that deploy/grafana/volley.json and deploy/prometheus/alerts.yml name exists in
the /metrics of a real volleyd.

volleyd prints a family only once it has a series, so the test makes every event the
expressions count happen, on loopback, to the build's volleyd: a [[route]] to a real SMTP sink
(tests/support/smtp_sink.py, aiosmtpd) that accepts one recipient, refuses one (550) and defers
one (451); a domain whose [[shaping.domain]] requires TLS the sink does not offer; a suppressed
recipient; a DKIM-signed message; a one-click unsubscribe (POST /u/TOKEN from the delivered
message's List-Unsubscribe); a feedback report (ARF) to [smtp_in] naming the delivered message's
VERP id; a [[webhook]] to a local HTTP server that takes the events. Then every name the
expressions use must have samples in /metrics; `up` (made by Prometheus) is the only exception.
Before that, every expression (Grafana's variables replaced) must parse: promtool check rules on
a rule file made of them.

Usage: metric_names_check.py SOURCE_DIR VOLLEYD_BINARY
"""
import http.server
import json
import os
import re
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
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


def wait_for(what, predicate, timeout, proc=None, last_state=None):
    """Polls predicate until it returns something true (returned), the process exits or the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"FAIL: {what}: the process exited with {proc.returncode}")
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"FAIL: {what}: not within {timeout} s" + (f"; last:\n{last_state()}" if last_state else ""))


def fetch_url(url, body=None, content_type="application/json"):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type} if body else {})
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


class Webhook(http.server.BaseHTTPRequestHandler):
    """Takes every POST with 204: volleyd's webhook endpoint."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def stored(maildir, rcpt):
    """The (envelope, message) the sink stored for rcpt, or None."""
    if not os.path.isdir(maildir):
        return None
    for name in os.listdir(maildir):
        if name.endswith(".json"):
            envelope = json.load(open(os.path.join(maildir, name)))
            if rcpt in envelope["rcpt_tos"]:
                return envelope, open(os.path.join(maildir, name[:-5] + ".eml"), "rb").read().decode()
    return None


ARF = """From: feedback@provider.example\r
To: fbl@fbl.volley.test\r
Subject: FW: metrics\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=feedback-report; boundary="arf"\r
\r
--arf\r
Content-Type: text/plain\r
\r
This is an email abuse report.\r
\r
--arf\r
Content-Type: message/feedback-report\r
\r
Feedback-Type: abuse\r
User-Agent: ProviderFBL/2.1\r
Version: 1\r
Source-IP: 127.0.0.1\r
Reported-Domain: volley.test\r
\r
--arf\r
Content-Type: text/rfc822-headers\r
\r
From: app@volley.test\r
To: ok@sink.test\r
Subject: metrics\r
X-Volley-ID: {volley_id}\r
\r
--arf--\r
"""


def live_metrics(tmp):
    smtp_port, http_port, smtp_in_port = free_port(), free_port(), free_port()
    with open(os.path.join(tmp, "script.json"), "w") as f:
        json.dump({"bounce@sink.test": {"rcpt": "550 5.1.1 no such user"},
                   "defer@sink.test": {"rcpt": "451 4.7.1 try again later"}}, f)
    maildir = os.path.join(tmp, "mail")
    ready = os.path.join(tmp, "sink.ready")
    keygen = subprocess.run([volleyd, "dkim-keygen", "--domain", "volley.test", "--selector", "m1", "--out", tmp],
                            capture_output=True, text=True)
    if keygen.returncode != 0:
        sys.exit(f"FAIL: volleyd dkim-keygen: {keygen.stdout}{keygen.stderr}")
    webhook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    config = os.path.join(tmp, "volley.toml")
    with open(config, "w") as f:
        f.write(f"""hostname = "volley.test"
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
[smtp_in]
listen = "127.0.0.1:{smtp_in_port}"
hostname = "bounce.volley.test"
domains = ["fbl.volley.test"]
[unsubscribe]
base_url = "https://mta.volley.test"
[[return_path]]
sender_domain = "*"
domain = "bounce.volley.test"
[[dkim]]
domain = "volley.test"
selector = "m1"
key_file = "{tmp}/volley.test.m1.pem"
[[webhook]]
name = "app"
url = "http://127.0.0.1:{webhook.server_address[1]}/events"
secret = "0123456789abcdef0123"
[[shaping.domain]]
domain = "tls.sink.test"
tls = "required"
""" + "".join(f'[[route]]\ndomain = "{d}"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
              for d in ("sink.test", "tls.sink.test")))
    sink = subprocess.Popen(["/usr/bin/python3", os.path.join(src, "tests/support/smtp_sink.py"),
                             "--listen", f"127.0.0.1:{smtp_port}", "--maildir", maildir,
                             "--script", os.path.join(tmp, "script.json"), "--ready-file", ready],
                            stdout=open(os.path.join(tmp, "sink.log"), "w"), stderr=subprocess.STDOUT)
    daemon = subprocess.Popen([volleyd, "--config", config], stdout=open(os.path.join(tmp, "volleyd.log"), "w"),
                              stderr=subprocess.STDOUT)
    try:
        wait_for("smtp_sink.py ready", lambda: os.path.exists(ready), 30, sink)
        base = f"http://127.0.0.1:{http_port}"
        wait_for("volleyd /healthz", lambda: fetch_url(base + "/healthz")[0] == 200, 60, daemon)
        status, body = fetch_url(base + "/api/v1/suppressions", json.dumps({"email": "gone@sink.test"}).encode())
        if status != 201:
            sys.exit(f"FAIL: POST /api/v1/suppressions answered {status}: {body}")
        for to, extra in ((["ok@sink.test"], {"campaign": "metrics"}), (["bounce@sink.test"], {}),
                          (["defer@sink.test"], {}), (["tls@tls.sink.test"], {}), (["gone@sink.test"], {})):
            status, body = fetch_url(base + "/api/v1/messages", json.dumps(
                {"from": "app@volley.test", "to": to, "subject": "metrics", "text": "hello", **extra}).encode())
            if status != 202:
                sys.exit(f"FAIL: injection to {to} answered {status}: {body}")

        envelope, message = wait_for("ok@sink.test delivered to the sink", lambda: stored(maildir, "ok@sink.test"), 60, daemon)
        # The one-click unsubscribe of the delivered message (RFC 8058), on the API listener.
        token = re.search(r"^List-Unsubscribe: <https://mta\.volley\.test/u/([^>]+)>", message, re.M)
        if not token:
            sys.exit("FAIL: the delivered message has no List-Unsubscribe header with a /u/ link")
        status, body = fetch_url(f"{base}/u/{token.group(1)}", b"List-Unsubscribe=One-Click",
                            "application/x-www-form-urlencoded")
        if status != 200:
            sys.exit(f"FAIL: POST /u/TOKEN answered {status}: {body}")
        # A feedback report naming it by the signed id of its VERP return path (bounces+ID@...).
        volley_id = envelope["mail_from"][len("bounces+"):envelope["mail_from"].index("@")]
        with smtplib.SMTP("127.0.0.1", smtp_in_port, timeout=30) as smtp:
            smtp.sendmail("<>", ["fbl@fbl.volley.test"], ARF.format(volley_id=volley_id).encode())

        names = ("volley_messages_delivered_total", "volley_messages_bounced_total", "volley_messages_deferred_total",
                 "volley_tls_policy_failures_total", "volley_suppressed_total", "volley_dkim_signatures_total",
                 "volley_unsubscribes_total", "volley_complaints_total", "volley_webhook_events_delivered_total",
                 # the router's look at every queue, every 15 s: defer@sink.test stays queued
                 "volley_queue_oldest_age_seconds")

        def counted():
            status, text = fetch_url(base + "/metrics")
            if status == 200 and all(sample_value(text, n) > 0 for n in names):
                return text
            return None
        return wait_for("every outcome counted in /metrics: " + ", ".join(names), counted, 90, daemon,
                        lambda: fetch_url(base + "/metrics")[1])
    finally:
        daemon.terminate()
        sink.terminate()
        webhook.shutdown()
        for p in (daemon, sink):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    exprs = expressions()
    wanted = {}
    for where, e in exprs:
        for n in metric_names(e):
            wanted.setdefault(n, where)
    with tempfile.TemporaryDirectory(prefix="volley-metric-names-") as tmp:
        check_syntax(exprs, tmp)
        try:
            text = live_metrics(tmp)
        except SystemExit:
            log = os.path.join(tmp, "volleyd.log")
            if os.path.exists(log):
                print("volleyd's log (end):\n" + open(log).read()[-3000:], file=sys.stderr)
            raise
    sampled = {re.match(r"[^{ ]+", line).group(0) for line in text.splitlines() if line and not line.startswith("#")}
    missing = [f"{n} (first used in {where})" for n, where in sorted(wanted.items())
               if n not in sampled and n not in PROMETHEUS_MADE]
    checked = [n for n in wanted if n not in PROMETHEUS_MADE]
    print(f"{'FAIL' if missing else 'ok'}: {len(checked) - len(missing)} of the {len(checked)} volleyd metric names the dashboard and the "
          f"alerts use have samples in a live /metrics")
    for m in missing:
        print("FAIL: not in /metrics:", m, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
