// Calico's peering rules on small hand-made clusters (independent of the Calico mirror), the
// speaker config they give, and the status views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyResource } from '../../model/index.ts';
import { computePlan, durationSeconds, parseIPPort, asNumberOf, fileSecrets, hashRouterId, PeeringError } from './peering.ts';
import { BgpStateStore } from './state.ts';
import { toSpeakerConfig } from './speaker-config.ts';
import { formatNodeStatus, calicoNodeStatus, calicoNodeRoutes } from './status.ts';
import type { SpeakerStatus } from '../server/index.ts';

const r = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(labels ? { labels } : {}) }, spec }) as AnyResource;

function cluster(extra: AnyResource[] = []): BgpStateStore {
  const s = new BgpStateStore();
  s.add(r('Node', 'a', { bgp: { ipv4Address: '198.18.0.1/24', ipv6Address: 'fd00:198:18::1/64' } }));
  s.add(r('Node', 'b', { bgp: { ipv4Address: '198.18.0.2/24' } }));
  s.add(r('Node', 'c', { bgp: { ipv4Address: '198.18.0.3/24', ipv6Address: 'fd00:198:18::3/64', asNumber: 65003 } }));
  s.add(r('Node', 'no-bgp', {}));
  for (const x of extra) s.add(x);
  return s;
}

void test('defaults: AS 64512, port 179, router id = node IPv4, full mesh per family, passive towards higher addresses', () => {
  const p = computePlan(cluster(), 'b');
  assert.equal(p.asNumber, 64512);
  assert.equal(p.listenPort, 179);
  assert.equal(p.routerId, '198.18.0.2');
  assert.deepEqual(
    p.peers.map((x) => [x.name, x.asNumber, x.passive, x.sourceAddress]),
    [
      ['Mesh_198_18_0_1', 64512, false, '198.18.0.2'],
      ['Mesh_198_18_0_3', 65003, true, '198.18.0.2'],
    ],
  );
  // IPv6 mesh only between nodes with IPv6 addresses.
  const a = computePlan(cluster(), 'a');
  assert.deepEqual(a.peers.filter((x) => x.family === 6).map((x) => x.name), ['Mesh_fd00_198_18__3']);
});

void test('BGPConfiguration and node overrides', () => {
  const s = cluster([
    r('BGPConfiguration', 'default', { asNumber: 65000, listenPort: 1790, nodeToNodeMeshEnabled: false, bindMode: 'NodeIP', ignoredInterfaces: ['eth9'] }),
    r('BGPConfiguration', 'node.a', { listenPort: 1791, logSeverityScreen: 'Debug' }),
  ]);
  const a = computePlan(s, 'a', { routerId: '10.9.9.9' });
  assert.equal(a.asNumber, 65000);
  assert.equal(a.listenPort, 1791);
  assert.equal(a.listenAddress, '198.18.0.1');
  assert.equal(a.routerId, '10.9.9.9');
  assert.deepEqual(a.peers, []);
  assert.deepEqual(a.ignoredInterfaces, ['eth9']);
  assert.equal(computePlan(s, 'c').asNumber, 65003, 'node AS wins');
  assert.equal(computePlan(s, 'a', { routerId: 'hash' }).routerId, hashRouterId('a'));
  assert.throws(() => computePlan(s, 'zzz'), (e: unknown) => e instanceof PeeringError && e.code === 'bgp-node-not-found' && /zzz/.test(e.message));
  assert.throws(() => computePlan(cluster([r('Node', 'v6', { bgp: { ipv6Address: 'fd00::9/64' } })]), 'v6'), /CALICO_ROUTER_ID/);
});

void test('BGPPeers: global, node, nodeSelector, port, password from a secret, next hop, restart time', () => {
  const secrets = new Map([['bgp/tor', 's3cret']]);
  const s = cluster([
    r('BGPPeer', 'global', { peerIP: '198.18.0.100', asNumber: 65100, password: { secretKeyRef: { name: 'bgp', key: 'tor' } }, maxRestartTime: '2m' }),
    r('BGPPeer', 'only-b', { node: 'b', peerIP: '[fd00:198:18::99]:1179', asNumber: 65099, keepOriginalNextHop: true }),
    r('BGPPeer', 'edge', { nodeSelector: "zone == 'edge'", peerIP: '198.18.0.101', asNumber: 64512, nextHopMode: 'Self' }),
  ]);
  s.add(r('Node', 'b', { bgp: { ipv4Address: '198.18.0.2/24', ipv6Address: 'fd00:198:18::2/64' } }, { zone: 'edge' }));
  const p = computePlan(s, 'b', { secrets: (n, k) => secrets.get(`${n}/${k}`) });
  const byName = new Map(p.peers.map((x) => [x.name, x]));
  assert.equal(byName.get('Global_198_18_0_100')!.password, 's3cret');
  assert.equal(byName.get('Global_198_18_0_100')!.gracefulRestartTime, 120);
  assert.equal(byName.get('Node_fd00_198_18__99_port_1179')!.port, 1179);
  assert.equal(byName.get('Node_fd00_198_18__99_port_1179')!.nextHopKeep, true, 'keepOriginalNextHop applies to eBGP');
  assert.equal(byName.get('Node_198_18_0_101')!.nextHopSelf, true);
  assert.ok(!computePlan(s, 'a').peers.some((x) => x.ip === '198.18.0.101'), 'nodeSelector does not match a');
  // Missing secret: no password, and a warning saying which.
  const q = computePlan(s, 'b');
  assert.equal(q.peers.find((x) => x.ip === '198.18.0.100')!.password, undefined);
  assert.match(q.warnings.join('\n'), /cannot read password from secret bgp key tor/);
});

void test('route reflectors: RR nodes leave the mesh; peerSelector peers are RR clients of the reflector; reverse peering', () => {
  const s = cluster([r('BGPPeer', 'to-rr', { nodeSelector: '!has(rr)', peerSelector: 'has(rr)' })]);
  s.add(r('Node', 'a', { bgp: { ipv4Address: '198.18.0.1/24', routeReflectorClusterID: '224.0.0.1' } }, { rr: '' }));
  const rr = computePlan(s, 'a');
  assert.equal(rr.routeReflectorClusterId, '224.0.0.1');
  assert.deepEqual(rr.peers.map((x) => [x.name, x.routeReflectorClient, x.asNumber]), [
    ['Node_198_18_0_2', true, 64512],
    ['Node_198_18_0_3', false, 65003], // eBGP: never an RR client
  ]);
  const b = computePlan(s, 'b');
  assert.deepEqual(b.peers.map((x) => [x.name, x.kind, x.routeReflectorClient]), [
    ['Mesh_198_18_0_3', 'mesh', false],
    ['Node_198_18_0_1', 'node', false],
  ]);
  // The speaker config marks the client, sets the cluster id and labels the peer types.
  const cfg = toSpeakerConfig(rr).config;
  assert.equal(cfg.routeReflectorClusterId, '224.0.0.1');
  assert.deepEqual(cfg.peers.map((x) => [x.address, x.routeReflectorClient, x.description, x.passive]), [
    ['198.18.0.2', true, 'node specific', true],
    ['198.18.0.3', false, 'node specific', true],
  ]);
});

void test('exported routes: blocks affine to this node inside pools that allow export; static prefixes', () => {
  const s = cluster([r('IPPool', 'p', { cidr: '198.19.0.0/16' }), r('IPPool', 'private', { cidr: '198.20.0.0/16', disableBGPExport: true })]);
  s.setIpamKey('/calico/ipam/v2/host/b/ipv4/block/198.19.2.0-26', JSON.stringify({ state: 'confirmed' }));
  s.setIpamKey('/calico/ipam/v2/host/b/ipv4/block/198.20.2.0-26', JSON.stringify({ state: 'confirmed' }));
  s.setIpamKey('/calico/ipam/v2/host/a/ipv4/block/198.19.1.0-26', JSON.stringify({ state: 'confirmed' }));
  s.setIpamKey('/calico/ipam/v2/assignment/ipv4/block/198.19.9.0-26', JSON.stringify({ cidr: '198.19.9.0/26', affinity: 'host:b' }));
  s.setIpamKey('/calico/ipam/v2/host/b/ipv4/block/198.19.3.0-26', JSON.stringify({ state: 'pendingDeletion' }));
  const p = computePlan(s, 'b', { staticPrefixes: ['198.19.200.0/24'] });
  assert.deepEqual(p.originated, ['198.19.2.0/26', '198.19.200.0/24', '198.19.9.0/26']);
  assert.deepEqual(p.exportPools, ['198.19.0.0/16']);
  assert.deepEqual(toSpeakerConfig(p).config.ipPools, ['198.19.0.0/16']);
  // Kernel programming follows the pools' encapsulation (IPIP pools via the tunnel, VXLAN left to felix).
  s.add(r('IPPool', 'ipip', { cidr: '198.21.0.0/16', ipipMode: 'CrossSubnet' }));
  s.add(r('BGPConfiguration', 'default', { programClusterRoutes: 'Enabled' }));
  const kp = toSpeakerConfig(computePlan(s, 'b')).config.kernelPolicy!;
  assert.deepEqual(kp, {
    pools: [{ cidr: '198.19.0.0/16' }, { cidr: '198.20.0.0/16' }, { cidr: '198.21.0.0/16', ipipMode: 'CrossSubnet' }],
    programClusterRoutes: 'Enabled',
    localSubnet: '198.18.0.0/24',
  });
  s.setIpamKey('/calico/ipam/v2/host/b/ipv4/block/198.19.2.0-26', undefined);
  assert.deepEqual(computePlan(s, 'b').originated, ['198.19.9.0/26']);
});

void test('BGPPeer settings reach the speaker: localASNumber, ttlSecurity, numAllowedLocalASNumbers, reachableBy, filters', () => {
  const s = cluster([
    r('BGPFilter', 'f', { exportV4: [{ action: 'Reject', cidr: '198.19.0.0/16', matchOperator: 'In' }] }),
    r('BGPPeer', 'filtered', { peerIP: '198.18.0.50', asNumber: 65050, filters: ['f', 'missing'], ttlSecurity: 1, localASNumber: 65444 }),
    r('BGPPeer', 'filtered2', { peerIP: '198.18.0.51', asNumber: 65051, filters: ['missing', 'f'], numAllowedLocalASNumbers: 2 }),
    r('BGPPeer', 'far', { peerIP: '198.51.100.7', asNumber: 65052, reachableBy: '198.18.0.254', ttlSecurity: 3 }),
    r('BGPPeer', 'far6', { peerIP: 'fd00:198:51::7', asNumber: 65052, reachableBy: 'fd00:198:18::fe' }),
    r('BGPPeer', 'bad-reach', { peerIP: '198.51.100.8', asNumber: 65052, reachableBy: 'fd00:198:18::fe' }),
    r('BGPPeer', 'same-as', { peerIP: '198.18.0.52', asNumber: 65053, localASNumber: 64512 }),
  ]);
  const p = computePlan(s, 'a');
  const peer = p.peers.find((x) => x.ip === '198.18.0.50')!;
  assert.deepEqual([peer.exportFilters, peer.importFilters, peer.ttlSecurity, peer.localAsNumber], [['f'], [], 1, 65444]);
  assert.match(p.warnings.join('\n'), /BGPPeer bad-reach: reachableBy fd00:198:18::fe is not an address of the peer's family/);
  const { config, warnings } = toSpeakerConfig(p);
  const by = (a: string) => config.peers.find((x) => x.address === a)!;
  assert.deepEqual(
    [by('198.18.0.50').localAsNumber, by('198.18.0.50').ttlSecurity, by('198.18.0.50').numAllowedLocalAs, by('198.18.0.50').filters],
    [65444, 1, undefined, ['f']],
  );
  assert.deepEqual([by('198.18.0.51').numAllowedLocalAs, by('198.18.0.51').filters], [2, ['f']]);
  assert.deepEqual([by('198.51.100.7').reachableBy, by('198.51.100.7').ttlSecurity], ['198.18.0.254', 3]);
  assert.equal(by('fd00:198:51::7').reachableBy, 'fd00:198:18::fe');
  assert.equal(by('198.18.0.52').localAsNumber, undefined, 'a localASNumber equal to the node AS changes nothing');
  assert.ok(!config.peers.some((x) => x.address === '198.51.100.8'));
  assert.doesNotMatch(warnings.join('\n'), /not supported/);
  assert.deepEqual(config.bgpFilters?.map((f) => f.name), ['f']);
  // Settings the speaker would refuse skip that peer (or drop the route) with a warning; the rest still runs.
  const odd = cluster([
    r('Node', 'x', { bgp: { ipv6Address: 'fd00:198:18::9/64' } }, { odd: 'yes' }),
    r('BGPPeer', 'bad-ttl', { peerIP: '198.18.0.70', asNumber: 65070, ttlSecurity: 300 }),
    r('BGPPeer', 'bad-local', { peerIP: '198.18.0.71', asNumber: 65071, localASNumber: 4294967296 }),
    r('BGPPeer', 'zero-local', { peerIP: '198.18.0.72', asNumber: 65072, localASNumber: 0 }),
    r('BGPPeer', 'v4-via-for-selected', { peerSelector: 'odd == "yes"', reachableBy: '198.18.0.254' }),
  ]);
  const oc = toSpeakerConfig(computePlan(odd, 'a'));
  assert.deepEqual(oc.config.peers.map((x) => x.address).filter((a) => a.startsWith('198.18.0.7') || a === 'fd00:198:18::9'), ['198.18.0.72', 'fd00:198:18::9']);
  assert.equal(oc.config.peers.find((x) => x.address === '198.18.0.72')!.localAsNumber, undefined, 'localASNumber 0 means unset');
  assert.equal(oc.config.peers.find((x) => x.address === 'fd00:198:18::9')!.reachableBy, undefined);
  assert.match(oc.warnings.join('\n'), /ttlSecurity 300 is not a hop count 1-255 \(peer skipped\)/);
  assert.match(oc.warnings.join('\n'), /localASNumber 4294967296 is not an AS number \(peer skipped\)/);
  assert.match(oc.warnings.join('\n'), /reachableBy 198\.18\.0\.254 is not an address of the peer's family \(no route via it\)/);
  // A route reflector treats an iBGP peer as a client against the peer's local AS.
  const rr = cluster([r('Node', 'a', { bgp: { ipv4Address: '198.18.0.1/24', routeReflectorClusterID: '224.0.0.1' } }), r('BGPPeer', 'l', { peerIP: '198.18.0.60', asNumber: 65100, localASNumber: 65100 })]);
  const rp = toSpeakerConfig(computePlan(rr, 'a')).config.peers.find((x) => x.address === '198.18.0.60')!;
  assert.deepEqual([rp.routeReflectorClient, rp.localAsNumber, rp.asNumber], [true, 65100, 65100]);
});

void test('communities: as confd renders apply_communities (names from the same resource, values as given, sorted, node config wins)', () => {
  const s = cluster([
    r('BGPConfiguration', 'default', {
      communities: [{ name: 'std', value: '64512:100' }, { name: 'big', value: '64512:1:2' }, { name: 'huge', value: '70000:1' }],
      prefixAdvertisements: [
        { cidr: '198.19.0.0/16', communities: ['std', '5663:12', 'big', 'std'] },
        { cidr: 'fd00:198:19::/48', communities: ['big'] },
        { cidr: '198.20.0.1/16', communities: ['undefined-name', 'huge'] },
        { cidr: '198.21.0.0/16', communities: ['4294967295:4294967295:0'] },
      ],
    }),
  ]);
  const p = computePlan(s, 'a');
  assert.deepEqual(p.communities, [
    { cidr: '198.19.0.0/16', communities: ['5663:12', '64512:100', '64512:1:2'] }, // Go's sort.Strings byte order
    { cidr: 'fd00:198:19::/48', communities: ['64512:1:2'] },
    { cidr: '198.21.0.0/16', communities: ['4294967295:4294967295:0'] },
  ]);
  assert.match(p.warnings.join('\n'), /community "undefined-name" is not defined/);
  assert.match(p.warnings.join('\n'), /"70000:1" is not a community/);
  const { config } = toSpeakerConfig(p);
  assert.deepEqual(config.prefixAdvertisements, p.communities);
  // The node's own BGPConfiguration replaces the global rules; its names resolve only against its own list.
  s.add(r('BGPConfiguration', 'node.a', { communities: [{ name: 'big', value: '50:50:5364' }], prefixAdvertisements: [{ cidr: '198.19.0.0/16', communities: ['big', 'std'] }] }));
  const n = computePlan(s, 'a');
  assert.deepEqual(n.communities, [{ cidr: '198.19.0.0/16', communities: ['50:50:5364'] }]);
  assert.match(n.warnings.join('\n'), /BGPConfiguration node.a: prefixAdvertisements\[0\] \(198.19.0.0\/16\): community "std" is not defined/);
  assert.deepEqual(computePlan(s, 'b').communities.map((c) => c.cidr), ['198.19.0.0/16', 'fd00:198:19::/48', '198.21.0.0/16'], 'other nodes keep the global rules');
  assert.equal(toSpeakerConfig(computePlan(cluster(), 'a')).config.prefixAdvertisements, undefined);
});

void test('helpers: durations, IP:port, AS numbers, secret files', () => {
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('1.5s'), 2);
  assert.equal(durationSeconds('x'), undefined);
  assert.deepEqual(parseIPPort('[fd00::1]:180'), { host: 'fd00::1', port: 180 });
  assert.deepEqual(parseIPPort('10.0.0.1:180'), { host: '10.0.0.1', port: 180 });
  assert.deepEqual(parseIPPort('fd00::1'), { host: 'fd00::1', port: 0 });
  assert.equal(asNumberOf('1.10'), 65546);
  assert.equal(asNumberOf('64512'), 64512);
  const files = new Map([['/s/bgp/tor', 'pw\n']]);
  const sec = fileSecrets('/s', (p) => {
    const v = files.get(p);
    if (v === undefined) throw new Error('ENOENT');
    return v;
  });
  assert.equal(sec('bgp', 'tor'), 'pw');
  assert.equal(sec('bgp', 'none'), undefined);
  assert.equal(sec('..', 'x'), undefined, 'no path traversal');
  assert.equal(sec('bgp/..', 'x'), undefined);
});

void test('calicoctl node status text and CalicoNodeStatus', () => {
  const now = new Date('2026-11-24T07:30:00');
  const st: SpeakerStatus = {
    routerId: '198.18.0.1', asNumber: 64512, startedAt: now.toISOString(), restarting: false, locRibRoutes: 2, kernelRoutes: 2, kernelLastError: null,
    peers: [
      { address: '198.18.0.2', peerAs: 64512, type: 'node-to-node mesh', state: 'Established', since: new Date('2026-11-24T07:01:02').toISOString(), uptimeSeconds: 1, info: 'Established', lastError: null, prefixesReceived: 1, prefixesAccepted: 1, prefixesAdvertised: 1 },
      { address: '198.18.0.9', peerAs: 65001, type: 'global', state: 'Active', since: new Date('2026-11-24T07:02:03').toISOString(), uptimeSeconds: 1, info: 'x', lastError: 'Connection refused', prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0 },
    ],
  };
  assert.equal(
    formatNodeStatus(st, now),
    [
      'Calico process is running.',
      '',
      'IPv4 BGP status',
      '+--------------+-------------------+-------+----------+---------------------------+',
      '| PEER ADDRESS | PEER TYPE         | STATE | SINCE    | INFO                      |',
      '+--------------+-------------------+-------+----------+---------------------------+',
      '| 198.18.0.2   | node-to-node mesh | up    | 07:01:02 | Established               |',
      '| 198.18.0.9   | global            | start | 07:02:03 | Active Connection refused |',
      '+--------------+-------------------+-------+----------+---------------------------+',
      '',
      'IPv6 BGP status',
      'No IPv6 peers found.',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(formatNodeStatus(null), 'Calico process is not running.\n');
  const cns = calicoNodeStatus(st, { now }) as { bgp: Record<string, unknown>; agent: { birdV4: { routerID: string; state: string } } };
  assert.deepEqual([cns.bgp.numberEstablishedV4, cns.bgp.numberNotEstablishedV4, cns.agent.birdV4.routerID, cns.agent.birdV4.state], [1, 1, '198.18.0.1', 'Ready']);
  assert.deepEqual(cns.bgp.peersV4, [
    { peerIP: '198.18.0.2', type: 'NodeMesh', state: 'Established', since: '07:01:02' },
    { peerIP: '198.18.0.9', type: 'GlobalPeer', state: 'Active', since: '07:02:03' },
  ]);
  // Routes: FIB for the path in use, RIB for other candidates; mesh vs BGPPeer by the peer's type;
  // connected subnets except on cali*, kube-ipvs* and ignoredInterfaces.
  const routes = calicoNodeRoutes(
    [
      { type: 'FIB', destination: '198.19.9.0/26', gateway: 'N/A', interface: 'blackhole', source: 'static' },
      { type: 'FIB', destination: '198.51.100.7/32', gateway: '198.18.0.254', interface: 'eth0', source: 'static' },
      { type: 'FIB', destination: '198.19.2.0/26', gateway: '198.18.0.2', interface: 'eth0', source: 'bgp', peer: '198.18.0.2' },
      { type: 'RIB', destination: '198.19.2.0/26', gateway: '198.18.0.9', interface: '', source: 'bgp', peer: '198.18.0.9' },
      { type: 'FIB', destination: 'fd00:198:19:2::/64', gateway: 'fd00:198:18::9', interface: 'eth0', source: 'bgp', peer: 'fd00:198:18::9' },
      { type: 'FIB', destination: '198.18.0.0/24', gateway: 'N/A', interface: 'eth0', source: 'direct' },
      { type: 'FIB', destination: '198.19.2.1/32', gateway: 'N/A', interface: 'cali1234', source: 'direct' },
      { type: 'FIB', destination: '10.96.0.0/12', gateway: 'N/A', interface: 'kube-ipvs0', source: 'direct' },
      { type: 'FIB', destination: '192.0.2.0/24', gateway: 'N/A', interface: 'docker0', source: 'direct' },
    ],
    st.peers,
    { ignoredInterfaces: ['docker*'] },
  );
  assert.deepEqual(routes, {
    routesV4: [
      { type: 'FIB', destination: '198.19.9.0/26', gateway: 'N/A', interface: 'blackhole', learnedFrom: { sourceType: 'Static' } },
      { type: 'FIB', destination: '198.51.100.7/32', gateway: '198.18.0.254', interface: 'eth0', learnedFrom: { sourceType: 'Static' } },
      { type: 'FIB', destination: '198.19.2.0/26', gateway: '198.18.0.2', interface: 'eth0', learnedFrom: { sourceType: 'NodeMesh', peerIP: '198.18.0.2' } },
      { type: 'RIB', destination: '198.19.2.0/26', gateway: '198.18.0.9', learnedFrom: { sourceType: 'BGPPeer', peerIP: '198.18.0.9' } },
      { type: 'FIB', destination: '198.18.0.0/24', gateway: 'N/A', interface: 'eth0', learnedFrom: { sourceType: 'Direct' } },
    ],
    routesV6: [{ type: 'FIB', destination: 'fd00:198:19:2::/64', gateway: 'fd00:198:18::9', interface: 'eth0', learnedFrom: { sourceType: 'BGPPeer', peerIP: 'fd00:198:18::9' } }],
  });
  assert.deepEqual(calicoNodeRoutes([], st.peers), {});
});
