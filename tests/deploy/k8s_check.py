#!/usr/bin/python3
"""deploy/k8s/ checked without a cluster.

1. The objects are assembled as `kubectl apply -k` would (with `kubectl kustomize` when kubectl
   is installed, else from kustomization.yaml's resources and configMapGenerator here).
2. Each object is validated against the Kubernetes OpenAPI schemas compiled into the npm package
   kubernetes-models (k8s_validate.mjs): types, required fields, enums, formats.
3. What no schema sees: every name one object gives another resolves (selector and labels,
   volume mounts, probe and Service ports, the ConfigMap, the Secrets), the Prometheus
   annotations name the API port, the grace period is volleyd's drain time, and volley.toml
   listens on the container's port and writes only below the PersistentVolumeClaim's mount;
4. the file the pod's init container makes (ConfigMap volley.toml + api-keys.example.toml) passes
   `volleyd --check-config`, when the given volleyd has that option.

Usage: k8s_check.py SOURCE_DIR [VOLLEYD]. Exit 77 (skipped) when node or kubernetes-models is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

import yaml

src = sys.argv[1]
k8s = os.path.join(src, "deploy", "k8s")
here = os.path.dirname(os.path.abspath(__file__))
problems = []


def check(ok, text):
    if not ok:
        problems.append(text)


def assemble():
    if shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", k8s], check=True, capture_output=True, text=True).stdout
        print("assembled with kubectl kustomize")
        return [o for o in yaml.safe_load_all(out) if o]
    kustomization = yaml.safe_load(open(os.path.join(k8s, "kustomization.yaml")))
    objects = []
    for r in kustomization["resources"]:
        objects += [o for o in yaml.safe_load_all(open(os.path.join(k8s, r))) if o]
    for g in kustomization.get("configMapGenerator", []):
        data = {f: open(os.path.join(k8s, f)).read() for f in g["files"]}
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": g["name"]}, "data": data})
    print("assembled from kustomization.yaml (no kubectl)")
    return objects


def kubernetes_models():
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout.strip()
    path = os.path.join(root, "kubernetes-models")
    return path if os.path.isdir(path) else None


objects = assemble()
models = kubernetes_models()
if models is None:
    print("SKIP: node or the npm package kubernetes-models is missing (scripts/deps.sh --test installs it)")
    sys.exit(77)
validated = subprocess.run(["node", os.path.join(here, "k8s_validate.mjs"), models], input=json.dumps(objects),
                           text=True)
check(validated.returncode == 0, "schema validation failed (above)")

by_kind = {}
for o in objects:
    by_kind.setdefault(o["kind"], []).append(o)
sts = by_kind["StatefulSet"][0]
pod = sts["spec"]["template"]
labels = pod["metadata"]["labels"]
check(all(labels.get(k) == v for k, v in sts["spec"]["selector"]["matchLabels"].items()),
      "StatefulSet selector does not match its pod template's labels")
services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
check(sts["spec"]["serviceName"] in services and services[sts["spec"]["serviceName"]]["spec"].get("clusterIP") == "None",
      "StatefulSet serviceName is not a headless Service of these manifests")
configmaps = [c["metadata"]["name"] for c in by_kind["ConfigMap"]]

spec = pod["spec"]
volumes = {v["name"]: v for v in spec["volumes"]}
claims = {c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])}
for c in spec.get("initContainers", []) + spec["containers"]:
    for m in c.get("volumeMounts", []):
        check(m["name"] in volumes or m["name"] in claims, f"container {c['name']}: volume {m['name']} is not defined")
    sc = c.get("securityContext", {})
    check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
          and sc.get("capabilities", {}).get("drop") == ["ALL"], f"container {c['name']}: not locked down")
check(spec["securityContext"].get("runAsNonRoot") is True, "pod may run as root")
for name, v in volumes.items():
    if "configMap" in v:
        check(v["configMap"]["name"] in configmaps, f"volume {name}: ConfigMap {v['configMap']['name']} is not generated")
secrets = {v["secret"]["secretName"] for v in volumes.values() if "secret" in v}
check(secrets == {"volley-api-keys", "volley-dkim"}, f"Secrets mounted: {sorted(secrets)}, expected the API keys and DKIM keys")

volleyd = next(c for c in spec["containers"] if c["name"] == "volleyd")
ports = {p["name"]: p["containerPort"] for p in volleyd["ports"]}
for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
    get = volleyd.get(probe, {}).get("httpGet", {})
    check(get.get("path") == "/healthz" and get.get("port") in ports, f"{probe}: not GET /healthz on a container port")
for s in services.values():
    check(all(s["spec"]["selector"].get(k) == v for k, v in s["spec"]["selector"].items() if k in labels)
          and set(s["spec"]["selector"]) <= set(labels), f"Service {s['metadata']['name']}: selector matches no pod")
    for p in s["spec"]["ports"]:
        check(p["targetPort"] in ports, f"Service {s['metadata']['name']}: targetPort {p['targetPort']} is no container port")
notes = pod["metadata"].get("annotations", {})
check(notes.get("prometheus.io/scrape") == "true" and notes.get("prometheus.io/path") == "/metrics"
      and int(notes.get("prometheus.io/port", 0)) == ports.get("http"), "Prometheus annotations do not name /metrics on the API port")
check(spec.get("terminationGracePeriodSeconds", 30) >= 120, "terminationGracePeriodSeconds is shorter than volleyd's drain (120 s)")
check(volleyd.get("args") == ["--config", "/etc/volley/volley.toml"], "volleyd is not started on /etc/volley/volley.toml")

config = tomllib.loads(next(c for c in by_kind["ConfigMap"])["data"]["volley.toml"])
api_keys = tomllib.loads(open(os.path.join(k8s, "api-keys.example.toml")).read())
check(set(api_keys) == {"api_key"}, "api-keys.example.toml holds more than [[api_key]] tables")
check(config["http"]["listen"] == f"0.0.0.0:{ports['http']}", "volley.toml [http] listen is not the container's port")
data_mount = next(m["mountPath"] for m in volleyd["volumeMounts"] if m["name"] in claims)
for key, path in (("spool.path", config["spool"]["path"]), ("suppression.path", config["suppression"]["path"]),
                  ("events.webhook_queue", config["events"]["webhook_queue"]), ("log.event_log", config["log"]["event_log"])):
    check(path.startswith(data_mount + "/"), f"volley.toml {key} = {path} is not on the volume at {data_mount}")

if len(sys.argv) > 2:
    volleyd_binary = sys.argv[2]
    usage = subprocess.run([volleyd_binary, "--help"], capture_output=True, text=True).stdout
    if "--check-config" in usage:
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(next(c for c in by_kind["ConfigMap"])["data"]["volley.toml"])
            f.write(open(os.path.join(k8s, "api-keys.example.toml")).read())
            f.flush()
            r = subprocess.run([volleyd_binary, "--check-config", f.name], capture_output=True, text=True)
        check(r.returncode == 0, f"volleyd --check-config refused the pod's volley.toml: {r.stdout}{r.stderr}")
        if r.returncode == 0:
            print("ok: the pod's volley.toml (ConfigMap + api-keys.example.toml) passes volleyd --check-config")
    else:
        print("not checked: this volleyd has no --check-config")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
if not problems:
    print(f"ok: {len(objects)} objects: schemas, names across objects, probes, ports, volumes, volley.toml paths")
sys.exit(1 if problems else 0)
