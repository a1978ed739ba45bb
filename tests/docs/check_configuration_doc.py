#!/usr/bin/python3
"""Checks docs/configuration.md against `volleyd --print-default-config`, so that the reference
cannot drift from the code:

- every key the default configuration sets is documented in its table, with the same default
  (the doc's default cell holds the TOML value in backticks; a default that is this machine's
  host name is documented as such, since it differs per machine);
- every key the default configuration shows commented out (optional, no fixed default) is
  documented;
- every key the doc documents is one volleyd knows: set or shown in the default configuration
  for its table, or, for the shaping layers, a key every layer takes.

Usage: check_configuration_doc.py VOLLEYD DOC. Exit 0 when they agree; 1 with one line per
problem; 2 when the inputs cannot be read.
"""
import re
import socket
import subprocess
import sys
import tomllib

HEADER = re.compile(r"^#?\s*\[\[?([a-z_.]+)\]\]?\s*(#.*)?$")
COMMENTED_KEY = re.compile(r"^#\s*([a-z_]+)\s*[=:]\s")
OR_KEY = re.compile(r"#\s*or\s+([a-z_]+)\s*=")  # "# provider = ...  # or domain = ..."
ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*(.*?)\s*\|")
DOC_SECTION = re.compile(r"^##\s+`\[\[?([a-z_.]+)\]\]?`")
SHAPING_LAYERS = {"shaping.provider", "shaping.domain", "shaping.source"}
# [delivery]'s keys from this one on are the destination defaults every shaping layer takes
# (default_config.cpp says so in a comment above them).
FIRST_LAYER_KEY_IN_DELIVERY = "max_connections"


def flatten(table, prefix=""):
    """{"shaping": {"default": {...}}} -> {"shaping.default": {...}}; top-level keys under ""."""
    sections = {prefix: {}}
    for key, value in table.items():
        if isinstance(value, dict):
            sections.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        else:
            sections[prefix][key] = value
    return sections


def default_config(volleyd):
    text = subprocess.run([volleyd, "--print-default-config"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    active = flatten(tomllib.loads(text))
    known = {}  # section -> keys set or shown commented out, in the order they appear
    section = ""
    for line in text.splitlines():
        if m := HEADER.match(line.strip()):
            section = m.group(1)
            known.setdefault(section, [])
            continue
        keys = []
        if not line.startswith("#"):
            if m := re.match(r"^([a-z_]+)\s*=", line):
                keys.append(m.group(1))
        elif m := COMMENTED_KEY.match(line):
            keys.append(m.group(1))
            keys += OR_KEY.findall(line)
        for k in keys:
            if k not in known.setdefault(section, []):
                known[section].append(k)
    return text, active, known


def documented(doc_path):
    rows = {}  # section -> {key: default cell}
    problems = []
    section = None
    for n, line in enumerate(open(doc_path, encoding="utf-8"), 1):
        if line.startswith("## "):
            m = DOC_SECTION.match(line)
            section = m.group(1) if m else ("" if line.strip() == "## Top level" else None)
            continue
        m = ROW.match(line)
        if not m:
            continue
        if section is None:
            problems.append(f"{doc_path}:{n}: key `{m.group(1)}` outside a `## [table]` section")
            continue
        if m.group(1) in rows.setdefault(section, {}):
            problems.append(f"{doc_path}:{n}: [{section}] {m.group(1)} documented twice")
        rows[section][m.group(1)] = (n, m.group(2))
    return rows, problems


def toml_value(cell):
    """The TOML value of a default cell written as `value`, or None for prose."""
    m = re.fullmatch(r"`([^`]*)`", cell)
    if not m:
        return None
    try:
        return tomllib.loads("v = " + m.group(1))["v"]
    except tomllib.TOMLDecodeError:
        return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    volleyd, doc_path = sys.argv[1], sys.argv[2]
    try:
        _, active, known = default_config(volleyd)
        rows, problems = documented(doc_path)
    except (OSError, subprocess.SubprocessError, tomllib.TOMLDecodeError) as e:
        print(f"cannot read the inputs: {e}", file=sys.stderr)
        return 2
    hostname = socket.gethostname()

    layer_keys = set(known.get("shaping.default", []))
    delivery = known.get("delivery", [])
    if FIRST_LAYER_KEY_IN_DELIVERY in delivery:
        layer_keys |= set(delivery[delivery.index(FIRST_LAYER_KEY_IN_DELIVERY):])

    def where(section):
        return f"[{section}]" if section else "the top level"

    for section, keys in known.items():
        doc = rows.get(section, {})
        for key in keys:
            if key not in doc:
                if key in active.get(section, {}) or not (section in SHAPING_LAYERS and key in layer_keys):
                    problems.append(f"{doc_path}: {where(section)} {key} is in --print-default-config "
                                    f"but not documented")
                continue
            if key not in active.get(section, {}):
                continue  # optional: no fixed default to compare
            line, cell = doc[key]
            expected = active[section][key]
            if expected == hostname or (expected == "localhost" and "host name" in cell):
                if "host name" not in cell:
                    problems.append(f"{doc_path}:{line}: {where(section)} {key}: the default is this "
                                    f"machine's host name, the doc says {cell}")
                continue
            got = toml_value(cell)
            if got != expected:
                problems.append(f"{doc_path}:{line}: {where(section)} {key}: documented default {cell}, "
                                f"--print-default-config says {expected!r}")

    for section, doc in rows.items():
        allowed = set(known.get(section, []))
        if section in SHAPING_LAYERS:
            allowed |= layer_keys
        if section not in known:
            problems.append(f"{doc_path}: {where(section)} is not a table of --print-default-config")
            continue
        for key, (line, _) in doc.items():
            if key not in allowed:
                problems.append(f"{doc_path}:{line}: {where(section)} {key} is documented but volleyd's "
                                f"default configuration does not know it")

    for p in problems:
        print(p)
    if not problems:
        count = sum(len(d) for d in rows.values())
        print(f"{doc_path}: {count} keys in {len(rows)} tables agree with --print-default-config")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
