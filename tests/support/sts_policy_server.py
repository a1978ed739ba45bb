#!/usr/bin/python3
"""Test support: an HTTPS server for MTA-STS policies (RFC 8461 §3.3), one answer per Host.

  sts_policy_server.py --cert C --key K --answers answers.json --log requests.log --ready ready

answers.json, read again at every request so a test can change it between requests:
  {"mta-sts.example.test": {"status": 200, "body": "version: STSv1\\n...",
                            "content_type": "text/plain", "delay": 0, "location": ""}}
A Host missing from it gets 404. Every request is appended to the log as "host path" (after its
answer is sent), and the bound port is written to the ready file once the server listens.
"""
import argparse
import http.server
import json
import os
import ssl
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
            body = answer.get("body", "").encode()
            self.send_response(answer.get("status", 200))
            self.send_header("Content-Type", answer.get("content_type", "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            if answer.get("location"):
                self.send_header("Location", answer["location"])
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            with open(args.log, "a") as log:
                log.write(f"{host} {self.path}\n")

        def log_message(self, *a):
            pass

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
