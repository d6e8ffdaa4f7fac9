// Datastore mode against a real BIRD 2, for the BGPPeer/BGPConfiguration settings that are only
// visible on the wire or in the kernel. One calico-ts node (AS 64512) and one BIRD namespace
// with several addresses: each BGPPeer points at its own BIRD address, served by its own BIRD
// protocol (`local <addr>`), so one BIRD plays several routers:
//   - communities/prefixAdvertisements: BIRD sees Calico's standard and large communities on our
//     blocks (IPv4 and IPv6; names and literal values; a block inside and one equal to a CIDR;
//     a block outside every CIDR has none);
//   - ttlSecurity: BIRD with `ttl security on; multihop 1` peers with a ttlSecurity: 1 BGPPeer
//     (IPv4 and IPv6);
//     GTSM on one side only never establishes (either side drops the other's TTL-64 segments);
//     adding ttlSecurity to the BGPPeer live brings that session up;
//   - localASNumber: BIRD configured with our localASNumber as neighbor AS establishes, and our
//     routes reach it with AS_PATH "65100" (not 64512);
//   - numAllowedLocalASNumbers: a BIRD route whose path holds 64512 is dropped until the BGPPeer
//     allows one occurrence (live);
//   - reachableBy: a peer on BIRD's loopback, reachable only through the host route Calico
//     renders (`<peer>/32 via <reachableBy>`), establishes; its routes are installed through the
//     same gateway; ping reaches the peer address (IPv4 and IPv6);
//   - CalicoNodeStatus `routes` lists these routes (FIB, gateway, interface, learnedFrom), the
//     connected subnets (Direct) and the administrator's routes (Kernel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { e2eSkipReason, sh, ping } from './lib/netns.ts';
import { startBird, birdEstablished, type Bird } from './lib/bird.ts';
import { waitFor } from './lib/wait.ts';
import { labWithDatastore } from './lib/datastore-lab.ts';
import { readStatus } from '../../src/bgp/index.ts';
import { blockAffinityKey, type AnyResource } from '../../src/model/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const skip = e2eSkipReason(['ip', 'bird', 'birdc']);
if (skip) console.log(`# skipping BGPPeer options against BIRD: ${skip}`);

const res = (kind: string, name: string, spec: Record<string, unknown>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec }) as AnyResource;

const NODE4 = '198.18.44.1';
const NODE6 = 'fd00:198:18:44::1';
const FAR = '198.18.250.5'; // BIRD's loopback: reachable from the node only via reachableBy
const FAR6 = 'fd00:198:18:250::5';

const timers = 'hold time 9; keepalive time 3; startup hold time 5; connect retry time 1; error wait time 1, 5; strict bind on;';
/**
 * One BIRD process per peer address, all in the router namespace: BIRD locks a neighbor address
 * per process (only one protocol towards our node could run), and `strict bind` gives each its
 * own listening socket on its own address. `startup hold time 5`: with GTSM on one side only,
 * the other side's segments (FIN and RST included) are dropped, so a half-open connection lingers
 * in OpenSent until that timer (240 s by default) and blocks the next connection.
 */
const BIRDS: Array<{ name: string; conf: string }> = [
  { name: 'comm', conf: `protocol bgp p_comm { local 198.18.44.2 as 65002; neighbor ${NODE4} as 64512; ${timers} ipv4 { import all; export none; }; }` },
  { name: 'comm6', conf: `protocol bgp p_comm6 { local fd00:198:18:44::2 as 65002; neighbor ${NODE6} as 64512; ${timers} ipv6 { import all; export none; }; }` },
  { name: 'gtsm', conf: `protocol bgp p_gtsm { local 198.18.44.3 as 65003; neighbor ${NODE4} as 64512; ttl security on; multihop 1; ${timers} ipv4 { import all; export none; }; }` },
  { name: 'ours_only', conf: `protocol bgp p_ours_only { local 198.18.44.4 as 65004; neighbor ${NODE4} as 64512; multihop; ${timers} ipv4 { import all; export none; }; }` },
  { name: 'bird_only', conf: `protocol bgp p_bird_only { local 198.18.44.5 as 65005; neighbor ${NODE4} as 64512; ttl security on; multihop 1; ${timers} ipv4 { import all; export none; }; }` },
  {
    name: 'localas',
    conf: `protocol static s_localas { ipv4; route 198.18.96.0/24 blackhole; }
protocol bgp p_localas { local 198.18.44.6 as 65006; neighbor ${NODE4} as 65100; ${timers} ipv4 { import all; export where proto = "s_localas"; }; }`,
  },
  {
    name: 'allowas',
    conf: `protocol static s_allowas { ipv4; route 198.18.97.0/24 blackhole; route 198.18.98.0/24 blackhole; }
protocol bgp p_allowas { local 198.18.44.7 as 65007; neighbor ${NODE4} as 64512; ${timers}
  ipv4 { import all; export filter { if proto != "s_allowas" then reject; if net = 198.18.97.0/24 then bgp_path.prepend(64512); accept; }; }; }`,
  },
  { name: 'gtsm6', conf: `protocol bgp p_gtsm6 { local fd00:198:18:44::3 as 65010; neighbor ${NODE6} as 64512; ttl security on; multihop 1; ${timers} ipv6 { import all; export none; }; }` },
  {
    name: 'far6',
    conf: `protocol static s_far6 { ipv6; route fd00:198:18:99::/64 blackhole; }
protocol bgp p_far6 { local ${FAR6} as 65009; neighbor ${NODE6} as 64512; multihop 2; ${timers} ipv6 { import all; export where proto = "s_far6"; }; }`,
  },
  {
    name: 'far',
    conf: `protocol static s_far { ipv4; route 198.18.99.0/24 blackhole; }
protocol bgp p_far { local ${FAR} as 65008; neighbor ${NODE4} as 64512; multihop 2; ${timers} ipv4 { import all; export where proto = "s_far"; }; }`,
  },
];

void test('calico-bgp from the datastore: communities, ttlSecurity, localASNumber, numAllowedLocalASNumbers, reachableBy against BIRD', { skip, timeout: 180_000 }, async () => {
  const { lab, ds, client } = await labWithDatastore('o');

  const node = lab.netns('n1');
  const rtr = lab.netns('r');
  lab.veth(
    { ns: node, ifname: 'eth0', addrs: [`${NODE4}/24`, `${NODE6}/64`] },
    { ns: rtr, ifname: 'eth0', addrs: ['198.18.44.2/24', '198.18.44.3/24', '198.18.44.4/24', '198.18.44.5/24', '198.18.44.6/24', '198.18.44.7/24', 'fd00:198:18:44::2/64', 'fd00:198:18:44::3/64'] },
  );
  sh(['ip', '-n', rtr, 'addr', 'add', `${FAR}/32`, 'dev', 'lo']);
  sh(['ip', '-n', rtr, 'addr', 'add', `${FAR6}/128`, 'dev', 'lo', 'nodad']);

  await client.resources.create(
    res('BGPConfiguration', 'default', {
      nodeToNodeMeshEnabled: false,
      communities: [
        { name: 'std', value: '64999:100' },
        { name: 'big', value: '64512:7:9' },
      ],
      prefixAdvertisements: [
        { cidr: '198.19.0.0/17', communities: ['std', '64999:200'] },
        { cidr: '198.19.44.0/26', communities: ['big'] },
        { cidr: 'fd00:198:19::/48', communities: ['big', '64999:600'] },
      ],
    }),
  );
  await client.resources.create(res('IPPool', 'v4', { cidr: '198.19.0.0/17' }));
  await client.resources.create(res('IPPool', 'v4b', { cidr: '198.19.128.0/17' }));
  await client.resources.create(res('IPPool', 'v6', { cidr: 'fd00:198:19::/48', blockSize: 122 }));
  await client.resources.create(res('Node', 'node-1', { bgp: { ipv4Address: `${NODE4}/24`, ipv6Address: `${NODE6}/64` } }));
  for (const b of ['198.19.44.0/26', '198.19.45.0/26', '198.19.200.0/26', 'fd00:198:19:44::/122']) {
    await client.kv.put(blockAffinityKey('node-1', b), JSON.stringify({ state: 'confirmed' }));
  }
  await client.resources.create(res('BGPPeer', 'comm', { peerIP: '198.18.44.2', asNumber: 65002 }));
  await client.resources.create(res('BGPPeer', 'comm6', { peerIP: 'fd00:198:18:44::2', asNumber: 65002 }));
  await client.resources.create(res('BGPPeer', 'gtsm', { peerIP: '198.18.44.3', asNumber: 65003, ttlSecurity: 1 }));
  await client.resources.create(res('BGPPeer', 'gtsm-ours-only', { peerIP: '198.18.44.4', asNumber: 65004, ttlSecurity: 1 }));
  await client.resources.create(res('BGPPeer', 'gtsm-bird-only', { peerIP: '198.18.44.5', asNumber: 65005 }));
  await client.resources.create(res('BGPPeer', 'localas', { peerIP: '198.18.44.6', asNumber: 65006, localASNumber: 65100 }));
  await client.resources.create(res('BGPPeer', 'allowas', { peerIP: '198.18.44.7', asNumber: 65007 }));
  await client.resources.create(res('BGPPeer', 'far', { peerIP: FAR, asNumber: 65008, reachableBy: '198.18.44.2' }));
  await client.resources.create(res('BGPPeer', 'gtsm6', { peerIP: 'fd00:198:18:44::3', asNumber: 65010, ttlSecurity: 1 }));
  await client.resources.create(res('BGPPeer', 'far6', { peerIP: FAR6, asNumber: 65009, reachableBy: 'fd00:198:18:44::2' }));
  await client.resources.create(res('CalicoNodeStatus', 'node-1-status', { node: 'node-1', classes: ['Routes'], updatePeriodSeconds: 1 }));

  const birds = new Map<string, Bird>();
  for (const [i, b] of BIRDS.entries()) birds.set(`p_${b.name}`, await startBird(lab, `bird-${b.name}`, rtr, `router id 198.18.44.${100 + i};\nprotocol device { scan time 1; }\n${b.conf}\n`));
  const bird = (proto: string): Bird => birds.get(proto)!;
  const up = (proto: string): Promise<boolean> => birdEstablished(bird(proto), proto);
  const sock = path.join(lab.dir, 'node-1.sock');
  const proc = lab.spawn('node-1', node, [path.join(REPO, 'bin/calico-bgp'), '--datastore', '--node-name', 'node-1', '--endpoints', ds.endpoint, '--status-socket', sock]);
  const ours = (): string => sh(['ip', '-n', node, 'route', 'show', 'proto', '81']);
  const birdRoute = (prefix: string, proto: string): Promise<string> => bird(proto).birdc(`show route ${prefix} protocol ${proto} all`);
  try {
    for (const p of ['p_comm', 'p_comm6', 'p_gtsm', 'p_gtsm6', 'p_localas', 'p_allowas', 'p_far', 'p_far6']) {
      await waitFor(`BIRD ${p} established`, () => up(p), { timeoutMs: 60_000 });
    }

    // Communities (RFC 1997 and RFC 8092), as Calico's apply_communities adds them.
    await waitFor('our blocks at BIRD', async () => (await bird('p_comm').routes(4)).has('198.19.200.0/26') && (await bird('p_comm6').routes(6)).has('fd00:198:19:44::/122'));
    const inside = await birdRoute('198.19.44.0/26', 'p_comm');
    assert.match(inside, /BGP\.community: \(64999,100\) \(64999,200\)/, inside);
    assert.match(inside, /BGP\.large_community: \(64512, 7, 9\)/, 'the block equal to a CIDR gets that rule too');
    const other = await birdRoute('198.19.45.0/26', 'p_comm');
    assert.match(other, /BGP\.community: \(64999,100\) \(64999,200\)/);
    assert.doesNotMatch(other, /large_community/, 'only the /17 rule matches 198.19.45.0/26');
    const outside = await birdRoute('198.19.200.0/26', 'p_comm');
    assert.match(outside, /198\.19\.200\.0\/26/);
    assert.doesNotMatch(outside, /community/, 'a block outside every prefixAdvertisements CIDR has no communities');
    const v6 = await birdRoute('fd00:198:19:44::/122', 'p_comm6');
    assert.match(v6, /BGP\.community: \(64999,600\)/, v6);
    assert.match(v6, /BGP\.large_community: \(64512, 7, 9\)/);

    // localASNumber: BIRD expects AS 65100 from us (the session is up) and sees only 65100 in the path.
    const viaLocalAs = await birdRoute('198.19.44.0/26', 'p_localas');
    assert.match(viaLocalAs, /BGP\.as_path: 65100\s*$/m, viaLocalAs);
    await waitFor('BIRD route via the localASNumber session in our kernel', () => ours().includes('198.18.96.0/24 via 198.18.44.6'));

    // ttlSecurity: both sides GTSM → up (above); one side only → never up.
    const st = await readStatus(sock);
    assert.equal(st.peers.find((p) => p.address === '198.18.44.3')?.state, 'Established');
    // GTSM on one side only: the side that requires TTL 255 drops the other's segments, so it
    // never sees the KEEPALIVE that completes the session. (Both BIRD and we apply the minimum TTL
    // to an accepted socket right after accept(), so an OPEN arriving first may get through and
    // take the other side to Established briefly; the requiring side never gets there.)
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!(await up('p_bird_only')), 'GTSM on BIRD only: we send with TTL 64, BIRD drops it and never establishes');
      const peers = (await readStatus(sock)).peers;
      assert.notEqual(peers.find((p) => p.address === '198.18.44.4')?.state, 'Established', 'GTSM on our side only: BIRD sends with TTL 64, we drop it and never establish');
    }
    for (const p of ['p_ours_only', 'p_bird_only']) {
      const routes = await bird(p).birdc(`show route protocol ${p} count`);
      assert.match(routes, /\b0 of 0 routes|^0 of/m, `${p}: no routes exchanged: ${routes}`);
    }
    const fix = await client.resources.get('BGPPeer', 'gtsm-bird-only');
    await client.resources.update({ ...fix, spec: { ...(fix.spec as object), ttlSecurity: 1 } } as AnyResource);
    await waitFor('ttlSecurity added live: the GTSM session comes up', () => up('p_bird_only'), { timeoutMs: 30_000 });

    // numAllowedLocalASNumbers: 198.18.97.0/24 carries 64512 in its path.
    await waitFor('control route from the allowas peer', () => ours().includes('198.18.98.0/24 via 198.18.44.7'));
    assert.ok(!ours().includes('198.18.97.0/24'), 'a path with our AS is dropped by default');
    const allow = await client.resources.get('BGPPeer', 'allowas');
    await client.resources.update({ ...allow, spec: { ...(allow.spec as object), numAllowedLocalASNumbers: 1 } } as AnyResource);
    await waitFor('path with our AS accepted once allowed', () => ours().includes('198.18.97.0/24 via 198.18.44.7'), { timeoutMs: 30_000 });

    // reachableBy: the host route to the peer, and its routes resolved through the same gateway.
    const routes = ours();
    assert.match(routes, new RegExp(`${FAR.replace(/\./g, '\\.')} via 198\\.18\\.44\\.2 dev eth0`), routes);
    await waitFor('route from the reachableBy peer, via its gateway', () => ours().includes('198.18.99.0/24 via 198.18.44.2'));
    ping(node, NODE4, FAR);
    const routes6 = sh(['ip', '-6', '-n', node, 'route', 'show', 'proto', '81']);
    assert.match(routes6, /fd00:198:18:250::5 via fd00:198:18:44::2 dev eth0/, routes6);
    await waitFor('IPv6 route from the reachableBy peer, via its gateway', () => sh(['ip', '-6', '-n', node, 'route', 'show', 'proto', '81']).includes('fd00:198:18:99::/64 via fd00:198:18:44::2'));
    ping(node, NODE6, FAR6);

    // CalicoNodeStatus routes (with two routes of the administrator's, which BIRD would learn as Kernel).
    sh(['ip', '-n', node, 'route', 'add', '198.18.123.0/24', 'via', '198.18.44.2', 'proto', 'static']);
    sh(['ip', '-n', node, 'route', 'add', 'blackhole', '198.18.124.0/24']);
    type Route = { type: string; destination: string; gateway?: string; interface?: string; learnedFrom: { sourceType: string; peerIP?: string } };
    const cns = await waitFor('CalicoNodeStatus routes', async () => {
      const s = (await client.resources.get('CalicoNodeStatus', 'node-1-status')).status as { routes?: { routesV4?: Route[]; routesV6?: Route[] } } | undefined;
      const r4 = s?.routes?.routesV4 ?? [];
      return r4.some((r) => r.destination === '198.18.97.0/24') && r4.some((r) => r.destination === '198.18.124.0/24') ? s!.routes! : null;
    });
    const find = (d: string): Route | undefined => cns.routesV4!.find((r) => r.destination === d);
    assert.deepEqual(find('198.18.99.0/24'), { type: 'FIB', destination: '198.18.99.0/24', gateway: '198.18.44.2', interface: 'eth0', learnedFrom: { sourceType: 'BGPPeer', peerIP: FAR } });
    assert.deepEqual(find(`${FAR}/32`), { type: 'FIB', destination: `${FAR}/32`, gateway: '198.18.44.2', interface: 'eth0', learnedFrom: { sourceType: 'Static' } });
    assert.deepEqual(find('198.19.44.0/26'), { type: 'FIB', destination: '198.19.44.0/26', gateway: 'N/A', interface: 'blackhole', learnedFrom: { sourceType: 'Static' } });
    assert.deepEqual(find('198.18.96.0/24'), { type: 'FIB', destination: '198.18.96.0/24', gateway: '198.18.44.6', interface: 'eth0', learnedFrom: { sourceType: 'BGPPeer', peerIP: '198.18.44.6' } });
    assert.deepEqual(find('198.18.123.0/24'), { type: 'FIB', destination: '198.18.123.0/24', gateway: '198.18.44.2', interface: 'eth0', learnedFrom: { sourceType: 'Kernel' } });
    assert.deepEqual(find('198.18.124.0/24'), { type: 'FIB', destination: '198.18.124.0/24', gateway: 'N/A', interface: 'blackhole', learnedFrom: { sourceType: 'Kernel' } });
    assert.equal(cns.routesV4!.filter((r) => r.destination === '198.18.99.0/24').length, 1, 'our own kernel routes are not listed again as Kernel');
    assert.deepEqual(find('198.18.44.0/24'), { type: 'FIB', destination: '198.18.44.0/24', gateway: 'N/A', interface: 'eth0', learnedFrom: { sourceType: 'Direct' } });
    assert.ok(cns.routesV6?.some((r) => r.destination === 'fd00:198:19:44::/122'), 'IPv6 block listed');
    assert.ok(cns.routesV6?.some((r) => r.destination === 'fd00:198:18:44::/64' && r.learnedFrom.sourceType === 'Direct'), 'IPv6 connected subnet listed');
    assert.ok(!cns.routesV6?.some((r) => r.destination.startsWith('fe80')), 'no link-local subnet (BIRD skips link scope)');
    assert.equal(proc.child.exitCode, null);
  } catch (err) {
    console.log(`--- node-1 log (tail)\n${proc.log().slice(-6000)}\n--- BIRD protocols\n${(await Promise.all([...birds.values()].map((b) => b.birdc('show protocols').catch(() => '')))).join('')}`);
    throw err;
  }
});
