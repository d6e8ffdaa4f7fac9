// Graceful restart (RFC 4724) of our speaker next to BIRD 2 as the helper: SIGTERM drops the
// session without a NOTIFICATION and keeps our kernel routes; BIRD keeps ours as stale; on
// restart we re-learn, BIRD refreshes, stale routes are swept. A ping running across the whole
// restart loses nothing, and neither kernel ever deletes the routes (watched with `ip monitor`).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Lab, e2eSkipReason, sh, ping, pingCommand } from './lib/netns.ts';
import { startBird, birdEstablished } from './lib/bird.ts';
import { startSpeaker } from './lib/speaker.ts';
import { waitFor, sleep } from './lib/wait.ts';

const skip = e2eSkipReason(['bird', 'birdc']);
if (skip) console.log(`# skipping BGP graceful restart interop: ${skip}`);

const birdConf = `
router id 198.18.7.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export filter { if proto = "blocks" then reject; accept; }; }; }
protocol static blocks { ipv4; route 198.19.2.0/26 blackhole; }
protocol bgp ours { local as 64512; neighbor 198.18.7.1 as 64512; direct; graceful restart on; graceful restart time 60;
  hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 5; ipv4 { import all; export all; }; }
`;

void test('graceful restart of our speaker: BIRD keeps forwarding, ping loses nothing, no route flap', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('r');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.7.1/24'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.7.2/24'] });
  sh(['ip', '-n', a, 'addr', 'add', '198.19.1.1/32', 'dev', 'lo']);
  sh(['ip', '-n', b, 'addr', 'add', '198.19.2.1/32', 'dev', 'lo']);
  const cfg = {
    asNumber: 64512,
    routerId: '198.18.7.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.1.0/26'],
    ipPools: ['198.19.0.0/16'],
    gracefulRestart: { enabled: true, restartTime: 60 },
    peers: [{ address: '198.18.7.2', asNumber: 64512 }],
  };
  const bird = await startBird(lab, 'bird', b, birdConf);
  const sp1 = await startSpeaker(lab, 'speaker1', a, cfg);
  await waitFor('Established', () => birdEstablished(bird, 'ours'));
  await waitFor('routes both ways', () =>
    sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.2.0/26 via 198.18.7.2') &&
    sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via 198.18.7.1'),
  );
  ping(b, '198.19.2.1', '198.19.1.1');
  assert.match(await bird.birdc('show protocols all ours'), /Neighbor GR:\s+restart-able|Graceful restart|restart/i);

  // Watch both kernels' routes, and keep traffic flowing through the whole restart.
  const monA = lab.spawn('monitor-a', a, ['ip', '-o', 'monitor', 'route']);
  const monB = lab.spawn('monitor-b', b, ['ip', '-o', 'monitor', 'route']);
  const pinger = lab.spawn('ping', b, [...pingCommand(), '-i', '0.1', '-w', '10', '-I', '198.19.2.1', '198.19.1.1']);
  await sleep(1000);

  // SIGTERM: graceful stop. Our kernel keeps BIRD's route; BIRD keeps ours (stale).
  const code = await lab.stop(sp1.daemon, 5000, 'SIGTERM');
  assert.equal(code, 0);
  assert.ok(sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.2.0/26 via 198.18.7.2'), 'our kernel route kept during the restart');
  await waitFor('BIRD noticed the restart', async () => !(await birdEstablished(bird, 'ours')));
  assert.ok(sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via 198.18.7.1'), 'BIRD kept our route (GR helper)');
  assert.match(await bird.birdc('show route 198.19.1.0/26 all'), /198\.19\.1\.0\/26/);
  await sleep(1500);

  // Restart with the same configuration: R bit set, routes re-learned, stale ones swept.
  const sp2 = await startSpeaker(lab, 'speaker2', a, cfg);
  await waitFor('Established again', () => birdEstablished(bird, 'ours'));
  await waitFor('restart finished (End-of-RIB from every peer)', async () => !(await sp2.status()).restarting);
  assert.match(sp2.daemon.log(), /graceful restart: keeping 1 routes of protocol 81/);
  assert.match(sp2.daemon.log(), /all peers resynced; sweeping stale kernel routes/);
  await waitFor('BIRD route not stale any more', async () => !/stale/i.test(await bird.birdc('show route 198.19.1.0/26 all')));

  const pingExit = await pinger.exited;
  const out = readFileSync(pinger.logFile, 'utf8');
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  assert.ok(m, `ping summary missing: ${out.slice(-300)}`);
  const sent = Number(m[1]);
  const got = Number(m[2]);
  assert.ok(sent >= 50, `ping sent ${sent}`);
  assert.equal(sent - got, 0, `ping lost ${sent - got} of ${sent} across the restart (exit ${String(pingExit)})`);

  // Prove the monitors were live: a probe route must show up in each log.
  for (const ns of [a, b]) {
    sh(['ip', '-n', ns, 'route', 'add', '198.19.99.0/24', 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'route', 'del', '198.19.99.0/24', 'dev', 'eth0']);
  }
  await waitFor('monitors saw the probe route', () => monA.log().includes('Deleted 198.19.99.0/24') && monB.log().includes('Deleted 198.19.99.0/24'));
  await lab.stop(monA, 1000);
  await lab.stop(monB, 1000);
  const deleted = (log: string, prefix: string) => log.split('\n').filter((l) => l.startsWith('Deleted') && l.includes(prefix));
  assert.deepEqual(deleted(monA.log(), '198.19.2.0/26'), [], 'our kernel never dropped the BIRD route');
  assert.deepEqual(deleted(monB.log(), '198.19.1.0/26'), [], 'BIRD kernel never dropped our route');
});

void test('graceful restart of BIRD: our speaker as helper keeps its routes (stale) until BIRD is back', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('h');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.7.1/24'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.7.2/24'] });
  sh(['ip', '-n', a, 'addr', 'add', '198.19.1.1/32', 'dev', 'lo']);
  sh(['ip', '-n', b, 'addr', 'add', '198.19.2.1/32', 'dev', 'lo']);
  // BIRD's kernel protocol with graceful restart: after `bird -R` it keeps its kernel routes until it has re-learned.
  const conf = birdConf.replace('protocol kernel {', 'protocol kernel { graceful restart; persist;');
  const bird = await startBird(lab, 'bird', b, conf);
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.7.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    prefixes: ['198.19.1.0/26'],
    ipPools: ['198.19.0.0/16'],
    peers: [{ address: '198.18.7.2', asNumber: 64512 }],
  });
  await waitFor('Established', () => birdEstablished(bird, 'ours'));
  const ours = () => sh(['ip', '-n', a, 'route', 'show', 'proto', '81']);
  await waitFor('BIRD route in our kernel', () => ours().includes('198.19.2.0/26 via 198.18.7.2'));
  await waitFor('our route in BIRD kernel', () => sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via 198.18.7.1'));
  const monA = lab.spawn('monitor-a', a, ['ip', '-o', 'monitor', 'route']);
  const pinger = lab.spawn('ping', a, [...pingCommand(), '-i', '0.1', '-w', '8', '-I', '198.19.1.1', '198.19.2.1']);
  await sleep(500);

  // BIRD dies abruptly (no NOTIFICATION): we keep its routes as stale, in the RIB and the kernel.
  await lab.stop(bird.daemon, 1000, 'SIGKILL');
  await waitFor('session down on our side', async () => (await sp.peerState('198.18.7.2')) !== 'Established');
  const st = await sp.status();
  assert.equal(st.peers[0]!.gracefulRestart, 'helper-stale');
  assert.ok(ours().includes('198.19.2.0/26 via 198.18.7.2'), 'stale route kept in our kernel');
  await sleep(1000);

  // BIRD comes back in graceful-restart recovery mode (-R): R bit in its OPEN, routes re-sent, End-of-RIB.
  const bird2 = await startBird(lab, 'bird2', b, conf, ['-R']);
  await waitFor('Established again', () => birdEstablished(bird2, 'ours'), { timeoutMs: 30_000 });
  await waitFor('no stale routes left', async () => (await sp.status()).peers[0]!.gracefulRestart === 'none');
  assert.ok(ours().includes('198.19.2.0/26 via 198.18.7.2'));

  await pinger.exited;
  const out = readFileSync(pinger.logFile, 'utf8');
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  assert.ok(m, `ping summary missing: ${out.slice(-300)}`);
  assert.equal(Number(m[1]) - Number(m[2]), 0, `ping lost packets while BIRD restarted: ${m[0]}`);
  sh(['ip', '-n', a, 'route', 'add', '198.19.99.0/24', 'dev', 'eth0']);
  sh(['ip', '-n', a, 'route', 'del', '198.19.99.0/24', 'dev', 'eth0']);
  await waitFor('monitor saw the probe route', () => monA.log().includes('Deleted 198.19.99.0/24'));
  await lab.stop(monA, 1000);
  assert.deepEqual(monA.log().split('\n').filter((l) => l.startsWith('Deleted') && l.includes('198.19.2.0/26')), [], 'our kernel never dropped the route');
});
