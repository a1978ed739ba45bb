#!/usr/bin/env python3
"""SMTP injection for loadtest/bench.sh when recipients spread over more domains than there are
connections (smtp-source sends all of one run to a single recipient): COUNT messages over
CONCURRENCY reused sessions, message i to user<i>@d<i mod DOMAINS + 1>.test, MAIL/RCPT/DATA
pipelined (RFC 2920), a text body of SIZE bytes in 76-character lines as smtp-source -l sends.

  smtp_inject.py HOST PORT COUNT CONCURRENCY SIZE DOMAINS TIMEOUT

Exits 0 when every message got a 250, 1 on any failure or when TIMEOUT seconds pass.
"""
import asyncio
import sys


class Failed(Exception):
    pass


async def reply(reader):
    """One SMTP reply (possibly multi-line): its code."""
    while True:
        line = await reader.readline()
        if len(line) < 4:
            raise Failed(f"connection closed or short reply {line!r}")
        if line[3:4] != b"-":
            return int(line[:3])


def body(size):
    line = b"x" * 74 + b"\r\n"
    full, rest = divmod(size, len(line))
    return line * full + (b"y" * max(0, rest - 2) + b"\r\n" if rest else b"")


async def session(host, port, next_seq, count, domains, text):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if await reply(reader) != 220:
            raise Failed("no 220 greeting")
        writer.write(b"EHLO client.bench.test\r\n")
        if await reply(reader) != 250:
            raise Failed("EHLO refused")
        while True:
            seq = next_seq[0]
            if seq >= count:
                break
            next_seq[0] += 1
            rcpt = f"user{seq}@d{seq % domains + 1}.test".encode()
            writer.write(b"MAIL FROM:<sender@client.bench.test>\r\nRCPT TO:<" + rcpt + b">\r\nDATA\r\n")
            codes = [await reply(reader) for _ in range(3)]
            if codes != [250, 250, 354]:
                raise Failed(f"MAIL/RCPT/DATA answered {codes}")
            writer.write(b"From: <sender@client.bench.test>\r\nTo: <" + rcpt + b">\r\nSubject: bench " +
                         str(seq).encode() + b"\r\n\r\n" + text + b".\r\n")
            if await reply(reader) != 250:
                raise Failed("message refused")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def main(host, port, count, concurrency, size, domains, timeout):
    next_seq = [0]
    text = body(size)
    tasks = [session(host, port, next_seq, count, domains, text) for _ in range(min(concurrency, count))]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout)


if __name__ == "__main__":
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    h, p, n, c, s, d, t = sys.argv[1:]
    try:
        asyncio.run(main(h, int(p), int(n), int(c), int(s), int(d), float(t)))
    except (Failed, OSError, asyncio.TimeoutError) as e:
        print(f"smtp_inject: {e!r}", file=sys.stderr)
        sys.exit(1)
