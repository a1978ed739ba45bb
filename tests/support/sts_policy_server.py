#!/usr/bin/python3
"""Test support: an HTTPS server for MTA-STS policies (RFC 8461 §3.3), one answer per Host.

  sts_policy_server.py --cert C --key K --answers answers.json --log requests.log --ready ready

answers.json, read again at every request so a test can change it between requests:
  {"mta-sts.example.test": {"status": 200, "body": "version: STSv1\\n...",
                            "content_type": "text/plain", "delay": 0, "location": ""}}
A Host missing from it gets 404. Every request is appended to the log as "host path" (just before
its answer is sent, so a client holding its answer finds it counted), and the bound port is written to the ready file once the server listens.

A POST (a TLS report, RFC 8460 §5.4) is answered 200 and stored beside the log, in posts/:
N.body (the bytes) and N.json ({"host", "path", "content_type"}), the .json renamed in last.
"""
import argparse
import http.server
import itertools
import json
import os
import ssl
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--answers", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            with open(args.answers) as f:
                answer = json.load(f).get(host)
            if answer is None:
                answer = {"status": 404, "body": "no policy here\n"}
            time.sleep(answer.get("delay", 0))
            # Logged before the answer goes out: a client that has its answer finds it counted.
            with open(args.log, "a") as log:
                log.write(f"{host} {self.path}\n")
            body = answer.get("body", "").encode()
            self.send_response(answer.get("status", 200))
            self.send_header("Content-Type", answer.get("content_type", "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            if answer.get("location"):
                self.send_header("Location", answer["location"])
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                n = next(counter)
            posts = os.path.join(os.path.dirname(os.path.abspath(args.log)), "posts")
            os.makedirs(posts, exist_ok=True)
            with open(os.path.join(posts, f"{n}.body"), "wb") as f:
                f.write(body)
            meta = {"host": host, "path": self.path, "content_type": self.headers.get("Content-Type", "")}
            with open(os.path.join(posts, f"{n}.json.tmp"), "w") as f:
                json.dump(meta, f)
            os.rename(os.path.join(posts, f"{n}.json.tmp"), os.path.join(posts, f"{n}.json"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

        def log_message(self, *a):
            pass

    lock = threading.Lock()
    counter = itertools.count(1)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
