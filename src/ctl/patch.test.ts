import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeLabels, mergePatch, parsePatch, patchResource } from './patch.ts';
import type { AnyResource } from '../model/index.ts';

void test('mergePatch follows RFC 7386 (examples from the RFC)', () => {
  assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  assert.deepEqual(mergePatch({ a: 'b' }, { a: null }), {});
  assert.deepEqual(mergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' });
  assert.deepEqual(mergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(mergePatch({ a: 'c' }, { a: ['b'] }), { a: ['b'] });
  assert.deepEqual(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
  assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  assert.deepEqual(mergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
  assert.deepEqual(mergePatch({ a: 'b' }, ['c']), ['c']);
  assert.deepEqual(mergePatch({ a: 'foo' }, null), null);
  assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  assert.deepEqual(mergePatch([1, 2], { a: 'b', c: null }), { a: 'b' });
  assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
});

void test('patchResource keeps identity metadata and merges labels and annotations', () => {
  const cur: AnyResource = {
    apiVersion: 'projectcalico.org/v3', kind: 'IPPool',
    metadata: { name: 'p', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: '1' } },
    spec: { cidr: '198.18.0.0/24', natOutgoing: false, allowedUses: ['Workload', 'Tunnel'] },
  };
  const out = patchResource(cur, { metadata: { name: 'other', uid: 'evil', labels: { b: '2', a: null } }, spec: { natOutgoing: true, allowedUses: ['Workload'] } });
  assert.deepEqual(out.metadata, { name: 'p', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', labels: { b: '2' } });
  assert.deepEqual(out.spec, { cidr: '198.18.0.0/24', natOutgoing: true, allowedUses: ['Workload'] });
  assert.equal(cur.spec!.natOutgoing, false, 'input untouched');
  assert.throws(() => parsePatch('{spec:'), /invalid patch: .*expected a JSON object/);
  assert.throws(() => parsePatch('[1]'), /expected a JSON object/);
});

void test('changeLabels: set, overwrite, same value, remove, and calicoctl errors', () => {
  const o = { kind: 'nodes', name: 'n1' };
  assert.deepEqual(changeLabels(undefined, 'a=1', o), { labels: { a: '1' }, outcome: 'set', key: 'a' });
  assert.deepEqual(changeLabels({ a: '1' }, 'a=1', o).outcome, 'updated', 'same value is allowed without --overwrite');
  assert.throws(() => changeLabels({ a: '1' }, 'a=2', o), /failed to update label of nodes n1, key a is already present\. please use '--overwrite' to set a new value/);
  assert.deepEqual(changeLabels({ a: '1' }, 'a=2', { ...o, overwrite: true }).labels, { a: '2' });
  assert.deepEqual(changeLabels({ a: '1', b: '2' }, 'a', { ...o, remove: true }), { labels: { b: '2' }, outcome: 'removed', key: 'a' });
  assert.throws(() => changeLabels({}, 'zz', { ...o, remove: true }), /cannot remove label of nodes n1, key zz does not exist/);
  assert.throws(() => changeLabels({}, 'novalue', o), /invalid label novalue/);
  assert.deepEqual(changeLabels({}, 'k=a=b', o).labels, { k: 'a=b' });
});
