#!/usr/bin/python3
"""A real SMTP receiver for Volley's integration tests, built on Debian's aiosmtpd.

The protocol is aiosmtpd's, not ours: what Volley sends is judged by an independent server.
Every accepted message is stored in --maildir as two files sharing a name:
  NAME.eml   the DATA bytes exactly as aiosmtpd handed them over (after dot-unstuffing)
  NAME.json  the envelope: mail_from, rcpt_tos, mail_options, rcpt_options, peer, local, size
The .json is renamed into place last, so a test that sees it can read both files whole.

--script FILE is JSON keyed by recipient address (compared case-insensitively):
  {"u@d.test": {"rcpt": "550 5.1.1 no such user"}}                  every RCPT gets this reply
  {"u@d.test": {"rcpt_sequence": ["451 4.7.1 greylisted", "250 OK"]}} Nth RCPT gets the Nth
                                                                        reply, the last repeats
  {"u@d.test": {"data": "452 4.3.1 try later"}}   DATA reply when this recipient was accepted
A scripted "250 ..." RCPT reply accepts the recipient; any other code rejects it.
--events FILE appends one JSON line per RCPT and per DATA (what was asked, what was answered),
so a test can see attempts that stored nothing.
--ready-file F is written once every listener is bound, so a test waits on it, not on a sleep.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


def parse_listen(value):
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected host:port, got {value!r}")
    return host, int(port)


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Script:
    """Per-recipient replies; counts RCPT attempts per recipient across all connections
    (all served by one asyncio loop, so no locking)."""

    def __init__(self, table):
        self._table = {k.lower(): v for k, v in table.items()}
        self._attempts = {}

    def rcpt_reply(self, address):
        entry = self._table.get(address.lower())
        if entry is None:
            return None
        if "rcpt" in entry:
            return entry["rcpt"]
        seq = entry.get("rcpt_sequence")
        if seq:
            n = self._attempts.get(address.lower(), 0)
            self._attempts[address.lower()] = n + 1
            return seq[min(n, len(seq) - 1)]
        return None

    def data_reply(self, rcpt_tos):
        for address in rcpt_tos:
            entry = self._table.get(address.lower())
            if entry and "data" in entry:
                return entry["data"]
        return None


class Handler:
    def __init__(self, maildir, script, events_path):
        self._maildir = maildir
        self._script = script
        self._events_path = events_path
        self._seq = itertools.count(1)

    def _event(self, **fields):
        if not self._events_path:
            return
        fields["at"] = time.time()
        with open(self._events_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(fields) + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd reads commands from a stream one by one, so pipelined commands already work;
        # it just does not say so. Advertise PIPELINING (RFC 2920) before the final line.
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._script.rcpt_reply(address) if self._script else None
        if reply is None:
            reply = "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        self._event(kind="rcpt", recipient=address, mail_from=envelope.mail_from, reply=reply,
                    peer=list(session.peer), local=server.local_address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        reply = self._script.data_reply(envelope.rcpt_tos) if self._script else None
        if reply is not None and not reply.startswith("250"):
            self._event(kind="data", recipients=envelope.rcpt_tos, reply=reply,
                        peer=list(session.peer), local=server.local_address)
            return reply
        name = "%06d-%d-%d" % (next(self._seq), os.getpid(), time.monotonic_ns())
        base = os.path.join(self._maildir, name)
        data = envelope.original_content or b""
        write_atomically(base + ".eml", data)
        envelope_json = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "rcpt_options": envelope.rcpt_options,
            "peer": list(session.peer),
            "local": server.local_address,
            "helo": session.host_name,
            "size": len(data),
        }
        write_atomically(base + ".json", json.dumps(envelope_json).encode("utf-8"))
        reply = reply or "250 OK queued as " + name
        self._event(kind="data", recipients=envelope.rcpt_tos, reply=reply,
                    peer=list(session.peer), local=server.local_address, file=name)
        return reply


class SinkSMTP(SMTP):
    def __init__(self, handler, local_address):
        super().__init__(handler, enable_SMTPUTF8=True, decode_data=False,
                         hostname="sink.volley.test", ident="volley-test-sink")
        self.local_address = local_address


async def serve(args):
    script = None
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            script = Script(json.load(f))
    os.makedirs(args.maildir, exist_ok=True)
    handler = Handler(args.maildir, script, args.events)
    loop = asyncio.get_running_loop()
    servers = []
    for host, port in args.listen:
        local = f"{host}:{port}"
        servers.append(await loop.create_server(
            lambda local=local: SinkSMTP(handler, local), host=host, port=port,
            reuse_address=True))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.ready_file:
        write_atomically(args.ready_file, json.dumps(
            {"pid": os.getpid(), "listen": [f"{h}:{p}" for h, p in args.listen]}).encode())
    await stop.wait()
    for s in servers:
        s.close()
        await s.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=parse_listen, action="append", required=True,
                        help="host:port to listen on (repeatable)")
    parser.add_argument("--maildir", required=True, help="where received messages are stored")
    parser.add_argument("--script", help="JSON file: per-recipient replies")
    parser.add_argument("--events", help="JSON-lines file: one line per RCPT and DATA")
    parser.add_argument("--ready-file", help="written once all listeners are bound")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except OSError as e:  # e.g. address in use: say so plainly, the test reads our log
        print(f"smtp_sink: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
