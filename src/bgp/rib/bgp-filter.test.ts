import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIRD_INT_MAX } from './attrs.ts';
import type { RouteAttrs } from './attrs.ts';
import { bgpFilterPolicy, compileBGPFilter } from './bgp-filter.ts';
import type { BGPFilterInput, BGPFilterRule } from './bgp-filter.ts';
import { RibError } from './errors.ts';
import type { PolicyPeer, PolicyRoute, RouteSource } from './policy.ts';
import { runPolicies } from './policy.ts';
import { familyOf } from './prefix.ts';
import { seq } from './testing.ts';

const IBGP: PolicyPeer = { id: 'i', address: '198.18.0.2', peerAs: 64512, localAs: 64512, ibgp: true, rrClient: false };
const EBGP: PolicyPeer = { id: 'e', address: '198.18.0.3', peerAs: 65001, localAs: 64512, ibgp: false, rrClient: false };

function route(prefix: string, a: Partial<RouteAttrs> = {}, source: RouteSource = 'ebgp', iface?: string): PolicyRoute {
  return { prefix, family: familyOf(prefix), attrs: { origin: 0, asPath: [], nextHop: '198.18.0.9', ...a }, source, iface };
}

/** 'accept' | 'reject' | 'next' for one rule list in one direction. */
function verdict(rules: BGPFilterRule[], r: PolicyRoute, peer: PolicyPeer = EBGP, dir: 'import' | 'export' = 'import'): string {
  const key = r.family === 'ipv4' ? (dir === 'import' ? 'importV4' : 'exportV4') : dir === 'import' ? 'importV6' : 'exportV6';
  return bgpFilterPolicy([{ name: 'f', spec: { [key]: rules } }], dir).evaluate(r, peer).kind;
}

const cidrCases: { op: BGPFilterRule['matchOperator']; cidr: string; pl?: { min?: number; max?: number }; prefix: string; match: boolean }[] = [
  { op: 'Equal', cidr: '10.0.0.0/8', prefix: '10.0.0.0/8', match: true },
  { op: 'Equal', cidr: '10.0.0.0/8', prefix: '10.0.0.0/9', match: false },
  { op: 'Equal', cidr: '10.0.0.0/8', prefix: '11.0.0.0/8', match: false },
  { op: 'NotEqual', cidr: '10.0.0.0/8', prefix: '10.0.0.0/8', match: false },
  { op: 'NotEqual', cidr: '10.0.0.0/8', prefix: '10.1.0.0/16', match: true },
  { op: 'In', cidr: '10.0.0.0/8', prefix: '10.0.0.0/8', match: true },
  { op: 'In', cidr: '10.0.0.0/8', prefix: '10.20.30.0/24', match: true },
  { op: 'In', cidr: '10.0.0.0/8', prefix: '10.0.0.0/7', match: false },
  { op: 'In', cidr: '10.0.0.0/8', prefix: '11.0.0.0/24', match: false },
  { op: 'NotIn', cidr: '10.0.0.0/8', prefix: '10.20.30.0/24', match: false },
  { op: 'NotIn', cidr: '10.0.0.0/8', prefix: '192.168.0.0/16', match: true },
  { op: 'In', cidr: '10.0.0.0/8', pl: { min: 16, max: 24 }, prefix: '10.1.0.0/16', match: true },
  { op: 'In', cidr: '10.0.0.0/8', pl: { min: 16, max: 24 }, prefix: '10.1.1.0/24', match: true },
  { op: 'In', cidr: '10.0.0.0/8', pl: { min: 16, max: 24 }, prefix: '10.1.1.0/25', match: false },
  { op: 'In', cidr: '10.0.0.0/8', pl: { min: 16, max: 24 }, prefix: '10.0.0.0/8', match: false },
  { op: 'In', cidr: '10.0.0.0/8', pl: { min: 4 }, prefix: '10.0.0.0/8', match: true },
  { op: 'In', cidr: '10.0.0.0/8', pl: { max: 26 }, prefix: '10.0.0.1/32', match: false },
  { op: 'NotIn', cidr: '10.0.0.0/8', pl: { min: 16, max: 24 }, prefix: '10.1.1.0/25', match: true },
  { op: 'In', cidr: 'fd00:198:18::/48', prefix: 'fd00:198:18:1::/64', match: true },
  { op: 'In', cidr: 'fd00:198:18::/48', prefix: 'fd00:198:19::/64', match: false },
  { op: 'In', cidr: 'fd00:198:18::/48', pl: { max: 64 }, prefix: 'fd00:198:18:1::/96', match: false },
  { op: 'Equal', cidr: 'fd00:198:18::/48', prefix: 'fd00:198:18::/48', match: true },
];

for (const c of cidrCases) {
  void test(`BGPFilter cidr: ${c.prefix} ${c.op} ${c.cidr}${c.pl ? ` ${JSON.stringify(c.pl)}` : ''} -> ${c.match}`, () => {
    const rules: BGPFilterRule[] = [{ action: 'Reject', cidr: c.cidr, matchOperator: c.op, prefixLength: c.pl }];
    assert.equal(verdict(rules, route(c.prefix)), c.match ? 'reject' : 'next');
  });
}

const matchCases: { name: string; rule: Omit<BGPFilterRule, 'action'>; r: PolicyRoute; peer?: PolicyPeer; dir?: 'import' | 'export'; match: boolean }[] = [
  { name: 'empty rule matches everything', rule: {}, r: route('10.0.0.0/8'), match: true },
  { name: 'source RemotePeers: learned route', rule: { source: 'RemotePeers' }, r: route('10.0.0.0/8', {}, 'ibgp'), dir: 'export', match: true },
  { name: 'source RemotePeers: local route', rule: { source: 'RemotePeers' }, r: route('10.0.0.0/8', {}, 'local'), dir: 'export', match: false },
  { name: 'interface glob matches', rule: { interface: 'eth*' }, r: route('10.0.0.0/8', {}, 'local', 'eth0'), dir: 'export', match: true },
  { name: 'interface glob does not match', rule: { interface: 'eth*' }, r: route('10.0.0.0/8', {}, 'local', 'cali1234'), dir: 'export', match: false },
  { name: 'interface rule, route without interface', rule: { interface: '*' }, r: route('10.0.0.0/8'), match: false },
  { name: 'standard community present', rule: { communities: { values: ['65000:100'] } }, r: route('10.0.0.0/8', { communities: [65000 * 65536 + 100] }), match: true },
  { name: 'standard community absent', rule: { communities: { values: ['65000:100'] } }, r: route('10.0.0.0/8', { communities: [65000 * 65536 + 101] }), match: false },
  {
    name: 'large community present',
    rule: { communities: { values: ['4200000000:1:2'] } },
    r: route('10.0.0.0/8', { largeCommunities: [{ globalAdmin: 4200000000, localData1: 1, localData2: 2 }] }),
    match: true,
  },
  { name: 'large community absent', rule: { communities: { values: ['4200000000:1:2'] } }, r: route('10.0.0.0/8'), match: false },
  { name: 'AS path prefix matches', rule: { asPathPrefix: [65001, 65002] }, r: route('10.0.0.0/8', { asPath: [seq(65001, 65002, 65003)] }), match: true },
  { name: 'AS path prefix out of order', rule: { asPathPrefix: [65002, 65001] }, r: route('10.0.0.0/8', { asPath: [seq(65001, 65002)] }), match: false },
  { name: 'AS path prefix longer than path', rule: { asPathPrefix: [65001, 65002] }, r: route('10.0.0.0/8', { asPath: [seq(65001)] }), match: false },
  { name: 'priority matches LOCAL_PREF', rule: { priority: 512 }, r: route('10.0.0.0/8', { localPref: BIRD_INT_MAX - 512 }), match: true },
  { name: 'priority differs', rule: { priority: 512 }, r: route('10.0.0.0/8', { localPref: BIRD_INT_MAX - 1024 }), match: false },
  { name: 'priority, no LOCAL_PREF', rule: { priority: 512 }, r: route('10.0.0.0/8'), match: false },
  { name: 'peerType iBGP on iBGP peer', rule: { peerType: 'iBGP' }, r: route('10.0.0.0/8'), peer: IBGP, match: true },
  { name: 'peerType iBGP on eBGP peer', rule: { peerType: 'iBGP' }, r: route('10.0.0.0/8'), peer: EBGP, match: false },
  { name: 'peerType eBGP on eBGP peer', rule: { peerType: 'eBGP' }, r: route('10.0.0.0/8'), peer: EBGP, match: true },
  {
    name: 'all conditions must hold (cidr ok, community missing)',
    rule: { cidr: '10.0.0.0/8', matchOperator: 'In', communities: { values: ['1:1'] } },
    r: route('10.1.0.0/16'),
    match: false,
  },
  {
    name: 'all conditions hold',
    rule: { cidr: '10.0.0.0/8', matchOperator: 'In', communities: { values: ['1:1'] }, peerType: 'eBGP' },
    r: route('10.1.0.0/16', { communities: [65537] }),
    match: true,
  },
];

for (const c of matchCases) {
  void test(`BGPFilter match: ${c.name}`, () => {
    assert.equal(verdict([{ action: 'Reject', ...c.rule }], c.r, c.peer, c.dir), c.match ? 'reject' : 'next');
    assert.equal(verdict([{ action: 'Accept', ...c.rule }], c.r, c.peer, c.dir), c.match ? 'accept' : 'next');
  });
}

void test('BGPFilter: first matching rule wins, across filters in order; no match falls through', () => {
  const f1: BGPFilterInput = {
    name: 'one',
    spec: {
      importV4: [
        { action: 'Accept', cidr: '10.1.0.0/16', matchOperator: 'In' },
        { action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In' },
      ],
    },
  };
  const f2: BGPFilterInput = { name: 'two', spec: { importV4: [{ action: 'Reject', cidr: '192.168.0.0/16', matchOperator: 'In' }] } };
  const pol = bgpFilterPolicy([f1, f2], 'import');
  assert.equal(pol.evaluate(route('10.1.2.0/24'), EBGP).kind, 'accept');
  assert.equal(pol.evaluate(route('10.2.0.0/24'), EBGP).kind, 'reject');
  assert.equal(pol.evaluate(route('192.168.1.0/24'), EBGP).kind, 'reject');
  assert.equal(pol.evaluate(route('172.16.0.0/12'), EBGP).kind, 'next');
  assert.equal(pol.evaluate(route('fd00::/64'), EBGP).kind, 'next', 'v4 rules never apply to v6 routes');
  // Export rules do not apply on import and vice versa.
  assert.equal(bgpFilterPolicy([f1], 'export').evaluate(route('10.2.0.0/24'), EBGP).kind, 'next');
  // In a chain with a default.
  assert.deepEqual(runPolicies([pol], route('172.16.0.0/12'), EBGP, 'accept'), route('172.16.0.0/12').attrs);
  assert.equal(runPolicies([pol], route('172.16.0.0/12'), EBGP, 'reject'), null);
});

void test('BGPFilter operations: add community (set semantics), prepend AS path in order, set priority', () => {
  const pol = bgpFilterPolicy(
    [
      {
        name: 'ops',
        spec: {
          exportV4: [
            {
              action: 'Accept',
              operations: [
                { addCommunity: { value: '65000:1' } },
                { addCommunity: { value: '65000:1' } },
                { addCommunity: { value: '1:2:3' } },
                { prependASPath: { prefix: [65000, 65001] } },
                { setPriority: { value: 100 } },
              ],
            },
          ],
        },
      },
    ],
    'export',
  );
  const v = pol.evaluate(route('10.0.0.0/8', { asPath: [seq(7)], communities: [5] }), EBGP);
  assert.equal(v.kind, 'accept');
  const a = (v as { attrs: RouteAttrs }).attrs;
  assert.deepEqual(a.communities, [5, 65000 * 65536 + 1]);
  assert.deepEqual(a.largeCommunities, [{ globalAdmin: 1, localData1: 2, localData2: 3 }]);
  assert.deepEqual(a.asPath, [seq(65000, 65001, 7)]);
  assert.equal(a.localPref, BIRD_INT_MAX - 100);
});

const invalid: { name: string; rule: unknown; msg: RegExp }[] = [
  { name: 'bad action', rule: { action: 'Drop' }, msg: /spec.importV4\[0\].action: "Drop" is not Accept or Reject/ },
  { name: 'cidr without operator', rule: { action: 'Accept', cidr: '10.0.0.0/8' }, msg: /cidr and matchOperator must both be set/ },
  { name: 'operator without cidr', rule: { action: 'Accept', matchOperator: 'In' }, msg: /cidr and matchOperator must both be set/ },
  { name: 'v6 cidr in a v4 list', rule: { action: 'Accept', cidr: 'fd00::/8', matchOperator: 'In' }, msg: /cidr: "fd00::\/8" is not an IPv4 CIDR/ },
  { name: 'bad operator', rule: { action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'Within' }, msg: /matchOperator: "Within" is not one of/ },
  { name: 'prefixLength without cidr', rule: { action: 'Accept', prefixLength: { min: 8 } }, msg: /cidr is required when prefixLength is set/ },
  { name: 'prefixLength out of range', rule: { action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { max: 33 } }, msg: /prefixLength.max: 33 is not an integer 0-32/ },
  { name: 'operations with Reject', rule: { action: 'Reject', operations: [{ setPriority: { value: 1 } }] }, msg: /operations may only be used with action Accept/ },
  { name: 'two fields in one operation', rule: { action: 'Accept', operations: [{ setPriority: { value: 1 }, addCommunity: { value: '1:1' } }] }, msg: /exactly one of/ },
  { name: 'bad community', rule: { action: 'Accept', communities: { values: ['70000:1'] } }, msg: /communities.values\[0\]: "70000:1" is not a community/ },
  { name: 'two communities', rule: { action: 'Accept', communities: { values: ['1:1', '1:2'] } }, msg: /exactly one community value/ },
  { name: 'priority 0', rule: { action: 'Accept', priority: 0 }, msg: /priority: 0 is not an integer 1-2147483646/ },
  { name: 'bad peerType', rule: { action: 'Accept', peerType: 'IBGP' }, msg: /peerType: "IBGP" is not eBGP or iBGP/ },
  { name: 'bad source', rule: { action: 'Accept', source: 'Local' }, msg: /source: "Local" is not RemotePeers/ },
  { name: 'long interface', rule: { action: 'Accept', interface: 'x'.repeat(16) }, msg: /interface: expected an interface name/ },
  { name: 'prepend too long', rule: { action: 'Accept', operations: [{ prependASPath: { prefix: Array(11).fill(1) } }] }, msg: /prependASPath.prefix: expected 1-10 AS numbers/ },
];

for (const c of invalid) {
  void test(`BGPFilter validation: ${c.name}`, () => {
    assert.throws(
      () => compileBGPFilter({ name: 'bad', spec: { importV4: [c.rule as BGPFilterRule] } }),
      (e: unknown) => e instanceof RibError && e.code === 'rib-invalid-policy' && /^BGPFilter bad: /.test(e.message) && c.msg.test(e.message),
    );
  });
}
