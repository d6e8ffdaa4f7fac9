// Three speakers driven by the datastore (in-memory store, real BGP sessions over loopback
// addresses 127.0.1.x, routes into in-memory kernels): mesh forms and blocks are exchanged;
// a BGPPeer change does not reset unrelated sessions; switching to a route reflector live
// converges; the datastore going away leaves the speakers and their routes in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { memoryDatastore, MemoryKv, type DatastoreClient } from '../../datastore/index.ts';
import { blockAffinityKey, type AnyResource } from '../../model/index.ts';
import { MemoryKernel } from '../server/index.ts';
import { DatastoreBgp } from './watcher.ts';
import { formatNodeStatus, calicoNodeStatus } from './status.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const res = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(labels ? { labels } : {}) }, spec }) as AnyResource;

const NODES = [
  { name: 'n1', ip: '127.0.1.1', block: '198.19.1.0/26' },
  { name: 'n2', ip: '127.0.1.2', block: '198.19.2.0/26' },
  { name: 'n3', ip: '127.0.1.3', block: '198.19.3.0/26' },
];

void test('datastore-driven speakers: mesh, live BGPPeer change, live switch to a route reflector, datastore outage', async (t) => {
  const kv = new MemoryKv();
  const ds: DatastoreClient = memoryDatastore({}, kv);
  const port = await freePort();
  await ds.resources.create(res('BGPConfiguration', 'default', { listenPort: port, bindMode: 'NodeIP', logSeverityScreen: 'Info' }));
  await ds.resources.create(res('IPPool', 'pool1', { cidr: '198.19.0.0/16' }));
  await ds.resources.create(res('IPPool', 'noexport', { cidr: '198.20.0.0/16', disableBGPExport: true }));
  for (const n of NODES) {
    await ds.resources.create(res('Node', n.name, { bgp: { ipv4Address: `${n.ip}/8` } }));
    await kv.put(blockAffinityKey(n.name, n.block), JSON.stringify({ state: 'confirmed', deleted: 'false' }));
  }
  // A block in a pool with disableBGPExport is never originated.
  await kv.put(blockAffinityKey('n1', '198.20.1.0/26'), JSON.stringify({ state: 'confirmed' }));

  const kernels = new Map(NODES.map((n) => [n.name, new MemoryKernel()]));
  const runs = NODES.map(
    (n) =>
      new DatastoreBgp(
        { client: ds, ...(process.env.BGP_TEST_LOG ? { logger: { debug: (m: string) => (process.env.BGP_TEST_LOG === 'debug' ? console.error(`[${n.name}] D ${m}`) : undefined), info: (m: string) => console.error(`[${n.name}] ${m}`), warn: (m: string) => console.error(`[${n.name}] W ${m}`), error: (m: string) => console.error(`[${n.name}] E ${m}`) } } : {}), speakerDeps: { kernel: kernels.get(n.name)!, connectedSubnets: () => Promise.resolve(['127.0.0.0/8']) } },
        // Equal retry timers on purpose: node-to-node sessions must not collide (the higher address is passive).
        { nodeName: n.name, debounceMs: 20, local: { connectRetryTime: 0.5, idleHoldTime: 0.5, logLevel: 'error' } },
      ),
  );
  t.after(async () => {
    for (const r of runs) await r.stop();
  });
  for (const r of runs) r.start();

  const peerOf = (i: number, ip: string) => runs[i]!.speaker?.status().peers.find((p) => p.address === ip);
  const established = (i: number, ip: string): boolean => peerOf(i, ip)?.state === 'Established';
  const hasRoute = (node: string, block: string): boolean => kernels.get(node)!.routes.has(block);

  // 1. Full mesh, every block everywhere.
  await until('full mesh established', () => runs.every((_, i) => NODES.every((n, j) => i === j || established(i, n.ip))));
  await until('blocks installed everywhere', () => NODES.every((a) => NODES.every((b) => a === b || hasRoute(a.name, b.block))));
  assert.equal(peerOf(0, '127.0.1.2')!.type, 'node-to-node mesh');
  assert.deepEqual(runs[0]!.lastPlan!.originated, ['198.19.1.0/26'], 'no-export pool block not originated');
  assert.ok(!hasRoute('n2', '198.20.1.0/26'));
  const table = formatNodeStatus(runs[0]!.speaker!.status());
  assert.match(table, /^Calico process is running\.\n\nIPv4 BGP status\n\+-+/);
  assert.match(table, /\| 127\.0\.1\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established \|/);
  assert.match(table, /IPv6 BGP status\nNo IPv6 peers found\.\n/);
  const cns = calicoNodeStatus(runs[0]!.speaker!.status()) as { bgp: { numberEstablishedV4: number; peersV4: Array<{ type: string }> } };
  assert.equal(cns.bgp.numberEstablishedV4, 2);
  assert.equal(cns.bgp.peersV4[0]!.type, 'NodeMesh');

  // CalicoNodeStatus for n1: its status is filled in (Agent + BGP + Routes classes).
  await ds.resources.create(res('CalicoNodeStatus', 'n1-status', { node: 'n1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 1 }));
  type Routes = { routesV4?: Array<Record<string, unknown>>; routesV6?: unknown };
  let routes: Routes | undefined;
  await until('CalicoNodeStatus published', async () => {
    const st = (await ds.resources.get('CalicoNodeStatus', 'n1-status')).status as { bgp?: { numberEstablishedV4?: number }; agent?: { birdV4?: { routerID?: string } }; routes?: Routes } | undefined;
    routes = st?.routes;
    return st?.bgp?.numberEstablishedV4 === 2 && st.agent?.birdV4?.routerID === '127.0.1.1' && (st.routes?.routesV4?.length ?? 0) >= 3;
  });
  const sorted = [...routes!.routesV4!].sort((a, b) => String(a.destination).localeCompare(String(b.destination)));
  assert.deepEqual(sorted, [
    { type: 'FIB', destination: '198.19.1.0/26', gateway: 'N/A', interface: 'blackhole', learnedFrom: { sourceType: 'Static' } },
    { type: 'FIB', destination: '198.19.2.0/26', gateway: '127.0.1.2', learnedFrom: { sourceType: 'NodeMesh', peerIP: '127.0.1.2' } },
    { type: 'FIB', destination: '198.19.3.0/26', gateway: '127.0.1.3', learnedFrom: { sourceType: 'NodeMesh', peerIP: '127.0.1.3' } },
  ]);
  assert.equal(routes!.routesV6, undefined, 'no IPv6 routes: left out');

  // 2. A global BGPPeer to an external router: added everywhere; mesh sessions untouched.
  const since12 = peerOf(0, '127.0.1.2')!.since;
  await ds.resources.create(res('BGPPeer', 'tor', { peerIP: '127.0.9.9', asNumber: 65001 }));
  await until('global peer configured', () => runs.every((_, i) => peerOf(i, '127.0.9.9')?.type === 'global'));
  assert.equal(peerOf(0, '127.0.1.2')!.since, since12, 'unrelated mesh session was not reset');
  assert.ok(established(0, '127.0.1.2'));
  assert.ok(runs.every((r) => r.stats.restarts === 0));

  // 3. Route reflector, live: n1 reflects, the mesh goes away, n2/n3 peer with n1 only.
  await ds.resources.update({ ...(await ds.resources.get('Node', 'n1')), metadata: { ...(await ds.resources.get('Node', 'n1')).metadata, labels: { rr: 'true' } }, spec: { bgp: { ipv4Address: '127.0.1.1/8', routeReflectorClusterID: '224.0.0.1' } } } as AnyResource);
  await ds.resources.create(res('BGPPeer', 'to-rr', { nodeSelector: '!has(rr)', peerSelector: 'has(rr)' }));
  const cfg = await ds.resources.get('BGPConfiguration', 'default');
  await ds.resources.update({ ...cfg, spec: { ...(cfg.spec as object), nodeToNodeMeshEnabled: false } } as AnyResource);
  await until('every node computed the reflector plan', () => runs.every((r) => r.lastPlan?.meshEnabled === false) && runs[0]!.lastPlan!.routeReflectorClusterId === '224.0.0.1' && runs[1]!.lastPlan!.peers.some((p) => p.ip === '127.0.1.1' && p.kind === 'node'));
  await until('reflector sessions', () => established(1, '127.0.1.1') && established(2, '127.0.1.1') && established(0, '127.0.1.2') && established(0, '127.0.1.3'));
  await until('mesh gone between clients', () => !peerOf(1, '127.0.1.3') && !peerOf(2, '127.0.1.2'));
  assert.equal(peerOf(1, '127.0.1.1')!.type, 'node specific');
  assert.equal(peerOf(0, '127.0.1.2')!.type, 'node specific');
  assert.ok(runs[0]!.lastPlan!.peers.find((p) => p.ip === '127.0.1.2')!.routeReflectorClient, 'n2 is an RR client of n1');
  await until('routes reflected between clients', () => hasRoute('n2', '198.19.3.0/26') && hasRoute('n3', '198.19.2.0/26') && hasRoute('n1', '198.19.2.0/26'));
  // Stable: the sessions stay up and the routes stay for a second.
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(established(1, '127.0.1.1') && established(2, '127.0.1.1'), `clients stay up: ${JSON.stringify(peerOf(1, '127.0.1.1'))}`);
    assert.ok(hasRoute('n2', '198.19.3.0/26') && hasRoute('n3', '198.19.2.0/26'));
  }
  assert.ok(runs[0]!.stats.restarts >= 1, 'the cluster id change restarted n1 in-process');
  assert.equal(runs[1]!.stats.restarts, 0, 'clients reconfigured live');

  // 4. Datastore outage: nothing changes, routes stay; after it returns, changes apply again.
  kv.setUnavailable(true);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(runs.every((r) => r.speaker !== null));
  assert.ok(hasRoute('n2', '198.19.3.0/26'), `n2 kept the route: ${[...kernels.get('n2')!.routes.keys()].join(',')}`);
  assert.ok(established(1, '127.0.1.1'), `n2-n1 session: ${JSON.stringify(peerOf(1, '127.0.1.1'))}`);
  kv.setUnavailable(false);
  await ds.resources.delete('BGPPeer', 'tor');
  await until('deleted global peer removed after the outage', () => runs.every((_, i) => !peerOf(i, '127.0.9.9')), 30_000);
  assert.ok(established(1, '127.0.1.1'));
});
