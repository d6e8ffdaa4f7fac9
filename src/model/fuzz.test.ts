// Bad input never crashes the model: random edits of real manifests and random values in
// resource fields give labelled ModelErrors / FieldErrors, never an unlabelled exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeDocumentsDetailed } from './codec.ts';
import { ModelError } from './errors.ts';
import { validate, applyDefaults } from './validate.ts';
import { KIND_NAMES } from './kinds.ts';
import type { AnyResource } from './types.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../shared/calico-reference/manifests');
let seed = 4242;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function* yamlFiles(dir: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (f.endsWith('.yaml')) yield p;
  }
}

void test('random edits of manifests: only labelled errors', { skip: !existsSync(ROOT) && 'reference manifests missing' }, () => {
  const texts = [...yamlFiles(ROOT)].map((f) => readFileSync(f, 'utf8'));
  const snippets = ['\n', ':', '- ', '{', '}', '[', ']', '"', "'", '&a ', '*a', '---\n', 'null', '-1', '1e400', 'true', '\t', '0x10', '::', '/'];
  let errors = 0;
  for (let n = 0; n < 1500; n++) {
    let t = pick(texts);
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
      const at = Math.floor(rnd() * t.length);
      t = rnd() < 0.5 ? t.slice(0, at) + pick(snippets) + t.slice(at) : t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 5));
    }
    const r = decodeDocumentsDetailed(t, { source: 'fuzz.yaml' });
    for (const e of r.errors) {
      assert.ok(e instanceof ModelError);
      assert.match(e.message, /^cannot apply fuzz\.yaml( document \d+)?/);
      errors++;
    }
  }
  assert.ok(errors > 100, `expected the fuzzer to find errors, got ${errors}`);
});

void test('self-referencing YAML aliases are a labelled error', () => {
  const r = decodeDocumentsDetailed('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: &a {cidr: 10.0.0.0/16, x: *a}\n', { source: 'a.yaml' });
  assert.equal(r.errors.length, 1);
  assert.ok(r.errors[0] instanceof ModelError);
});

void test('random values in every field of every kind: validate and applyDefaults never throw', () => {
  const values: unknown[] = [null, true, 0, -1, 1.5, 70000, '', 'x', 'TCP', '10.0.0.0/8', 'fd00::1', 'all()', 'a ==', [], [1], ['x'], {}, { a: 1 }, { type: 1 }];
  const fields = ['selector', 'ingress', 'egress', 'types', 'cidr', 'blockSize', 'peerIP', 'asNumber', 'node', 'nets', 'ports', 'bgp', 'order',
    'defaultAction', 'exportV4', 'interfaceName', 'ipNetworks', 'allowedUses', 'reservedCIDRs', 'controllers', 'routeTableRange', 'labelsToApply'];
  for (let n = 0; n < 4000; n++) {
    const spec: Record<string, unknown> = {};
    for (let k = 0; k < 3; k++) spec[pick(fields)] = pick(values);
    if (rnd() < 0.3) spec.ingress = [{ action: pick(['Allow', 'x', 1]), protocol: pick(values), source: pick(values), destination: { ports: pick(values), nets: pick(values) }, icmp: pick(values) }];
    const r = { apiVersion: 'projectcalico.org/v3', kind: pick(KIND_NAMES), metadata: pick([{ name: 'x' }, {}, { name: 1 }, null, { labels: pick(values) }]), spec: pick([spec, null, 1, []]) } as unknown as AnyResource;
    const errs = validate(r);
    for (const e of errs) assert.equal(typeof e.path, 'string');
    applyDefaults(r);
  }
});
