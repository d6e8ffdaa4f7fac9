import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelChange } from './rib.ts';
import { addUp, attrs, drain, keys, mkRib, seq, session } from './testing.ts';

const GR = { restartTime: 90, families: [{ family: 'ipv4' as const, forwardingState: true }, { family: 'ipv6' as const, forwardingState: true }] };
const V4 = ['10.65.1.0/26', '10.65.2.0/26', '10.65.3.0/26'];
const V6 = 'fd00:198:18:1::/64';

function setup(grOrNone: typeof GR | 'none' = GR, maxRestartTime?: number) {
  const rib = mkRib();
  const gr = grOrNone === 'none' ? undefined : grOrNone;
  addUp(rib, { id: 'R', n: 21, gr, maxRestartTime }, 0); // the restarting peer (iBGP)
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 }, 0); // an observer
  rib.update('R', { announced: keys(...V4), attrs: attrs({ nextHop: '198.18.0.21', localPref: 100 }) });
  rib.update('R', { announced: keys(V6), attrs: attrs({ nextHop: 'fd00:198:18::21', localPref: 100 }) });
  rib.takeUpdates('E');
  rib.takeKernelChanges();
  return rib;
}

const nonSynced = (c: KernelChange[]) => c.filter((x) => x.kind !== 'synced');

void test('GR helper: graceful session loss keeps routes (stale) in Loc-RIB, kernel and towards peers', () => {
  const rib = setup();
  rib.peerDown('R', 1000, { graceful: true });
  for (const p of [...V4, V6]) {
    assert.equal(rib.best(p)?.from, 'R');
    assert.equal(rib.best(p)?.stale, true);
  }
  assert.deepEqual(nonSynced(rib.takeKernelChanges()), [], 'kernel untouched');
  assert.deepEqual(rib.takeUpdates('E'), [], 'no withdrawals to other peers');
  assert.equal(rib.peerStats('R').stale, 4);
  assert.equal(rib.nextDeadline(), 1000 + 90_000, 'restart timer = the peer restart time');
});

void test('GR helper: restart time is capped by maxRestartTime', () => {
  const rib = setup(GR, 30);
  rib.peerDown('R', 0, { graceful: true });
  assert.equal(rib.nextDeadline(), 30_000);
});

void test('GR helper: restart timer expiry removes the stale routes', () => {
  const rib = setup();
  rib.peerDown('R', 0, { graceful: true });
  rib.tick(89_999);
  assert.ok(rib.best(V4[0]!));
  rib.tick(90_000);
  for (const p of [...V4, V6]) assert.equal(rib.best(p), undefined);
  const k = nonSynced(rib.takeKernelChanges());
  assert.equal(k.length, 4);
  assert.ok(k.every((c) => c.kind === 'withdraw'));
  const e = drain(rib, 'E');
  assert.equal(e.size, 4);
  assert.ok([...e.values()].every((v) => v === 'withdrawn'), 'withdrawn towards other peers');
  assert.equal(rib.nextDeadline(), undefined);
});

void test('GR helper: re-established peer refreshes routes; End-of-RIB sweeps what was not re-sent, per family', () => {
  const rib = setup();
  rib.peerDown('R', 0, { graceful: true });
  rib.peerEstablished('R', session(21, ['ipv4', 'ipv6'], GR), 5000);
  assert.equal(rib.nextDeadline(), 5000 + 360_000, 'stale-path timer replaces the restart timer');
  // The peer re-sends two of its three IPv4 routes, one with a new next hop.
  rib.update('R', { announced: keys(V4[0]!), attrs: attrs({ nextHop: '198.18.0.21', localPref: 100 }) });
  rib.update('R', { announced: keys(V4[1]!), attrs: attrs({ nextHop: '198.18.0.22', localPref: 100 }) });
  assert.equal(rib.best(V4[0]!)?.stale, false);
  assert.equal(rib.best(V4[2]!)?.stale, true);
  const k1 = nonSynced(rib.takeKernelChanges());
  assert.deepEqual(
    k1.map((c) => (c.kind === 'route' ? `${c.prefix} via ${c.route.nextHops[0]!.address}` : c.kind)),
    [`${V4[1]} via 198.18.0.22`],
    'only the changed route touches the kernel',
  );
  rib.endOfRib('R', 'ipv4', 6000);
  assert.equal(rib.best(V4[2]!), undefined, 'not re-sent before End-of-RIB: gone');
  assert.ok(rib.best(V6), 'IPv6 still waits for its own End-of-RIB');
  assert.deepEqual(nonSynced(rib.takeKernelChanges()), [{ kind: 'withdraw', prefix: V4[2], family: 'ipv4' }]);
  rib.endOfRib('R', 'ipv6', 7000);
  assert.equal(rib.best(V6), undefined);
  assert.equal(rib.nextDeadline(), undefined);
});

void test('GR helper: stale-path timer removes routes when End-of-RIB never comes', () => {
  const rib = setup();
  rib.peerDown('R', 0, { graceful: true });
  rib.peerEstablished('R', session(21, ['ipv4', 'ipv6'], GR), 1000);
  rib.tick(1000 + 360_000);
  for (const p of [...V4, V6]) assert.equal(rib.best(p), undefined);
});

void test('GR helper: a family without forwarding state (or GR) in the new OPEN is flushed at once', () => {
  const rib = setup();
  rib.peerDown('R', 0, { graceful: true });
  rib.peerEstablished('R', session(21, ['ipv4', 'ipv6'], { restartTime: 90, families: [{ family: 'ipv4', forwardingState: true }, { family: 'ipv6', forwardingState: false }] }), 1);
  assert.ok(rib.best(V4[0]!));
  assert.equal(rib.best(V6), undefined);
  rib.peerDown('R', 2, { graceful: true });
  rib.peerEstablished('R', session(21, ['ipv4', 'ipv6']), 3);
  assert.equal(rib.best(V4[0]!), undefined, 'no GR capability at all now: everything stale goes');
});

void test('GR helper: families not in the GR capability are removed at session loss', () => {
  const rib = setup({ restartTime: 120, families: [{ family: 'ipv4', forwardingState: true }] });
  rib.peerDown('R', 0, { graceful: true });
  assert.ok(rib.best(V4[0]!));
  assert.equal(rib.best(V6), undefined);
});

void test('GR helper: non-graceful loss, or a peer without GR, removes routes at once', () => {
  for (const [gr, graceful] of [
    [GR, false],
    ['none', true],
    [{ restartTime: 0, families: GR.families }, true],
  ] as const) {
    const rib = setup(gr);
    rib.peerDown('R', 0, { graceful });
    assert.equal(rib.best(V4[0]!), undefined, JSON.stringify({ gr, graceful }));
    assert.equal(rib.nextDeadline(), undefined);
  }
});

void test('GR helper: a second loss during the restart keeps routes stale and restarts the timer', () => {
  const rib = setup();
  rib.peerDown('R', 0, { graceful: true });
  rib.peerEstablished('R', session(21, ['ipv4', 'ipv6'], GR), 10_000);
  rib.update('R', { announced: keys(V4[0]!), attrs: attrs({ nextHop: '198.18.0.21', localPref: 100 }) });
  rib.peerDown('R', 20_000, { graceful: true });
  assert.equal(rib.peerStats('R').stale, 4);
  assert.equal(rib.nextDeadline(), 20_000 + 90_000);
  rib.tick(110_000);
  assert.equal(rib.prefixCount, 0);
});

void test('GR helper: a fresh path from another peer wins over nothing, stale paths still compete normally', () => {
  const rib = setup();
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
  rib.update('E2', { announced: keys(V4[0]!), attrs: attrs({ asPath: [seq(65002)], nextHop: '198.18.0.12' }) });
  assert.equal(rib.best(V4[0]!)?.from, 'R', 'equal LOCAL_PREF; the shorter AS_PATH (R: empty) wins');
  rib.peerDown('R', 0, { graceful: true });
  assert.equal(rib.best(V4[0]!)?.from, 'R');
  rib.tick(90_000);
  assert.equal(rib.best(V4[0]!)?.from, 'E2');
});

// ---------------------------------------------------------------------------------------------
// Restarting speaker: selection deferral
// ---------------------------------------------------------------------------------------------

function restarting(deferralTime = 120) {
  const rib = mkRib({ restarting: { deferralTime, now: 0 } });
  rib.addPeer({ id: 'A', address: '198.18.0.21', peerAs: 64512 });
  rib.addPeer({ id: 'B', address: '198.18.0.22', peerAs: 64512 });
  rib.originate('10.65.0.0/26', { blackhole: true });
  return rib;
}

void test('restarting speaker: no kernel changes and no advertisements until every GR peer sent End-of-RIB', () => {
  const rib = restarting();
  assert.equal(rib.isDeferring, true);
  assert.equal(rib.nextDeadline(), 120_000);
  rib.peerEstablished('A', session(21, ['ipv4'], GR), 1);
  rib.peerEstablished('B', session(22, ['ipv4'], GR), 2);
  rib.update('A', { announced: keys('10.65.1.0/26'), attrs: attrs({ nextHop: '198.18.0.21' }) });
  rib.update('B', { announced: keys('10.65.2.0/26'), attrs: attrs({ nextHop: '198.18.0.22' }) });
  assert.deepEqual(rib.takeKernelChanges(), []);
  assert.deepEqual(rib.takeUpdates('A'), []);
  rib.endOfRib('A', 'ipv4', 3);
  assert.equal(rib.isDeferring, true);
  rib.endOfRib('B', 'ipv4', 4);
  assert.equal(rib.isDeferring, false);
  const k = rib.takeKernelChanges();
  assert.deepEqual(
    k.map((c) => (c.kind === 'synced' ? 'synced' : `${c.kind} ${c.prefix}`)),
    ['route 10.65.0.0/26', 'route 10.65.1.0/26', 'route 10.65.2.0/26', 'synced'],
    'the whole table, then synced (the writer may now drop leftovers)',
  );
  const a = rib.takeUpdates('A');
  assert.deepEqual([...drainKeys(a)], ['10.65.0.0/26']);
  assert.equal(a.at(-1)?.kind, 'end-of-rib');
  assert.equal(rib.nextDeadline(), undefined);
});

function drainKeys(u: ReturnType<ReturnType<typeof mkRib>['takeUpdates']>): Set<string> {
  const s = new Set<string>();
  for (const x of u) if (x.kind === 'announce') for (const p of x.prefixes) s.add(p);
  return s;
}

void test('restarting speaker: a peer that never comes back ends the deferral at the timer', () => {
  const rib = restarting(60);
  rib.peerEstablished('A', session(21, ['ipv4'], GR), 1);
  rib.endOfRib('A', 'ipv4', 2);
  assert.equal(rib.isDeferring, true, 'B is still missing');
  rib.tick(59_999);
  assert.equal(rib.isDeferring, true);
  rib.tick(60_000);
  assert.equal(rib.isDeferring, false);
  assert.equal(rib.takeKernelChanges().at(-1)?.kind, 'synced');
});

void test('restarting speaker: peers without GR do not hold the deferral; removing a peer can end it', () => {
  const rib = restarting();
  rib.peerEstablished('A', session(21, ['ipv4']), 1);
  assert.equal(rib.isDeferring, true, 'B not up yet');
  rib.removePeer('B');
  assert.equal(rib.isDeferring, false);
});

void test('restarting speaker: peers restarting too (R bit) are not waited for (no deadlock when a whole mesh restarts)', () => {
  const rib = restarting();
  rib.peerEstablished('A', session(21, ['ipv4'], { ...GR, restartState: true }), 1);
  rib.peerEstablished('B', session(22, ['ipv4'], GR), 2);
  assert.equal(rib.isDeferring, true, 'B (not restarting) must still send End-of-RIB');
  rib.endOfRib('B', 'ipv4', 3);
  assert.equal(rib.isDeferring, false);
  const a = rib.takeUpdates('A');
  assert.equal(a.at(-1)?.kind, 'end-of-rib', 'A gets our table and End-of-RIB, which it is waiting for');
});

void test('restarting speaker with no peers configured: the first tick ends the deferral', () => {
  const rib = mkRib({ restarting: { deferralTime: 120, now: 0 } });
  rib.originate('10.65.0.0/26', { blackhole: true });
  assert.equal(rib.isDeferring, true);
  rib.tick(1);
  assert.equal(rib.isDeferring, false);
  assert.deepEqual(
    rib.takeKernelChanges().map((c) => c.kind),
    ['route', 'synced'],
  );
});

void test('cold start (not restarting): synced is emitted on the first drain', () => {
  const rib = mkRib();
  assert.deepEqual(rib.takeKernelChanges(), [{ kind: 'synced' }]);
  assert.deepEqual(rib.takeKernelChanges(), []);
});
