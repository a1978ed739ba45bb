#!/usr/bin/python3
"""Draws a flame graph (SVG) from `perf script` output, for loadtest/profile.sh.

usage: perf script -i perf.data | flamegraph.py --title TITLE > out.svg
       flamegraph.py --folded < stacks.txt     (print folded stacks: "a;b;c COUNT" per line)

Each sample's stack is read root first; a frame's width is the share of samples it is on.
Debian packages no FlameGraph scripts; this one does the two steps they do (collapse, draw)
without JavaScript: the title of each box (shown on hover) gives its name and share.
"""
import argparse
import html
import re
import sys
from collections import defaultdict

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def clean(sym, dso):
    if sym.startswith("[unknown]"):
        base = dso.rsplit("/", 1)[-1]
        return f"[{base}]"
    sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
    # Template arguments make C++ names unreadably long: keep the outer name.
    out, depth = [], 0
    for ch in sym:
        if ch == "<":
            if depth == 0:
                out.append("<>")
            depth += 1
        elif ch == ">":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(ch)
    s = "".join(out)
    s = re.sub(r"\(.*\)$", "", s)  # argument lists
    return s[:120]


def collapse(lines):
    stacks = defaultdict(int)
    comm, frames = None, []

    def flush():
        if comm is not None:
            stacks[";".join([comm] + frames[::-1])] += 1

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            flush()
            comm, frames = line.split()[0], []
            if comm.startswith(":"):  # a thread perf saw no name for (it shows ":TID")
                comm = "(thread)"
            continue
        m = FRAME.match(line)
        if m and comm is not None:
            frames.append(clean(m.group(1), m.group(2)))
    flush()
    return stacks


def tree(stacks):
    root = {"n": 0, "c": {}}
    for stack, count in stacks.items():
        node = root
        node["n"] += count
        for f in stack.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}})
            node["n"] += count
    return root


def color(name):
    h = sum(ord(c) for c in name) % 60
    if name.startswith("[k]") or "kernel" in name or name.startswith(("do_syscall", "entry_SYSCALL", "__x64_sys")):
        return f"rgb({200 + h % 55},{120 + h},{60})"
    if name.startswith("volley::"):
        return f"rgb({80 + h},{160 + h % 40},{90})"
    return f"rgb({220 + h % 35},{100 + h},{40 + h % 30})"


def svg(root, title, width=1400, row=16, min_px=0.6):
    total = root["n"] or 1
    depth_max = [0]
    boxes = []

    def walk(node, x, depth):
        for name, child in sorted(node["c"].items()):
            w = child["n"] / total * width
            if w >= min_px:
                boxes.append((x, depth, w, name, child["n"]))
                depth_max[0] = max(depth_max[0], depth)
                walk(child, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (depth_max[0] + 1) * row + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
        f'<text x="6" y="38" fill="#555">{total} samples; box width = share of samples; hover for names</text>',
    ]
    for x, depth, w, name, n in boxes:
        y = height - (depth + 1) * row - 4
        label = html.escape(name)
        tip = f"{label} ({n} samples, {100.0 * n / total:.2f}%)"
        out.append(f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                   f'fill="{color(name)}" rx="1"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", default="Flame graph")
    ap.add_argument("--folded", action="store_true", help="print folded stacks instead of the SVG")
    args = ap.parse_args()
    stacks = collapse(sys.stdin)
    if args.folded:
        for s, n in sorted(stacks.items(), key=lambda kv: -kv[1]):
            print(f"{s} {n}")
        return
    sys.stdout.write(svg(tree(stacks), args.title))


if __name__ == "__main__":
    main()
