// A scriptable BGP "peer" made of a raw TCP socket opened inside a test namespace (through
// setns, so the test process itself is the peer): it can send anything, including malformed
// messages, and records what the other side answers.
import net from 'node:net';
import { withNetns } from '../../../src/lib/netlink/index.ts';
import { fsm, packet } from '../../../src/bgp/index.ts';

const { connectTcp } = fsm;
const { FrameReader, decodeMessage, encodeMessage, KEEPALIVE_BYTES } = packet;
type BgpMessage = packet.BgpMessage;
type CodecContext = packet.CodecContext;

export type Received = BgpMessage | { type: 'CLOSED' } | { type: 'UNDECODABLE'; error: string };

export class RawPeer {
  readonly sock: net.Socket;
  private readonly reader = new FrameReader();
  private readonly queue: Received[] = [];
  private waiters: Array<() => void> = [];
  ctx: CodecContext = { fourOctetAs: true };
  closed = false;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (b: Buffer) => {
      this.reader.push(b);
      for (let f = this.reader.next(); f; f = this.reader.next()) {
        try {
          this.push(decodeMessage(f, this.ctx).message);
        } catch (err) {
          this.push({ type: 'UNDECODABLE', error: String(err) });
        }
      }
    });
    const closed = (): void => {
      if (this.closed) return;
      this.closed = true;
      this.push({ type: 'CLOSED' });
    };
    sock.on('close', closed);
    sock.on('end', closed);
    sock.on('error', closed);
  }

  private push(m: Received): void {
    this.queue.push(m);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Opens a TCP connection from inside `ns`. */
  static async connect(ns: string, remote: string, opts: { port?: number; local?: string; md5?: string } = {}): Promise<RawPeer> {
    const attempt = withNetns(ns, () => connectTcp({ remoteAddress: remote, remotePort: opts.port ?? 179, localAddress: opts.local, md5: opts.md5, timeoutMs: 5000 }));
    return new RawPeer(await attempt.promise);
  }

  send(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  sendMsg(m: BgpMessage): void {
    this.send(encodeMessage(m, this.ctx));
  }

  /** The next message not of an ignored type (KEEPALIVEs are skipped unless asked for). */
  async next(timeoutMs = 5000, skipKeepalives = true): Promise<Received> {
    const t0 = Date.now();
    for (;;) {
      while (this.queue.length) {
        const m = this.queue.shift()!;
        if (skipKeepalives && m.type === 'KEEPALIVE') continue;
        return m;
      }
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`raw peer: nothing received within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Skips messages until one of `types` arrives (e.g. NOTIFICATION or CLOSED). */
  async until(types: ReadonlyArray<Received['type']>, timeoutMs = 5000): Promise<Received> {
    const t0 = Date.now();
    for (;;) {
      const m = await this.next(Math.max(1, timeoutMs - (Date.now() - t0)));
      if (types.includes(m.type)) return m;
    }
  }

  /** OPEN exchange up to Established (from our side: we sent KEEPALIVE and got one). */
  async handshake(o: { as: number; id: string; hold?: number; afi?: 1 | 2 }): Promise<BgpMessage> {
    this.sendMsg({
      type: 'OPEN',
      version: 4,
      myAs: o.as,
      holdTime: o.hold ?? 90,
      bgpId: o.id,
      capabilities: [
        { kind: 'MULTIPROTOCOL', afi: o.afi ?? 1, safi: 1 },
        { kind: 'FOUR_OCTET_AS', asn: o.as },
      ],
    });
    const open = await this.next();
    if (open.type !== 'OPEN') throw new Error(`raw peer: expected OPEN, got ${JSON.stringify(open)}`);
    this.send(KEEPALIVE_BYTES);
    const ka = await this.next(5000, false);
    if (ka.type !== 'KEEPALIVE') throw new Error(`raw peer: expected KEEPALIVE, got ${JSON.stringify(ka)}`);
    return open;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A BGP message from hex (spaces allowed): marker and length are added. */
export function rawMessage(type: number, bodyHex: string): Uint8Array {
  const body = Buffer.from(bodyHex.replace(/\s+/g, ''), 'hex');
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  body.copy(b, 19);
  return b;
}

/** An UPDATE from hex parts: withdrawn routes, path attributes, NLRI (lengths computed). */
export function rawUpdate(withdrawnHex: string, attrsHex: string, nlriHex: string): Uint8Array {
  const w = withdrawnHex.replace(/\s+/g, '');
  const a = attrsHex.replace(/\s+/g, '');
  const len = (h: string): string => (h.length / 2).toString(16).padStart(4, '0');
  return rawMessage(2, `${len(w)}${w}${len(a)}${a}${nlriHex.replace(/\s+/g, '')}`);
}

/**
 * Packed UPDATEs announcing `count` IPv4 /32s (10.0.0.0, 10.0.0.1, ...) from `as` with `nextHop`:
 * a bulk feed for ingestion measurements (send them with `peer.send(Buffer.concat(msgs))`).
 */
export function bulkIPv4Updates(count: number, as: number, nextHop: string): Uint8Array[] {
  const prefixes: packet.Prefix[] = [];
  for (let i = 0; i < count; i++) prefixes.push(packet.parsePrefix(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`));
  return packet.packAdvertisements({ origin: 0, asPath: [{ type: 2, asns: [as] }] }, { afi: 1, nextHop }, prefixes, { fourOctetAs: true });
}
