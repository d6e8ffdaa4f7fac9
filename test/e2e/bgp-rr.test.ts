// Route reflection with BIRD 2, both ways round, on one L2 segment (like Calico nodes on one
// subnet): (1) our speaker reflects between two BIRD clients; (2) our speaker is a client of a
// BIRD route reflector. Next hops stay unchanged through the reflector, so client-to-client
// traffic goes direct, and ping proves it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, e2eSkipReason, sh, ping } from './lib/netns.ts';
import { startBird, birdEstablished } from './lib/bird.ts';
import { startSpeaker } from './lib/speaker.ts';
import { waitFor } from './lib/wait.ts';

const skip = e2eSkipReason(['bird', 'birdc']);
if (skip) console.log(`# skipping BGP route reflection interop: ${skip}`);

const clientConf = (id: string, block: string, peers: Array<{ name: string; addr: string; extra?: string }>, withStatic = true) => `
router id ${id};
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export filter { if proto = "blocks" then reject; accept; }; }; }
protocol static blocks { ipv4; ${withStatic ? `route ${block} blackhole;` : ''} }
template bgp mesh { local as 64512; direct; hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 5; ipv4 { import all; export all; }; }
${peers.map((p) => `protocol bgp ${p.name} from mesh { neighbor ${p.addr} as 64512; ${p.extra ?? ''} }`).join('\n')}
`;

void test('our speaker as route reflector for two BIRD clients', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('r');
  after(() => lab.cleanup());
  const r = lab.netns('rr');
  const c1 = lab.netns('c1');
  const c2 = lab.netns('c2');
  lab.lan([
    { ns: r, ifname: 'eth0', addrs: ['198.18.3.1/24'] },
    { ns: c1, ifname: 'eth0', addrs: ['198.18.3.11/24'] },
    { ns: c2, ifname: 'eth0', addrs: ['198.18.3.12/24'] },
  ]);
  sh(['ip', '-n', c1, 'addr', 'add', '198.19.11.1/32', 'dev', 'lo']);
  sh(['ip', '-n', c2, 'addr', 'add', '198.19.12.1/32', 'dev', 'lo']);

  const b1 = await startBird(lab, 'c1', c1, clientConf('198.18.3.11', '198.19.11.0/26', [{ name: 'p_rr', addr: '198.18.3.1' }]));
  const b2 = await startBird(lab, 'c2', c2, clientConf('198.18.3.12', '198.19.12.0/26', [{ name: 'p_rr', addr: '198.18.3.1' }]));
  const sp = await startSpeaker(lab, 'rr', r, {
    asNumber: 64512,
    routerId: '198.18.3.1',
    routeReflectorClusterId: '1.0.0.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.10.0/26'],
    ipPools: ['198.19.0.0/16'],
    peers: [
      { address: '198.18.3.11', asNumber: 64512, routeReflectorClient: true },
      { address: '198.18.3.12', asNumber: 64512, routeReflectorClient: true },
    ],
  });
  await waitFor('clients established', async () => (await birdEstablished(b1, 'p_rr')) && (await birdEstablished(b2, 'p_rr')));

  // c1's block reaches c2 through us, next hop unchanged (c1 itself), with RFC 4456 attributes.
  await waitFor('c1 block at c2', async () => (await b2.routes(4)).has('198.19.11.0/26'));
  assert.deepEqual((await b2.routes(4)).get('198.19.11.0/26'), ['198.18.3.11']);
  const all = await b2.birdc('show route 198.19.11.0/26 all');
  assert.match(all, /BGP\.originator_id: 198\.18\.3\.11/);
  assert.match(all, /BGP\.cluster_list: 1\.0\.0\.1/);
  await waitFor('c2 block at c1', async () => (await b1.routes(4)).get('198.19.12.0/26')?.[0] === '198.18.3.12');
  // Our own block reaches both, next hop us.
  await waitFor('our block at c1', async () => (await b1.routes(4)).get('198.19.10.0/26')?.[0] === '198.18.3.1');
  // The reflector installs both client routes too.
  await waitFor('client routes in the reflector kernel', () => {
    const k = sh(['ip', '-n', r, 'route', 'show', 'proto', '81']);
    return k.includes('198.19.11.0/26 via 198.18.3.11') && k.includes('198.19.12.0/26 via 198.18.3.12');
  });
  // Client to client traffic, directly over the LAN.
  await waitFor('c1 kernel has c2 block', () => sh(['ip', '-n', c1, 'route', 'show', '198.19.12.0/26']).includes('via 198.18.3.12'));
  await waitFor('c2 kernel has c1 block', () => sh(['ip', '-n', c2, 'route', 'show', '198.19.11.0/26']).includes('via 198.18.3.11'));
  ping(c1, '198.19.11.1', '198.19.12.1');

  // Withdrawal is reflected too.
  await b1.reconfigure(clientConf('198.18.3.11', '198.19.11.0/26', [{ name: 'p_rr', addr: '198.18.3.1' }], false));
  await waitFor('c1 block withdrawn at c2', async () => !(await b2.routes(4)).has('198.19.11.0/26'));
  const st = await sp.status();
  assert.ok(st.peers.every((p) => p.state === 'Established'));
});

void test('our speaker as a client of a BIRD route reflector', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('q');
  after(() => lab.cleanup());
  const rr = lab.netns('rr');
  const a = lab.netns('a');
  const c = lab.netns('c');
  lab.lan([
    { ns: rr, ifname: 'eth0', addrs: ['198.18.4.1/24'] },
    { ns: a, ifname: 'eth0', addrs: ['198.18.4.21/24'] },
    { ns: c, ifname: 'eth0', addrs: ['198.18.4.23/24'] },
  ]);
  sh(['ip', '-n', a, 'addr', 'add', '198.19.21.1/32', 'dev', 'lo']);
  sh(['ip', '-n', c, 'addr', 'add', '198.19.23.1/32', 'dev', 'lo']);
  const rrConf = `
router id 198.18.4.1;
protocol device { scan time 1; }
template bgp clients { local as 64512; direct; rr client; rr cluster id 1.0.0.2; hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 5; ipv4 { import all; export all; }; }
protocol bgp p_ours from clients { neighbor 198.18.4.21 as 64512; }
protocol bgp p_other from clients { neighbor 198.18.4.23 as 64512; }
`;
  const brr = await startBird(lab, 'rr', rr, rrConf);
  const bc = await startBird(lab, 'c', c, clientConf('198.18.4.23', '198.19.23.0/26', [{ name: 'p_rr', addr: '198.18.4.1' }]));
  const sp = await startSpeaker(lab, 'a', a, {
    asNumber: 64512,
    routerId: '198.18.4.21',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.21.0/26'],
    ipPools: ['198.19.0.0/16'],
    peers: [{ address: '198.18.4.1', asNumber: 64512 }],
  });
  await waitFor('sessions with the reflector', async () => (await birdEstablished(brr, 'p_ours')) && (await birdEstablished(brr, 'p_other')));
  await waitFor('reflected route in our kernel, next hop the other client', () =>
    sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.23.0/26 via 198.18.4.23'),
  );
  await waitFor('our block at the other client via us', async () => (await bc.routes(4)).get('198.19.21.0/26')?.[0] === '198.18.4.21');
  await waitFor('other client kernel has our block', () => sh(['ip', '-n', c, 'route', 'show', '198.19.21.0/26']).includes('via 198.18.4.21'));
  ping(a, '198.19.21.1', '198.19.23.1');
  // Our own route reflected back to us (ORIGINATOR_ID = us) is dropped, not installed.
  const st = await sp.status();
  const peer = st.peers[0]!;
  assert.equal(peer.state, 'Established');
  assert.equal(peer.prefixesReceived, 1, 'only the other client block (our own reflected back is dropped)');
});
