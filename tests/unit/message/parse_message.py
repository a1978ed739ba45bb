#!/usr/bin/python3
"""Independent check of Volley's MIME output: parse a message with Python's stdlib email
package (policy=default, the strict modern parser) and print what it found as JSON.

Usage: parse_message.py MESSAGE_FILE
"""
import base64
import email
import email.policy
import json
import sys


def addresses(header):
    return [{"name": a.display_name, "email": a.addr_spec} for a in header.addresses]


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = {}
    header_defects = [type(d).__name__ for d in msg.defects]
    for name in msg.keys():
        value = msg[name]
        header_defects += [name + ": " + type(d).__name__ for d in value.defects]
        if name.lower() in ("from", "to", "cc", "reply-to", "bcc"):
            headers[name.lower()] = addresses(value)
        else:
            headers[name.lower()] = str(value)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            parts.append({"content_type": part.get_content_type(), "multipart": True,
                          "defects": [type(d).__name__ for d in part.defects]})
            continue
        entry = {
            "content_type": part.get_content_type(),
            "multipart": False,
            "charset": part.get_content_charset(),
            "cte": part.get("Content-Transfer-Encoding", ""),
            "disposition": part.get_content_disposition(),
            "filename": part.get_filename(),
            "defects": [type(d).__name__ for d in part.defects],
        }
        if part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment":
            entry["text"] = part.get_content()
        else:
            entry["bytes_b64"] = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
        parts.append(entry)
    lines = raw.split(b"\r\n")
    print(json.dumps({
        "headers": headers,
        "header_defects": header_defects,
        "parts": parts,
        "max_line": max(len(l) for l in lines),
        "bare_lf": raw.replace(b"\r\n", b"").count(b"\n"),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
