// In-process speakers talking BGP over loopback (no namespaces, no kernel: MemoryKernel).
// Covers connection collision, route exchange, OPEN rejection and live reconfiguration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker } from './speaker.ts';
import { parseConfig, type SpeakerConfigInput } from './config.ts';
import { MemoryKernel } from './kernel.ts';

const base = 20000 + (process.pid % 20000);
let nextPort = base;
const port = (): number => nextPort++;

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function speaker(cfg: SpeakerConfigInput): { sp: Speaker; kernel: MemoryKernel; logs: string[] } {
  const kernel = new MemoryKernel();
  const logs: string[] = [];
  const log = (m: string): void => void logs.push(m);
  const sp = new Speaker(parseConfig({ connectRetryTime: 0.2, idleHoldTime: 0.2, holdTime: 9, ...cfg }), {
    kernel,
    connectedSubnets: async () => ['127.0.0.0/8'],
    logger: { debug: log, info: log, warn: log, error: log },
  });
  return { sp, kernel, logs };
}

void test('two speakers, both active: one session survives the collision and routes flow both ways', async () => {
  const pa = port();
  const pb = port();
  const A = speaker({
    routerId: '10.0.0.1',
    listenAddress: '127.0.0.1',
    listenPort: pa,
    prefixes: ['198.19.1.0/26'],
    peers: [{ address: '127.0.0.1', asNumber: 64512, port: pb }],
  });
  const B = speaker({
    routerId: '10.0.0.2',
    listenAddress: '127.0.0.1',
    listenPort: pb,
    prefixes: ['198.19.2.0/26'],
    peers: [{ address: '127.0.0.1', asNumber: 64512, port: pa }],
  });
  try {
    await Promise.all([A.sp.start(), B.sp.start()]);
    const est = (s: Speaker): boolean => s.status().peers[0]?.state === 'Established';
    await until('both Established', () => est(A.sp) && est(B.sp));
    await until('routes in both kernels', () => A.kernel.routes.has('198.19.2.0/26') && B.kernel.routes.has('198.19.1.0/26'));
    assert.deepEqual(A.kernel.routes.get('198.19.2.0/26')?.nextHops, [{ gateway: '127.0.0.1' }]);
    // Stable: still one Established session a little later (no flapping between connections).
    const since = A.sp.status().peers[0]!.since;
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(est(A.sp) && est(B.sp));
    assert.equal(A.sp.status().peers[0]!.since, since);
    assert.equal(A.sp.status().peers[0]!.prefixesReceived, 1);
    assert.equal(A.sp.status().peers[0]!.prefixesAdvertised, 1);
    // Both sides connected at once; each resolved the collision the same way (RFC 4271 §6.8):
    // the connection opened by 10.0.0.2 (the higher id) is the one kept.
    const collisions = [...A.logs, ...B.logs].filter((l) => l.includes('connection collision'));
    console.log(`# ${collisions.length} collision(s) resolved`);
    if (collisions.length) {
      assert.ok(A.logs.filter((l) => l.includes('connection collision')).every((l) => l.includes('keeping the incoming')), A.logs.join('\n'));
      assert.ok(B.logs.filter((l) => l.includes('connection collision')).every((l) => l.includes('keeping the outgoing')), B.logs.join('\n'));
    }

    // Live reconfiguration: B stops originating its block; A's kernel loses it, session untouched.
    B.sp.reconfigure(parseConfig({ ...B.sp.config, prefixes: [] }));
    await until('withdrawn at A', () => !A.kernel.routes.has('198.19.2.0/26'));
    assert.equal(A.sp.status().peers[0]!.since, since);
  } finally {
    await Promise.all([A.sp.stop(), B.sp.stop()]);
  }
  // A normal stop removes what we installed.
  assert.equal(A.kernel.routes.size, 0);
});

void test('OPEN with the wrong AS is refused with NOTIFICATION Bad Peer AS, reported in status', async () => {
  const pa = port();
  const pb = port();
  const A = speaker({ routerId: '10.0.0.1', listenAddress: '127.0.0.1', listenPort: pa, peers: [{ address: '127.0.0.1', asNumber: 64999, port: pb, passive: true }] });
  const B = speaker({ routerId: '10.0.0.2', listenAddress: '127.0.0.1', listenPort: pb, asNumber: 64513, peers: [{ address: '127.0.0.1', asNumber: 64512, port: pa }] });
  try {
    await Promise.all([A.sp.start(), B.sp.start()]);
    await until('A rejected the OPEN', () => /peer AS 64513 does not match configured 64999/.test(A.sp.status().peers[0]!.lastError ?? ''));
    await until('B saw the NOTIFICATION', () => /OPEN message error \(2\/2/.test(B.sp.status().peers[0]!.lastError ?? ''));
    assert.notEqual(A.sp.status().peers[0]!.state, 'Established');
  } finally {
    await Promise.all([A.sp.stop(), B.sp.stop()]);
  }
});

void test('reconfigure refuses changes that need a restart, and adds/removes peers live', async () => {
  const A = speaker({ routerId: '10.0.0.1', listenAddress: '127.0.0.1', listenPort: port(), peers: [] });
  try {
    await A.sp.start();
    assert.throws(() => A.sp.reconfigure(parseConfig({ ...A.sp.config, routerId: '10.0.0.9' })), /changing routerId .* needs a restart/);
    const r = A.sp.reconfigure(parseConfig({ ...A.sp.config, peers: [{ address: '127.0.0.2', asNumber: 64512, passive: true }] }));
    assert.deepEqual(r, { added: ['127.0.0.2'], removed: [], changed: [] });
    assert.equal(A.sp.status().peers.length, 1);
    const r2 = A.sp.reconfigure(parseConfig({ ...A.sp.config, peers: [] }));
    assert.deepEqual(r2.removed, ['127.0.0.2']);
    assert.equal(A.sp.status().peers.length, 0);
  } finally {
    await A.sp.stop();
  }
});

void test('config errors name the field and what was expected', () => {
  assert.throws(() => parseConfig({ routerId: 'nope' }, 'bgp.yaml'), /bgp\.yaml: routerId: expected an IPv4 address/);
  assert.throws(() => parseConfig({ routerId: '1.2.3.4', holdTime: 2 }), /holdTime: hold time must be 0 or at least 3/);
  assert.throws(() => parseConfig({ routerId: '1.2.3.4', peers: [{ address: '1.1.1.1' }] }), /peers\[0\]\.asNumber/);
  assert.throws(() => parseConfig({ routerId: '1.2.3.4', peers: [{ address: '1.1.1.1', asNumber: 1, routeReflectorClient: true }] }), /route reflector clients must be iBGP/);
  assert.throws(() => parseConfig({ routerId: '1.2.3.4', prefixes: ['10.0.0.0/33'] }), /prefixes\[0\]: expected a CIDR/);
  assert.deepEqual(parseConfig({ routerId: '1.2.3.4', prefixes: ['10.0.0.1/24'] }).prefixes, ['10.0.0.0/24']);
});

void test('BGPFilters from the config: import and export rules reject and accept prefixes, and follow reconfigure', async () => {
  const pa = port();
  const pb = port();
  const rejectOne = (name: string, key: 'importV4' | 'exportV4', cidr: string) => ({ name, spec: { [key]: [{ action: 'Reject', matchOperator: 'Equal', cidr }] } });
  const A = speaker({
    routerId: '10.0.0.1',
    asNumber: 64512,
    listenAddress: '127.0.0.1',
    listenPort: pa,
    prefixes: ['198.19.1.0/26', '198.19.3.0/26', '198.19.5.0/26'],
    bgpFilters: [rejectOne('no-5', 'exportV4', '198.19.5.0/26')],
    peers: [{ address: '127.0.0.1', asNumber: 64513, port: pb, filters: ['no-5'] }],
  });
  const bCfg: SpeakerConfigInput = {
    routerId: '10.0.0.2',
    asNumber: 64513,
    listenAddress: '127.0.0.1',
    listenPort: pb,
    bgpFilters: [rejectOne('no-3', 'importV4', '198.19.3.0/26')],
    peers: [{ address: '127.0.0.1', asNumber: 64512, port: pa, passive: true, filters: ['no-3'] }],
  };
  const B = speaker(bCfg);
  try {
    await Promise.all([A.sp.start(), B.sp.start()]);
    await until('B learns 198.19.1.0/26', () => B.kernel.routes.has('198.19.1.0/26'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(B.kernel.routes.has('198.19.3.0/26'), false, 'B import filter rejects 198.19.3.0/26');
    assert.equal(B.kernel.routes.has('198.19.5.0/26'), false, 'A export filter keeps 198.19.5.0/26 back');
    assert.equal(A.sp.status().peers[0]!.prefixesAdvertised, 2);
    const since = B.sp.status().peers[0]!.since;
    // Drop B's import filter: the RIB asks A again (ROUTE-REFRESH) and 198.19.3.0/26 arrives, session untouched.
    B.sp.reconfigure(parseConfig({ ...B.sp.config, bgpFilters: [rejectOne('no-3', 'importV4', '198.19.99.0/26')] }));
    await until('B accepts 198.19.3.0/26 after the filter change', () => B.kernel.routes.has('198.19.3.0/26'));
    assert.equal(B.sp.status().peers[0]!.since, since);
    // A unknown filter name is a config error naming the peer and the filter.
    assert.throws(() => parseConfig({ routerId: '10.0.0.3', peers: [{ address: '127.0.0.1', asNumber: 1, filters: ['nope'] }] }), /peers\[0\]\.filters\[0\]: no BGPFilter named "nope"/);
    assert.throws(() => parseConfig({ routerId: '10.0.0.3', bgpFilters: [{ name: 'bad', spec: { importV4: [{ action: 'Maybe' }] } }] }), /bgpFilters\[0\]: BGPFilter bad: spec\.importV4\[0\]/);
  } finally {
    await Promise.all([A.sp.stop(), B.sp.stop()]);
  }
});

void test('kernelPolicy from the config: VXLAN pool routes are not programmed, IPIP pool routes go via tunl0 onlink', async () => {
  const pa = port();
  const pb = port();
  const A = speaker({
    routerId: '10.0.0.1',
    listenAddress: '127.0.0.1',
    listenPort: pa,
    prefixes: ['198.19.0.0/26', '198.19.1.0/26', '198.19.2.0/26'],
    peers: [{ address: '127.0.0.1', asNumber: 64512, port: pb }],
  });
  const B = speaker({
    routerId: '10.0.0.2',
    listenAddress: '127.0.0.1',
    listenPort: pb,
    kernelPolicy: {
      programClusterRoutes: 'Enabled',
      pools: [
        { cidr: '198.19.0.0/24', vxlanMode: 'Always' },
        { cidr: '198.19.1.0/24', ipipMode: 'Always' },
      ],
    },
    peers: [{ address: '127.0.0.1', asNumber: 64512, port: pa, passive: true }],
  });
  try {
    await Promise.all([A.sp.start(), B.sp.start()]);
    await until('B programs 198.19.2.0/26', () => B.kernel.routes.has('198.19.2.0/26'));
    await until('B programs 198.19.1.0/26', () => B.kernel.routes.has('198.19.1.0/26'));
    assert.deepEqual(B.kernel.routes.get('198.19.1.0/26')?.nextHops, [{ gateway: '127.0.0.1', dev: 'tunl0', onlink: true }]);
    assert.deepEqual(B.kernel.routes.get('198.19.2.0/26')?.nextHops, [{ gateway: '127.0.0.1' }]);
    assert.equal(B.sp.status().peers[0]!.prefixesReceived, 3);
    assert.equal(B.kernel.routes.has('198.19.0.0/26'), false, 'VXLAN pool routes are Felix’s, not BGP’s');
    // Dropping the policy live programs the VXLAN-pool route too and the IPIP one without tunnel.
    B.sp.reconfigure(parseConfig({ ...B.sp.config, kernelPolicy: undefined }));
    await until('B programs 198.19.0.0/26 without a kernel policy', () => B.kernel.routes.has('198.19.0.0/26'));
    await until('tunnel dropped', () => B.kernel.routes.get('198.19.1.0/26')?.nextHops[0]?.dev === undefined);
    assert.throws(() => parseConfig({ routerId: '10.0.0.3', kernelPolicy: { pools: [{ cidr: 'nope' }] } }), /kernelPolicy\.pools\[0\]\.cidr: expected a CIDR/);
  } finally {
    await Promise.all([A.sp.stop(), B.sp.stop()]);
  }
});

void test('per-peer localAsNumber (OPEN and AS_PATH), prefixAdvertisements communities on the wire, reachableBy host route and next-hop resolution, live', async () => {
  const pa = port();
  const pb = port();
  const A = speaker({
    asNumber: 64512,
    routerId: '10.0.0.1',
    listenAddress: '127.0.0.1',
    listenPort: pa,
    prefixes: ['198.19.1.0/26', '198.18.200.0/24'],
    ipPools: ['198.19.0.0/16'],
    prefixAdvertisements: [{ cidr: '198.19.0.0/16', communities: ['64999:1', '64512:2:3'] }],
    peers: [{ address: '127.0.0.1', asNumber: 65200, port: pb, localAsNumber: 65100, reachableBy: '127.0.0.9' }],
  });
  const B = speaker({
    asNumber: 65200,
    routerId: '10.0.0.2',
    listenAddress: '127.0.0.1',
    listenPort: pb,
    prefixes: ['198.18.7.0/24'],
    // B sees A as AS 65100: an OPEN from AS 64512 would be refused.
    peers: [{ address: '127.0.0.1', asNumber: 65100, port: pa }],
  });
  try {
    await Promise.all([A.sp.start(), B.sp.start()]);
    await until('Established with the local AS', () => A.sp.status().peers[0]?.state === 'Established' && B.sp.status().peers[0]?.state === 'Established');
    assert.equal(A.sp.status().peers[0]!.type, 'external');
    await until('A routes at B', () => B.kernel.routes.has('198.19.1.0/26') && B.kernel.routes.has('198.18.200.0/24'));
    const rib = B.sp['rib'];
    const blk = rib.best('198.19.1.0/26')!.attrs;
    assert.deepEqual(blk.asPath?.flatMap((s) => s.asns), [65100], 'prepended with the local AS only');
    assert.deepEqual(blk.communities, [64999 * 65536 + 1]);
    assert.deepEqual(blk.largeCommunities, [{ globalAdmin: 64512, localData1: 2, localData2: 3 }]);
    const plain = rib.best('198.18.200.0/24')!.attrs;
    assert.equal(plain.communities, undefined, 'outside the advertised CIDR: no communities');
    // reachableBy: the host route to the peer, and B's route (next hop 127.0.0.1) through it.
    await until('static and resolved route at A', () => A.kernel.routes.has('198.18.7.0/24') && A.kernel.routes.has('127.0.0.1/32'));
    assert.deepEqual(A.kernel.routes.get('127.0.0.1/32')?.nextHops, [{ gateway: '127.0.0.9' }]);
    assert.deepEqual(A.kernel.routes.get('198.18.7.0/24')?.nextHops, [{ gateway: '127.0.0.9' }]);
    const routes = await A.sp.routes();
    assert.deepEqual(routes.find((r) => r.destination === '127.0.0.1/32'), { type: 'FIB', destination: '127.0.0.1/32', gateway: '127.0.0.9', interface: '', source: 'static' });
    assert.deepEqual(routes.find((r) => r.destination === '198.18.7.0/24'), { type: 'FIB', destination: '198.18.7.0/24', gateway: '127.0.0.9', interface: '', source: 'bgp', peer: '127.0.0.1' });
    // Live: reachableBy removed (the session is not reset), communities changed.
    const since = A.sp.status().peers[0]!.since;
    A.sp.reconfigure(parseConfig({ ...A.sp.config, peers: [{ ...A.sp.config.peers[0]!, reachableBy: undefined }], prefixAdvertisements: [{ cidr: '198.19.1.0/26', communities: ['64999:9'] }] }));
    await until('static route gone, B route direct', () => !A.kernel.routes.has('127.0.0.1/32') && A.kernel.routes.get('198.18.7.0/24')?.nextHops[0]?.gateway === '127.0.0.1');
    await until('new communities at B', () => rib.best('198.19.1.0/26')?.attrs.communities?.[0] === 64999 * 65536 + 9);
    assert.equal(rib.best('198.19.1.0/26')!.attrs.largeCommunities, undefined);
    assert.equal(A.sp.status().peers[0]!.since, since, 'the session was not reset');
    // Added back live: routes already learned from the peer move to the gateway too.
    A.sp.reconfigure(parseConfig({ ...A.sp.config, peers: [{ ...A.sp.config.peers[0]!, reachableBy: '127.0.0.8' }] }));
    await until('existing route re-resolved', () => A.kernel.routes.get('198.18.7.0/24')?.nextHops[0]?.gateway === '127.0.0.8' && A.kernel.routes.get('127.0.0.1/32')?.nextHops[0]?.gateway === '127.0.0.8');
    assert.equal(A.sp.status().peers[0]!.since, since, 'still not reset');
  } finally {
    await Promise.all([A.sp.stop(), B.sp.stop()]);
  }
});

void test('config: new peer and prefixAdvertisements fields are checked with clear errors', () => {
  assert.throws(() => parseConfig({ routerId: '10.0.0.1', peers: [{ address: '10.0.0.2', asNumber: 65001, reachableBy: 'fd00::1' }] }), /peers\[0\]\.reachableBy: fd00::1 is not an address of the peer's family \(IPv4\)/);
  assert.throws(() => parseConfig({ routerId: '10.0.0.1', peers: [{ address: '10.0.0.2', asNumber: 65001, ttlSecurity: 0 }] }), /peers\[0\]\.ttlSecurity/);
  assert.throws(() => parseConfig({ routerId: '10.0.0.1', prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['65536:1'] }] }), /prefixAdvertisements\[0\]\.communities\[0\]: "65536:1" is not a community/);
  assert.throws(() => parseConfig({ routerId: '10.0.0.1', prefixAdvertisements: [{ cidr: '10.0.0.0', communities: ['1:1'] }] }), /prefixAdvertisements\[0\]\.cidr: expected a CIDR/);
  // A route reflector client must be iBGP against the AS used on that session.
  assert.throws(() => parseConfig({ routerId: '10.0.0.1', routeReflectorClusterId: '1.1.1.1', peers: [{ address: '10.0.0.2', asNumber: 64512, localAsNumber: 65100, routeReflectorClient: true }] }), /route reflector clients must be iBGP \(AS 65100\), got AS 64512/);
  const ok = parseConfig({ routerId: '10.0.0.1', routeReflectorClusterId: '1.1.1.1', peers: [{ address: '10.0.0.2', asNumber: 65100, localAsNumber: 65100, routeReflectorClient: true, ttlSecurity: 2, numAllowedLocalAs: 1 }] });
  assert.deepEqual([ok.peers[0]!.localAsNumber, ok.peers[0]!.ttlSecurity, ok.peers[0]!.numAllowedLocalAs], [65100, 2, 1]);
});

void test('the RIB and the kernel reconciler share one prefix index (a prefix is one row for both)', async () => {
  const A = speaker({ asNumber: 64512, routerId: '10.0.0.1', listen: false, prefixes: ['198.19.1.0/26'], peers: [], kernel: { blackholeOriginated: true } });
  await A.sp.start();
  try {
    const inner = A.sp as unknown as { rib: { index: unknown }; ksync: { index: unknown } };
    assert.ok(inner.rib.index, 'RIB has a prefix index');
    assert.equal(inner.ksync.index, inner.rib.index);
    // Routes still reach the kernel through the shared rows, and leave it.
    await until('originated blackhole in the kernel', () => A.kernel.routes.has('198.19.1.0/26'));
  } finally {
    await A.sp.stop();
  }
  assert.equal(A.kernel.routes.size, 0);
});
