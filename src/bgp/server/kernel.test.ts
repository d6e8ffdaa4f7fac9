import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelSync, MemoryKernel, type KernelBatch, type KernelApplyResult, type KernelRoute, type KernelRouteSpec } from './kernel.ts';
import { PrefixIndex, Rib } from '../rib/index.ts';
import { encodeRoutes, decodeRoutes } from './kernel-worker.ts';

const r = (dst: string, gw: string, metric?: number): KernelRoute => ({ dst, type: 'unicast', nextHops: [{ gateway: gw }], metric });

void test('KernelSync coalesces a burst into one write and skips unchanged routes', async () => {
  const k = new MemoryKernel();
  const s = new KernelSync(k);
  for (let i = 0; i < 1000; i++) s.set(r(`10.0.${i >> 8}.${i & 255}/32`, '198.18.0.2'));
  s.set(r('10.0.0.0/32', '198.18.0.2')); // same again: no change
  await s.idle();
  assert.equal(k.batches, 1);
  assert.equal(k.routes.size, 1000);
  s.set(r('10.0.0.0/32', '198.18.0.2'));
  await s.idle();
  assert.equal(k.batches, 1, 'an identical route is not rewritten');
  s.delete('10.0.0.1/32');
  s.set(r('10.0.0.2/32', '198.18.0.3'));
  await s.idle();
  assert.equal(k.batches, 2);
  assert.equal(k.routes.get('10.0.0.2/32')?.nextHops[0]?.gateway, '198.18.0.3');
  assert.equal(k.routes.has('10.0.0.1/32'), false);
  await s.removeAll();
  assert.equal(k.routes.size, 0);
});

void test('KernelSync: a metric change deletes the old route (metric is part of the kernel key)', async () => {
  const batches: KernelBatch[] = [];
  const k = { apply: async (b: KernelBatch): Promise<KernelApplyResult> => (batches.push(b), { failed: [] }), list: async () => [], close: async () => undefined };
  const s = new KernelSync(k);
  s.set(r('10.1.0.0/24', '198.18.0.2', 1024));
  await s.idle();
  s.set(r('10.1.0.0/24', '198.18.0.2', 512));
  await s.idle();
  assert.deepEqual(batches[1]!.remove.map((x) => x.metric), [1024]);
  assert.deepEqual(batches[1]!.replace.map((x) => x.metric), [512]);
});

void test('KernelSync retries failed routes; adopted routes are swept only on sweep()', async () => {
  let fail = true;
  const applied: string[] = [];
  const k = {
    apply: async (b: KernelBatch): Promise<KernelApplyResult> => {
      const failed = fail ? b.replace.filter((x) => x.dst === '10.2.0.0/24').map((x) => ({ dst: x.dst, op: 'replace' as const, error: 'ENETUNREACH' })) : [];
      for (const x of b.replace) if (!failed.some((f) => f.dst === x.dst)) applied.push(`+${x.dst}`);
      for (const x of b.remove) applied.push(`-${x.dst}`);
      return { failed };
    },
    list: async () => [],
    close: async () => undefined,
  };
  const errors: string[] = [];
  const s = new KernelSync(k, (m) => errors.push(m));
  s.adopt([r('10.9.0.0/24', '198.18.0.2')]);
  s.set(r('10.2.0.0/24', '198.18.0.9'));
  s.set(r('10.3.0.0/24', '198.18.0.2'));
  await s.idle();
  assert.match(errors[0] ?? '', /1 route change\(s\) failed, e\.g\. replace 10\.2\.0\.0\/24: ENETUNREACH/);
  assert.deepEqual(applied, ['+10.3.0.0/24']);
  fail = false;
  await new Promise((res) => setTimeout(res, 700));
  await s.idle();
  assert.deepEqual(applied, ['+10.3.0.0/24', '+10.2.0.0/24']);
  assert.equal(s.lastError, null);
  s.sweep();
  await s.idle();
  assert.deepEqual(applied.at(-1), '-10.9.0.0/24');
  await s.close();
});

void test('worker wire format round-trips routes', () => {
  const routes: KernelRoute[] = [
    r('198.19.0.0/26', '198.18.0.2', 1024),
    { dst: 'fd00:198:19::/64', type: 'unicast', nextHops: [{ gateway: 'fd00::2' }, { gateway: 'fd00::3', dev: 'eth1', onlink: true }] },
    { dst: '198.19.9.0/26', type: 'blackhole', nextHops: [] },
  ];
  assert.deepEqual(decodeRoutes(encodeRoutes(routes)), [
    routes[0],
    { dst: 'fd00:198:19::/64', type: 'unicast', metric: undefined, nextHops: [{ gateway: 'fd00::2' }, { gateway: 'fd00::3', dev: 'eth1', onlink: true }] },
    { dst: '198.19.9.0/26', type: 'blackhole', metric: undefined, nextHops: [] },
  ]);
  assert.deepEqual(decodeRoutes(''), []);
});

void test('KernelSync: changes made while a write is in flight are written next; shared specs are kept by reference', async () => {
  let release: (() => void) | null = null;
  const batches: KernelBatch[] = [];
  const k = {
    apply: async (b: KernelBatch): Promise<KernelApplyResult> => {
      batches.push(b);
      if (batches.length === 1) await new Promise<void>((res) => (release = res));
      return { failed: [] };
    },
    list: async () => [],
    close: async () => undefined,
  };
  const s = new KernelSync(k);
  const via2 = { type: 'unicast' as const, nextHops: [{ gateway: '198.18.0.2' }] };
  const via3 = { type: 'unicast' as const, nextHops: [{ gateway: '198.18.0.3' }] };
  s.adopt([r('10.9.0.0/24', '198.18.0.9')]);
  for (let i = 0; i < 3; i++) s.setRoute(`10.4.0.${i}/32`, via2);
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  assert.equal(batches.length, 1, 'first write in flight');
  s.setRoute('10.4.0.0/32', via3); // changed while in flight
  s.delete('10.4.0.1/32');
  s.setRoute('10.4.0.2/32', via2); // unchanged: nothing to do
  assert.equal(s.programmedSize, 1, 'only the adopted route is known to be in the kernel yet');
  release!();
  await s.idle();
  assert.equal(batches.length, 2);
  assert.deepEqual(batches[1]!.replace.map((x) => [x.dst, x.nextHops[0]!.gateway]), [['10.4.0.0/32', '198.18.0.3']]);
  assert.deepEqual(batches[1]!.remove.map((x) => x.dst), ['10.4.0.1/32']);
  assert.equal(s.size, 2);
  assert.equal(s.programmedSize, 3, 'two desired + the adopted one');
  s.sweep();
  await s.idle();
  assert.deepEqual(batches[2]!.remove.map((x) => x.dst), ['10.9.0.0/24']);
  assert.equal(s.programmedSize, 2);
  await s.removeAll();
  assert.deepEqual(batches[3]!.remove.map((x) => x.dst).sort(), ['10.4.0.0/32', '10.4.0.2/32']);
  assert.equal(s.programmedSize, 0);
  await s.close();
});

void test('KernelSync sharing the RIB prefix index: one row per prefix, kernel follows the RIB, rows freed when both let go', async () => {
  const index = new PrefixIndex();
  const k = new MemoryKernel();
  const s = new KernelSync(k, () => undefined, { index });
  s.adopt([r('10.200.0.0/24', '198.18.0.9'), r('fd00:198:18:ff::/64', 'fd00::9')]); // leftovers of a previous run
  const rib = new Rib({ routerId: '198.18.0.1', localAs: 64512, prefixIndex: index });
  for (const [id, n] of [['A', 2], ['B', 3]] as const) {
    rib.addPeer({ id, address: `198.18.0.${n}`, peerAs: 65000 + n });
    rib.peerEstablished(id, { routerId: `10.0.0.${n}`, localAddress: '198.18.0.1', families: ['ipv4', 'ipv6'] }, 0);
  }
  const specs = new Map<unknown, KernelRouteSpec>();
  const pump = () => {
    for (const ch of rib.takeKernelChanges()) {
      if (ch.kind === 'synced') s.sweep();
      else if (ch.kind === 'withdraw') s.delete(ch.prefix);
      else {
        let spec = specs.get(ch.route);
        if (!spec) specs.set(ch.route, (spec = { type: 'unicast', nextHops: ch.route.nextHops.map((h) => ({ gateway: h.address })), metric: ch.route.metric }));
        s.setRoute(ch.prefix, spec);
      }
    }
  };
  const prefixes = Array.from({ length: 300 }, (_, i) => (i % 10 === 9 ? `fd00:198:18:${i.toString(16)}::/64` : `10.${i >> 8}.${i & 255}.0/24`));
  let seed = 7;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  for (let step = 0; step < 60; step++) {
    const id = rnd(2) ? 'A' : 'B';
    const n = id === 'A' ? 2 : 3;
    const pick = prefixes.filter(() => rnd(4) === 0);
    for (const v6 of [false, true]) {
      const ps = pick.filter((p) => p.includes(':') === v6).map((key) => ({ key }));
      if (!ps.length) continue;
      if (rnd(3) === 0) rib.update(id, { withdrawn: ps });
      else rib.update(id, { announced: ps, attrs: { origin: 0, asPath: [{ type: 2, asns: [65000 + n, ...(rnd(2) ? [65009] : [])] }], nextHop: v6 ? `fd00::${n}` : `198.18.0.${n}` } });
    }
    pump();
    await s.idle();
    const want = rib.kernelRoutes();
    assert.deepEqual(new Set(k.routes.keys()), new Set(want.keys()), `step ${step}: kernel prefixes`);
    for (const [dst, route] of want) assert.deepEqual(k.routes.get(dst)!.nextHops.map((h) => h.gateway), route.nextHops.map((h) => h.address), `step ${step} ${dst}`);
    assert.ok(index.size <= prefixes.length, `step ${step}: ${index.size} rows for at most ${prefixes.length} prefixes`);
  }
  // Everything withdrawn: both let go of every row.
  for (const id of ['A', 'B']) rib.peerDown(id, 1, { graceful: false });
  pump();
  await s.idle();
  assert.equal(k.routes.size, 0);
  assert.equal(index.size, 0, 'no row left once neither the RIB nor the kernel needs it');
  await s.close();
});
