// Micro-benchmark of the RIB alone (no codec, no sockets, no kernel): 100,000 IPv4 prefixes
// from one eBGP peer in UPDATE-sized batches, best path out (kernel changes drained), and
// optionally the Adj-RIB-Out towards other peers. Not a test: run it directly,
//   node --expose-gc src/bgp/rib/rib-bench.ts [prefixes] [runs]
// The end-to-end comparison with BIRD/GoBGP lives in bench/bgp.

import { Rib } from './rib.ts';
import type { RouteAttrs } from './attrs.ts';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 7);
const BATCH = 900; // ~ prefixes per 4096-byte UPDATE of /24s

const prefixes: { key: string }[] = [];
for (let i = 0; i < N; i++) prefixes.push({ key: `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24` });

function session(n: number) {
  return { routerId: `10.0.0.${n}`, localAddress: '198.18.0.1', families: ['ipv4' as const] };
}

interface Result {
  readonly load: number;
  readonly drainKernel: number;
  readonly drainPeers: number;
  readonly withdraw: number;
  readonly kernelChanges: number;
  readonly updates: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function run(exportPeers: number, distinctAttrsEvery: number, batch = BATCH): Result {
  gc?.(); // collect earlier runs' RIBs outside the timed part (run with --expose-gc)
  const rib = new Rib({ routerId: '198.18.0.1', localAs: 64512 });
  rib.addPeer({ id: 'src', address: '198.18.0.2', peerAs: 65001 });
  rib.peerEstablished('src', session(2), 0);
  for (let i = 0; i < exportPeers; i++) {
    const ibgp = i % 2 === 0;
    rib.addPeer({ id: `p${i}`, address: `198.18.1.${i + 1}`, peerAs: ibgp ? 64512 : 65100 + i });
    rib.peerEstablished(`p${i}`, session(100 + i), 0);
    rib.takeUpdates(`p${i}`);
  }
  rib.takeKernelChanges();
  const attrsFor = (batch: number): RouteAttrs => ({
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 65002] }],
    nextHop: '198.18.0.2',
    med: distinctAttrsEvery > 0 ? batch % distinctAttrsEvery : 0,
  });
  const t0 = process.cpuUsage();
  for (let i = 0, b = 0; i < N; i += batch, b++) rib.update('src', { announced: prefixes.slice(i, i + batch), attrs: attrsFor(b) });
  const t1 = process.cpuUsage(t0);
  const k = rib.takeKernelChanges();
  const t2 = process.cpuUsage(t0);
  let updates = 0;
  for (let i = 0; i < exportPeers; i++) updates += rib.takeUpdates(`p${i}`).length;
  const t3 = process.cpuUsage(t0);
  for (let i = 0; i < N; i += batch) rib.update('src', { withdrawn: prefixes.slice(i, i + batch) });
  rib.takeKernelChanges();
  for (let i = 0; i < exportPeers; i++) rib.takeUpdates(`p${i}`);
  const t4 = process.cpuUsage(t0);
  const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  if (rib.prefixCount !== 0) throw new Error('withdraw left prefixes behind');
  return { load: ms(t1), drainKernel: ms(t2) - ms(t1), drainPeers: ms(t3) - ms(t2), withdraw: ms(t4) - ms(t3), kernelChanges: k.length, updates };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const scenarios: { name: string; peers: number; distinct: number; batch?: number }[] = [
  { name: 'best path only (no other peers)', peers: 0, distinct: 0 },
  { name: 'worst case: 1 prefix per UPDATE, all distinct', peers: 0, distinct: 1e9, batch: 1 },
  { name: '+ Adj-RIB-Out to 2 peers (iBGP, eBGP)', peers: 2, distinct: 0 },
  { name: '+ Adj-RIB-Out to 10 peers', peers: 10, distinct: 0 },
  { name: '2 peers, 50 distinct attribute sets', peers: 2, distinct: 50 },
];

console.log(`RIB micro-benchmark: ${N} IPv4 prefixes from one eBGP peer, batches of ${BATCH}, median (and min) of ${RUNS} runs, CPU ms${gc ? '' : ' [no --expose-gc: includes collecting earlier runs]'}`);
run(0, 0); // warm-up
for (const s of scenarios) {
  const rs: Result[] = [];
  for (let r = 0; r < RUNS; r++) rs.push(run(s.peers, s.distinct, s.batch));
  const m = (f: (r: Result) => number) => `${median(rs.map(f)).toFixed(1)} (min ${Math.min(...rs.map(f)).toFixed(1)})`;
  console.log(
    `${s.name.padEnd(48)} load+best ${m((r) => r.load).padStart(16)}  kernel drain ${m((r) => r.drainKernel).padStart(16)}  ` +
      `peer drain ${m((r) => r.drainPeers).padStart(16)}  total-in ${m((r) => r.load + r.drainKernel + r.drainPeers).padStart(16)}  ` +
      `withdraw-all ${m((r) => r.withdraw).padStart(16)}  (${rs[0]!.kernelChanges} kernel changes, ${rs[0]!.updates} update units)`,
  );
}

// Route reflector: C clients (iBGP, rrClient), each announcing one /26; every route is reflected
// to every other client.
function rr(clients: number): { inMs: number; drainMs: number; units: number; heapMB: number } {
  gc?.();
  const m0 = process.memoryUsage().heapUsed;
  const rib = new Rib({ routerId: '198.18.0.1', localAs: 64512 });
  const addr = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < clients; i++) {
    rib.addPeer({ id: `c${i}`, address: addr(i), peerAs: 64512, rrClient: true });
    rib.peerEstablished(`c${i}`, { routerId: addr(i), localAddress: '198.18.0.1', families: ['ipv4'] }, 0);
    rib.takeUpdates(`c${i}`);
  }
  const t0 = process.cpuUsage();
  for (let i = 0; i < clients; i++) {
    rib.update(`c${i}`, { announced: [{ key: `10.${64 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26` }], attrs: { origin: 0, asPath: [], nextHop: addr(i), localPref: 100 } });
  }
  const t1 = process.cpuUsage(t0);
  let units = 0;
  for (let i = 0; i < clients; i++) units += rib.takeUpdates(`c${i}`).length;
  const t2 = process.cpuUsage(t0);
  const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  gc?.();
  const heapMB = (process.memoryUsage().heapUsed - m0) / 1e6;
  if (rib.prefixCount !== clients) throw new Error('lost routes');
  return { inMs: ms(t1), drainMs: ms(t2) - ms(t1), units, heapMB };
}

for (const c of [500, 1000]) {
  const rs = Array.from({ length: Math.max(1, Math.floor(RUNS / 2)) }, () => rr(c));
  console.log(
    `route reflector, ${c} clients x 1 /26: in+reflect ${median(rs.map((r) => r.inMs)).toFixed(1)} ms, ` +
      `drain ${median(rs.map((r) => r.drainMs)).toFixed(1)} ms (${rs[0]!.units} update units), retained heap ${median(rs.map((r) => r.heapMB)).toFixed(0)} MB`,
  );
}
