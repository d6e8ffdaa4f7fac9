// Measures our model against Calico's published CRD schemas: every field Calico has, with the
// same type, enum and default. Reads the CRDs at test time (they are test data, not product).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SCHEMAS, SCHEMA_OVERRIDES } from './registry.ts';
import { KINDS, isKindName } from './kinds.ts';
import type { SchemaNode } from './schema.ts';

const CRD_DIR = path.resolve(import.meta.dirname, '../../../shared/calico-reference/crds');
type Json = Record<string, unknown>;

function crdEnum(n: Json): unknown[] | undefined {
  let e = n.enum as unknown[] | undefined;
  for (const sub of (n.allOf as Json[] | undefined) ?? []) {
    const se = sub.enum as unknown[] | undefined;
    if (se) e = e ? e.filter((x) => se.includes(x)) : [...se];
  }
  return e;
}

function compare(kind: string, crd: Json, ours: SchemaNode | undefined, p: string, problems: string[], stats: { fields: number }): void {
  if (SCHEMA_OVERRIDES.has(`${kind}.${p}`)) return;
  if (!ours) {
    problems.push(`${kind}.${p}: missing from our model`);
    return;
  }
  stats.fields++;
  const intOrString = crd['x-kubernetes-int-or-string'] === true;
  if (intOrString !== (ours.intOrString === true)) problems.push(`${kind}.${p}: int-or-string ${intOrString} vs ours ${String(ours.intOrString)}`);
  else if (!intOrString && crd.type !== ours.type) problems.push(`${kind}.${p}: type ${String(crd.type)} vs ours ${String(ours.type)}`);
  const e1 = crdEnum(crd);
  if (JSON.stringify([...(e1 ?? [])].sort()) !== JSON.stringify([...(ours.enum ?? [])].sort())) problems.push(`${kind}.${p}: enum ${JSON.stringify(e1)} vs ours ${JSON.stringify(ours.enum)}`);
  if (JSON.stringify(crd.default) !== JSON.stringify(ours.default)) problems.push(`${kind}.${p}: default ${JSON.stringify(crd.default)} vs ours ${JSON.stringify(ours.default)}`);
  for (const k of ['format', 'minimum', 'maximum', 'maxLength', 'maxItems'] as const) {
    if (crd[k] !== undefined && crd[k] !== ours[k]) problems.push(`${kind}.${p}: ${k} ${JSON.stringify(crd[k])} vs ours ${JSON.stringify(ours[k])}`);
  }
  const required = (crd.required as string[] | undefined) ?? [];
  for (const r of required) if (!(ours.required ?? []).includes(r)) problems.push(`${kind}.${p}: field ${r} is required by Calico but not by us`);
  for (const [name, sub] of Object.entries((crd.properties as Json | undefined) ?? {})) {
    compare(kind, sub as Json, ours.properties?.[name], p ? `${p}.${name}` : name, problems, stats);
  }
  for (const name of Object.keys(ours.properties ?? {})) {
    if (!(crd.properties as Json | undefined)?.[name]) problems.push(`${kind}.${p}.${name}: in our model but not in Calico's CRD`);
  }
  if (crd.additionalProperties && typeof crd.additionalProperties === 'object') compare(kind, crd.additionalProperties as Json, ours.additionalProperties, `${p}{}`, problems, stats);
  if (crd.items) compare(kind, crd.items as Json, ours.items, `${p}[]`, problems, stats);
}

void test('our model covers every field of every Calico CRD with the same type, enum and default', (t) => {
  if (!existsSync(CRD_DIR)) {
    t.skip(`Calico CRDs not found at ${CRD_DIR}`);
    console.log(`skipped: Calico CRDs not found at ${CRD_DIR}`);
    return;
  }
  const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 22, `expected the 22 Calico CRDs, found ${files.length}`);
  const problems: string[] = [];
  const stats = { fields: 0 };
  for (const f of files) {
    const crd = parse(readFileSync(path.join(CRD_DIR, f), 'utf8')) as Json;
    const spec = crd.spec as Json;
    const names = spec.names as Json;
    const kind = names.kind as string;
    if (!isKindName(kind)) {
      problems.push(`${f}: kind ${kind} unknown to our model`);
      continue;
    }
    assert.equal(KINDS[kind].plural, names.plural, `${kind} plural`);
    assert.equal(KINDS[kind].namespaced, spec.scope === 'Namespaced', `${kind} scope`);
    const version = (spec.versions as Json[]).find((v) => v.name === 'v3')!;
    const root = (version.schema as Json).openAPIV3Schema as Json;
    for (const top of ['spec', 'status'] as const) {
      const sub = (root.properties as Json)[top] as Json | undefined;
      if (sub) compare(kind, sub, SCHEMAS[kind].properties?.[top], top, problems, stats);
    }
  }
  console.log(`CRD coverage: ${files.length} CRDs, ${stats.fields} fields compared, ${problems.length} differences, ${SCHEMA_OVERRIDES.size} documented overrides`);
  assert.deepEqual(problems, []);
});
