// The speaker configured from the datastore, end to end: our calico-datastore (unix socket:
// reachable from every network namespace, no TCP listener needed), three hosts in namespaces on
// one L2 fabric (198.18.20.0/24), one `calico-bgp` datastore-mode process per host. Nodes,
// BGPConfiguration, IP pools, block affinities and BGPPeers are written with the resource
// client. Checks: full mesh, blocks installed everywhere and ping between workload addresses;
// a BGPPeer change leaves unrelated sessions alone; a live switch to a route reflector
// (mesh off, routeReflectorClusterID, peerSelector) converges with the same processes; the
// datastore going away leaves sessions, routes and traffic alone, and changes made after it
// returns are applied.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { e2eSkipReason, sh, ping } from './lib/netns.ts';
import { waitFor } from './lib/wait.ts';
import { labWithDatastore } from './lib/datastore-lab.ts';
import { startDatastore } from './datastore-lib/procs.ts';
import { readStatus, type SpeakerStatus } from '../../src/bgp/index.ts';
import { blockAffinityKey, type AnyResource } from '../../src/model/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const skip = e2eSkipReason(['ip']);
if (skip) console.log(`# skipping BGP from the datastore: ${skip}`);

const res = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(labels ? { labels } : {}) }, spec }) as AnyResource;

const HOSTS = [
  { name: 'node-1', ip: '198.18.20.1', block: '198.19.21.0/26', wl: '198.19.21.1' },
  { name: 'node-2', ip: '198.18.20.2', block: '198.19.22.0/26', wl: '198.19.22.1' },
  { name: 'node-3', ip: '198.18.20.3', block: '198.19.23.0/26', wl: '198.19.23.1' },
];

void test('calico-bgp from the datastore: mesh, BGPPeer change, live switch to a route reflector', { skip, timeout: 180_000 }, async () => {
  const { lab, ds, client } = await labWithDatastore('d');

  const ns = HOSTS.map((h) => lab.netns(h.name.replace('node-', 'h')));
  lab.lan(HOSTS.map((h, i) => ({ ns: ns[i]!, ifname: 'eth0', addrs: [`${h.ip}/24`] })));
  HOSTS.forEach((h, i) => sh(['ip', '-n', ns[i]!, 'addr', 'add', `${h.wl}/32`, 'dev', 'lo']));

  await client.resources.create(res('BGPConfiguration', 'default', { logSeverityScreen: 'Debug' }));
  await client.resources.create(res('IPPool', 'pool-1', { cidr: '198.19.0.0/16', blockSize: 26 }));
  for (const h of HOSTS) {
    await client.resources.create(res('Node', h.name, { bgp: { ipv4Address: `${h.ip}/24` } }));
    await client.kv.put(blockAffinityKey(h.name, h.block), JSON.stringify({ state: 'confirmed', deleted: 'false' }));
  }

  const socks = HOSTS.map((h) => path.join(lab.dir, `${h.name}.sock`));
  const procs = HOSTS.map((h, i) =>
    lab.spawn(h.name, ns[i]!, [path.join(REPO, 'bin/calico-bgp'), '--datastore', '--node-name', h.name, '--endpoints', ds.endpoint, '--status-socket', socks[i]!]),
  );
  const status = async (i: number): Promise<SpeakerStatus | null> => {
    if (procs[i]!.child.exitCode !== null) throw new Error(`${HOSTS[i]!.name} exited: ${procs[i]!.log().slice(-3000)}`);
    return readStatus(socks[i]!, 1000).catch(() => null);
  };
  const peer = async (i: number, ip: string) => (await status(i))?.peers.find((p) => p.address === ip);
  const up = async (i: number, ip: string) => (await peer(i, ip))?.state === 'Established';
  const routes = (i: number): string => sh(['ip', '-n', ns[i]!, 'route', 'show', 'proto', '81']);

  try {
    // 1. Full mesh.
    await waitFor('full mesh established', async () => {
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j && !(await up(i, HOSTS[j]!.ip))) return false;
      return true;
    }, { timeoutMs: 60_000 });
    assert.equal((await peer(0, HOSTS[1]!.ip))!.type, 'node-to-node mesh');
    const table = sh([path.join(REPO, 'bin/calicoctl'), 'node', 'status', '--socket', socks[0]!]);
    assert.match(table, /^Calico process is running\.\n\nIPv4 BGP status\n/);
    assert.match(table, /\| 198\.18\.20\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established \|/);
    await waitFor('blocks in every kernel', () => HOSTS.every((_, i) => HOSTS.every((b, j) => i === j || routes(i).includes(`${b.block} via ${b.ip}`))), { timeoutMs: 30_000 });
    ping(ns[0]!, HOSTS[0]!.wl, HOSTS[1]!.wl);
    ping(ns[2]!, HOSTS[2]!.wl, HOSTS[0]!.wl);

    // 2. A global BGPPeer (a router that is not there): every node adds it, the mesh stays up.
    const since = (await peer(1, HOSTS[2]!.ip))!.since;
    await client.resources.create(res('BGPPeer', 'tor', { peerIP: '198.18.20.99', asNumber: 65001 }));
    await waitFor('global peer on every node', async () => (await Promise.all(HOSTS.map((_, i) => peer(i, '198.18.20.99')))).every((p) => p?.type === 'global'));
    const tor = await client.resources.get('BGPPeer', 'tor');
    await client.resources.update({ ...tor, spec: { ...(tor.spec as object), asNumber: 65002 } } as AnyResource);
    await waitFor('global peer changed', async () => (await peer(1, '198.18.20.99'))?.peerAs === 65002);
    assert.equal((await peer(1, HOSTS[2]!.ip))!.since, since, 'mesh session node-2 ↔ node-3 was not reset by BGPPeer changes');
    assert.ok(await up(1, HOSTS[2]!.ip));

    // 3. Route reflector, live: node-1 reflects; node-2 and node-3 stop meshing.
    const n1 = await client.resources.get('Node', 'node-1');
    await client.resources.update({ ...n1, metadata: { ...n1.metadata, labels: { 'route-reflector': 'true' } }, spec: { bgp: { ipv4Address: `${HOSTS[0]!.ip}/24`, routeReflectorClusterID: '224.0.0.1' } } } as AnyResource);
    await client.resources.create(res('BGPPeer', 'peer-with-rr', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }));
    const cfg = await client.resources.get('BGPConfiguration', 'default');
    await client.resources.update({ ...cfg, spec: { ...(cfg.spec as object), nodeToNodeMeshEnabled: false } } as AnyResource);
    await waitFor('clients peer with the reflector only', async () =>
      (await up(1, HOSTS[0]!.ip)) && (await up(2, HOSTS[0]!.ip)) && !(await peer(1, HOSTS[2]!.ip)) && !(await peer(2, HOSTS[1]!.ip)) && (await up(0, HOSTS[1]!.ip)) && (await up(0, HOSTS[2]!.ip)),
      { timeoutMs: 60_000 });
    assert.equal((await peer(1, HOSTS[0]!.ip))!.type, 'node specific');
    // node-3's block reaches node-2 through the reflector with node-3 as next hop (direct path).
    await waitFor('reflected routes', () => routes(1).includes(`${HOSTS[2]!.block} via ${HOSTS[2]!.ip}`) && routes(2).includes(`${HOSTS[1]!.block} via ${HOSTS[1]!.ip}`), { timeoutMs: 30_000 });
    ping(ns[1]!, HOSTS[1]!.wl, HOSTS[2]!.wl);
    ping(ns[2]!, HOSTS[2]!.wl, HOSTS[0]!.wl);
    // 4. The datastore goes away: sessions, routes and traffic stay. It comes back (same data,
    //    same socket): the speakers resync and apply a change made after the outage.
    await ds.stop();
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok((await up(1, HOSTS[0]!.ip)) && (await up(2, HOSTS[0]!.ip)), 'sessions stay up without the datastore');
    assert.ok(routes(1).includes(`${HOSTS[2]!.block} via ${HOSTS[2]!.ip}`), 'routes stay without the datastore');
    ping(ns[1]!, HOSTS[1]!.wl, HOSTS[2]!.wl);
    const ds2 = await startDatastore({ dataDir: ds.dataDir, listen: [ds.endpoint] });
    after(() => ds2.cleanup());
    await waitFor('delete after the outage', async () => {
      try {
        await client.resources.delete('BGPPeer', 'tor');
        return true;
      } catch {
        return false;
      }
    }, { timeoutMs: 30_000 });
    await waitFor('speakers resynced', async () => (await Promise.all(HOSTS.map((_, i) => peer(i, '198.18.20.99')))).every((p) => p === undefined), { timeoutMs: 60_000 });
    assert.ok(await up(1, HOSTS[0]!.ip), 'reflector session unaffected by the resync');
    for (const p of procs) assert.equal(p.child.exitCode, null, `${p.name} kept running`);
    assert.match(procs[0]!.log(), /restarting the speaker in-process/);
  } catch (err) {
    for (const p of procs) console.log(`--- ${p.name} log (tail)\n${p.log().slice(-4000)}`);
    throw err;
  }
});
