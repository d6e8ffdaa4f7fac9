// Malformed UPDATEs from a peer (crafted byte by byte by the test, after a real OPEN exchange)
// get the RFC 7606 response from our speaker: treat-as-withdraw keeps the session and withdraws
// the prefix; a broken attribute list gets NOTIFICATION 3/1 and a session reset. The speaker
// process never crashes and accepts the peer again afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, e2eSkipReason, sh } from './lib/netns.ts';
import { startSpeaker } from './lib/speaker.ts';
import { RawPeer, rawUpdate, rawMessage } from './lib/raw-peer.ts';
import { waitFor, sleep } from './lib/wait.ts';

const skip = e2eSkipReason([]);
if (skip) console.log(`# skipping BGP malformed UPDATE test: ${skip}`);

const ORIGIN_IGP = '40 01 01 00';
const ORIGIN_BAD = '40 01 01 05'; // ORIGIN value 5: RFC 7606 §7.1 → treat-as-withdraw
const AS_PATH = '40 02 06 02 01 0000fc01'; // [64513]
const NEXT_HOP = '40 03 04 c6120502'; // 198.18.5.2
const NLRI = '18 c61305'; // 198.19.5.0/24

void test('malformed UPDATEs get the RFC 7606 response and never crash the speaker', { skip, timeout: 60_000 }, async () => {
  const lab = new Lab('m');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const t = lab.netns('t');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.5.1/24'] }, { ns: t, ifname: 'eth0', addrs: ['198.18.5.2/24'] });
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.5.1',
    idleHoldTime: 1,
    prefixes: ['198.19.1.0/26'],
    ipPools: ['198.19.0.0/16'],
    peers: [{ address: '198.18.5.2', asNumber: 64513, passive: true }],
  });
  const kernel = () => sh(['ip', '-n', a, 'route', 'show', 'proto', '81']);

  let peer = await RawPeer.connect(t, '198.18.5.1');
  await peer.handshake({ as: 64513, id: '198.18.5.2' });
  await waitFor('Established', async () => (await sp.peerState('198.18.5.2')) === 'Established');
  // Our speaker sends its block (eBGP: AS path [64512], next hop itself).
  const first = await peer.next();
  assert.equal(first.type, 'UPDATE');

  // 1. A valid announcement is installed.
  peer.send(rawUpdate('', `${ORIGIN_IGP} ${AS_PATH} ${NEXT_HOP}`, NLRI));
  await waitFor('valid route installed', () => kernel().includes('198.19.5.0/24 via 198.18.5.2'));

  // 2. The same prefix with an invalid ORIGIN: treat-as-withdraw. No NOTIFICATION, session stays.
  peer.send(rawUpdate('', `${ORIGIN_BAD} ${AS_PATH} ${NEXT_HOP}`, NLRI));
  await waitFor('treat-as-withdraw removed the route', () => !kernel().includes('198.19.5.0/24'));
  await sleep(300);
  assert.equal(await sp.peerState('198.18.5.2'), 'Established');
  assert.equal(peer.closed, false);

  // 3. Total Path Attribute Length beyond the message: NOTIFICATION UPDATE error / Malformed
  //    Attribute List (3/1), then the connection is closed.
  peer.send(rawMessage(2, `0000 0020 ${ORIGIN_IGP}`));
  const n = await peer.until(['NOTIFICATION', 'CLOSED']);
  assert.equal(n.type, 'NOTIFICATION');
  assert.deepEqual(n.type === 'NOTIFICATION' ? [n.code, n.subcode] : [], [3, 1]);
  assert.equal((await peer.until(['CLOSED'])).type, 'CLOSED');
  peer.close();

  // The speaker is alive, reports the error, and takes the peer back.
  await waitFor('peer no longer Established', async () => (await sp.peerState('198.18.5.2')) !== 'Established');
  const st = await sp.status();
  assert.match(st.peers[0]!.lastError ?? '', /UPDATE message error|3\/1/i);
  assert.equal(sp.daemon.child.exitCode, null, 'speaker still running');

  peer = await waitFor('reconnect accepted', async () => {
    const p = await RawPeer.connect(t, '198.18.5.1');
    try {
      await p.handshake({ as: 64513, id: '198.18.5.2' });
      return p;
    } catch (err) {
      p.close();
      throw err;
    }
  });
  await waitFor('Established again', async () => (await sp.peerState('198.18.5.2')) === 'Established');

  // 4. A broken message header (marker not all ones): NOTIFICATION 1/1.
  const bad = rawMessage(4, '');
  bad[3] = 0;
  peer.send(bad);
  const n2 = await peer.until(['NOTIFICATION', 'CLOSED']);
  assert.deepEqual(n2.type === 'NOTIFICATION' ? [n2.code, n2.subcode] : n2, [1, 1]);
  peer.close();
  assert.equal(sp.daemon.child.exitCode, null, 'speaker still running');
});

void test('hold timer: keepalives every hold/3; a silent peer gets NOTIFICATION 4/0 and its routes go', { skip, timeout: 60_000 }, async () => {
  const lab = new Lab('k');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const t = lab.netns('t');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.5.1/24'] }, { ns: t, ifname: 'eth0', addrs: ['198.18.5.2/24'] });
  const sp = await startSpeaker(lab, 'speaker', a, {
    asNumber: 64512,
    routerId: '198.18.5.1',
    holdTime: 90,
    idleHoldTime: 1,
    peers: [{ address: '198.18.5.2', asNumber: 64513, passive: true }],
  });
  const peer = await RawPeer.connect(t, '198.18.5.1');
  const open = await peer.handshake({ as: 64513, id: '198.18.5.2', hold: 3 }); // negotiated: min(90, 3) = 3 s
  assert.equal(open.type === 'OPEN' ? open.holdTime : -1, 90);
  await waitFor('Established', async () => (await sp.peerState('198.18.5.2')) === 'Established');
  peer.send(rawUpdate('', `${ORIGIN_IGP} ${AS_PATH} ${NEXT_HOP}`, NLRI));
  await waitFor('route installed', () => sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.5.0/24'));
  // From now on the peer says nothing. We keep sending KEEPALIVEs every second...
  const t0 = Date.now();
  let keepalives = 0;
  for (;;) {
    const m = await peer.next(5000, false);
    if (m.type === 'KEEPALIVE') keepalives++;
    else if (m.type === 'NOTIFICATION') {
      assert.deepEqual([m.code, m.subcode], [4, 0]);
      break;
    } else if (m.type === 'CLOSED') assert.fail('closed without NOTIFICATION');
  }
  const waited = Date.now() - t0;
  // ...and after 3 s without anything from the peer the hold timer fires.
  assert.ok(waited >= 2500 && waited < 6000, `hold timer fired after ${waited} ms`);
  assert.ok(keepalives >= 2, `${keepalives} keepalives in ${waited} ms`);
  await waitFor('route withdrawn from the kernel', () => !sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.5.0/24'));
  assert.match((await sp.status()).peers[0]!.lastError ?? '', /hold timer expired/);
  peer.close();
});
