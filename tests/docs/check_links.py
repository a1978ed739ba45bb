#!/usr/bin/python3
"""Every relative link in the README and docs/*.md leads somewhere: the file exists, and a
#fragment names a heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces
to '-'). Links to the web are not followed (the tests talk to loopback only).

Usage: check_links.py SOURCE_DIR. Exit 0 when every link resolves; 1 with one line per broken one.
"""
import glob
import os
import re
import sys

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path):
    found, code = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            code = not code
        if code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        while slug in found:  # GitHub numbers repeated headings
            slug += "-1"
        found.add(slug)
    return found


def main():
    root = sys.argv[1]
    pages = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    problems, count = [], 0
    for page in pages:
        code = False
        for n, line in enumerate(open(page, encoding="utf-8"), 1):
            if line.startswith("```"):
                code = not code
            if code:
                continue
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # https:, mailto:
                count += 1
                file_part, _, fragment = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(page), file_part)) if file_part else page
                where = f"{os.path.relpath(page, root)}:{n}"
                if not os.path.exists(dest):
                    problems.append(f"{where}: {target}: no such file")
                elif fragment and (not dest.endswith(".md") or fragment not in anchors(dest)):
                    problems.append(f"{where}: {target}: no heading #{fragment} in {os.path.relpath(dest, root)}")
    for p in problems:
        print(p)
    if not problems:
        print(f"{len(pages)} pages, {count} relative links, all resolve")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
