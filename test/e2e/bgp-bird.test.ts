// Interop with BIRD 2: our speaker (calico-bgp, a real process) and BIRD in two namespaces
// joined by a veth, IPv4 and IPv6 iBGP sessions like Calico's node-to-node mesh. Routes flow both
// ways into both kernels, ping crosses, withdrawals propagate, and a normal stop removes our routes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Lab, e2eSkipReason, sh, ping, run } from './lib/netns.ts';
import { startBird, birdEstablished } from './lib/bird.ts';
import { startSpeaker, REPO } from './lib/speaker.ts';
import { waitFor, sleep } from './lib/wait.ts';

const skip = e2eSkipReason(['bird', 'birdc']);
if (skip) console.log(`# skipping BGP/BIRD interop: ${skip}`);

const birdConf = (opts: { withStatic: boolean }) => `
router id 198.18.1.2;
protocol device { scan time 1; }
protocol kernel k4 { ipv4 { import none; export filter { if proto = "blocks4" then reject; accept; }; }; }
protocol kernel k6 { ipv6 { import none; export filter { if proto = "blocks6" then reject; accept; }; }; }
protocol static blocks4 { ipv4; ${opts.withStatic ? 'route 198.19.2.0/26 blackhole; route 198.19.2.64/26 blackhole;' : ''} }
protocol static blocks6 { ipv6; ${opts.withStatic ? 'route fd00:198:19:2::/64 blackhole;' : ''} }
template bgp calico { local as 64512; direct; graceful restart; hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 5; }
protocol bgp ours4 from calico { neighbor 198.18.1.1 as 64512; source address 198.18.1.2; ipv4 { import all; export all; next hop self; }; }
protocol bgp ours6 from calico { neighbor fd00:198:18:1::1 as 64512; source address fd00:198:18:1::2; ipv6 { import all; export all; next hop self; }; }
`;

void test('BGP interop with BIRD 2: IPv4 + IPv6 iBGP, kernel routes, ping, withdraw', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('b');
  after(() => lab.cleanup());
  const a = lab.netns('a'); // our speaker
  const b = lab.netns('b'); // BIRD
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.1.1/24', 'fd00:198:18:1::1/64'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.1.2/24', 'fd00:198:18:1::2/64'] });
  // "Workload" addresses behind each host, to ping across.
  sh(['ip', '-n', a, 'addr', 'add', '198.19.1.1/32', 'dev', 'lo']);
  sh(['ip', '-n', b, 'addr', 'add', '198.19.2.1/32', 'dev', 'lo']);
  sh(['ip', '-n', a, 'addr', 'add', 'fd00:198:19:1::1/128', 'dev', 'lo']);
  sh(['ip', '-n', b, 'addr', 'add', 'fd00:198:19:2::1/128', 'dev', 'lo']);

  const bird = await startBird(lab, 'bird', b, birdConf({ withStatic: true }));
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.1.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.1.0/26', 'fd00:198:19:1::/64'],
    ipPools: ['198.19.0.0/16', 'fd00:198:19::/48'],
    peers: [
      { address: '198.18.1.2', asNumber: 64512 },
      { address: 'fd00:198:18:1::2', asNumber: 64512 },
    ],
  });

  await waitFor('IPv4 and IPv6 sessions Established in BIRD', async () => (await birdEstablished(bird, 'ours4')) && (await birdEstablished(bird, 'ours6')));
  await waitFor('our speaker reports both peers Established', async () => (await sp.status()).peers.every((p) => p.state === 'Established'));

  // BIRD → us: BIRD's blocks in our kernel with our protocol number (81).
  const ourRoutes = (fam: '-4' | '-6') => sh(['ip', fam, '-n', a, 'route', 'show', 'proto', '81']);
  await waitFor('BIRD routes in our kernel', () => /198\.19\.2\.0\/26 via 198\.18\.1\.2/.test(ourRoutes('-4')) && /198\.19\.2\.64\/26 via 198\.18\.1\.2/.test(ourRoutes('-4')));
  await waitFor('BIRD IPv6 route in our kernel', () => /fd00:198:19:2::\/64 via fd00:198:18:1::2/.test(ourRoutes('-6')));
  // us → BIRD: our blocks in BIRD's table and its kernel.
  await waitFor('our IPv4 block in BIRD', async () => (await bird.routes(4)).has('198.19.1.0/26'));
  await waitFor('our IPv6 block in BIRD', async () => (await bird.routes(6)).has('fd00:198:19:1::/64'));
  assert.deepEqual((await bird.routes(4)).get('198.19.1.0/26'), ['198.18.1.1']);
  await waitFor('our block in BIRD kernel', () => sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via 198.18.1.1'));

  // Traffic between the "workloads" uses exactly those routes (no default routes exist).
  ping(a, '198.19.1.1', '198.19.2.1');
  ping(a, 'fd00:198:19:1::1', 'fd00:198:19:2::1');

  // The operator's view: `calico-bgp status` prints Calico's node status table.
  const table = (await run([path.join(REPO, 'bin/calico-bgp'), 'status', '--socket', sp.statusSocket])).stdout;
  assert.match(table, /\| 198\.18\.1\.2 +\| internal +\| up +\| \d\d:\d\d:\d\d \| Established \|/);
  assert.match(table, /IPv6 BGP status[\s\S]*\| fd00:198:18:1::2 +\| internal +\| up /);

  const st = await sp.status();
  const p4 = st.peers.find((p) => p.address === '198.18.1.2')!;
  assert.equal(p4.prefixesReceived, 2);
  assert.equal(p4.prefixesAdvertised, 1);
  assert.equal(p4.routerId, '198.18.1.2');

  // Withdraw: BIRD drops its static routes → they leave our kernel.
  await bird.reconfigure(birdConf({ withStatic: false }));
  await waitFor('withdrawn from our kernel', () => !ourRoutes('-4').includes('198.19.2.') && !ourRoutes('-6').includes('fd00:198:19:2::'));
  // The sessions stayed up throughout (no reset on reconfigure).
  assert.ok(await birdEstablished(bird, 'ours4'));

  // Held for a few keepalive intervals (hold 9 s): still Established.
  await sleep(4000);
  assert.ok((await sp.status()).peers.every((p) => p.state === 'Established'));

  // A normal stop (SIGINT): Cease to BIRD, our routes leave BIRD and our kernel is cleaned.
  await bird.reconfigure(birdConf({ withStatic: true }));
  await waitFor('re-announced', () => ourRoutes('-4').includes('198.19.2.0/26'));
  await lab.stop(sp.daemon, 5000, 'SIGINT');
  assert.equal(ourRoutes('-4').trim(), '', 'our routes removed on normal shutdown');
  assert.equal(ourRoutes('-6').trim(), '');
  await waitFor('our block gone from BIRD', async () => !(await bird.routes(4)).has('198.19.1.0/26'));
});

// BIRD configured the way Calico's confd renders it for a node-to-node mesh peer (translated to
// BIRD 2 channel syntax): multihop, gateway recursive, add paths, graceful restart, passive on
// (so our speaker must connect), kernel protocol with learn/persist and the pool export filter.
const calicoStyleBird = `
router id 198.18.12.2;
protocol device { scan time 2; }
protocol direct { ipv4; interface -"cali*", -"kube-ipvs*", "*"; }
protocol kernel { ipv4 { import all; export filter { if proto = "blocks" then reject; accept; }; }; learn; persist; scan time 2; graceful restart; merge paths on; }
protocol static blocks { ipv4; route 198.19.2.0/26 blackhole; }
template bgp bgp_template {
  description "Connection to BGP peer";
  local as 64512;
  multihop;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  ipv4 {
    gateway recursive;
    add paths on;
    import all;
    export filter { if net ~ [ 198.19.0.0/16+ ] then accept; reject; };
  };
}
protocol bgp Mesh_198_18_12_1 from bgp_template { neighbor 198.18.12.1 as 64512; source address 198.18.12.2; passive on; }
`;

void test("BGP interop with BIRD configured like Calico's confd mesh template (passive, multihop, add paths)", { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('c');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.12.1/24'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.12.2/24'] });
  sh(['ip', '-n', a, 'addr', 'add', '198.19.1.1/32', 'dev', 'lo']);
  sh(['ip', '-n', b, 'addr', 'add', '198.19.2.1/32', 'dev', 'lo']);
  const bird = await startBird(lab, 'bird', b, calicoStyleBird);
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.12.1',
    connectRetryTime: 1,
    prefixes: ['198.19.1.0/26'],
    ipPools: ['198.19.0.0/16'],
    peers: [{ address: '198.18.12.2', asNumber: 64512, sourceAddress: '198.18.12.1', description: 'node-to-node mesh' }],
  });
  await waitFor('Established (we connected; BIRD is passive)', () => birdEstablished(bird, 'Mesh_198_18_12_1'));
  await waitFor('BIRD block in our kernel', () => sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.2.0/26 via 198.18.12.2'));
  await waitFor('our block in BIRD kernel (recursive next hop)', () => sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via 198.18.12.1'));
  ping(a, '198.19.1.1', '198.19.2.1');
  const st = await sp.status();
  assert.equal(st.peers[0]!.state, 'Established');
  // The block, plus BIRD's direct route for the /32 on its loopback (inside the pool, so Calico's
  // export filter lets it out, exactly as on a real Calico node).
  assert.equal(st.peers[0]!.prefixesReceived, 2);
  assert.match(sh(['ip', '-n', a, 'route', 'show', 'proto', '81']), /198\.19\.2\.1 via 198\.18\.12\.2/);
});
