#!/usr/bin/python3
"""An SMTP submission client for the integration tests, on Python's smtplib (a library real
applications use), over STARTTLS, implicit TLS (RFC 8314) or plain text.

  submission_client.py --port P [--tls starttls|implicit|none] [--source ADDR] steps.json

steps.json is a list; each step is an SMTP command line ("AUTH PLAIN ...", "MAIL FROM:<a@b>"),
{"data": "..."} (DATA, then the content sent byte for byte, then CRLF.CRLF),
{"bdat": ["chunk", ...]} (CHUNKING, RFC 3030: one BDAT per chunk, the last with LAST; the
reply to the last is the step's), or
{"login": [user, password]} / {"send": {"from": ..., "to": [...], "message": ...}} through
smtplib's own login() and sendmail(). Prints one JSON list: [code, text] per step.
"""

import argparse
import json
import smtplib
import ssl
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", default="starttls", choices=["starttls", "implicit", "none"])
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("steps")
    args = parser.parse_args()
    with open(args.steps) as f:
        steps = json.load(f)

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    source = (args.source, 0)
    if args.tls == "implicit":
        s = smtplib.SMTP_SSL("127.0.0.1", args.port, context=context, source_address=source, timeout=30)
    else:
        s = smtplib.SMTP("127.0.0.1", args.port, source_address=source, timeout=30)
    s.ehlo("client.test")
    if args.tls == "starttls":
        s.starttls(context=context)
        s.ehlo("client.test")

    out = []
    for step in steps:
        try:
            if isinstance(step, str):
                code, text = s.docmd(step)
            elif "data" in step:
                code, text = s.docmd("DATA")
                if code == 354:
                    s.send(step["data"].encode("utf-8", "surrogateescape") + b"\r\n.\r\n")
                    code, text = s.getreply()
            elif "bdat" in step:
                chunks = [c.encode("utf-8", "surrogateescape") for c in step["bdat"]]
                for i, chunk in enumerate(chunks):
                    last = " LAST" if i == len(chunks) - 1 else ""
                    s.send(b"BDAT %d%s\r\n" % (len(chunk), last.encode()) + chunk)
                    code, text = s.getreply()
                    if code != 250:
                        break
            elif "login" in step:
                code, text = s.login(*step["login"])
            elif "send" in step:
                m = step["send"]
                s.sendmail(m["from"], m["to"], m["message"].encode("utf-8"))
                code, text = 250, b"sent"
            else:
                raise ValueError("unknown step %r" % (step,))
        except smtplib.SMTPResponseException as e:
            code, text = e.smtp_code, e.smtp_error
        except smtplib.SMTPRecipientsRefused as e:
            code, text = list(e.recipients.values())[0]
        except smtplib.SMTPServerDisconnected as e:
            code, text = -1, str(e).encode()
        out.append([code, text.decode("utf-8", "replace") if isinstance(text, bytes) else text])
        if code == -1 or code == 421:
            break
    print(json.dumps(out))
    try:
        s.quit()
    except Exception:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
