// Session driver over loopback TCP with a scripted peer: deterministic connection collisions
// (RFC 4271 §6.8) both ways, and the NOTIFICATION the losing connection gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Session, type SessionHandlers } from './session.ts';
import { FrameReader, decodeMessage, encodeMessage, KEEPALIVE_BYTES, type BgpMessage } from '../packet/index.ts';

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
  open(id: string): void {
    this.sock.write(
      encodeMessage(
        { type: 'OPEN', version: 4, myAs: 64512, holdTime: 30, bgpId: id, capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64512 }] },
        { fourOctetAs: true },
      ),
    );
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
  const incoming = await new Promise<{ ours: net.Socket; theirs: net.Socket }>((resolve) => {
    const srv = net.createServer((ours) => {
      srv.close();
      resolve({ ours, theirs });
    });
    let theirs: net.Socket;
    srv.listen(0, '127.0.0.1', () => {
      theirs = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    });
  });
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
