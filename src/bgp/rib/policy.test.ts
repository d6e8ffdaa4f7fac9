import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIRD_INT_MAX } from './attrs.ts';
import type { RouteAttrs } from './attrs.ts';
import { RibError } from './errors.ts';
import { calicoExportPolicy, calicoKernelPolicy, globMatch, runPolicies } from './policy.ts';
import type { CalicoExportConfig, PolicyPeer, PolicyRoute, RoutePolicy, RouteSource } from './policy.ts';
import { familyOf } from './prefix.ts';

const IBGP: PolicyPeer = { id: 'i', address: '198.18.0.2', peerAs: 64512, localAs: 64512, ibgp: true, rrClient: false };
const EBGP: PolicyPeer = { id: 'e', address: '198.18.0.3', peerAs: 65001, localAs: 64512, ibgp: false, rrClient: false };

function route(prefix: string, source: RouteSource = 'local', a: Partial<RouteAttrs> = {}, iface?: string): PolicyRoute {
  return { prefix, family: familyOf(prefix), attrs: { origin: 0, asPath: [], nextHop: '198.18.0.9', ...a }, source, iface };
}

void test('runPolicies: first terminal verdict wins; next passes modified attributes on; default applies', () => {
  const calls: string[] = [];
  const mod: RoutePolicy = { name: 'mod', evaluate: (r) => (calls.push('mod'), { kind: 'next', attrs: { ...r.attrs, med: 5 } }) };
  const seeMed: RoutePolicy = { name: 'see', evaluate: (r) => (calls.push(`see:${r.attrs.med}`), r.attrs.med === 5 ? { kind: 'accept' } : { kind: 'reject' }) };
  const never: RoutePolicy = { name: 'never', evaluate: () => (calls.push('never'), { kind: 'reject' }) };
  const out = runPolicies([mod, seeMed, never], route('10.0.0.0/8'), EBGP, 'reject');
  assert.equal(out?.med, 5);
  assert.deepEqual(calls, ['mod', 'see:5']);
  const r = route('10.0.0.0/8');
  assert.equal(runPolicies([], r, EBGP, 'accept'), r.attrs, 'unchanged attributes are the same object');
  assert.equal(runPolicies([], r, EBGP, 'reject'), null);
  assert.equal(runPolicies([mod], r, EBGP, 'accept')?.med, 5);
});

void test('globMatch follows BIRD ifname patterns', () => {
  const t: [string, string, boolean][] = [
    ['*.cali', 'vxlan.cali', true],
    ['*.cali', 'cali123', false],
    ['tunl0', 'tunl0', true],
    ['tunl?', 'tunl1', true],
    ['eth*', 'eth0.100', true],
    ['bpf*.cali', 'bpfout.cali', true],
    ['a.b', 'axb', false],
  ];
  for (const [p, s, m] of t) assert.equal(globMatch(p, s), m, `${p} ~ ${s}`);
});

const exportCfg: CalicoExportConfig = {
  pools: [{ cidr: '10.65.0.0/16' }, { cidr: '10.90.0.0/16', disableBGPExport: true }, { cidr: 'fd00:65::/48' }],
  localBlocks: ['10.65.1.0/26'],
  staticRoutes: ['192.0.2.0/24'],
  serviceLoadBalancerIPs: ['203.0.113.0/24'],
  serviceExternalIPs: ['198.51.100.0/24'],
  prefixAdvertisements: [
    { cidr: '10.65.0.0/16', communities: ['65000:100', '1:2:3'] },
    { cidr: '10.65.1.0/24', communities: ['65000:200'] },
  ],
};

const exportCases: { name: string; r: PolicyRoute; peer?: PolicyPeer; rr?: boolean; accept: boolean; communities?: number[] }[] = [
  { name: 'own block', r: route('10.65.1.0/26'), accept: true, communities: [65000 * 65536 + 100, 65000 * 65536 + 200] },
  { name: 'normal-priority /32 inside own block is aggregated away', r: route('10.65.1.7/32', 'local', { localPref: BIRD_INT_MAX - 1024 }), accept: false },
  { name: 'elevated-priority /32 inside own block escapes aggregation', r: route('10.65.1.7/32', 'local', { localPref: BIRD_INT_MAX - 512 }), accept: true },
  { name: 'another node block inside an enabled pool (re-advertised)', r: route('10.65.7.0/26', 'ibgp'), accept: true, communities: [65000 * 65536 + 100] },
  { name: 'route in a pool with disableBGPExport', r: route('10.90.1.0/26'), accept: false },
  { name: 'static route', r: route('192.0.2.0/24'), accept: true },
  { name: 'service LB IP when not a route reflector', r: route('203.0.113.5/32'), accept: false },
  { name: 'service LB IP on a route reflector', r: route('203.0.113.5/32'), rr: true, accept: true },
  { name: 'service external IP on a route reflector', r: route('198.51.100.0/24'), rr: true, accept: true },
  { name: 'outside every pool', r: route('172.16.0.0/12', 'ebgp'), accept: false },
  { name: 'IPv6 pool', r: route('fd00:65::/64'), accept: true },
  { name: 'tunnel interface route towards iBGP', r: route('10.65.9.0/26', 'local', {}, 'vxlan.calico'), peer: IBGP, accept: false },
  { name: 'tunnel interface route towards eBGP', r: route('10.65.9.0/26', 'local', {}, 'vxlan.calico'), peer: EBGP, accept: true },
  { name: 'BPF local route', r: route('10.65.9.0/26', 'local', {}, 'bpfout.cali'), peer: EBGP, accept: false },
];

for (const c of exportCases) {
  void test(`Calico export: ${c.name} -> ${c.accept ? 'accept' : 'reject'}`, () => {
    const pol = calicoExportPolicy({ ...exportCfg, isRouteReflector: c.rr === true });
    const out = runPolicies([pol], c.r, c.peer ?? IBGP, 'reject');
    assert.equal(out !== null, c.accept);
    if (c.communities) assert.deepEqual(out?.communities, c.communities);
    if (out && c.r.prefix.startsWith('10.65.1.0')) assert.deepEqual(out.largeCommunities, [{ globalAdmin: 1, localData1: 2, localData2: 3 }]);
  });
}

void test('Calico export with acceptLocal: originated prefixes get their communities (v4 and v6, inside or equal to the CIDR) and are accepted anywhere', () => {
  const pol = calicoExportPolicy({
    pools: [{ cidr: '10.90.0.0/16', disableBGPExport: true }],
    acceptLocal: true,
    prefixAdvertisements: [
      { cidr: '10.65.0.0/16', communities: ['65000:100', '4200000000:1:2'] },
      { cidr: '10.65.1.0/26', communities: ['65000:200', '65000:100'] },
      { cidr: 'fd00:65::/48', communities: ['65000:600', '65000:4294967295:7'] },
    ],
  });
  const inside = runPolicies([pol], route('10.65.1.0/26'), EBGP, 'reject');
  assert.deepEqual(inside?.communities, [65000 * 65536 + 100, 65000 * 65536 + 200], 'both rules match; 65000:100 only once');
  assert.deepEqual(inside?.largeCommunities, [{ globalAdmin: 4200000000, localData1: 1, localData2: 2 }]);
  const other = runPolicies([pol], route('10.65.2.0/26'), EBGP, 'reject');
  assert.deepEqual(other?.communities, [65000 * 65536 + 100], 'only the /16 rule');
  const v6 = runPolicies([pol], route('fd00:65:0:1::/64'), EBGP, 'reject');
  assert.deepEqual(v6?.communities, [65000 * 65536 + 600]);
  assert.deepEqual(v6?.largeCommunities, [{ globalAdmin: 65000, localData1: 4294967295, localData2: 7 }]);
  const outside = route('172.16.0.0/24');
  assert.equal(runPolicies([pol], outside, EBGP, 'reject'), outside.attrs, 'no rule matches: unchanged, and originated routes are accepted');
  assert.equal(runPolicies([pol], route('10.65.3.0/26', 'ebgp'), EBGP, 'reject'), null, 'learned routes outside pools are still rejected');
  assert.equal(runPolicies([pol], route('10.90.1.0/26'), EBGP, 'reject'), null, 'a disableBGPExport pool rejects even originated routes');
  const kept = runPolicies([pol], route('10.65.1.0/26', 'local', { communities: [65000 * 65536 + 100] }), EBGP, 'reject');
  assert.deepEqual(kept?.communities, [65000 * 65536 + 100, 65000 * 65536 + 200], 'a community the route already has is not repeated');
});

void test('Calico export: bad config is reported with its field', () => {
  assert.throws(() => calicoExportPolicy({ pools: [{ cidr: '10.0.0.0' }] }), (e: unknown) => e instanceof RibError && /pools\[0\].cidr: "10.0.0.0" is not a CIDR/.test(e.message));
  assert.throws(
    () => calicoExportPolicy({ pools: [], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['x'] }] }),
    (e: unknown) => e instanceof RibError && /prefixAdvertisements\[0\].communities\[0\]: "x" is not a community/.test(e.message),
  );
});

const pools = [
  { cidr: '10.65.0.0/16' }, // no encap
  { cidr: '10.66.0.0/16', ipipMode: 'Always' as const },
  { cidr: '10.67.0.0/16', ipipMode: 'CrossSubnet' as const },
  { cidr: '10.68.0.0/16', vxlanMode: 'Always' as const },
  { cidr: 'fd00:65::/48' },
];

const kernelCases: { name: string; mode?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly'; prefix: string; nh?: string; install: boolean; tunnel?: string }[] = [
  { name: 'no-encap pool, default mode', prefix: '10.65.1.0/26', nh: '198.18.0.2', install: true },
  { name: 'IPIP pool, default mode (Felix programs it)', prefix: '10.66.1.0/26', nh: '198.18.0.2', install: false },
  { name: 'VXLAN pool (always Felix)', mode: 'Enabled', prefix: '10.68.1.0/26', nh: '198.18.0.2', install: false },
  { name: 'IPIP Always, BIRD programs IPIP', mode: 'Enabled', prefix: '10.66.1.0/26', nh: '198.18.0.2', install: true, tunnel: 'tunl0' },
  { name: 'IPIP CrossSubnet, same subnet', mode: 'Enabled', prefix: '10.67.1.0/26', nh: '198.18.0.2', install: true },
  { name: 'IPIP CrossSubnet, other subnet', mode: 'EnabledIPIPOnly', prefix: '10.67.1.0/26', nh: '198.19.0.2', install: true, tunnel: 'tunl0' },
  { name: 'no-encap pool, EnabledIPIPOnly', mode: 'EnabledIPIPOnly', prefix: '10.65.1.0/26', nh: '198.18.0.2', install: false },
  { name: 'Disabled', mode: 'Disabled', prefix: '10.65.1.0/26', nh: '198.18.0.2', install: false },
  { name: 'outside pools', mode: 'Disabled', prefix: '172.16.0.0/12', nh: '198.18.0.2', install: true },
  { name: 'reject cidr', prefix: '192.0.2.0/24', nh: '198.18.0.2', install: false },
  { name: 'WireGuard peer next hop', prefix: '172.16.0.0/12', nh: '198.18.0.77', install: false },
  { name: 'IPv6 pool', prefix: 'fd00:65:0:1::/64', nh: 'fd00::2', install: true },
];

for (const c of kernelCases) {
  void test(`Calico kernel: ${c.name} -> ${c.install ? `install${c.tunnel ? ` via ${c.tunnel}` : ''}` : 'skip'}`, () => {
    const pol = calicoKernelPolicy({ pools, programClusterRoutes: c.mode, localSubnet: '198.18.0.0/24', rejectCidrs: ['192.0.2.0/24'], wireguardPeerNextHops: ['198.18.0.77'] });
    const v = pol({ prefix: c.prefix, family: familyOf(c.prefix), source: 'ibgp', nextHop: c.nh });
    assert.equal(v.install, c.install);
    if (v.install) assert.equal(v.tunnel, c.tunnel);
  });
}
