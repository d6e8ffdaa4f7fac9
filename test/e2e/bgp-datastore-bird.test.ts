// Datastore mode against a real router: a BIRD 2 "top of rack" in AS 65001 and one calico-ts
// node whose only peer comes from a global BGPPeer (peerIP + asNumber, Calico's eBGP-to-ToR
// setup). The session establishes, the node's block (inside an IP pool) reaches BIRD with the
// node as next hop, a block in a disableBGPExport pool does not, BIRD's route reaches the node's
// kernel, and ping crosses both ways. A BGPFilter added to the peer applies live both ways;
// deleting the BGPPeer takes the session down live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { e2eSkipReason, sh, ping } from './lib/netns.ts';
import { startBird, birdEstablished } from './lib/bird.ts';
import { waitFor } from './lib/wait.ts';
import { labWithDatastore } from './lib/datastore-lab.ts';
import { readStatus } from '../../src/bgp/index.ts';
import { blockAffinityKey, type AnyResource } from '../../src/model/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const skip = e2eSkipReason(['ip', 'bird', 'birdc']);
if (skip) console.log(`# skipping BGP from the datastore against BIRD: ${skip}`);

const res = (kind: string, name: string, spec: Record<string, unknown>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec }) as AnyResource;

const TOR_CONF = `
router id 198.18.40.254;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export filter { if proto = "lan" then reject; accept; }; }; }
protocol static lan { ipv4; route 198.19.99.0/24 blackhole; }
protocol bgp node1 { local as 65001; neighbor 198.18.40.1 as 64512; direct; hold time 9; keepalive time 3;
  connect retry time 1; error wait time 1, 5; ipv4 { import all; export where proto = "lan"; }; }
`;

void test('calico-bgp from the datastore peers with a BIRD top-of-rack through a global BGPPeer', { skip, timeout: 120_000 }, async () => {
  const { lab, ds, client } = await labWithDatastore('b');

  const node = lab.netns('n1');
  const tor = lab.netns('tor');
  lab.lan([
    { ns: node, ifname: 'eth0', addrs: ['198.18.40.1/24'] },
    { ns: tor, ifname: 'eth0', addrs: ['198.18.40.254/24'] },
  ]);
  sh(['ip', '-n', node, 'addr', 'add', '198.19.41.1/32', 'dev', 'lo']);
  sh(['ip', '-n', tor, 'addr', 'add', '198.19.99.1/32', 'dev', 'lo']);

  await client.resources.create(res('IPPool', 'pool', { cidr: '198.19.0.0/16' }));
  await client.resources.create(res('IPPool', 'private', { cidr: '198.20.0.0/16', disableBGPExport: true }));
  await client.resources.create(res('Node', 'node-1', { bgp: { ipv4Address: '198.18.40.1/24' } }));
  await client.kv.put(blockAffinityKey('node-1', '198.19.41.0/26'), JSON.stringify({ state: 'confirmed' }));
  await client.kv.put(blockAffinityKey('node-1', '198.20.41.0/26'), JSON.stringify({ state: 'confirmed' }));
  await client.resources.create(res('BGPPeer', 'tor', { peerIP: '198.18.40.254', asNumber: 65001 }));

  const bird = await startBird(lab, 'tor', tor, TOR_CONF);
  const sock = path.join(lab.dir, 'node-1.sock');
  const proc = lab.spawn('node-1', node, [path.join(REPO, 'bin/calico-bgp'), '--datastore', '--node-name', 'node-1', '--endpoints', ds.endpoint, '--status-socket', sock]);
  try {
    await waitFor('BIRD session established', () => birdEstablished(bird, 'node1'), { timeoutMs: 60_000 });
    const st = await readStatus(sock);
    assert.deepEqual(st.peers.map((p) => [p.address, p.type, p.peerAs]), [['198.18.40.254', 'global', 65001]]);
    await waitFor('our block at BIRD', async () => (await bird.routes(4)).has('198.19.41.0/26'));
    assert.deepEqual((await bird.routes(4)).get('198.19.41.0/26'), ['198.18.40.1']);
    assert.ok(!(await bird.routes(4)).has('198.20.41.0/26'), 'a block in a disableBGPExport pool is not advertised');
    await waitFor('BIRD route in our kernel', () => sh(['ip', '-n', node, 'route', 'show', 'proto', '81']).includes('198.19.99.0/24 via 198.18.40.254'));
    ping(node, '198.19.41.1', '198.19.99.1');

    // A BGPFilter on the peer, live: BIRD's route is rejected on import, our block on export.
    await client.resources.create(res('BGPFilter', 'edge', {
      importV4: [{ action: 'Reject', matchOperator: 'Equal', cidr: '198.19.99.0/24' }],
      exportV4: [{ action: 'Reject', matchOperator: 'Equal', cidr: '198.19.41.0/26' }],
    }));
    const peerRes = await client.resources.get('BGPPeer', 'tor');
    await client.resources.update({ ...peerRes, spec: { ...(peerRes.spec as object), filters: ['edge'] } } as AnyResource);
    await waitFor('filters applied both ways', async () =>
      !sh(['ip', '-n', node, 'route', 'show', 'proto', '81']).includes('198.19.99.0/24') && !(await bird.routes(4)).has('198.19.41.0/26') && (await birdEstablished(bird, 'node1')),
      { timeoutMs: 30_000 });

    await client.resources.delete('BGPPeer', 'tor');
    await waitFor('session gone after the BGPPeer is deleted', async () => !(await birdEstablished(bird, 'node1')) && (await readStatus(sock)).peers.length === 0, { timeoutMs: 30_000 });
    assert.equal(proc.child.exitCode, null);
  } catch (err) {
    console.log(`--- node-1 log (tail)\n${proc.log().slice(-4000)}`);
    throw err;
  }
});
