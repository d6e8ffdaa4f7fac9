// Session driver over loopback TCP with a scripted peer: deterministic connection collisions
// (RFC 4271 §6.8) both ways, and the NOTIFICATION the losing connection gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Session, collisionWindowMs, refusedRetryMs, type SessionHandlers } from './session.ts';
import { FrameReader, decodeMessage, encodeMessage, KEEPALIVE_BYTES, type BgpMessage, type Capability } from '../packet/index.ts';

class Peer {
  readonly msgs: BgpMessage[] = [];
  closed = false;
  readonly sock: net.Socket;
  constructor(sock: net.Socket) {
    this.sock = sock;
    const r = new FrameReader();
    sock.on('data', (b: Buffer) => {
      r.push(b);
      for (let f = r.next(); f; f = r.next()) this.msgs.push(decodeMessage(f, { fourOctetAs: true }).message);
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }
  open(id: string, o: { holdTime?: number; gr?: boolean } = {}): void {
    const capabilities: Capability[] = [{ kind: 'FOUR_OCTET_AS', asn: 64512 }];
    if (o.gr) capabilities.push({ kind: 'GRACEFUL_RESTART', restartState: false, notification: false, restartTime: 120, families: [] });
    this.sock.write(encodeMessage({ type: 'OPEN', version: 4, myAs: 64512, holdTime: o.holdTime ?? 30, bgpId: id, capabilities }, { fourOctetAs: true }));
  }
  notifications(): Array<{ code: number; subcode: number }> {
    return this.msgs.flatMap((m) => (m.type === 'NOTIFICATION' ? [{ code: m.code, subcode: m.subcode }] : []));
  }
  has(type: string): boolean {
    return this.msgs.some((m) => m.type === type);
  }
}

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ipNum(s: string): number {
  return s.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
}

/** A connected loopback pair: `ours` is handed to Session.accept, `theirs` plays the remote speaker. */
function socketPair(): Promise<{ ours: net.Socket; theirs: net.Socket }> {
  return new Promise((resolve) => {
    let theirs: net.Socket;
    const srv = net.createServer((ours) => {
      srv.close();
      resolve({ ours, theirs });
    });
    srv.listen(0, '127.0.0.1', () => {
      theirs = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
      theirs.on('error', () => undefined);
    });
  });
}

async function collision(localId: string, remoteId: string): Promise<{ out: Peer; inc: Peer; session: Session; established: number }> {
  // The "remote speaker": a listener that takes our outgoing connection.
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  let established = 0;
  const handlers: SessionHandlers = { onEstablished: () => established++, onUpdate: () => undefined, onRouteRefresh: () => undefined, onDown: () => undefined };
  const session = new Session(
    {
      name: 'peer',
      peerAddress: '127.0.0.1',
      peerPort: port,
      fsm: { localAs: 64512, localId: ipNum(localId), peerAs: 64512, holdTime: 30, connectRetryTime: 30, idleHoldTime: 30, passive: false, autoRestart: false },
      open: () => ({ type: 'OPEN', version: 4, myAs: 64512, holdTime: 30, bgpId: localId, capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64512 }] }),
    },
    handlers,
  );
  session.start();
  await until('outgoing connection', () => accepted.length === 1);
  const out = new Peer(accepted[0]!);
  await until('our OPEN on the outgoing connection', () => out.has('OPEN'));
  assert.equal(session.state, 'OpenSent');
  // The remote speaker connects to us too (incoming), before answering on the first connection.
  const incoming = await socketPair();
  session.accept(incoming.ours);
  const inc = new Peer(incoming.theirs);
  await until('our OPEN on the incoming connection', () => inc.has('OPEN'));
  // The remote sends its OPEN on the incoming connection first: now both ends know both ids.
  inc.open(remoteId);
  server.close();
  return { out, inc, session, established };
}

void test('collision: remote id higher → the incoming connection (opened by the remote) survives', async () => {
  const { out, inc, session } = await collision('10.0.0.1', '10.0.0.2');
  await until('Cease/7 on our outgoing connection', () => out.msgs.some((m) => m.type === 'NOTIFICATION' && m.code === 6 && m.subcode === 7));
  await until('outgoing closed', () => out.closed);
  await until('KEEPALIVE on the incoming one', () => inc.has('KEEPALIVE'));
  inc.sock.write(KEEPALIVE_BYTES);
  await until('Established on the incoming connection', () => session.state === 'Established');
  assert.equal(inc.msgs.some((m) => m.type === 'NOTIFICATION'), false);
  session.stop();
  await until('Cease to the peer on stop', () => inc.msgs.some((m) => m.type === 'NOTIFICATION' && m.code === 6 && m.subcode === 2));
});

void test('collision: local id higher → our outgoing connection survives, the incoming one gets Cease/7', async () => {
  const { out, inc, session } = await collision('10.0.0.9', '10.0.0.2');
  await until('Cease/7 on the incoming connection', () => inc.msgs.some((m) => m.type === 'NOTIFICATION' && m.code === 6 && m.subcode === 7));
  await until('incoming closed', () => inc.closed);
  assert.equal(out.closed, false);
  // Continue on the outgoing connection.
  out.open('10.0.0.2');
  await until('KEEPALIVE on the outgoing one', () => out.has('KEEPALIVE'));
  out.sock.write(KEEPALIVE_BYTES);
  await until('Established on the outgoing connection', () => session.state === 'Established');
  session.stop();
  await until('outgoing closed after stop', () => out.closed);
});

void test('collision: the losing connection sends its Cease/7 and nothing else (no KEEPALIVE the peer could take for Established)', async () => {
  const { out, inc, session } = await collision('10.0.0.9', '10.0.0.2');
  await until('Cease/7 on the incoming connection', () => inc.notifications().some((n) => n.code === 6 && n.subcode === 7));
  await until('incoming closed', () => inc.closed);
  assert.equal(inc.has('KEEPALIVE'), false, 'KEEPALIVE sent on the connection that lost the collision');
  session.stop();
  await until('outgoing closed after stop', () => out.closed);
});

interface Up {
  session: Session;
  out: Peer;
  downs: string[];
  established: () => number;
  connects: () => number;
  close: () => void;
}

/** A session Established on its outgoing connection with a scripted peer (GR-capable when `gr`). */
async function establish(o: { holdTime: number; gr: boolean; idleHoldTime?: number; autoRestart?: boolean }): Promise<Up> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  let established = 0;
  const downs: string[] = [];
  const session = new Session(
    {
      name: 'peer',
      peerAddress: '127.0.0.1',
      peerPort: port,
      fsm: { localAs: 64512, localId: ipNum('10.0.0.1'), peerAs: 64512, holdTime: o.holdTime, connectRetryTime: 30, idleHoldTime: o.idleHoldTime ?? 30, passive: false, autoRestart: o.autoRestart ?? false },
      open: () => ({ type: 'OPEN', version: 4, myAs: 64512, holdTime: o.holdTime, bgpId: '10.0.0.1', capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64512 }] }),
    },
    { onEstablished: () => established++, onUpdate: () => undefined, onRouteRefresh: () => undefined, onDown: (_r, cause) => downs.push(cause) },
  );
  session.start();
  await until('outgoing connection', () => accepted.length === 1);
  const out = new Peer(accepted[0]!);
  await until('our OPEN', () => out.has('OPEN'));
  out.open('10.0.0.2', { holdTime: o.holdTime, gr: o.gr });
  out.sock.write(KEEPALIVE_BYTES);
  await until('Established', () => session.state === 'Established');
  return {
    session,
    out,
    downs,
    established: () => established,
    connects: () => accepted.length,
    close: () => {
      session.stop();
      server.close();
      for (const s of accepted) s.destroy();
    },
  };
}

void test('incoming connection right after Established (a late collision loser) is closed; the session stays up even with a graceful-restart peer', async () => {
  const up = await establish({ holdTime: 30, gr: true });
  try {
    const pair = await socketPair();
    const late = new Peer(pair.theirs);
    late.open('10.0.0.2', { gr: true }); // what the peer had sent on its losing connection
    up.session.accept(pair.ours);
    await until('late connection closed', () => late.closed);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(up.session.state, 'Established');
    assert.deepEqual(up.downs, [], 'the Established session went down');
    assert.equal(up.established(), 1);
    assert.equal(up.out.closed, false);
    assert.deepEqual(up.out.notifications(), []);
    assert.equal(late.has('OPEN'), false, 'we answered on the colliding connection');
  } finally {
    up.close();
  }
});

void test('incoming connection from a graceful-restart peer after the collision window: the peer restarted (old session failed, new connection taken)', async () => {
  const up = await establish({ holdTime: 3, gr: true }); // window = min(3 s / 3, 10 s) = 1 s
  try {
    await new Promise((r) => setTimeout(r, 1100));
    up.out.sock.write(KEEPALIVE_BYTES); // keep the hold timer (3 s) happy
    const pair = await socketPair();
    const fresh = new Peer(pair.theirs);
    up.session.accept(pair.ours);
    await until('old session down', () => up.downs.length === 1);
    assert.deepEqual(up.downs, ['transport']);
    await until('our OPEN on the new connection', () => fresh.has('OPEN'));
    await until('old connection closed', () => up.out.closed);
    fresh.open('10.0.0.2', { holdTime: 3, gr: true });
    fresh.sock.write(KEEPALIVE_BYTES);
    await until('Established again', () => up.session.state === 'Established' && up.established() === 2);
  } finally {
    up.close();
  }
});

void test('collision: the second connection is dumped when the first reached Established meanwhile (the Established one is never replaced)', async () => {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const downs: string[] = [];
  let established = 0;
  const session = new Session(
    {
      name: 'peer',
      peerAddress: '127.0.0.1',
      peerPort: port,
      fsm: { localAs: 64512, localId: ipNum('10.0.0.1'), peerAs: 64512, holdTime: 30, connectRetryTime: 30, idleHoldTime: 30, passive: false, autoRestart: false },
      open: () => ({ type: 'OPEN', version: 4, myAs: 64512, holdTime: 30, bgpId: '10.0.0.1', capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64512 }] }),
    },
    { onEstablished: () => established++, onUpdate: () => undefined, onRouteRefresh: () => undefined, onDown: (_r, c) => downs.push(c) },
  );
  try {
    session.start();
    await until('outgoing connection', () => accepted.length === 1);
    const out = new Peer(accepted[0]!);
    await until('our OPEN', () => out.has('OPEN'));
    out.open('10.0.0.2');
    await until('OpenConfirm (our KEEPALIVE)', () => out.has('KEEPALIVE'));
    // A second connection arrives in OpenConfirm; then the first one completes.
    const pair = await socketPair();
    const inc = new Peer(pair.theirs);
    session.accept(pair.ours);
    await until('our OPEN on the second connection', () => inc.has('OPEN'));
    out.sock.write(KEEPALIVE_BYTES);
    await until('Established', () => session.state === 'Established');
    // Now the peer's OPEN arrives on the second connection (remote id lower: incoming would lose anyway).
    inc.open('10.0.0.2');
    await until('Cease/7 on the second connection', () => inc.notifications().some((n) => n.code === 6 && n.subcode === 7));
    await until('second connection closed', () => inc.closed);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(session.state, 'Established');
    assert.deepEqual(downs, []);
    assert.equal(established, 1);
    assert.equal(out.closed, false);
    assert.deepEqual(out.notifications(), []);
  } finally {
    session.stop();
    server.close();
  }
});

void test('connect refused (peer not listening yet): retried within ~200 ms, not after ConnectRetry (30 s here)', async () => {
  // A port nobody listens on: bind one, note it, close it.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const session = new Session(
    {
      name: 'peer',
      peerAddress: '127.0.0.1',
      peerPort: port,
      fsm: { localAs: 64512, localId: ipNum('10.0.0.1'), peerAs: 64512, holdTime: 30, connectRetryTime: 30, idleHoldTime: 30, passive: false, autoRestart: true },
      open: () => ({ type: 'OPEN', version: 4, myAs: 64512, holdTime: 30, bgpId: '10.0.0.1', capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64512 }] }),
    },
    { onEstablished: () => undefined, onUpdate: () => undefined, onRouteRefresh: () => undefined, onDown: () => undefined },
  );
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  try {
    session.start();
    await until('first attempt refused', () => session.state === 'Active', 2000);
    await new Promise((r) => setTimeout(r, 300)); // a few refusals (100-200, 200-400 ms backoff)
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const t0 = Date.now();
    await until('connection once the peer listens', () => accepted.length === 1, 3000);
    assert.ok(Date.now() - t0 < 3000);
    await until('OpenSent', () => session.state === 'OpenSent');
  } finally {
    session.stop();
    server.close();
    for (const s of accepted) s.destroy();
  }
});

void test('refused-connect backoff: 100-200 ms, doubling up to 250 ms, ConnectRetry after 100 refusals in a row', () => {
  assert.equal(refusedRetryMs(1, 5, 0), 100);
  assert.equal(refusedRetryMs(1, 5, 1), 200);
  assert.equal(refusedRetryMs(2, 5, 0), 200);
  assert.equal(refusedRetryMs(2, 5, 0.5), 250);
  assert.equal(refusedRetryMs(4, 5, 0.5), 250);
  assert.equal(refusedRetryMs(100, 5, 0), 250);
  assert.equal(refusedRetryMs(101, 5, 0), 3750);
  assert.equal(refusedRetryMs(1000, 5, 1), 5000);
  assert.equal(refusedRetryMs(5, 0.2, 1), 200); // never longer than ConnectRetry
  assert.equal(collisionWindowMs(90), 10_000);
  assert.equal(collisionWindowMs(9), 3000);
  assert.equal(collisionWindowMs(0), 10_000);
});
