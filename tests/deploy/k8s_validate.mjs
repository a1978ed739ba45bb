// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schemas
// that the npm package kubernetes-models compiles into each model's validate(): field types,
// required fields, enums and formats. It does not refuse unknown fields (the schemas allow them);
// k8s_check.py looks at what the manifests name across objects.
// Usage: node k8s_validate.mjs MODULE_DIR < objects.json   (MODULE_DIR: .../node_modules/kubernetes-models)
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const moduleDir = process.argv[2];
const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const o of objects) {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const entry = `${moduleDir}/${group ? group + "/" : ""}${version}/${o.kind}.js`;
  const what = `${o.kind} ${o.metadata?.name}`;
  let Model;
  try {
    Model = (await import(pathToFileURL(entry).href))[o.kind];
  } catch (e) {
    console.error(`FAIL: ${what}: no schema for ${o.apiVersion} ${o.kind} (${e.message})`);
    failed++;
    continue;
  }
  try {
    new Model(o).validate();
    console.log(`ok: ${what} (${o.apiVersion}) matches its schema`);
  } catch (e) {
    console.error(`FAIL: ${what}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
