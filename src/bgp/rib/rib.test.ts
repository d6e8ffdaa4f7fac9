import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIRD_INT_MAX, NO_ADVERTISE, NO_EXPORT } from './attrs.ts';
import type { RouteAttrs } from './attrs.ts';
import { RIB_ERROR, RibError } from './errors.ts';
import { calicoExportPolicy } from './policy.ts';
import type { KernelChange, OutboundUpdate } from './rib.ts';
import { LOCAL_AS, ROUTER_ID, addUp, attrs, drain, keys, mkRib, seq } from './testing.ts';

const P = '10.65.0.0/26';

// ---------------------------------------------------------------------------------------------
// Advertisement matrix: who gets which route (RFC 4271 §9.2, RFC 4456 §6)
// ---------------------------------------------------------------------------------------------

type Src = 'local' | 'E1' | 'C1' | 'N1';
type Dst = 'E1' | 'E2' | 'C1' | 'C2' | 'N1' | 'N2';

function matrixRib(withClients: boolean) {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
  addUp(rib, { id: 'C1', n: 21, rrClient: withClients });
  addUp(rib, { id: 'C2', n: 22, rrClient: withClients });
  addUp(rib, { id: 'N1', n: 31 });
  addUp(rib, { id: 'N2', n: 32 });
  for (const id of ['E1', 'E2', 'C1', 'C2', 'N1', 'N2']) rib.takeUpdates(id);
  return rib;
}

function inject(rib: ReturnType<typeof mkRib>, src: Src): void {
  if (src === 'local') rib.originate(P);
  else if (src === 'E1') rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  else rib.update(src, { announced: keys(P), attrs: attrs({ nextHop: `198.18.0.${src === 'C1' ? 21 : 31}`, localPref: 100 }) });
}

const matrix: { src: Src; clients: boolean; gets: Dst[] }[] = [
  { src: 'local', clients: true, gets: ['E1', 'E2', 'C1', 'C2', 'N1', 'N2'] },
  { src: 'E1', clients: true, gets: ['E2', 'C1', 'C2', 'N1', 'N2'] },
  { src: 'C1', clients: true, gets: ['E1', 'E2', 'C2', 'N1', 'N2'] },
  { src: 'N1', clients: true, gets: ['E1', 'E2', 'C1', 'C2'] },
  // Plain full mesh (no reflection): iBGP routes never go to iBGP peers.
  { src: 'local', clients: false, gets: ['E1', 'E2', 'C1', 'C2', 'N1', 'N2'] },
  { src: 'E1', clients: false, gets: ['E2', 'C1', 'C2', 'N1', 'N2'] },
  { src: 'C1', clients: false, gets: ['E1', 'E2'] },
  { src: 'N1', clients: false, gets: ['E1', 'E2'] },
];

for (const row of matrix) {
  void test(`advertise: route from ${row.src} (${row.clients ? 'route reflector' : 'full mesh'}) goes to ${row.gets.join(',')}`, () => {
    const rib = matrixRib(row.clients);
    inject(rib, row.src);
    for (const dst of ['E1', 'E2', 'C1', 'C2', 'N1', 'N2'] as Dst[]) {
      const got = drain(rib, dst).get(P);
      if (row.gets.includes(dst)) assert.ok(got && got !== 'withdrawn', `${dst} should get the route`);
      else assert.equal(got, undefined, `${dst} should not get the route`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Attribute rewriting
// ---------------------------------------------------------------------------------------------

void test('eBGP export: prepend local AS, next hop self, strip LOCAL_PREF, foreign MED, ORIGINATOR_ID, CLUSTER_LIST', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
  addUp(rib, { id: 'I1', n: 21 });
  rib.takeUpdates('E2');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001, 65100)], nextHop: '198.18.0.11', med: 50, localPref: 300, communities: [0x00010002] }) });
  const got = drain(rib, 'E2').get(P) as RouteAttrs;
  assert.deepEqual(got.asPath, [seq(LOCAL_AS, 65001, 65100)]);
  assert.equal(got.nextHop, '198.18.0.1');
  assert.equal(got.localPref, undefined);
  assert.equal(got.med, undefined, 'MED from another AS is not passed on');
  assert.deepEqual(got.communities, [0x00010002], 'communities pass');
  // LOCAL_PREF received over eBGP is ignored on import (default 100 applies).
  assert.equal(rib.adjRibIn('E1').get(P)?.attrs.localPref, undefined);
  // Routes learned over iBGP with RR attributes lose them towards eBGP.
  rib.update('I1', { announced: keys('10.66.0.0/24'), attrs: attrs({ nextHop: '198.18.0.21', localPref: 100, originatorId: '10.9.9.9', clusterList: ['1.2.3.4'], med: 7 }) });
  const r = drain(rib, 'E2').get('10.66.0.0/24') as RouteAttrs;
  assert.equal(r.originatorId, undefined);
  assert.equal(r.clusterList, undefined);
  assert.equal(r.med, 7, 'MED set inside our AS (empty AS_PATH) may go to a neighbour AS');
});

void test('eBGP export of a local route keeps its MED and uses the per-peer local AS', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001, localAs: 65010 });
  rib.originate(P, { attrs: { med: 20 } });
  const got = drain(rib, 'E').get(P) as RouteAttrs;
  assert.deepEqual(got.asPath, [seq(65010)]);
  assert.equal(got.med, 20);
  assert.equal(got.origin, 0);
  assert.equal(got.localPref, undefined);
});

void test('eBGP nextHopMode Keep keeps the original next hop', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002, nextHopMode: 'Keep' });
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  assert.equal((drain(rib, 'E2').get(P) as RouteAttrs).nextHop, '198.18.0.11');
  rib.originate('10.70.0.0/26');
  assert.equal((drain(rib, 'E2').get('10.70.0.0/26') as RouteAttrs).nextHop, '198.18.0.1', 'local routes always use self');
});

const nhCases: { mode: 'Auto' | 'Self' | 'Keep'; learned: string; local: string }[] = [
  { mode: 'Auto', learned: '198.18.0.11', local: '198.18.0.1' },
  { mode: 'Self', learned: '198.18.0.1', local: '198.18.0.1' },
  { mode: 'Keep', learned: '198.18.0.11', local: '198.18.0.1' },
];
for (const c of nhCases) {
  void test(`iBGP export next hop, nextHopMode ${c.mode}: learned ${c.learned}, local ${c.local}; LOCAL_PREF added`, () => {
    const rib = mkRib();
    addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
    addUp(rib, { id: 'I', n: 21, nextHopMode: c.mode });
    rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
    rib.originate('10.70.0.0/26', { priority: 1024 });
    const got = drain(rib, 'I');
    const learned = got.get(P) as RouteAttrs;
    assert.equal(learned.nextHop, c.learned);
    assert.deepEqual(learned.asPath, [seq(65001)], 'no prepend over iBGP');
    assert.equal(learned.localPref, 100, 'default LOCAL_PREF added');
    const local = got.get('10.70.0.0/26') as RouteAttrs;
    assert.equal(local.nextHop, c.local);
    assert.deepEqual(local.asPath, []);
    assert.equal(local.localPref, BIRD_INT_MAX - 1024, "Calico's priority -> LOCAL_PREF conversion");
  });
}

void test('route reflection: ORIGINATOR_ID set once, cluster id prepended to CLUSTER_LIST', () => {
  const rib = mkRib({ clusterId: '1.1.1.1' });
  addUp(rib, { id: 'C1', n: 21, rrClient: true });
  addUp(rib, { id: 'C2', n: 22, rrClient: true });
  addUp(rib, { id: 'N1', n: 31 });
  rib.takeUpdates('C2');
  rib.takeUpdates('N1');
  rib.update('C1', { announced: keys(P), attrs: attrs({ nextHop: '198.18.0.21', localPref: 100 }) });
  const a = drain(rib, 'C2').get(P) as RouteAttrs;
  assert.equal(a.originatorId, '10.0.0.21', "the client's router id");
  assert.deepEqual(a.clusterList, ['1.1.1.1']);
  assert.equal(a.nextHop, '198.18.0.21', 'reflection keeps the next hop');
  rib.update('N1', { announced: keys('10.71.0.0/24'), attrs: attrs({ nextHop: '198.18.0.31', localPref: 100, originatorId: '10.9.9.9', clusterList: ['2.2.2.2'] }) });
  const b = drain(rib, 'C2').get('10.71.0.0/24') as RouteAttrs;
  assert.equal(b.originatorId, '10.9.9.9', 'an existing ORIGINATOR_ID is kept');
  assert.deepEqual(b.clusterList, ['1.1.1.1', '2.2.2.2']);
});

void test('route reflection: cluster id defaults to the router id; locally originated routes carry no RR attributes', () => {
  const rib = mkRib();
  assert.equal(rib.clusterId, ROUTER_ID);
  addUp(rib, { id: 'C1', n: 21, rrClient: true });
  rib.originate(P);
  const a = drain(rib, 'C1').get(P) as RouteAttrs;
  assert.equal(a.originatorId, undefined);
  assert.equal(a.clusterList, undefined);
});

// ---------------------------------------------------------------------------------------------
// Import checks: loops, RR loops
// ---------------------------------------------------------------------------------------------

const loopCases: { name: string; peer: 'E' | 'I'; allow?: number; localAs?: number; a: Partial<RouteAttrs>; accepted: boolean }[] = [
  { name: 'own AS in path is rejected', peer: 'E', a: { asPath: [seq(65001, LOCAL_AS, 65003)] }, accepted: false },
  { name: 'own AS inside an AS_SET is rejected', peer: 'E', a: { asPath: [seq(65001), { type: 1, asns: [7, LOCAL_AS] }] }, accepted: false },
  { name: 'own AS once is allowed with numAllowedLocalAs 1', peer: 'E', allow: 1, a: { asPath: [seq(65001, LOCAL_AS)] }, accepted: true },
  { name: 'own AS twice exceeds numAllowedLocalAs 1', peer: 'E', allow: 1, a: { asPath: [seq(65001, LOCAL_AS, LOCAL_AS)] }, accepted: false },
  { name: 'clean path is accepted', peer: 'E', a: { asPath: [seq(65001, 65002)] }, accepted: true },
  // BIRD's `local as` (BGPPeer localASNumber): only the session's local AS counts as a loop.
  { name: 'session local AS in path is rejected', peer: 'E', localAs: 65100, a: { asPath: [seq(65001, 65100)] }, accepted: false },
  { name: "node's AS in path is accepted on a session with another local AS", peer: 'E', localAs: 65100, a: { asPath: [seq(65001, LOCAL_AS)] }, accepted: true },
  { name: 'ORIGINATOR_ID = our router id is rejected', peer: 'I', a: { originatorId: ROUTER_ID }, accepted: false },
  { name: 'CLUSTER_LIST with our cluster id is rejected', peer: 'I', a: { clusterList: ['9.9.9.9', ROUTER_ID] }, accepted: false },
  { name: 'foreign ORIGINATOR_ID and CLUSTER_LIST are accepted', peer: 'I', a: { originatorId: '10.1.1.1', clusterList: ['9.9.9.9'] }, accepted: true },
  { name: 'ORIGINATOR_ID/CLUSTER_LIST over eBGP are ignored, not a loop', peer: 'E', a: { asPath: [seq(65001)], originatorId: ROUTER_ID, clusterList: [ROUTER_ID] }, accepted: true },
];

for (const c of loopCases) {
  void test(`import: ${c.name}`, () => {
    const rib = mkRib();
    if (c.peer === 'E') addUp(rib, { id: 'E', n: 11, peerAs: 65001, numAllowedLocalAs: c.allow, ...(c.localAs ? { localAs: c.localAs } : {}) });
    else addUp(rib, { id: 'I', n: 21 });
    // A clean route first: a looped re-announcement must replace it (treat as withdraw).
    rib.update(c.peer, { announced: keys(P), attrs: attrs({ asPath: c.peer === 'E' ? [seq(65001)] : [] }) });
    assert.ok(rib.best(P));
    rib.update(c.peer, { announced: keys(P), attrs: attrs(c.a) });
    assert.equal(rib.best(P) !== undefined, c.accepted);
    assert.equal(rib.adjRibIn(c.peer).has(P), c.accepted);
  });
}

void test('well-known communities: NO_ADVERTISE goes nowhere, NO_EXPORT stays inside the AS', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
  addUp(rib, { id: 'I', n: 21 });
  rib.takeUpdates('E2');
  rib.takeUpdates('I');
  rib.update('E1', { announced: keys('10.1.0.0/24'), attrs: attrs({ asPath: [seq(65001)], communities: [NO_EXPORT] }) });
  rib.update('E1', { announced: keys('10.2.0.0/24'), attrs: attrs({ asPath: [seq(65001)], communities: [NO_ADVERTISE] }) });
  const e2 = drain(rib, 'E2');
  const i = drain(rib, 'I');
  assert.equal(e2.get('10.1.0.0/24'), undefined);
  assert.ok(i.get('10.1.0.0/24'));
  assert.equal(e2.get('10.2.0.0/24'), undefined);
  assert.equal(i.get('10.2.0.0/24'), undefined);
  assert.ok(rib.best('10.2.0.0/24'), 'still used locally');
});

// ---------------------------------------------------------------------------------------------
// Withdrawals, replacement, best-path changes
// ---------------------------------------------------------------------------------------------

void test('withdraw: falls back to the next best path and tells peers and kernel', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
  addUp(rib, { id: 'I', n: 21 });
  for (const id of ['E1', 'E2', 'I']) rib.takeUpdates(id);
  rib.takeKernelChanges();
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  rib.update('E2', { announced: keys(P), attrs: attrs({ asPath: [seq(65002, 65003)], nextHop: '198.18.0.12' }) });
  assert.equal(rib.best(P)?.from, 'E1');
  assert.equal(routes(rib.takeKernelChanges()).length, 1);
  assert.equal((drain(rib, 'I').get(P) as RouteAttrs).nextHop, '198.18.0.11');
  assert.ok(drain(rib, 'E2').get(P));
  rib.update('E1', { withdrawn: keys(P) });
  assert.equal(rib.best(P)?.from, 'E2');
  assert.equal((drain(rib, 'I').get(P) as RouteAttrs).nextHop, '198.18.0.12');
  // E2 is now the source: it must be withdrawn from E2's Adj-RIB-Out, and E1 now gets E2's route.
  assert.equal(drain(rib, 'E2').get(P), 'withdrawn');
  assert.deepEqual((drain(rib, 'E1').get(P) as RouteAttrs).asPath, [seq(LOCAL_AS, 65002, 65003)]);
  rib.update('E2', { withdrawn: keys(P) });
  assert.equal(rib.best(P), undefined);
  assert.equal(drain(rib, 'I').get(P), 'withdrawn');
  assert.equal(drain(rib, 'E1').get(P), 'withdrawn');
  const k = rib.takeKernelChanges();
  assert.deepEqual(k, [{ kind: 'withdraw', prefix: P, family: 'ipv4' }], 'kernel changes are coalesced to the final state');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  rib.update('E1', { withdrawn: keys(P) });
  assert.deepEqual(rib.takeKernelChanges(), [], 'added and removed between drains: nothing for the kernel');
  assert.equal(rib.prefixCount, 0);
  // Withdrawing an unknown prefix is harmless.
  rib.update('E2', { withdrawn: keys('10.99.0.0/24') });
  assert.deepEqual(rib.takeUpdates('I'), []);
});

void test('implicit withdraw: a re-announcement replaces the path; identical re-announcement is a no-op', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'I', n: 21 });
  rib.takeUpdates('I');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 1 }) });
  rib.takeUpdates('I');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 1 }) });
  assert.deepEqual(rib.takeUpdates('I'), [], 'duplicate announcement sends nothing');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 2 }) });
  assert.equal((drain(rib, 'I').get(P) as RouteAttrs).med, 2);
  assert.equal(rib.adjRibIn('E1').size, 1);
});

void test('locally originated route beats a learned one; withdrawing it restores the learned one', () => {
  const rib = mkRib();
  addUp(rib, { id: 'I', n: 21 });
  rib.update('I', { announced: keys(P), attrs: attrs({ nextHop: '198.18.0.21', localPref: BIRD_INT_MAX }) });
  assert.equal(rib.best(P)?.from, 'I');
  rib.originate(P);
  assert.equal(rib.best(P)?.from, 'local');
  assert.equal(rib.best(P)?.step, 'local-origin');
  rib.withdrawOriginated(P);
  assert.equal(rib.best(P)?.from, 'I');
  assert.deepEqual(rib.originatedPrefixes(), []);
});

// ---------------------------------------------------------------------------------------------
// UPDATE packing, coalescing, End-of-RIB, route refresh
// ---------------------------------------------------------------------------------------------

void test('packing: prefixes with identical attributes share one announcement; order withdraw, announce, EoR', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  const a1 = attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11', med: 1 });
  const a2 = attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11', med: 2 });
  const p1 = Array.from({ length: 300 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const p2 = Array.from({ length: 200 }, (_, i) => `10.100.${i}.0/24`);
  rib.update('E1', { announced: keys(...p1.slice(0, 150)), attrs: a1 });
  rib.update('E1', { announced: keys(...p2), attrs: a2 });
  rib.update('E1', { announced: keys(...p1.slice(150)), attrs: a1 });
  addUp(rib, { id: 'I', n: 21, families: ['ipv4', 'ipv6'] });
  const out = rib.takeUpdates('I');
  const kinds = out.map((u) => u.kind);
  assert.deepEqual(kinds, ['announce', 'announce', 'end-of-rib', 'end-of-rib']);
  const ann = out.filter((u): u is Extract<OutboundUpdate, { kind: 'announce' }> => u.kind === 'announce');
  assert.deepEqual(ann.map((u) => u.prefixes.length).sort((x, y) => x - y), [200, 300]);
  assert.notEqual(ann[0]!.attrsId, ann[1]!.attrsId);
  assert.deepEqual(new Set(ann.find((u) => u.prefixes.length === 300)!.prefixes), new Set(p1));
  for (const u of ann) {
    assert.equal(u.attributes.nextHop, undefined, 'next hop travels in reach');
    assert.deepEqual(u.reach, { afi: 1, nextHop: '198.18.0.11' });
  }
  assert.deepEqual(out.slice(2), [
    { kind: 'end-of-rib', family: 'ipv4' },
    { kind: 'end-of-rib', family: 'ipv6' },
  ]);
  // Withdrawals come first and in their own unit.
  rib.update('E1', { withdrawn: keys(p1[0]!, p1[1]!) });
  rib.update('E1', { announced: keys('10.200.0.0/24'), attrs: a2 });
  const next = rib.takeUpdates('I');
  assert.deepEqual(next[0], { kind: 'withdraw', family: 'ipv4', prefixes: [p1[0], p1[1]] });
  assert.equal(next[1]!.kind, 'announce');
  assert.equal(next.length, 2);
});

void test('coalescing: announce then withdraw before draining sends one withdraw; flapping attributes send the last', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'I', n: 21 });
  rib.takeUpdates('I');
  rib.takeUpdates('E1');
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 1 }) });
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 2 }) });
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 3 }) });
  const out = rib.takeUpdates('I');
  assert.equal(out.length, 1);
  assert.equal((fold1(out).get(P) as RouteAttrs).med, 3);
  rib.update('E1', { announced: keys('10.9.0.0/24'), attrs: attrs({ asPath: [seq(65001)] }) });
  rib.update('E1', { withdrawn: keys('10.9.0.0/24') });
  assert.deepEqual(rib.takeUpdates('I'), [], 'never sent, so nothing to withdraw');
  rib.update('E1', { withdrawn: keys(P) });
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: 3 }) });
  assert.deepEqual(rib.takeUpdates('I'), [], 'withdrawn and restored unchanged before draining: nothing to send');
  rib.update('E1', { withdrawn: keys(P) });
  assert.deepEqual(rib.takeUpdates('I'), [{ kind: 'withdraw', family: 'ipv4', prefixes: [P] }]);
  assert.deepEqual(rib.peersWithPendingUpdates(), []);
});

function fold1(out: OutboundUpdate[]) {
  const m = new Map<string, RouteAttrs>();
  for (const u of out) if (u.kind === 'announce') for (const p of u.prefixes) m.set(p, { ...u.attributes, nextHop: u.reach.nextHop });
  return m;
}

void test('IPv6: next hop self uses the session IPv6 address and link-local; families not negotiated are not sent', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E6', n: 11, peerAs: 65001, families: ['ipv4', 'ipv6'] });
  addUp(rib, { id: 'V4only', n: 12, peerAs: 65002, families: ['ipv4'] });
  rib.takeUpdates('V4only');
  rib.originate('fd00:198:18:1::/64');
  rib.originate('10.65.1.0/26');
  const out = rib.takeUpdates('E6');
  const a6 = out.find((u) => u.kind === 'announce' && u.family === 'ipv6');
  assert.ok(a6 && a6.kind === 'announce');
  assert.deepEqual(a6.reach, { afi: 2, nextHop: 'fd00:198:18::1' });
  assert.deepEqual(a6.prefixes, ['fd00:198:18:1::/64']);
  const v4 = drain(rib, 'V4only');
  assert.deepEqual([...v4.keys()], ['10.65.1.0/26']);
});

void test('route refresh re-sends the whole Adj-RIB-Out of that family only', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  rib.originate('10.65.1.0/26');
  rib.originate('10.65.2.0/26');
  rib.originate('fd00:198:18:1::/64');
  rib.takeUpdates('E');
  assert.deepEqual(rib.takeUpdates('E'), []);
  rib.routeRefresh('E', 'ipv4');
  const got = drain(rib, 'E');
  assert.deepEqual([...got.keys()].sort(), ['10.65.1.0/26', '10.65.2.0/26']);
  assert.deepEqual([...rib.adjRibOut('E').keys()].sort(), ['10.65.1.0/26', '10.65.2.0/26', 'fd00:198:18:1::/64']);
});

void test('session reset: Adj-RIB-Out is rebuilt on re-establishment and ends with End-of-RIB', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001, families: ['ipv4'] });
  rib.originate('10.65.1.0/26');
  rib.takeUpdates('E');
  rib.peerDown('E', 0, { graceful: false });
  assert.deepEqual(rib.takeUpdates('E'), []);
  rib.originate('10.65.2.0/26');
  assert.deepEqual(rib.peersWithPendingUpdates(), []);
  rib.peerEstablished('E', { routerId: '10.0.0.11', localAddress: '198.18.0.1', families: ['ipv4'] }, 1);
  const out = rib.takeUpdates('E');
  assert.equal(out.at(-1)?.kind, 'end-of-rib');
  assert.deepEqual([...fold1(out).keys()].sort(), ['10.65.1.0/26', '10.65.2.0/26']);
});

// ---------------------------------------------------------------------------------------------
// Kernel output
// ---------------------------------------------------------------------------------------------

function routes(ch: KernelChange[]) {
  return ch.filter((c): c is Extract<KernelChange, { kind: 'route' }> => c.kind === 'route');
}

void test('kernel: learned routes with next hop, metric from LOCAL_PREF, directly-connected flag', () => {
  const rib = mkRib();
  addUp(rib, { id: 'I', n: 21 });
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  rib.setConnectedSubnets(['198.18.0.0/24']);
  rib.update('I', { announced: keys('10.65.1.0/26'), attrs: attrs({ nextHop: '198.18.0.21', localPref: BIRD_INT_MAX - 1024 }) });
  rib.update('I', { announced: keys('10.65.2.0/26'), attrs: attrs({ nextHop: '198.19.5.5', localPref: BIRD_INT_MAX - 512 }) });
  rib.update('E', { announced: keys('10.80.0.0/16'), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  const ch = rib.takeKernelChanges();
  assert.equal(ch.at(-1)?.kind, 'synced', 'first drain ends with synced');
  const r = new Map(routes(ch).map((c) => [c.prefix, c.route]));
  assert.deepEqual(r.get('10.65.1.0/26'), { type: 'unicast', nextHops: [{ address: '198.18.0.21', directlyConnected: true }], metric: 1024, elevated: false, tunnel: undefined });
  assert.equal(r.get('10.65.2.0/26')?.metric, 512);
  assert.equal(r.get('10.65.2.0/26')?.elevated, true);
  assert.equal(r.get('10.65.2.0/26')?.nextHops[0]?.directlyConnected, false);
  assert.equal(r.get('10.80.0.0/16')?.metric, 1024, 'no LOCAL_PREF (eBGP) -> normal priority');
  // Changing connected subnets re-evaluates the flag.
  rib.setConnectedSubnets(['198.19.0.0/16']);
  const ch2 = routes(rib.takeKernelChanges());
  const m2 = new Map(ch2.map((c) => [c.prefix, c.route.nextHops[0]!.directlyConnected]));
  assert.deepEqual(Object.fromEntries(m2), { '10.65.1.0/26': false, '10.65.2.0/26': true, '10.80.0.0/16': false });
  assert.equal(rib.takeKernelChanges().length, 0);
});

void test('kernel: equal-cost paths become one multipath route; a single best when multipath is off', () => {
  for (const multipath of [true, false]) {
    const rib = mkRib({ multipath });
    addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
    addUp(rib, { id: 'E2', n: 12, peerAs: 65002 });
    rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
    rib.update('E2', { announced: keys(P), attrs: attrs({ asPath: [seq(65002)], nextHop: '198.18.0.12' }) });
    const r = routes(rib.takeKernelChanges()).find((c) => c.prefix === P)!.route;
    const hops = r.nextHops.map((h) => h.address);
    assert.deepEqual(hops, multipath ? ['198.18.0.11', '198.18.0.12'] : ['198.18.0.11']);
  }
});

void test('kernel: local blackhole routes are installed, plain local routes are not and remove a learned one', () => {
  const rib = mkRib();
  addUp(rib, { id: 'I', n: 21 });
  rib.update('I', { announced: keys('10.65.1.0/26', '10.65.2.0/26'), attrs: attrs({ nextHop: '198.18.0.21' }) });
  rib.takeKernelChanges();
  rib.originate('10.65.1.0/26', { blackhole: true });
  rib.originate('10.65.2.0/26');
  const ch = rib.takeKernelChanges();
  assert.deepEqual(ch, [
    { kind: 'route', prefix: '10.65.1.0/26', family: 'ipv4', route: { type: 'blackhole', nextHops: [], metric: 0, elevated: false, tunnel: undefined } },
    { kind: 'withdraw', prefix: '10.65.2.0/26', family: 'ipv4' },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Policies in the RIB
// ---------------------------------------------------------------------------------------------

void test('Calico export policy in the chain: blocks and pools go out, other routes do not', () => {
  const rib = mkRib();
  const pol = calicoExportPolicy({ pools: [{ cidr: '10.65.0.0/16' }, { cidr: '10.90.0.0/16', disableBGPExport: true }], localBlocks: ['10.65.1.0/26'] });
  addUp(rib, { id: 'I', n: 21, exportPolicies: [pol], exportDefault: 'reject' });
  rib.originate('10.65.1.0/26', { blackhole: true });
  rib.originate('10.65.1.5/32');
  rib.originate('10.65.1.6/32', { priority: 512 });
  rib.originate('10.90.1.0/26');
  rib.originate('192.0.2.0/24');
  assert.deepEqual([...drain(rib, 'I').keys()].sort(), ['10.65.1.0/26', '10.65.1.6/32']);
});

void test('export policy change re-exports at once; import policy change asks for a route refresh', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  rib.originate('10.65.1.0/26');
  rib.originate('10.66.1.0/26');
  rib.takeUpdates('E');
  const onlyFirst = {
    name: 'only-10.65',
    evaluate: (r: { prefix: string }) => (r.prefix.startsWith('10.65.') ? { kind: 'accept' as const } : { kind: 'reject' as const }),
  };
  const res = rib.setPeerPolicies('E', { exportPolicies: [onlyFirst] });
  assert.equal(res.routeRefreshNeeded, false);
  assert.deepEqual(Object.fromEntries(drain(rib, 'E')), { '10.66.1.0/26': 'withdrawn' });
  assert.equal(rib.setPeerPolicies('E', { importPolicies: [] }).routeRefreshNeeded, true);
});

void test('import policy: rejected prefixes are not stored and replace earlier accepted ones', () => {
  const rib = mkRib();
  const noSlash32 = { name: 'no-32', evaluate: (r: { prefix: string }) => (r.prefix.endsWith('/32') ? { kind: 'reject' as const } : { kind: 'next' as const }) };
  addUp(rib, { id: 'E', n: 11, peerAs: 65001, importPolicies: [noSlash32] });
  rib.update('E', { announced: keys('10.1.1.1/32', '10.1.1.0/24'), attrs: attrs({ asPath: [seq(65001)] }) });
  assert.deepEqual([...rib.adjRibIn('E').keys()], ['10.1.1.0/24']);
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

void test('errors: clear codes and messages', () => {
  const rib = mkRib();
  const code = (f: () => void) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof RibError, String(e));
      return `${e.code}: ${e.message}`;
    }
    return 'no error';
  };
  assert.match(code(() => rib.update('nope', {})), new RegExp(`^${RIB_ERROR.UNKNOWN_PEER}: peer "nope"`));
  rib.addPeer({ id: 'E', address: '198.18.0.11', peerAs: 65001 });
  assert.match(code(() => rib.addPeer({ id: 'E', address: '198.18.0.11', peerAs: 65001 })), /rib-duplicate-peer/);
  assert.match(code(() => rib.update('E', { announced: keys(P), attrs: attrs() })), /rib-peer-not-established: peer E/);
  assert.match(code(() => rib.addPeer({ id: 'X', address: 'not-an-ip', peerAs: 1 })), /rib-invalid-address: peer X: address: "not-an-ip" is not an IP address/);
  assert.match(code(() => rib.addPeer({ id: 'Y', address: '198.18.0.9', peerAs: 0 })), /rib-invalid-config: peer Y: peerAs 0/);
  assert.match(code(() => rib.addPeer({ id: 'Z', address: '198.18.0.9', peerAs: 65009, rrClient: true })), /route-reflector client must be an iBGP peer/);
  assert.match(code(() => rib.originate('10.1.1.1')), /rib-invalid-prefix: originate: "10.1.1.1" is not a CIDR/);
  assert.match(code(() => rib.peerEstablished('E', { routerId: 'x', localAddress: '198.18.0.1', families: ['ipv4'] }, 0)), /peer E: session.routerId: "x" is not a dotted-quad BGP identifier/);
  assert.match(code(() => mkRib({ localAs: -1 })), /RIB: localAs -1/);
});

void test('attribute sets are interned and garbage-collected when unused', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  for (let i = 0; i < 10000; i++) {
    rib.update('E', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], med: i }) });
  }
  assert.ok(rib.attrSetCount < 9000, `attr table swept (size ${rib.attrSetCount})`);
  assert.equal(rib.adjRibIn('E').get(P)?.attrs.med, 9999);
});

void test('peer slots: a removed peer\'s Adj-RIB-Out does not leak into the next peer; stats count what was sent', () => {
  const rib = mkRib();
  addUp(rib, { id: 'A', n: 11, peerAs: 65001 });
  for (let i = 0; i < 50; i++) rib.originate(`10.65.${i}.0/26`);
  assert.equal(rib.peerStats('A').advertised, 50);
  assert.equal(rib.peerStats('A').pendingUpdates, 50);
  rib.takeUpdates('A');
  assert.equal(rib.peerStats('A').pendingUpdates, 0);
  rib.removePeer('A');
  addUp(rib, { id: 'B', n: 12, peerAs: 65002 });
  const got = drain(rib, 'B');
  assert.equal(got.size, 50, 'the new peer gets the full table');
  assert.equal(rib.adjRibOut('B').size, 50);
  rib.peerDown('B', 0, { graceful: false });
  assert.equal(rib.adjRibOut('B').size, 0);
  assert.equal(rib.peerStats('B').advertised, 0);
  rib.withdrawOriginated('10.65.0.0/26');
  rib.peerEstablished('B', { routerId: '10.0.0.12', localAddress: '198.18.0.1', families: ['ipv4'] }, 1);
  assert.equal(drain(rib, 'B').size, 49);
  assert.equal(rib.prefixCount, 49);
});

void test('a prefix withdrawn and re-learned between drains keeps one identity in both outputs', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'I', n: 21 });
  rib.takeUpdates('I');
  rib.takeKernelChanges();
  rib.update('E', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  rib.takeUpdates('I');
  rib.takeKernelChanges();
  rib.update('E', { withdrawn: keys(P) });
  rib.update('E', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.12' }) });
  const k = rib.takeKernelChanges();
  assert.equal(k.length, 1);
  assert.equal(k[0]!.kind === 'route' && k[0].route.nextHops[0]!.address, '198.18.0.12');
  const u = rib.takeUpdates('I');
  assert.deepEqual(u.map((x) => x.kind), ['announce'], 'no withdraw + announce pair, just the new state');
});

void test('attribute sweeps keep Adj-RIB-Out identities: no spurious re-sends after garbage collection', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'I', n: 21 });
  rib.takeUpdates('I');
  for (let i = 0; i < 9000; i++) {
    rib.update('E', { announced: keys(`10.${i % 3}.0.0/16`), attrs: attrs({ asPath: [seq(65001)], med: i }) });
    if (i % 1000 === 0) rib.takeUpdates('I');
  }
  const last = drain(rib, 'I');
  assert.equal((last.get('10.2.0.0/16') as RouteAttrs).med, 8999);
  rib.update('E', { announced: keys('10.2.0.0/16'), attrs: attrs({ asPath: [seq(65001)], med: 8999 }) });
  assert.deepEqual(rib.takeUpdates('I'), [], 'same attributes after sweeps: nothing to send');
  assert.ok(rib.attrSetCount < 9000);
  assert.equal(rib.adjRibOut('I').get('10.0.0.0/16')?.med, 8997);
});

void test('rewrite caches: peers share them only when they rewrite alike', () => {
  const rib = mkRib({ clusterId: '1.1.1.1' });
  addUp(rib, { id: 'E1', n: 11, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 12, peerAs: 65002, localAs: 65050 });
  addUp(rib, { id: 'E3', n: 13, peerAs: 65003, nextHopMode: 'Keep' });
  addUp(rib, { id: 'I1', n: 21, rrClient: true });
  addUp(rib, { id: 'I2', n: 22, rrClient: true, nextHopMode: 'Self' });
  addUp(rib, { id: 'C1', n: 31, rrClient: true });
  addUp(rib, { id: 'C2', n: 32, rrClient: true });
  for (const id of ['E1', 'E2', 'E3', 'I1', 'I2', 'C1', 'C2']) rib.takeUpdates(id);
  rib.update('E1', { announced: keys(P), attrs: attrs({ asPath: [seq(65001)], nextHop: '198.18.0.11' }) });
  const e2 = drain(rib, 'E2').get(P) as RouteAttrs;
  const e3 = drain(rib, 'E3').get(P) as RouteAttrs;
  const i1 = drain(rib, 'I1').get(P) as RouteAttrs;
  const i2 = drain(rib, 'I2').get(P) as RouteAttrs;
  assert.deepEqual(e2.asPath, [seq(65050, 65001)], 'per-peer local AS');
  assert.equal(e2.nextHop, '198.18.0.1');
  assert.deepEqual(e3.asPath, [seq(LOCAL_AS, 65001)]);
  assert.equal(e3.nextHop, '198.18.0.11', 'Keep');
  assert.equal(i1.nextHop, '198.18.0.11', 'Auto keeps');
  assert.equal(i2.nextHop, '198.18.0.1', 'Self');
  // Two clients announce identical attributes: reflected copies carry each one's ORIGINATOR_ID.
  const same = attrs({ nextHop: '198.18.0.99', localPref: 100 });
  rib.update('C1', { announced: keys('10.1.0.0/24'), attrs: same });
  rib.update('C2', { announced: keys('10.2.0.0/24'), attrs: same });
  const got = drain(rib, 'I1');
  assert.equal((got.get('10.1.0.0/24') as RouteAttrs).originatorId, '10.0.0.31');
  assert.equal((got.get('10.2.0.0/24') as RouteAttrs).originatorId, '10.0.0.32');
  // A source re-established with another router id: its reflected routes use the new one.
  rib.peerDown('C1', 0, { graceful: false });
  rib.peerEstablished('C1', { routerId: '10.9.9.31', localAddress: '198.18.0.1', families: ['ipv4'] }, 1);
  rib.update('C1', { announced: keys('10.1.0.0/24'), attrs: same });
  assert.equal((drain(rib, 'I1').get('10.1.0.0/24') as RouteAttrs).originatorId, '10.9.9.31');
});

void test('originate again: attributes or interface change in place, and exports follow', () => {
  const rib = mkRib();
  const pol = calicoExportPolicy({ pools: [{ cidr: '10.65.0.0/16' }] });
  addUp(rib, { id: 'I', n: 21, exportPolicies: [pol] });
  rib.takeUpdates('I');
  rib.originate('10.65.9.0/26', { iface: 'eth0' });
  assert.ok(drain(rib, 'I').get('10.65.9.0/26'));
  rib.originate('10.65.9.0/26', { iface: 'vxlan.calico' });
  assert.equal(drain(rib, 'I').get('10.65.9.0/26'), 'withdrawn', 'Felix tunnel routes are not exported over iBGP');
  rib.originate('10.65.9.0/26', { iface: 'eth0', attrs: { med: 4 } });
  assert.equal((drain(rib, 'I').get('10.65.9.0/26') as RouteAttrs).med, 4);
  rib.originate('10.65.9.0/26', { iface: 'eth0', attrs: { med: 4 } });
  assert.deepEqual(rib.takeUpdates('I'), [], 'identical re-origination is a no-op');
  assert.equal(rib.best('10.65.9.0/26')?.candidates, 1);
});

void test('compact storage: a one-peer feed keeps no per-prefix objects; objects come and go with a second candidate or an advertisement', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E1', n: 2, peerAs: 65001 });
  addUp(rib, { id: 'E2', n: 3, peerAs: 65002, exportDefault: 'reject' });
  rib.takeKernelChanges();
  const a1 = attrs({ asPath: [seq(65001)], nextHop: '198.18.0.2' });
  const a2 = attrs({ asPath: [seq(65002, 65009)], nextHop: '198.18.0.3' });
  const prefixes = Array.from({ length: 500 }, (_, i) => ({ key: `10.${i >> 8}.${i & 255}.0/24` }));
  rib.update('E1', { announced: prefixes, attrs: a1 });
  assert.equal(rib.prefixCount, 500);
  assert.equal(rib.objectPrefixCount, 0, 'single candidates from a peer, advertised to nobody, are rows only');
  // A second candidate needs the object form; its withdrawal brings the row back to compact form.
  rib.update('E2', { announced: [prefixes[7]!], attrs: a2 });
  assert.equal(rib.objectPrefixCount, 1);
  assert.equal(rib.best(prefixes[7]!.key)?.from, 'E1');
  assert.equal(rib.best(prefixes[7]!.key)?.candidates, 2);
  rib.update('E2', { withdrawn: [prefixes[7]!] });
  assert.equal(rib.objectPrefixCount, 0);
  assert.equal(rib.best(prefixes[7]!.key)?.candidates, 1);
  // Advertised to a third peer: objects while it holds them, compact again once it is gone.
  addUp(rib, { id: 'E3', n: 4, peerAs: 65003 });
  assert.equal(rib.objectPrefixCount, 500);
  const ups = rib.takeUpdates('E3');
  assert.equal(ups.filter((u) => u.kind === 'announce').reduce((n, u) => n + (u.kind === 'announce' ? u.prefixes.length : 0), 0), 500);
  rib.peerDown('E3', 1, { graceful: false });
  assert.equal(rib.objectPrefixCount, 0);
  // Kernel output and withdrawals work on compact rows alike.
  const ch = rib.takeKernelChanges();
  assert.equal(ch.filter((c) => c.kind === 'route').length, 500);
  rib.update('E1', { withdrawn: prefixes.slice(0, 100) });
  assert.equal(rib.prefixCount, 400);
  const w = rib.takeKernelChanges();
  assert.deepEqual(w.map((c) => (c.kind === 'withdraw' ? c.prefix : '')).sort(), prefixes.slice(0, 100).map((p) => p.key).sort());
  assert.equal(rib.kernelRoutes().size, 400);
});
