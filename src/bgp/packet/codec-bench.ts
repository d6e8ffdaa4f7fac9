// Micro-benchmark: decode an UPDATE stream carrying 100,000 IPv4 /24 prefixes (packed as many
// per UPDATE as fit in 4096 bytes, shared attributes), through FrameReader + decodeMessage.
// Run: node src/bgp/packet/codec-bench.ts [prefixCount] [rounds]
// Reports wall time and process CPU time (CPU time is steadier on a shared, loaded machine;
// it includes GC threads, so it can exceed wall time).
// (Lives beside the codec because bench/ belongs to the benchmark rig; move it there freely.)
import { FrameReader, decodeMessage, makePrefix, packAdvertisements, packWithdrawals } from './index.ts';
import type { CodecContext, Prefix } from './index.ts';

const count = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 15);
const ctx: CodecContext = { fourOctetAs: true };

const prefixes: Prefix[] = [];
for (let i = 0; i < count; i++) {
  // 10.0.0.0/24 .. upward, /24 each.
  const v = (10 << 24) + (i << 8);
  prefixes.push(makePrefix(1, new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, 0]), 24));
}
const attrs = {
  origin: 0 as const,
  asPath: [{ type: 2 as const, asns: [64512, 64513] }],
  nextHop: '198.18.0.1',
  localPref: 100,
  communities: [(64512 << 16) | 1],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let t0 = performance.now();
const msgs = packAdvertisements(attrs, { afi: 1 }, prefixes, ctx);
const encodeMs = performance.now() - t0;
const total = msgs.reduce((n, m) => n + m.length, 0);
const stream = new Uint8Array(total);
let off = 0;
for (const m of msgs) {
  stream.set(m, off);
  off += m.length;
}
// Feed in 64 KiB chunks, as a socket would.
const chunks: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));

function decodeAll(): number {
  const fr = new FrameReader();
  let n = 0;
  for (const c of chunks) {
    fr.push(c);
    for (let f = fr.next(); f !== null; f = fr.next()) {
      const r = decodeMessage(f, ctx);
      if (r.message.type === 'UPDATE') n += r.message.nlri.length;
    }
  }
  return n;
}

const times: number[] = [];
const cpuTimes: number[] = [];
for (let r = 0; r < rounds; r++) {
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const n = decodeAll();
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c.user + c.system) / 1000);
  if (n !== count) throw new Error(`decoded ${n} prefixes, expected ${count}`);
}
// Keys into a Map, as the RIB would do.
const mapTimes: number[] = [];
for (let r = 0; r < Math.min(rounds, 5); r++) {
  t0 = performance.now();
  const m = new Map<string, number>();
  const fr = new FrameReader();
  for (const c of chunks) {
    fr.push(c);
    for (let f = fr.next(); f !== null; f = fr.next()) {
      const res = decodeMessage(f, ctx);
      if (res.message.type === 'UPDATE') for (const p of res.message.nlri) m.set(p.key, 1);
    }
  }
  mapTimes.push(performance.now() - t0);
  if (m.size !== count) throw new Error('map size');
}
t0 = performance.now();
const wd = packWithdrawals(1, prefixes, ctx);
const withdrawEncodeMs = performance.now() - t0;

console.log(
  JSON.stringify(
    {
      prefixes: count,
      updates: msgs.length,
      perUpdate: Math.round(count / msgs.length),
      streamBytes: total,
      decodeMsMedian: +median(times).toFixed(2),
      decodeMsMin: +Math.min(...times).toFixed(2),
      decodeCpuMsMedian: +median(cpuTimes).toFixed(2),
      decodePlusMapInsertMsMedian: +median(mapTimes).toFixed(2),
      encodeMsFirstRun: +encodeMs.toFixed(2),
      withdrawEncodeMs: +withdrawEncodeMs.toFixed(2),
      withdrawUpdates: wd.length,
      rounds,
    },
    null,
    1,
  ),
);
