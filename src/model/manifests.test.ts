// Every real calicoctl manifest from Calico's test data decodes and validates; Kubernetes kinds
// get a clear error naming the kind; everything round-trips through YAML and JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { decodeDocumentsDetailed, decodeDocuments, encodeYAML, encodeJSON } from './codec.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../shared/calico-reference/manifests');

function* yamlFiles(dir: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (f.endsWith('.yaml')) yield p;
  }
}

const present = existsSync(ROOT);
if (!present) console.log(`skipped: Calico reference manifests not found at ${ROOT}`);

void test('every Calico manifest decodes and validates as calicoctl accepts it', { skip: !present && 'reference manifests missing' }, () => {
  let resources = 0;
  let files = 0;
  for (const file of yamlFiles(ROOT)) {
    const rel = path.relative(ROOT, file);
    if (path.basename(file).startsWith('kubectl-')) continue;
    files++;
    // calicoctl delete only decodes (no validation): one delete.yaml names a pool by an invalid CIDR.
    const isDelete = path.basename(file).startsWith('delete');
    const r = decodeDocumentsDetailed(readFileSync(file, 'utf8'), { source: rel, validate: !isDelete });
    assert.deepEqual(r.errors.map((e) => e.message), [], rel);
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).filter((d) => d.contents !== null).length;
    assert.equal(r.resources.length, docs, `${rel}: every document is a resource`);
    resources += r.resources.length;
  }
  console.log(`manifests: ${files} files, ${resources} resources accepted`);
  assert.ok(resources > 250, `expected the ~300 reference resources, got ${resources}`);
});

void test('Kubernetes kinds in kubectl-*.yaml get a clear error naming the kind', { skip: !present && 'reference manifests missing' }, () => {
  let n = 0;
  for (const file of yamlFiles(ROOT)) {
    if (!path.basename(file).startsWith('kubectl-')) continue;
    const rel = path.relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; apiVersion?: string; metadata?: { name?: string } } | null);
    const r = decodeDocumentsDetailed(text, { source: rel });
    const nonCalico = docs.filter((d) => d && d.apiVersion !== 'projectcalico.org/v3');
    assert.equal(r.errors.length, nonCalico.length, rel);
    for (const e of r.errors) {
      n++;
      const doc = docs[e.context.document! - 1]!;
      assert.equal(e.code, 'not-calico-kind');
      assert.equal(e.context.kind, doc.kind);
      assert.ok(
        e.message.startsWith(`cannot apply ${rel} document ${e.context.document} (${doc.kind} ${doc.metadata!.name}): kind ${doc.kind} (a Kubernetes `),
        e.message,
      );
      assert.match(e.message, /is not a projectcalico\.org\/v3 resource/);
    }
  }
  assert.ok(n > 0, 'the reference data has Kubernetes kinds to reject');
});

void test('decode → encode → decode is the identity for every manifest (YAML and JSON)', { skip: !present && 'reference manifests missing' }, () => {
  for (const file of yamlFiles(ROOT)) {
    if (path.basename(file).startsWith('kubectl-')) continue;
    const rel = path.relative(ROOT, file);
    const first = decodeDocuments(readFileSync(file, 'utf8'), { source: rel, validate: false });
    const viaYaml = decodeDocuments(encodeYAML(first), { source: `${rel} (re-encoded)`, validate: false });
    assert.deepEqual(viaYaml, first, rel);
    const viaJson = decodeDocuments(encodeJSON(first), { source: `${rel} (json)`, validate: false });
    assert.deepEqual(viaJson, first, rel);
  }
});
