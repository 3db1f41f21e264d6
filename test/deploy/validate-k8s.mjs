#!/usr/bin/env node
// Validates Kubernetes objects against the official OpenAPI schemas packaged by
// kubernetes-models. An ES module run as its own process: the package is ESM-only.
// stdin: JSON [{ where, object }]; stdout: JSON [{ where, kind, error }] (error null when valid).
import { readFileSync } from 'node:fs';

const items = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const { where, object } of items) {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : [undefined, object.apiVersion];
  const path = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  let error = null;
  try {
    const mod = await import(path);
    const Model = mod[object.kind] ?? mod.default;
    new Model(object).validate();
  } catch (e) {
    error =
      e.code === 'ERR_MODULE_NOT_FOUND' ? `no schema for ${object.apiVersion} ${object.kind}` : e.message;
  }
  results.push({ where, kind: object.kind, error });
}
process.stdout.write(JSON.stringify(results));
