// bench/datastore: calico-datastore vs real etcd (/usr/bin/etcd), side by side in one run,
// same client (the etcd3 package), same machine.
//   npm run bench -- datastore [--runs N] [--quick] [--only put1,put64,range64,watch]
//
// Warm-ups (not recorded): 2 × (puts, ranges) per server, and one shorter watch pass per
// server kind, so the client process's code is warm before the first measured run. The
// watch and memory lines run after the throughput lines, with only the measured server up.
// Lines: durable puts/s with 1 client and with 64 clients (spread over 4 client processes),
// ranges/s with 64 clients, watch latency put→event p50/p99 with 1,000 watchers (3,000 sequential
// puts per run), server memory
// per watcher (RSS growth from 1,000 to 5,000 watchers); CPU used by the server and by the
// clients on each throughput line (in cores
// and in ms per operation); the disk's fsync cost; the load average before and after. Each
// line is measured `runs` times (default 3) alternating which server goes first; medians
// reported. The watch and memory lines run on a freshly started server of each kind, so the
// RSS baseline is not inflated by the load lines before (a Go heap grown by the load and
// returned to the OS meanwhile made etcd's growth negative).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { startDatastore, startEtcd, tempDir, type Proc } from '../../test/e2e/datastore-lib/procs.ts';

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) > 0 && args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const QUICK = args.includes('--quick');
const DURATION = QUICK ? 2000 : 5000;
const ONLY = args.includes('--only') ? new Set((args[args.indexOf('--only') + 1] ?? '').split(',')) : null;
const want = (l: 'put1' | 'put64' | 'range64' | 'watch') => !ONLY || ONLY.has(l);
const WORKER = path.join(import.meta.dirname, 'worker.ts');
const NODE = process.execPath;
const CLK = 100; // USER_HZ
const MEM_WATCHERS = 5000;
/**
 * Put → event samples per watch run. The p99 of 1,000 samples is the 10th-slowest round trip,
 * so a few more or fewer fdatasync spikes in a run move it a lot; 3,000 samples (p99 is then
 * the 30th-slowest) give a steadier estimate for a few seconds more per run.
 */
const WATCH_SAMPLES = 3000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

function cpuSeconds(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK; // utime, stime
  } catch {
    return NaN;
  }
}
function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function fsyncCostMs(): number {
  const dir = tempDir('ct-fsync-');
  const f = path.join(dir, 'probe');
  const fd = openSync(f, 'w');
  const buf = Buffer.alloc(4096, 1);
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    writeSync(fd, buf, 0, buf.length, (i % 16) * 4096);
    const t = performance.now();
    fsyncSync(fd);
    times.push(performance.now() - t);
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return median(times);
}

interface LoadResult {
  opsPerSec: number;
  serverCpu: number; // cores
  clientCpu: number; // cores, all client processes
  serverMsPerOp: number;
  clientMsPerOp: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs `procs` worker processes × `perProc` clients against a server; returns throughput and CPU. */
async function load(server: Proc, mode: 'put' | 'range', procs: number, perProc: number, tag: string): Promise<LoadResult> {
  const prefix = `/bench/${tag}/${Date.now()}/`;
  const workers: { child: ChildProcess; out: string }[] = [];
  for (let i = 0; i < procs; i++) {
    const child = spawn(NODE, [WORKER, server.endpoint, mode, String(perProc), String(DURATION), `${prefix}${i}/`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const w = { child, out: '' };
    child.stdout!.on('data', (d: Buffer) => (w.out += d.toString()));
    workers.push(w);
  }
  try {
    await Promise.all(workers.map((w) => waitUntil(() => w.out.includes('ready\n'), 30000, 'worker ready')));
    const s0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    for (const w of workers) w.child.stdin!.write('go\n');
    await Promise.all(workers.map((w) => waitUntil(() => /\{.*\}\n/.test(w.out), DURATION + 30000, 'worker result')));
    const wall = (performance.now() - t0) / 1000;
    const s1 = cpuSeconds(server.pid);
    const results = workers.map((w) => JSON.parse(/\{.*\}/.exec(w.out)![0]) as { ops: number; errors: number; ms: number; cpuMs: number; lat: number[] });
    const ops = results.reduce((a, r) => a + r.ops, 0);
    const secs = Math.max(...results.map((r) => r.ms)) / 1000;
    const lat = results.flatMap((r) => r.lat);
    // client CPU as each worker measured it over its own measured interval (no /proc race
    // with workers that exit as soon as they have printed)
    const clientCpuSec = results.reduce((a, r) => a + r.cpuMs, 0) / 1000;
    return {
      opsPerSec: ops / secs,
      serverCpu: (s1 - s0) / wall,
      clientCpu: clientCpuSec / secs,
      serverMsPerOp: ((s1 - s0) * 1000) / ops,
      clientMsPerOp: (clientCpuSec * 1000) / ops,
      p50: pct(lat, 0.5),
      p99: pct(lat, 0.99),
      errors: results.reduce((a, r) => a + r.errors, 0),
    };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

/**
 * Writes back the page cache (`sync`) before a latency run: the dirty pages a previous run or a
 * just-deleted data directory left would otherwise be flushed by the kernel during the next
 * run, and its fdatasync calls would wait behind them (it was always the first watch run after
 * the load lines, always ours, that had the worst p99).
 */
function settleDisk(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** 1,000 watchers on distinct keys (one client, one stream); sequential puts to random watched keys. */
async function watchBench(server: Proc, nWatchers: number, samples: number): Promise<{ p50: number; p99: number; kibPerWatcher: number }> {
  const c = new Etcd3({ hosts: server.endpoint });
  const putter = new Etcd3({ hosts: server.endpoint, grpcOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  const prefix = `/bench/watch/${Date.now()}/`;
  try {
    await c.put(prefix + 'warm').value('w');
    await putter.put(prefix + 'warm').value('w');
    const pending = new Map<string, (t: number) => void>();
    const watchers = [];
    for (let i = 0; i < nWatchers; i++) {
      const key = `${prefix}${i}`;
      const w = await c.watch().key(key).create();
      w.on('put', () => {
        const t = performance.now();
        const fn = pending.get(key);
        if (fn) {
          pending.delete(key);
          fn(t);
        }
      });
      watchers.push(w);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const lat: number[] = [];
    const traced: number[][] = [];
    // untimed warm-up of the put → event path (the server was just started)
    for (let s = -200; s < samples; s++) {
      const key = `${prefix}${Math.floor(Math.random() * nWatchers)}`;
      const got = new Promise<number>((resolve) => pending.set(key, resolve));
      const t0 = performance.now();
      await putter.put(key).value('x');
      const tPut = performance.now();
      const ms = (await got) - t0;
      if (s >= 0) lat.push(ms);
      if (s >= 0 && process.env.BENCH_WATCH_TRACE) traced.push([t0, tPut - t0, ms]);
    }
    if (process.env.BENCH_WATCH_TRACE) (await import('node:fs')).writeFileSync(`${process.env.BENCH_WATCH_TRACE}.${server.kind}.json`, JSON.stringify({ origin: performance.timeOrigin, samples: traced }));
    // memory: the RSS growth from nWatchers to MEM_WATCHERS watchers, on a server that has
    // served the latency loop (one-time costs, e.g. JIT-compiled code or a first heap
    // step, are behind it for both kinds of server)
    await new Promise((r) => setTimeout(r, 500));
    const rss1 = rssKiB(server.pid);
    for (let i = nWatchers; i < MEM_WATCHERS; i++) watchers.push(await c.watch().key(`${prefix}${i}`).create());
    await new Promise((r) => setTimeout(r, 1000));
    const rss2 = rssKiB(server.pid);
    for (const w of watchers) await w.cancel();
    return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), kibPerWatcher: (rss2 - rss1) / (MEM_WATCHERS - nWatchers) };
  } finally {
    c.close();
    putter.close();
  }
}

type Line = {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  ours: number[];
  etcd: number[];
  oursCpu?: number[];
  etcdCpu?: number[];
  oursClientCpu?: number[];
  etcdClientCpu?: number[];
  oursMs?: number[];
  etcdMs?: number[];
  oursClientMs?: number[];
  etcdClientMs?: number[];
};

const SERVER_ARGS = ['--quota-backend-bytes', String(8 * 1024 ** 3)];
const startOurs = () => startDatastore({ args: SERVER_ARGS });
const startTheirs = () => startEtcd({ extraArgs: SERVER_ARGS });
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const fsync = fsyncCostMs();
  const load0 = loadavg();
  console.log(`datastore bench: ${os.cpus().length} cores, ${RUNS} runs of ${DURATION} ms per throughput line; fsync (4 KiB write + fsync) median ${fsync.toFixed(3)} ms; load average ${load0}`);
  const lines: Record<string, Line> = {};
  const line = (name: string, unit: string, higherIsBetter: boolean) =>
    (lines[name] ??= { name, unit, higherIsBetter, ours: [], etcd: [], oursCpu: [], etcdCpu: [], oursClientCpu: [], etcdClientCpu: [], oursMs: [], etcdMs: [], oursClientMs: [], etcdClientMs: [] });
  const throughput = want('put1') || want('put64') || want('range64');
  const ours = throughput ? await startOurs() : null;
  const etcd = throughput ? await startTheirs() : null;
  try {
    // warm-up, not recorded: JIT (ours) and caches (both) see the same load first
    if (ours && etcd) {
      for (const srv of [ours, etcd]) {
        await load(srv, 'put', 2, 16, 'warm-put');
        await load(srv, 'range', 2, 16, 'warm-range');
      }
    }
    for (let run = 0; run < RUNS; run++) {
      const order: ['ours' | 'etcd', Proc | null][] = run % 2 === 0 ? [['ours', ours], ['etcd', etcd]] : [['etcd', etcd], ['ours', ours]];
      for (const [who, srv] of order) {
        const record = (l: Line, r: LoadResult) => {
          const o = who === 'ours';
          l[who].push(r.opsPerSec);
          l[o ? 'oursCpu' : 'etcdCpu']!.push(r.serverCpu);
          l[o ? 'oursClientCpu' : 'etcdClientCpu']!.push(r.clientCpu);
          l[o ? 'oursMs' : 'etcdMs']!.push(r.serverMsPerOp);
          l[o ? 'oursClientMs' : 'etcdClientMs']!.push(r.clientMsPerOp);
          if (r.errors) console.log(`  (${who}: ${r.errors} errors on ${l.name})`);
        };
        if (srv && want('put1')) record(line('puts/s, 1 client', 'ops/s', true), await load(srv, 'put', 1, 1, `p1${run}`));
        if (srv && want('put64')) record(line('puts/s, 64 clients (4 procs x 16)', 'ops/s', true), await load(srv, 'put', 4, 16, `p64${run}`));
        if (srv && want('range64')) record(line('ranges/s, 64 clients (4 procs x 16)', 'ops/s', true), await load(srv, 'range', 4, 16, `r64${run}`));
        console.log(`  run ${run + 1} ${who} done`);
      }
    }
  } finally {
    await ours?.cleanup();
    await etcd?.cleanup();
  }
  // The watch and memory lines run after the throughput servers are gone, each on a freshly
  // started server of its kind, so no other server's after-load housekeeping (GC, checkpoints)
  // shares the machine with the one measured.
  if (want('watch')) {
    // warm-up, not recorded: the client's own watch code (etcd3's parsing, this process's JIT
    // and heap) is cold the first time, which used to cost whichever server went first
    for (const start of [startOurs, startTheirs]) {
      settleDisk();
      const fresh = await start();
      try {
        await watchBench(fresh, 1000, 300);
      } finally {
        await fresh.cleanup();
      }
    }
    for (let run = 0; run < RUNS; run++) {
      const order: ('ours' | 'etcd')[] = run % 2 === 0 ? ['ours', 'etcd'] : ['etcd', 'ours'];
      for (const who of order) {
        settleDisk();
        const fresh = who === 'ours' ? await startOurs() : await startTheirs();
        try {
          const wb = await watchBench(fresh, 1000, QUICK ? 300 : WATCH_SAMPLES);
          line('watch latency p50, 1,000 watchers', 'ms', false)[who].push(wb.p50);
          line('watch latency p99, 1,000 watchers', 'ms', false)[who].push(wb.p99);
          line(`server memory per watcher (RSS growth from 1,000 to ${MEM_WATCHERS.toLocaleString('en-US')} watchers)`, 'KiB', false)[who].push(wb.kibPerWatcher);
        } finally {
          await fresh.cleanup();
        }
        console.log(`  watch run ${run + 1} ${who} done`);
      }
    }
  }
  const fmt = (v: number, unit: string) => (unit === 'ops/s' ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const pair = (a: number[] | undefined, b: number[] | undefined, digits: number) => (a?.length ? `${median(a).toFixed(digits)} / ${median(b!).toFixed(digits)}` : '');
  const rows: string[] = [];
  rows.push('| line | calico-datastore | etcd 3.4 | ratio (>= 1.0 is at or better than etcd) | server CPU ours / etcd (cores) | client CPU ours / etcd (cores) | server CPU ours / etcd (ms per op) | client CPU ours / etcd (ms per op) |');
  rows.push('|---|---|---|---|---|---|---|---|');
  for (const l of Object.values(lines)) {
    const o = median(l.ours);
    const e = median(l.etcd);
    const ratio = l.higherIsBetter ? o / e : e / o;
    rows.push(
      `| ${l.name} | ${fmt(o, l.unit)} ${l.unit} | ${fmt(e, l.unit)} ${l.unit} | ${ratio.toFixed(2)} | ${pair(l.oursCpu, l.etcdCpu, 2)} | ${pair(l.oursClientCpu, l.etcdClientCpu, 2)} | ${pair(l.oursMs, l.etcdMs, 3)} | ${pair(l.oursClientMs, l.etcdClientMs, 3)} |`,
    );
  }
  console.log('\n' + rows.join('\n'));
  console.log(`\nfsync on this disk: ${fsync.toFixed(3)} ms (both servers fsync every acknowledged write; real disks are slower)`);
  console.log(`load average: ${load0} before, ${loadavg()} after (2 shared cores: only ratios from one run mean much)`);
  console.log(`runs: ${RUNS}, medians; raw: ${JSON.stringify(Object.values(lines).map((l) => ({ name: l.name, ours: l.ours.map((x) => +x.toFixed(3)), etcd: l.etcd.map((x) => +x.toFixed(3)) })))}`);
}

await main();
process.exit(0);
