import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveIndex, SortedKeys, type LiveEntry } from './live-index.ts';
import type { KeySel } from './store.ts';

// A deterministic generator, so a failure repeats.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function lower(arr: string[], k: string): number {
  let i = 0;
  while (i < arr.length && arr[i]! < k) i++;
  return i;
}

void test('SortedKeys keeps order through inserts, removes and block splits (against a plain sorted array)', () => {
  const r = rng(7);
  const keys = new SortedKeys();
  let model: string[] = [];
  const key = () => `/k/${Math.floor(r() * 5000)}`;
  for (let step = 0; step < 20000; step++) {
    const k = key();
    const has = model.includes(k);
    if (r() < 0.7) {
      if (!has) {
        keys.insert(k);
        model.splice(lower(model, k), 0, k);
      }
    } else {
      keys.remove(k);
      if (has) model = model.filter((x) => x !== k);
    }
    if (step % 997 === 0) {
      assert.equal(keys.size, model.length);
      assert.deepEqual(keys.slice('', null, -1), model, `full listing at step ${step}`);
    }
  }
  assert.ok(model.length > 1500, 'enough keys to span several blocks');
  for (let q = 0; q < 300; q++) {
    const a = key();
    const b = key();
    const limit = q % 3 === 0 ? -1 : Math.floor(r() * 40);
    const want = model.filter((x) => x >= a && x < b);
    assert.deepEqual(keys.slice(a, b, limit), limit >= 0 ? want.slice(0, limit) : want, `slice ${a}..${b} limit ${limit}`);
    assert.deepEqual(keys.slice(a, null, 5), model.filter((x) => x >= a).slice(0, 5));
    assert.equal(keys.rank(a), lower(model, a), `rank ${a}`);
  }
  for (const k of [...model]) keys.remove(k);
  assert.equal(keys.size, 0);
  assert.deepEqual(keys.slice('', null, -1), []);
  assert.equal(keys.rank('/x'), 0);
});

const entry = (k: string, rev: number, lease = '0'): LiveEntry => ({ key: Buffer.from(k, 'latin1'), rev, sub: 0, create_rev: rev, version: 1, lease, value: Buffer.from('v') });
const sel = (key: string, end?: string): KeySel =>
  end === undefined ? { kind: 'one', key: Buffer.from(key) } : end === '\0' ? { kind: 'from', key: Buffer.from(key) } : { kind: 'range', key: Buffer.from(key), end: Buffer.from(end) };
const names = (es: LiveEntry[]) => es.map((e) => e.key.toString('latin1'));

void test('LiveIndex: scan, count and rollback over many keys', () => {
  const idx = new LiveIndex();
  idx.load([entry('/a', 1), entry('/c', 2)]);
  const m0 = idx.mark();
  for (let i = 0; i < 3000; i++) idx.set(entry(`/b/${String(i).padStart(4, '0')}`, 10 + i, i % 2 ? '7' : '0'));
  assert.equal(idx.count(sel('/b/', '/b0')), 3000);
  assert.equal(idx.count(sel('/', '\0')), 3002);
  assert.equal(idx.count(sel('/c', '/a')), 0, 'an end before the key selects nothing');
  assert.deepEqual(names(idx.scan(sel('/b/2998', '\0'), 3)), ['/b/2998', '/b/2999', '/c']);
  assert.deepEqual(names(idx.scan(sel('/b/0001', '/b/0003'), -1)), ['/b/0001', '/b/0002']);
  assert.equal(idx.withLease('7').length, 1500);
  const m1 = idx.mark();
  idx.delete(Buffer.from('/a'));
  idx.delete(Buffer.from('/b/0000'));
  assert.equal(idx.count(sel('/', '\0')), 3000);
  idx.rollbackTo(m1);
  assert.deepEqual(names(idx.scan(sel('/', '/b/0001'), -1)), ['/a', '/b/0000']);
  idx.rollbackTo(m0);
  assert.deepEqual(names(idx.scan(sel('/', '\0'), -1)), ['/a', '/c']);
  assert.equal(idx.withLease('7').length, 0);
});
