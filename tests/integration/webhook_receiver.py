#!/usr/bin/env python3
"""A webhook endpoint for Volley's integration tests: takes POSTs on 127.0.0.1:<port>, checks each
one's X-Volley-Signature (HMAC-SHA256 of "<timestamp>.<body>" with the shared secret) the way the
docs/events.md tells applications to, and appends one JSON line per POST to <out>:
{"valid": bool, "timestamp": str, "events": [...]}. It answers 200 to valid POSTs, 401 otherwise.
Usage: webhook_receiver.py <port> <secret> <out.jsonl>"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, SECRET, OUT = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]


def signature_ok(secret, timestamp, body, header):
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest("v1=" + expected, part.strip()) for part in header.split(","))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("X-Volley-Timestamp", "")
        valid = signature_ok(SECRET, timestamp, body, self.headers.get("X-Volley-Signature", ""))
        try:
            events = json.loads(body)["events"]
        except (ValueError, KeyError, TypeError):
            events, valid = [], False
        with open(OUT, "a") as out:
            out.write(json.dumps({"valid": valid, "timestamp": timestamp, "events": events}) + "\n")
        answer = b"{}" if valid else b'{"error":"bad signature"}'
        self.send_response(200 if valid else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", PORT), Handler)
print("listening", PORT, flush=True)
server.serve_forever()
