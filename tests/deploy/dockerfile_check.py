#!/usr/bin/python3
"""deploy/Dockerfile checked here, and built where a container engine works.

Always (no engine needed), from the file's instructions:
  - two stages on Debian 12; the build stage installs only packages scripts/deps.sh lists, every
    -dev package it lists (so a new library cannot be forgotten), and none of its test peers;
  - the runtime stage runs as a numeric non-root user, keeps /var/lib/volley on a VOLUME, has a
    HEALTHCHECK on /healthz, EXPOSEs the API port and starts volleyd on /etc/volley/volley.toml;
  - it agrees with deploy/k8s (user id, volume path, API port) and .dockerignore keeps .git and
    build trees out of the context.
With VOLLEY_TEST_DOCKER_BUILD=1: `docker build` (or `podman build`) of the image, a container on
deploy/k8s/volley.toml, and its /healthz answered 200 (minutes: it compiles volleyd). Exit 77
(skipped) when that was asked for and no engine works.

Usage: dockerfile_check.py SOURCE_DIR
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import yaml

src = sys.argv[1]
problems = []


def check(ok, text):
    if not ok:
        problems.append(text)


def instructions(path):
    text = re.sub(r"\\\n", " ", open(path).read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def deps_packages():
    text = open(os.path.join(src, "scripts/deps.sh")).read()
    body = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    return {w for line in body.splitlines() for w in line.split("#")[0].split()}


def apt_installed(run):
    m = re.search(r"apt-get install (.*?)(&&|$)", run)
    return {w for w in m.group(1).split() if not w.startswith("-") and w != "/tmp/runtime-packages"} if m else set()


steps = instructions(os.path.join(src, "deploy/Dockerfile"))
stages = []
for word, rest in steps:
    if word == "FROM":
        stages.append({"from": rest, "steps": []})
    elif stages:
        stages[-1]["steps"].append((word, rest))
check(len(stages) == 2, f"{len(stages)} stages, expected build and runtime")
check(all(re.match(r"debian:12(-slim)?\b", s["from"]) for s in stages), "a stage is not on debian:12")
build, runtime = stages[0], stages[-1]

deps = deps_packages()
build_tools = {"build-essential", "cmake", "ninja-build", "pkg-config"}
build_pkgs = set().union(*(apt_installed(r) for w, r in build["steps"] if w == "RUN"))
check(build_pkgs <= deps, f"build stage installs what scripts/deps.sh does not list: {sorted(build_pkgs - deps)}")
wanted = {p for p in deps if p.endswith("-dev")} | build_tools
check(wanted <= build_pkgs, f"build stage lacks scripts/deps.sh's {sorted(wanted - build_pkgs)}")
check(not (build_pkgs - wanted), f"build stage installs test peers: {sorted(build_pkgs - wanted)}")
runtime_extra = set().union(*(apt_installed(r) for w, r in runtime["steps"] if w == "RUN"))
check(runtime_extra <= {"ca-certificates", "publicsuffix", "tzdata", "curl"},
      f"runtime stage installs more than its libraries and data: {sorted(runtime_extra)}")

last = {}
for word, rest in runtime["steps"]:
    last.setdefault(word, []).append(rest)
user = last.get("USER", ["root"])[-1]
check(re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user) is not None, f"runtime USER {user}: not a numeric non-root uid:gid")
volumes = " ".join(last.get("VOLUME", []))
check("/var/lib/volley" in volumes, "no VOLUME for /var/lib/volley (spool, suppression list)")
health = " ".join(last.get("HEALTHCHECK", []))
m = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", health)
check(m is not None, "no HEALTHCHECK on http://127.0.0.1:PORT/healthz")
exposed = {p.split("/")[0] for e in last.get("EXPOSE", []) for p in e.split()}
check(m is not None and m.group(1) in exposed, "the health check's port is not EXPOSEd")
entry = " ".join(last.get("ENTRYPOINT", []) + last.get("CMD", []))
check("/usr/local/bin/volleyd" in entry and '"--config", "/etc/volley/volley.toml"' in entry,
      "the image does not start volleyd --config /etc/volley/volley.toml")

# The same image in deploy/k8s.
sts = yaml.safe_load(open(os.path.join(src, "deploy/k8s/statefulset.yaml")))
pod = sts["spec"]["template"]["spec"]
check(str(pod["securityContext"]["runAsUser"]) == user.split(":")[0], "deploy/k8s runAsUser is not the image's USER")
volleyd = next(c for c in pod["containers"] if c["name"] == "volleyd")
claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
check(any(v["name"] == claim and v["mountPath"] in volumes for v in volleyd["volumeMounts"]),
      "deploy/k8s mounts its PersistentVolumeClaim elsewhere than the image's VOLUME")
k8s_config = tomllib.load(open(os.path.join(src, "deploy/k8s/volley.toml"), "rb"))
check(m is not None and k8s_config["http"]["listen"].endswith(":" + m.group(1)),
      "deploy/k8s/volley.toml's API port is not the health check's")

ignored = open(os.path.join(src, ".dockerignore")).read().split()
check(".git" in ignored and any(p.startswith("build") for p in ignored), ".dockerignore lets .git or build trees in")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print("ok: deploy/Dockerfile: stages, packages against scripts/deps.sh, user, volume, health check, ports, "
      "entry point, agreement with deploy/k8s, .dockerignore")


def engine():
    """The first of docker and podman that answers `info`, and why the others did not."""
    reasons = []
    for tool in ("docker", "podman"):
        if not shutil.which(tool):
            reasons.append(f"{tool}: not installed")
            continue
        r = subprocess.run([tool, "info"], capture_output=True, text=True)
        if r.returncode == 0:
            return tool, ""
        reasons.append(f"{tool}: " + (r.stderr.strip().splitlines() or ["no answer"])[-1])
    return None, "; ".join(reasons)


tool, why = engine()
if os.environ.get("VOLLEY_TEST_DOCKER_BUILD") != "1":
    print(f"not built: set VOLLEY_TEST_DOCKER_BUILD=1 to build and run the image "
          f"({'engine: ' + tool if tool else 'no working engine here: ' + why})")
    sys.exit(0)
if tool is None:
    print(f"SKIP: VOLLEY_TEST_DOCKER_BUILD=1 but no container engine works: {why}")
    sys.exit(77)

tag = f"volley-test:{os.getpid()}"
name = f"volley-test-{os.getpid()}"
# podman's RUN steps in a chroot: its OCI runtime (crun) refuses hosts with hybrid cgroups. And
# the docker image format: podman's default (OCI) has no HEALTHCHECK, so the health never shows.
isolation = ["--isolation=chroot", "--format", "docker"] if tool == "podman" else []
subprocess.run([tool, "build", *isolation, "-f", os.path.join(src, "deploy/Dockerfile"), "-t", tag, src], check=True)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
try:
    subprocess.run([tool, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8025",
                    "-v", f"{os.path.join(src, 'deploy/k8s/volley.toml')}:/etc/volley/volley.toml:ro", tag], check=True)
    deadline = time.monotonic() + 180
    while True:
        state = subprocess.run([tool, "inspect", "-f", "{{.State.Health.Status}}", name],
                               capture_output=True, text=True).stdout.strip()
        if state == "healthy":
            break
        if time.monotonic() > deadline or state == "unhealthy":
            subprocess.run([tool, "logs", name])
            sys.exit(f"FAIL: the container's health is {state!r} after the HEALTHCHECK's start period")
        time.sleep(1)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        check(r.status == 200, f"/healthz through the published port answered {r.status}")
    print(f"ok: {tool} built {tag}; the container is healthy and answers /healthz on its published port")
finally:
    subprocess.run([tool, "rm", "-f", name], capture_output=True)
    subprocess.run([tool, "rmi", "-f", tag], capture_output=True)
sys.exit(1 if problems else 0)
