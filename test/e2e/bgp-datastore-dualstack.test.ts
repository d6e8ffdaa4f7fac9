// Datastore mode, dual stack with a mesh password: two hosts with IPv4 and IPv6 addresses, the
// node-to-node mesh password from BGPConfiguration nodeMeshPassword (a secret file under
// --secrets-dir), blocks of both families exchanged and pinged; then a wrong password on one
// side takes the sessions down, and fixing it brings them back — all without restarts. Last, a
// BGPPeer with ttlSecurity between all nodes: GTSM sessions between two calico-ts speakers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { e2eSkipReason, sh, ping } from './lib/netns.ts';
import { waitFor } from './lib/wait.ts';
import { labWithDatastore } from './lib/datastore-lab.ts';
import { readStatus, type SpeakerStatus } from '../../src/bgp/index.ts';
import { blockAffinityKey, type AnyResource } from '../../src/model/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const skip = e2eSkipReason(['ip']);
if (skip) console.log(`# skipping dual-stack BGP from the datastore: ${skip}`);

const res = (kind: string, name: string, spec: Record<string, unknown>): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec }) as AnyResource;

const HOSTS = [
  { name: 'ds-a', ip4: '198.18.30.1', ip6: 'fd00:198:18:30::1', block4: '198.19.31.0/26', block6: 'fd00:198:19:31::/122', wl4: '198.19.31.1', wl6: 'fd00:198:19:31::1' },
  { name: 'ds-b', ip4: '198.18.30.2', ip6: 'fd00:198:18:30::2', block4: '198.19.32.0/26', block6: 'fd00:198:19:32::/122', wl4: '198.19.32.1', wl6: 'fd00:198:19:32::1' },
];

void test('calico-bgp from the datastore: dual stack mesh with a mesh password from a secret file', { skip, timeout: 180_000 }, async () => {
  const { lab, ds, client } = await labWithDatastore('v');

  const ns = HOSTS.map((h) => lab.netns(h.name.replace('ds-', 'v')));
  lab.lan(HOSTS.map((h, i) => ({ ns: ns[i]!, ifname: 'eth0', addrs: [`${h.ip4}/24`, `${h.ip6}/64`] })));
  HOSTS.forEach((h, i) => {
    sh(['ip', '-n', ns[i]!, 'addr', 'add', `${h.wl4}/32`, 'dev', 'lo']);
    sh(['ip', '-n', ns[i]!, 'addr', 'add', `${h.wl6}/128`, 'dev', 'lo', 'nodad']);
  });
  // One secrets dir per host (as a mounted Kubernetes Secret would be).
  const secretDirs = HOSTS.map((h) => path.join(lab.dir, `secrets-${h.name}`));
  const setPassword = (i: number, pw: string): void => {
    mkdirSync(path.join(secretDirs[i]!, 'bgp-secrets'), { recursive: true });
    writeFileSync(path.join(secretDirs[i]!, 'bgp-secrets', 'mesh'), `${pw}\n`);
  };
  setPassword(0, 'mesh-pass');
  setPassword(1, 'mesh-pass');

  await client.resources.create(res('BGPConfiguration', 'default', { nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } } }));
  await client.resources.create(res('IPPool', 'v4', { cidr: '198.19.0.0/16', blockSize: 26 }));
  await client.resources.create(res('IPPool', 'v6', { cidr: 'fd00:198:19::/48', blockSize: 122 }));
  for (const h of HOSTS) {
    await client.resources.create(res('Node', h.name, { bgp: { ipv4Address: `${h.ip4}/24`, ipv6Address: `${h.ip6}/64` } }));
    await client.kv.put(blockAffinityKey(h.name, h.block4), JSON.stringify({ state: 'confirmed' }));
    await client.kv.put(blockAffinityKey(h.name, h.block6), JSON.stringify({ state: 'confirmed' }));
  }
  const socks = HOSTS.map((h) => path.join(lab.dir, `${h.name}.sock`));
  const procs = HOSTS.map((h, i) =>
    lab.spawn(h.name, ns[i]!, [path.join(REPO, 'bin/calico-bgp'), '--datastore', '--node-name', h.name, '--endpoints', ds.endpoint, '--status-socket', socks[i]!, '--secrets-dir', secretDirs[i]!]),
  );
  const status = async (i: number): Promise<SpeakerStatus | null> => {
    if (procs[i]!.child.exitCode !== null) throw new Error(`${HOSTS[i]!.name} exited: ${procs[i]!.log().slice(-3000)}`);
    return readStatus(socks[i]!, 1000).catch(() => null);
  };
  const state = async (i: number, ip: string) => (await status(i))?.peers.find((p) => p.address === ip)?.state;
  const routes = (i: number, fam: 4 | 6): string => sh(['ip', `-${fam}`, '-n', ns[i]!, 'route', 'show', 'proto', '81']);

  try {
    await waitFor('IPv4 and IPv6 mesh sessions (with the password)', async () =>
      (await state(0, HOSTS[1]!.ip4)) === 'Established' && (await state(0, HOSTS[1]!.ip6)) === 'Established' && (await state(1, HOSTS[0]!.ip6)) === 'Established',
      { timeoutMs: 60_000 });
    await waitFor('blocks of both families installed', () =>
      routes(0, 4).includes(`${HOSTS[1]!.block4} via ${HOSTS[1]!.ip4}`) && routes(1, 6).includes(`${HOSTS[0]!.block6} via ${HOSTS[0]!.ip6}`) && routes(0, 6).includes(HOSTS[1]!.block6),
      { timeoutMs: 30_000 });
    ping(ns[0]!, HOSTS[0]!.wl4, HOSTS[1]!.wl4);
    ping(ns[1]!, HOSTS[1]!.wl6, HOSTS[0]!.wl6);

    // Wrong password on one side: an edited secret file applies with the next datastore change
    // (here: a BGPConfiguration edit) or the periodic recompute (30 s).
    setPassword(1, 'wrong');
    const touch = async (v: string): Promise<void> => {
      const cfg = await client.resources.get('BGPConfiguration', 'default');
      await client.resources.update({ ...cfg, spec: { ...(cfg.spec as object), logSeverityScreen: v } } as AnyResource);
    };
    await touch('Debug');
    await waitFor('sessions down with mismatched passwords', async () => (await state(0, HOSTS[1]!.ip4)) !== 'Established', { timeoutMs: 30_000 });
    setPassword(1, 'mesh-pass');
    await touch('Info');
    await waitFor('sessions back with the fixed password', async () => (await state(0, HOSTS[1]!.ip4)) === 'Established' && (await state(0, HOSTS[1]!.ip6)) === 'Established', { timeoutMs: 60_000 });

    // GTSM between two calico-ts nodes: a BGPPeer selecting every node with ttlSecurity: 1 gives
    // both sides node-specific peerings (they replace the mesh sessions) with TTL 255 / min 255.
    await client.resources.create(res('BGPPeer', 'gtsm-all', { nodeSelector: 'all()', peerSelector: 'all()', ttlSecurity: 1 }));
    const typeOf = async (i: number, ip: string) => (await status(i))?.peers.find((p) => p.address === ip)?.type;
    await waitFor('GTSM node-specific sessions, both families', async () =>
      (await typeOf(0, HOSTS[1]!.ip4)) === 'node specific' && (await typeOf(1, HOSTS[0]!.ip6)) === 'node specific' &&
      (await state(0, HOSTS[1]!.ip4)) === 'Established' && (await state(0, HOSTS[1]!.ip6)) === 'Established' && (await state(1, HOSTS[0]!.ip4)) === 'Established',
      { timeoutMs: 60_000 });
    ping(ns[0]!, HOSTS[0]!.wl4, HOSTS[1]!.wl4);
    for (const p of procs) assert.equal(p.child.exitCode, null, `${p.name} kept running`);
  } catch (err) {
    for (const p of procs) console.log(`--- ${p.name} log (tail)\n${p.log().slice(-4000)}`);
    throw err;
  }
});
