// Calico's node-to-node mesh made of our own speakers: N hosts on one L2 segment, each running
// calico-bgp with an iBGP session to every other host and originating its own block. Every host
// must end up with every other host's block in its kernel, via that host, and reach it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, e2eSkipReason, sh, ping } from './lib/netns.ts';
import { startSpeaker, type SpeakerProc } from './lib/speaker.ts';
import { waitFor } from './lib/wait.ts';

const skip = e2eSkipReason([]);
const N = 5;

void test(`full mesh of ${N} calico-bgp speakers converges, routes carry traffic`, { skip, timeout: 120_000 }, async () => {
  const lab = new Lab('h');
  after(() => lab.cleanup());
  const hosts = Array.from({ length: N }, (_, i) => ({ ns: lab.netns(`n${i + 1}`), addr: `198.18.11.${i + 1}`, block: `198.19.${30 + i}.0/26`, ws: `198.19.${30 + i}.1` }));
  lab.lan(hosts.map((h) => ({ ns: h.ns, ifname: 'eth0', addrs: [`${h.addr}/24`] })));
  for (const h of hosts) sh(['ip', '-n', h.ns, 'addr', 'add', `${h.ws}/32`, 'dev', 'lo']);

  const t0 = performance.now();
  const speakers: SpeakerProc[] = await Promise.all(
    hosts.map((h) =>
      startSpeaker(lab, `speaker-${h.addr}`, h.ns, {
        asNumber: 64512,
        routerId: h.addr,
        logLevel: 'info',
        prefixes: [h.block],
        ipPools: ['198.19.0.0/16'],
        peers: hosts.filter((o) => o !== h).map((o) => ({ address: o.addr, asNumber: 64512, description: 'node-to-node mesh' })),
      }),
    ),
  );
  const routesOf = (h: (typeof hosts)[number]) => sh(['ip', '-n', h.ns, 'route', 'show', 'proto', '81']);
  await waitFor(
    'every block in every kernel',
    () => hosts.every((h) => hosts.every((o) => o === h || routesOf(h).includes(`${o.block} via ${o.addr}`))),
    { timeoutMs: 60_000 },
  );
  console.log(`# ${N}-node mesh: all ${N * (N - 1)} routes installed ${(performance.now() - t0).toFixed(0)} ms after starting the processes`);
  for (const sp of speakers) {
    const st = await sp.status();
    assert.equal(st.peers.length, N - 1);
    assert.ok(st.peers.every((p) => p.state === 'Established' && p.prefixesReceived === 1), JSON.stringify(st.peers));
  }
  // iBGP routes are not re-advertised between mesh members (no reflection): each node has
  // exactly one route per other block, straight to its owner.
  for (const h of hosts) assert.equal(routesOf(h).trim().split('\n').length, N - 1);
  ping(hosts[0]!.ns, hosts[0]!.ws, hosts[N - 1]!.ws);
  ping(hosts[N - 1]!.ns, hosts[N - 1]!.ws, hosts[1]!.ws);
});
