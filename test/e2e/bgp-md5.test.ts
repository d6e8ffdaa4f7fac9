// TCP MD5 (RFC 2385) with BIRD 2: the right password brings the session up; a wrong one keeps it
// down (the kernel drops unsigned/mis-signed segments, so nothing ever reaches BGP). Fixing the
// password with a live reload (SIGHUP) brings that session up without touching the other one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Lab, e2eSkipReason, sh } from './lib/netns.ts';
import { startBird, birdEstablished } from './lib/bird.ts';
import { startSpeaker } from './lib/speaker.ts';
import { waitFor, sleep } from './lib/wait.ts';

const skip = e2eSkipReason(['bird', 'birdc']);
if (skip) console.log(`# skipping BGP TCP MD5 interop: ${skip}`);

const birdConf = `
router id 198.18.6.2;
protocol device { scan time 1; }
protocol static blocks4 { ipv4; route 198.19.2.0/26 blackhole; }
protocol static blocks6 { ipv6; route fd00:198:19:2::/64 blackhole; }
template bgp calico { local as 64512; direct; hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 5; }
protocol bgp md4 from calico { neighbor 198.18.6.1 as 64512; password "right-one"; ipv4 { import all; export all; }; }
protocol bgp md6 from calico { neighbor fd00:198:18:6::1 as 64512; password "right-six"; ipv6 { import all; export all; }; }
`;

void test('TCP MD5 with BIRD: right password up, wrong password down, fixed live', { skip, timeout: 90_000 }, async () => {
  const lab = new Lab('5');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.6.1/24', 'fd00:198:18:6::1/64'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.6.2/24', 'fd00:198:18:6::2/64'] });
  const bird = await startBird(lab, 'bird', b, birdConf);
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.6.1',
    holdTime: 9,
    connectRetryTime: 1,
    idleHoldTime: 1,
    peers: [
      { address: '198.18.6.2', asNumber: 64512, password: 'right-one' },
      { address: 'fd00:198:18:6::2', asNumber: 64512, password: 'wrong-six' },
    ],
  });

  await waitFor('IPv4 (right password) Established', async () => birdEstablished(bird, 'md4'));
  await waitFor('BIRD route via the signed session', () => sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.2.0/26'));
  // Both directions of the session are signed: the kernel reports the key on the socket.
  assert.match(sh(['ip', 'netns', 'exec', a, 'ss', '-tni', 'dport', '= :179', 'or', 'sport', '= :179']), /md5/);

  // Wrong password: several connect-retry rounds later, still not Established on either side.
  await sleep(5000);
  assert.equal(await birdEstablished(bird, 'md6'), false);
  const st6 = await sp.peerState('fd00:198:18:6::2');
  assert.notEqual(st6, 'Established');
  const since4 = (await sp.status()).peers.find((p) => p.address === '198.18.6.2')!.since;

  // Fix the password in the config and reload (SIGHUP): only the IPv6 session restarts.
  const cfg = JSON.parse(readFileSync(sp.configFile, 'utf8')) as { peers: Array<{ address: string; password?: string }> };
  cfg.peers[1]!.password = 'right-six';
  writeFileSync(sp.configFile, JSON.stringify(cfg));
  process.kill(sp.daemon.pid, 'SIGHUP');
  await waitFor('IPv6 Established after reload', async () => birdEstablished(bird, 'md6'));
  await waitFor('IPv6 route installed', () => sh(['ip', '-6', '-n', a, 'route', 'show', 'proto', '81']).includes('fd00:198:19:2::/64'));
  const after4 = (await sp.status()).peers.find((p) => p.address === '198.18.6.2')!;
  assert.equal(after4.state, 'Established');
  assert.equal(after4.since, since4, 'the IPv4 session was not reset by the reload');
});
