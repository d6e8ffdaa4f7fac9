// The benchmark's BGP sender: a minimal eBGP speaker that pre-encodes N IPv4 /32 prefixes into
// full-size UPDATEs, then, on "GO" from stdin, connects to the receiver, completes OPEN/KEEPALIVE
// and writes every UPDATE (plus End-of-RIB) in one go. It prints, on stdout:
//   READY                        after pre-encoding
//   ESTABLISHED <monotonic ns>   when the receiver's KEEPALIVE arrives (session Established)
//   SENT <monotonic ns>          when the kernel has taken the last byte
// Identical for every receiver, and it starts sending within microseconds of Established, so
// the measurement is the receiver's ingestion + kernel install only. Runs inside the sender's
// netns (`ip netns exec`). Keeps the session up (KEEPALIVEs) until stdin closes.
//
// usage: node sender.ts --peer IP --local IP --as N --peer-as N --first IP --count N [--hold 90]
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    peer: { type: 'string' }, local: { type: 'string' }, as: { type: 'string' }, 'peer-as': { type: 'string' },
    first: { type: 'string' }, count: { type: 'string' }, hold: { type: 'string', default: '90' },
    'next-hop': { type: 'string' }, port: { type: 'string', default: '179' },
  },
});
function need(name: keyof typeof a): string {
  const v = a[name];
  if (typeof v !== 'string') { process.stderr.write(`sender: missing --${name}\n`); process.exit(2); }
  return v;
}
const ip4 = (s: string): number => {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) { process.stderr.write(`sender: bad IPv4 address ${s}\n`); process.exit(2); }
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
};
const peer = need('peer');
const local = need('local');
const myAs = Number(need('as'));
const count = Number(need('count'));
const first = ip4(need('first'));
const hold = Number(a.hold);
const nextHop = ip4(a['next-hop'] ?? local);
const port = Number(a.port);

function header(len: number, type: number): Buffer {
  const b = Buffer.alloc(19, 0xff);
  b.writeUInt16BE(len, 16);
  b[18] = type;
  return b;
}
function msg(type: number, body: Buffer): Buffer {
  return Buffer.concat([header(19 + body.length, type), body]);
}

function open(): Buffer {
  const caps = Buffer.from([
    1, 4, 0, 1, 0, 1, // multiprotocol IPv4 unicast
    65, 4, 0, 0, 0, 0, // 4-octet AS (filled below)
    2, 0, // route refresh
  ]);
  caps.writeUInt32BE(myAs, 8);
  const body = Buffer.alloc(10);
  body[0] = 4;
  body.writeUInt16BE(myAs > 65535 ? 23456 : myAs, 1);
  body.writeUInt16BE(hold, 3);
  body.writeUInt32BE(ip4(local), 5);
  body[9] = 2 + caps.length;
  return msg(1, Buffer.concat([body, Buffer.from([2, caps.length]), caps]));
}
const KEEPALIVE = header(19, 4);

function updates(): Buffer {
  const attrs = Buffer.alloc(4 + 9 + 7);
  let o = 0;
  attrs.set([0x40, 1, 1, 0], o); o += 4; // ORIGIN IGP
  attrs.set([0x40, 2, 6, 2, 1], o); o += 5; attrs.writeUInt32BE(myAs, o); o += 4; // AS_PATH [myAs]
  attrs.set([0x40, 3, 4], o); o += 3; attrs.writeUInt32BE(nextHop, o); // NEXT_HOP
  const perMsg = Math.floor((4096 - 19 - 4 - attrs.length) / 5);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i += perMsg) {
    const n = Math.min(perMsg, count - i);
    const body = Buffer.alloc(4 + attrs.length + 5 * n);
    body.writeUInt16BE(0, 0);
    body.writeUInt16BE(attrs.length, 2);
    attrs.copy(body, 4);
    let p = 4 + attrs.length;
    for (let k = 0; k < n; k++) {
      body[p] = 32;
      body.writeUInt32BE((first + i + k) >>> 0, p + 1);
      p += 5;
    }
    out.push(msg(2, body));
  }
  out.push(msg(2, Buffer.from([0, 0, 0, 0]))); // End-of-RIB (IPv4 unicast)
  return Buffer.concat(out);
}

const blob = updates();
const openMsg = open();
process.stdout.write('READY\n');

let started = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (!started && d.includes('GO')) { started = true; connect(Date.now() + 30_000); }
});
process.stdin.on('end', () => process.exit(0));

function connect(deadline: number): void {
  const s = net.connect({ host: peer, port, localAddress: local });
  let buf: Buffer = Buffer.alloc(0);
  let gotOpen = false;
  let established = false;
  let ka: NodeJS.Timeout | undefined;
  s.setNoDelay(true);
  s.on('connect', () => { s.write(openMsg); });
  s.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 19) {
      const len = buf.readUInt16BE(16);
      if (len < 19 || len > 65535) { process.stderr.write(`sender: bad message length ${len}\n`); process.exit(1); }
      if (buf.length < len) break;
      const type = buf[18]!;
      const body = buf.subarray(19, len);
      buf = buf.subarray(len);
      if (type === 1) {
        gotOpen = true;
        s.write(KEEPALIVE);
      } else if (type === 4 && gotOpen && !established) {
        established = true;
        process.stdout.write(`ESTABLISHED ${process.hrtime.bigint()}\n`);
        s.write(blob, () => process.stdout.write(`SENT ${process.hrtime.bigint()}\n`));
        ka = setInterval(() => s.write(KEEPALIVE), Math.max(1, hold / 3) * 1000);
      } else if (type === 3) {
        process.stderr.write(`sender: NOTIFICATION from peer: code ${body[0]} subcode ${body[1]}\n`);
        process.exit(1);
      }
    }
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (established) { process.stderr.write(`sender: session error: ${e.message}\n`); process.exit(1); }
    if (Date.now() > deadline) { process.stderr.write(`sender: cannot connect to ${peer}:${port}: ${e.message}\n`); process.exit(1); }
    setTimeout(() => connect(deadline), 20);
  });
  s.on('close', () => {
    if (ka) clearInterval(ka);
    if (established) { process.stderr.write('sender: peer closed the session\n'); process.exit(1); }
  });
}
