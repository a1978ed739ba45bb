#!/usr/bin/python3
"""Verifies the DKIM signatures of stored messages with Debian's python3-dkim (dkimpy), an
independent verifier, looking the keys up in the test's own DNS server (nsd on 127.0.0.1).

  dkim_verify.py --dns-port PORT FILE...

Prints one JSON object: {"FILE": [true, false, ...]}, one result per DKIM-Signature field of
the message, in the order they appear.
"""

import argparse
import json
import re
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dns-port", type=int, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    def txt(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        query = dns.message.make_query(name, dns.rdatatype.TXT)
        answer = dns.query.udp(query, "127.0.0.1", port=args.dns_port, timeout=timeout)
        for rrset in answer.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(list(rrset.items)[0].strings)
        return None

    results = {}
    for path in args.files:
        with open(path, "rb") as f:
            message = f.read()
        count = len(re.findall(rb"(?im)^dkim-signature:", message.split(b"\r\n\r\n", 1)[0]))
        verdicts = []
        for i in range(count):
            try:
                verdicts.append(bool(dkim.DKIM(message).verify(idx=i, dnsfunc=txt)))
            except Exception as e:  # a verifier error is a failed verification, said why
                print(f"{path} signature {i}: {e}", file=sys.stderr)
                verdicts.append(False)
        results[path] = verdicts
    print(json.dumps(results))


if __name__ == "__main__":
    main()
