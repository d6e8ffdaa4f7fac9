import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixIndex, canonicalV4, ipv4PrefixText } from './prefix-index.ts';

void test('canonicalV4 accepts exactly canonical IPv4 CIDR text', () => {
  assert.deepEqual(canonicalV4('198.18.0.0/24'), { value: 0xc6120000, len: 24 });
  assert.deepEqual(canonicalV4('0.0.0.0/0'), { value: 0, len: 0 });
  assert.deepEqual(canonicalV4('255.255.255.255/32'), { value: 0xffffffff, len: 32 });
  for (const bad of ['198.18.0.1/24', '198.18.0.0/33', '198.18.00.0/24', '198.18.0.0/024', '198.18.0/24', '198.18.0.0', '198.18.0.0/', 'fd00::/64', '256.0.0.0/8', '1.2.3.4/32x', ' 1.2.3.4/32']) {
    assert.equal(canonicalV4(bad), null, bad);
  }
  assert.equal(ipv4PrefixText(0xc6120000, 24), '198.18.0.0/24');
});

void test('PrefixIndex: random adds and removes agree with a Map (IPv4 by value, other keys by text)', () => {
  let grown = 0;
  const ix = new PrefixIndex(4);
  ix.onGrow(() => grown++);
  const ref = new Map<string, number>();
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const keys: string[] = [];
  for (let i = 0; i < 3000; i++) keys.push(ipv4PrefixText(((0xc6120000 + i * 256) >>> 0) & 0xffffff00, 24));
  for (let i = 0; i < 300; i++) keys.push(`fd00:198:18:${i.toString(16)}::/64`);
  keys.push('10.0.0.1/24'); // not canonical: kept by its text
  for (let step = 0; step < 40_000; step++) {
    const k = keys[rnd(keys.length)]!;
    if (rnd(3) === 0) {
      const row = ix.findKey(k);
      assert.equal(row, ref.get(k) ?? -1, `find ${k}`);
      if (row >= 0) {
        ix.remove(row);
        ref.delete(k);
      }
    } else {
      const row = ix.addKey(k);
      if (ref.has(k)) assert.equal(row, ref.get(k), `add again ${k}`);
      else {
        for (const r of ref.values()) assert.notEqual(r, row, 'row handed out twice');
        ref.set(k, row);
      }
      assert.equal(ix.keyOf(row), k);
    }
    assert.equal(ix.size, ref.size);
  }
  for (const k of keys) assert.equal(ix.findKey(k), ref.get(k) ?? -1, k);
  for (const [k, row] of ref) {
    const c = canonicalV4(k);
    if (c) assert.equal(ix.find4(c.value, c.len), row);
  }
  assert.ok(grown > 1, 'columns were grown');
  assert.ok(ix.capacity >= ref.size);
});

void test('PrefixIndex holders: a shared row lives until every holder lets go', () => {
  const ix = new PrefixIndex();
  const a = ix.addKey('198.18.1.0/24', 1);
  assert.equal(ix.addKey('198.18.1.0/24', 2), a);
  assert.ok(ix.holds(a, 1) && ix.holds(a, 2));
  ix.remove(a, 1);
  assert.equal(ix.findKey('198.18.1.0/24'), a, 'still held by 2');
  assert.ok(!ix.holds(a, 1) && ix.holds(a, 2));
  ix.remove(a, 1); // not held by 1: no effect
  assert.equal(ix.size, 1);
  ix.remove(a, 2);
  assert.equal(ix.findKey('198.18.1.0/24'), -1);
  assert.equal(ix.size, 0);
  const v6 = ix.addKey('fd00:198:18::/48', 2);
  assert.equal(ix.addKey('fd00:198:18::/48', 1), v6);
  ix.remove(v6, 2);
  assert.equal(ix.keyOf(ix.findKey('fd00:198:18::/48')), 'fd00:198:18::/48');
});
