// `npm run bench -- bgp [--runs 5] [--prefixes 100000] [--only netlink,bird,gobgp,ours,mesh,mesh-bundle] [--settle-ms 3000] [--record]`
//
// In network namespaces: one sender (bench/bgp/sender.ts) announces N IPv4 /32 prefixes over
// eBGP to a receiver; we measure the time from Established until all N are in the receiver's
// kernel table (BIRD 2, our speaker) or its RIB (GoBGP), and the receiver's RSS growth.
// Also: our netlink writer vs `ip -batch` for N routes, and a 20-node full mesh of our speakers.
// Prefixes: /32s counted up from 198.18.16.0 (N=100k ends at 198.19.150.159); the sender-receiver
// link is 198.19.255.0/30, outside that block.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NetlinkRoutes, countIPv4Routes } from '../../src/lib/netlink/index.ts';
import type { Route } from '../../src/lib/netlink/index.ts';
import { Lab, median, rssKiB, sh, sleep, intToIpv4, ipv4ToInt } from './lab.ts';
import type { Proc } from './lab.ts';
import { runMesh } from './mesh.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = process.execPath;
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    prefixes: { type: 'string', default: '100000' },
    only: { type: 'string', default: 'netlink,bird,gobgp,ours,mesh,mesh-bundle' },
    'mesh-nodes': { type: 'string', default: '20' },
    record: { type: 'boolean', default: false },
    /** Settled memory is sampled this long after completion. */
    'settle-ms': { type: 'string', default: '3000' },
    /** Write a V8 CPU profile of our speaker per run into this directory (node --cpu-prof). */
    profile: { type: 'string' },
    /** Extra NODE_OPTIONS for our speaker (experiments with V8 flags; recorded figures run without). */
    'node-options': { type: 'string' },
    /** Take a V8 heap snapshot of our speaker after each run into this directory. */
    'heap-snapshot': { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const N = Number(args.prefixes);
const ONLY = new Set(args.only.split(','));
const FIRST = '198.18.16.0';
const S_IP = '198.19.255.1', R_IP = '198.19.255.2';
const S_AS = 64512, R_AS = 64513;
/** The settled figure: RSS this long after completion. */
const SETTLE_MS = Number(args['settle-ms']);

type Receiver = 'bird' | 'gobgp' | 'ours';
interface RunResult { ms: number; rssGrowthKiB: number; settledKiB: number; baseRssKiB: number; ok: boolean; note?: string }

function log(s: string): void { process.stderr.write(`${s}\n`); }

// ------------------------------------------------------------------ receivers

async function startReceiver(lab: Lab, kind: Receiver, ns: string): Promise<{ proc: Proc; count: () => Promise<number> | number }> {
  const dir = lab.dir;
  if (kind === 'bird') {
    const conf = path.join(dir, 'bird-r.conf');
    writeFileSync(conf, `router id ${R_IP};
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp sender { local ${R_IP} as ${R_AS}; neighbor ${S_IP} as ${S_AS}; passive on; hold time 90;
  ipv4 { import all; export none; }; }
`);
    const sock = path.join(dir, 'bird-r.ctl');
    const proc = lab.start(ns, ['bird', '-f', '-c', conf, '-s', sock, '-P', path.join(dir, 'bird-r.pid')]);
    for (let i = 0; i < 500 && !existsSync(sock); i++) await sleep(10);
    if (!existsSync(sock)) throw new Error(`BIRD did not start: ${proc.stderr.join('')}`);
    const base = countIPv4Routes(proc.pid);
    return { proc, count: () => countIPv4Routes(proc.pid) - base };
  }
  if (kind === 'gobgp') {
    const conf = path.join(dir, 'gobgpd.toml');
    writeFileSync(conf, `[global.config]
  as = ${R_AS}
  router-id = "${R_IP}"
  local-address-list = ["${R_IP}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${S_IP}"
    peer-as = ${S_AS}
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`);
    const proc = lab.start(ns, ['gobgpd', '-f', conf, '--api-hosts', '127.0.0.1:50051', '-l', 'warn', '--pprof-disable']);
    const q = () => JSON.parse(sh('ip', ['netns', 'exec', ns, 'gobgp', '-p', '50051', 'neighbor', S_IP, '-j'])) as {
      state?: { afi_safis?: { state?: { accepted?: number; received?: number } }[] }; afi_safis?: { state?: { accepted?: number } }[];
    };
    for (let i = 0; ; i++) {
      try { q(); break; } catch (e) { if (i > 300) throw e; await sleep(20); }
    }
    return {
      proc,
      count: () => {
        const j = q();
        const afs = j.afi_safis ?? j.state?.afi_safis ?? [];
        return afs.reduce((s, x) => s + (x.state?.accepted ?? 0), 0);
      },
    };
  }
  // ours
  const conf = path.join(dir, 'calico-bgp.json');
  writeFileSync(conf, JSON.stringify({
    asNumber: R_AS, routerId: R_IP, listenAddress: R_IP, logLevel: 'warn',
    peers: [{ address: S_IP, asNumber: S_AS, passive: true }],
    statusFile: path.join(dir, 'ours-status.json'),
  }, null, 2));
  const nodeOptions = [
    ...(args['node-options'] ? [args['node-options']] : []),
    ...(args.profile ? [`--cpu-prof --cpu-prof-dir=${path.resolve(args.profile)}`] : []),
    ...(args['heap-snapshot'] ? [`--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${path.resolve(args['heap-snapshot'])}`] : []),
  ];
  const env = nodeOptions.length ? { ...process.env, NODE_OPTIONS: nodeOptions.join(' ') } : process.env;
  const proc = lab.start(ns, [path.join(ROOT, 'bin/calico-bgp'), '--config', conf], { env });
  // Ready when it listens on 179 in the netns.
  for (let i = 0; ; i++) {
    if (proc.exited) throw new Error(`calico-bgp exited: ${proc.stderr.join('').slice(-600)}`);
    const ss = sh('ip', ['netns', 'exec', ns, 'ss', '-ltnH', 'sport', '=', ':179']);
    if (ss.trim()) break;
    if (i > 500) throw new Error(`calico-bgp does not listen on :179 after 10 s: ${proc.stderr.join('').slice(-600)}`);
    await sleep(20);
  }
  const base = countIPv4Routes(proc.pid);
  return { proc, count: () => countIPv4Routes(proc.pid) - base };
}

async function runOnce(kind: Receiver, run: number): Promise<RunResult> {
  const lab = new Lab(kind === 'bird' ? 'cbb' : kind === 'gobgp' ? 'cbg' : 'cbo');
  try {
    const s = lab.addNetns(`${lab.id}s`), r = lab.addNetns(`${lab.id}r`);
    lab.link(s, `${lab.id}a`, `${S_IP}/30`, r, `${lab.id}b`, `${R_IP}/30`);
    const sender = lab.start(s, [NODE, path.join(import.meta.dirname, 'sender.ts'), '--peer', R_IP, '--local', S_IP,
      '--as', String(S_AS), '--peer-as', String(R_AS), '--first', FIRST, '--count', String(N)]);
    await sender.waitLine(/^READY$/, 30_000);
    const rx = await startReceiver(lab, kind, r);
    // GoBGP's RIB count comes from a gRPC poller inside the netns, started before the clock runs.
    const poller = kind === 'gobgp' ? lab.start(r, [NODE, path.join(import.meta.dirname, 'gobgp-poll.ts'), '--want', String(N)]) : null;
    if (poller) await poller.waitLine(/^READY$/, 30_000);
    await sleep(300); // let the receiver settle before taking its idle RSS
    const baseRss = rssKiB(rx.proc.pid);
    sender.child.stdin?.write('GO\n');
    const est = await sender.waitLine(/^ESTABLISHED (\d+)$/, 30_000);
    const t0 = BigInt(est[1]!);
    const deadline = Date.now() + 120_000;
    const fail = (note: string): RunResult => ({ ms: NaN, rssGrowthKiB: NaN, settledKiB: NaN, baseRssKiB: baseRss, ok: false, note });
    let n = 0;
    let doneAt: bigint | undefined;
    if (poller) {
      // A poller inside the netns asks GoBGP's gRPC API (GetTable) every 5 ms.
      try {
        const done = await poller.waitLine(/^DONE (\d+) (\d+)$/, 120_000);
        doneAt = BigInt(done[1]!);
        n = Number(done[2]);
      } catch (e) {
        return fail(`GoBGP did not reach ${N}: ${(e as Error).message}`);
      }
    } else {
      // Kernel receivers: a one-route lookup of the last prefix (microseconds in the kernel) every
      // 2 ms; once it is there, confirm the full count with fib_triestat (which walks the trie and
      // would slow the installer down if polled constantly).
      const last = intToIpv4(ipv4ToInt(FIRST) + N - 1);
      const probe = NetlinkRoutes.open({ netns: r });
      try {
        let seenLast = false;
        for (;;) {
          if (!seenLast) {
            const hit = await probe.lookup(last);
            seenLast = hit !== null && hit.dst === `${last}/32`;
          }
          if (seenLast) {
            n = await rx.count();
            if (n >= N) break;
          }
          if (rx.proc.exited) return fail(`receiver exited: ${rx.proc.stderr.join('').slice(-300)}`);
          if (sender.exited) return fail(`sender exited: ${sender.stderr.join('').slice(-300)}`);
          if (Date.now() > deadline) return fail(`only ${await rx.count()}/${N} after 120 s`);
          await sleep(seenLast ? 20 : 2);
        }
      } finally {
        probe.close();
      }
    }
    const t1 = doneAt ?? process.hrtime.bigint();
    const ms = Number(t1 - t0) / 1e6;
    // Peak: max of RSS at completion and 500 ms later. Settled: RSS SETTLE_MS after completion
    // (same rule for every receiver). Sampled every 250 ms in between for the log.
    const rss1 = rssKiB(rx.proc.pid);
    const samples: number[] = [rss1];
    const tDone = Date.now();
    let rss2 = rss1;
    for (let t = 250; t <= SETTLE_MS; t += 250) {
      await sleep(Math.max(0, tDone + t - Date.now()));
      const v = rssKiB(rx.proc.pid);
      samples.push(v);
      if (t === 500) rss2 = v;
    }
    const growth = Math.max(rss1, rss2) - baseRss;
    const settled = samples.at(-1)! - baseRss;
    if (kind === 'ours' && args['heap-snapshot']) {
      const dir = path.resolve(args['heap-snapshot']);
      const before = new Set(readdirSync(dir));
      process.kill(rx.proc.pid, 'SIGUSR2');
      for (let i = 0; i < 600; i++) {
        await sleep(100);
        const f = readdirSync(dir).find((x) => !before.has(x) && x.endsWith('.heapsnapshot'));
        if (f && statSync(path.join(dir, f)).size > 0 && i > 20) { await sleep(2000); break; }
      }
    }
    log(`  ${kind} run ${run}: ${ms.toFixed(0)} ms, RSS ${baseRss >> 10} -> peak ${Math.max(rss1, rss2) >> 10} MiB (+${(growth / 1024).toFixed(1)} MiB), settled +${(settled / 1024).toFixed(1)} MiB; every 250 ms (MiB): ${samples.map((x) => (x / 1024).toFixed(0)).join(' ')}`);
    return { ms, rssGrowthKiB: growth, settledKiB: settled, baseRssKiB: baseRss, ok: true };
  } finally {
    await lab.cleanup();
    lab.removeDir();
  }
}

// ------------------------------------------------------------------ netlink vs ip -batch

function routesFor(n: number, gw: string): Route[] {
  const out: Route[] = new Array(n);
  const f = ipv4ToInt(FIRST);
  for (let i = 0; i < n; i++) out[i] = { dst: `${intToIpv4(f + i)}/32`, gateway: gw };
  return out;
}

async function netlinkVsIp(): Promise<{ netlink: number[]; ip: number[]; netlinkDel: number[]; ipDel: number[]; nh: number[]; nhDel: number[] }> {
  const res = { netlink: [] as number[], ip: [] as number[], netlinkDel: [] as number[], ipDel: [] as number[], nh: [] as number[], nhDel: [] as number[] };
  const lab = new Lab('cbn');
  const batchFile = path.join(lab.dir, 'routes.batch');
  const delFile = path.join(lab.dir, 'routes-del.batch');
  const f = ipv4ToInt(FIRST);
  let add = '', del = '';
  for (let i = 0; i < N; i++) {
    add += `route add ${intToIpv4(f + i)}/32 via 198.19.255.2 proto 80\n`;
    del += `route del ${intToIpv4(f + i)}/32 proto 80\n`;
  }
  writeFileSync(batchFile, add);
  writeFileSync(delFile, del);
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const which of run % 2 ? ['netlink', 'ip', 'nh'] as const : ['nh', 'ip', 'netlink'] as const) {
        const ns = lab.addNetns(`${lab.id}${which[0]}${run}`);
        const peerNs = lab.addNetns(`${lab.id}p${run}${which[0]}`);
        lab.link(ns, `${lab.id}a`, '198.19.255.1/30', peerNs, `${lab.id}b`, '198.19.255.2/30');
        if (which === 'ip') {
          let t = performance.now();
          sh('ip', ['-n', ns, '-batch', batchFile]);
          res.ip.push(performance.now() - t);
          const c = countIPv4Routes(ns);
          if (c < N) throw new Error(`ip -batch installed ${c} < ${N}`);
          t = performance.now();
          sh('ip', ['-n', ns, '-batch', delFile]);
          res.ipDel.push(performance.now() - t);
        } else if (which === 'nh') {
          // Same writer, routes on one shared nexthop object (needs the device named).
          const routes = routesFor(N, '198.19.255.2').map((r) => ({ ...r, dev: `${lab.id}a` }));
          let t = performance.now();
          const nl = NetlinkRoutes.open({ netns: ns, nexthopObjects: true });
          const r = await nl.apply({ add: routes });
          res.nh.push(performance.now() - t);
          if (r.errors.length || countIPv4Routes(ns) < N) throw new Error(`netlink (nexthop objects): ${r.errors.length} errors, e.g. ${r.errors[0]?.message}`);
          t = performance.now();
          const d = await nl.apply({ del: routes });
          res.nhDel.push(performance.now() - t);
          if (d.errors.length) throw new Error(`netlink (nexthop objects) del: ${d.errors.length} errors, e.g. ${d.errors[0]?.message}`);
          nl.close();
        } else {
          const routes = routesFor(N, '198.19.255.2');
          let t = performance.now();
          const nl = NetlinkRoutes.open({ netns: ns });
          const r = await nl.apply({ add: routes });
          res.netlink.push(performance.now() - t);
          if (r.errors.length || countIPv4Routes(ns) < N) throw new Error(`netlink: ${r.errors.length} errors, e.g. ${r.errors[0]?.message}`);
          t = performance.now();
          const d = await nl.apply({ del: routes });
          res.netlinkDel.push(performance.now() - t);
          if (d.errors.length) throw new Error(`netlink del: ${d.errors.length} errors, e.g. ${d.errors[0]?.message}`);
          nl.close();
        }
        const [a, d] = which === 'ip' ? [res.ip, res.ipDel] : which === 'nh' ? [res.nh, res.nhDel] : [res.netlink, res.netlinkDel];
        log(`  netlink-vs-ip run ${run} ${which}: add ${a.at(-1)!.toFixed(0)} ms, del ${d.at(-1)!.toFixed(0)} ms`);
        await lab.cleanup();
      }
    }
  } finally {
    await lab.cleanup();
    lab.removeDir();
  }
  return res;
}

// ------------------------------------------------------------------ main

function fmt(x: number, d = 0): string { return Number.isFinite(x) ? x.toFixed(d) : 'n/a'; }

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { log('bench bgp: needs root (network namespaces)'); process.exit(2); }
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const receive: string[] = [];
  const mesh: string[] = [];
  let lines = receive;
  const out = (s: string) => { lines.push(s); process.stdout.write(`${s}\n`); };
  process.stdout.write(`bench bgp: ${N} IPv4 /32 prefixes, ${RUNS} runs each, medians (${date}, ${sh('uname', ['-r']).trim()}, ${sh('nproc', []).trim()} cores)\n`);

  if (ONLY.has('netlink')) {
    log('netlink writer vs ip -batch ...');
    const r = await netlinkVsIp();
    const [nl, ip, nld, ipd, nh, nhd] = [median(r.netlink), median(r.ip), median(r.netlinkDel), median(r.ipDel), median(r.nh), median(r.nhDel)];
    out('');
    out(`kernel route install, ${N} routes into a netns | ours (netlink) | ours (netlink, nexthop objects) | ip -batch | ratios ours/ip -batch`);
    out('---|---|---|---|---');
    out(`add (incl. socket open / process start) | ${fmt(nl)} ms | ${fmt(nh)} ms | ${fmt(ip)} ms | ${fmt(nl / ip, 2)}, ${fmt(nh / ip, 2)}`);
    out(`delete | ${fmt(nld)} ms | ${fmt(nhd)} ms | ${fmt(ipd)} ms | ${fmt(nld / ipd, 2)}, ${fmt(nhd / ipd, 2)}`);
    out(`runs (add): netlink ${r.netlink.map((x) => fmt(x)).join(', ')}; nexthop objects ${r.nh.map((x) => fmt(x)).join(', ')}; ip ${r.ip.map((x) => fmt(x)).join(', ')}`);
  }

  const kinds = (['bird', 'gobgp', 'ours'] as const).filter((k) => ONLY.has(k));
  if (kinds.length) {
    const res = new Map<Receiver, RunResult[]>(kinds.map((k) => [k, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const k of kinds) {
        log(`receiver ${k}, run ${run} ...`);
        let rr: RunResult;
        try {
          rr = await runOnce(k, run);
        } catch (e) {
          rr = { ms: NaN, rssGrowthKiB: NaN, settledKiB: NaN, baseRssKiB: NaN, ok: false, note: (e as Error).message.slice(0, 300) };
        }
        if (!rr.ok) log(`  ${k} run ${run} FAILED: ${rr.note}`);
        res.get(k)!.push(rr);
      }
    }
    const med = (k: Receiver, f: (r: RunResult) => number) => median(res.get(k)!.filter((r) => r.ok).map(f));
    out('');
    const settleS = (SETTLE_MS / 1000).toFixed(SETTLE_MS % 1000 ? 1 : 0);
    out(`eBGP receive of ${N} prefixes, Established -> all in kernel (GoBGP: in RIB) | time | RSS idle | peak RSS growth | peak B/route | settled RSS growth (+${settleS} s) | settled B/route | ok runs`);
    out('---|---|---|---|---|---|---|---');
    for (const k of kinds) {
      const ms = med(k, (r) => r.ms), g = med(k, (r) => r.rssGrowthKiB), b = med(k, (r) => r.baseRssKiB), st = med(k, (r) => r.settledKiB);
      const okRuns = res.get(k)!.filter((r) => r.ok).length;
      const label = k === 'bird' ? 'BIRD 2 (kernel)' : k === 'gobgp' ? 'GoBGP (RIB only)' : 'calico-bgp (ours, kernel)';
      out(`${label} | ${fmt(ms)} ms | ${fmt(b / 1024, 1)} MiB | ${fmt(g / 1024, 1)} MiB | ${fmt((g * 1024) / N)} | ${fmt(st / 1024, 1)} MiB | ${fmt((st * 1024) / N)} | ${okRuns}/${RUNS}`);
    }
    const ratios = (k: Receiver) =>
      `time ${fmt(med(k, (r) => r.ms) / med('bird', (r) => r.ms), 2)}, memory per route settled ${fmt(med(k, (r) => r.settledKiB) / med('bird', (r) => r.settledKiB), 2)}, peak ${fmt(med(k, (r) => r.rssGrowthKiB) / med('bird', (r) => r.rssGrowthKiB), 2)}`;
    if (res.has('ours') && res.has('bird')) out(`ratio ours/BIRD: ${ratios('ours')} (goals: time <= 1.5; memory per route <= 2, judged on the settled figure)`);
    if (res.has('gobgp') && res.has('bird')) out(`ratio GoBGP/BIRD: ${ratios('gobgp')}`);
    for (const k of kinds) {
      const fails = res.get(k)!.filter((r) => !r.ok);
      if (fails.length) out(`${k}: ${fails.length} failed run(s): ${fails[0]!.note}`);
      out(`runs ${k}: ${res.get(k)!.map((r) => (r.ok ? fmt(r.ms) : 'fail')).join(', ')} ms`);
    }
  }

  lines = mesh;
  if (ONLY.has('mesh')) {
    log('full mesh (bin/calico-bgp, TypeScript sources) ...');
    const m = await runMesh({ nodes: Number(args['mesh-nodes']), runs: RUNS, speaker: [path.join(ROOT, 'bin/calico-bgp')], label: 'as shipped', log });
    out('');
    for (const l of m) out(l);
  }
  if (ONLY.has('mesh-bundle')) {
    // Same speaker bundled by esbuild into one .mjs: start-up without per-file type stripping.
    const { build } = await import('esbuild');
    const outfile = path.join(ROOT, '.tmp/bench-bgp/calico-bgp.mjs');
    const common = { bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' } as const;
    await build({ ...common, entryPoints: [path.join(ROOT, 'src/cmd/calico-bgp.ts')], outfile });
    // The speaker starts its kernel writer as a worker from `./kernel-worker-main.ts` next to
    // its module: give the bundle one there too (bundled JS is valid input for type stripping).
    const worker = path.join(ROOT, 'src/bgp/server/kernel-worker-main.ts');
    if (existsSync(worker)) await build({ ...common, entryPoints: [worker], outfile: path.join(path.dirname(outfile), 'kernel-worker-main.ts') });
    log('full mesh (esbuild bundle) ...');
    const m = await runMesh({ nodes: Number(args['mesh-nodes']), runs: RUNS, speaker: [NODE, outfile], label: 'bundled (esbuild)', log });
    out('');
    for (const l of m) out(l);
  }

  if (args.record) record(date, receive.length ? receive : null, mesh.length ? mesh : null);
}

const RECEIVE_HEADING = '### 100k-prefix eBGP receive and kernel install';
const MESH_HEADING = '### 20-node mesh';

/**
 * Writes what ran into the `## bgp` section of docs/benchmarks.md: the receive/kernel part and
 * the mesh part are separate subsections, each replaced only when it ran; a hand-written
 * "### Analysis" survives.
 */
function record(date: string, receive: string[] | null, mesh: string[] | null): void {
  const file = process.env.BENCH_RECORD_FILE ?? path.join(ROOT, 'docs/benchmarks.md');
  const command = `Command: \`npm run bench -- bgp${process.argv.slice(2).filter((a) => a !== '--record').map((a) => ` ${a}`).join('')}\` (${date})`;
  const header = (what: string) => `bench bgp: ${what}, ${RUNS} runs each, medians (${date}, ${sh('uname', ['-r']).trim()}, ${sh('nproc', []).trim()} cores)`;
  const receivePart = receive && [
    RECEIVE_HEADING, '', command, '',
    'Method: namespaces per run; the sender (bench/bgp/sender.ts, a minimal eBGP speaker) pre-encodes',
    `${N} /32s from 198.18.16.0 up into full 4 KiB UPDATEs and writes them all the moment the receiver's`,
    'KEEPALIVE arrives (t0 = Established, monotonic clock). Kernel receivers are done when the last prefix',
    'answers a netlink `route get fibmatch` probe (every 2 ms) and fib_triestat counts all N; GoBGP is done',
    'when its gRPC GetTable reports N destinations (a poller inside its netns, every 5 ms). RSS growth =',
    'VmRSS minus VmRSS of the idle, configured receiver (taken 300 ms after it is ready): peak = max of',
    `VmRSS at completion and 500 ms later; settled = VmRSS ${SETTLE_MS} ms after completion (same rule for every`,
    'receiver). The memory goal is judged on the settled figure (what a node pays in steady state).',
    'The machine is 2 shared cores with other jobs running: compare ratios from the same run.',
    '', '```', header(`${N} IPv4 /32 prefixes`), ...receive, '```', '',
  ].join('\n');
  const meshPart = mesh && [MESH_HEADING, '', command, '', '```', header('20-node mesh'), ...mesh, '```', ''].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const re = /^## bgp\n[\s\S]*?(?=^## |(?![\s\S]))/m;
  const old = re.exec(text)?.[0] ?? '';
  const sub = (heading: string) => new RegExp(`^${heading}\\n[\\s\\S]*?(?=^### |(?![\\s\\S]))`, 'm').exec(old)?.[0];
  const analysis = /^### Analysis\n[\s\S]*$/m.exec(old)?.[0];
  const keep = (part: string | null | undefined, heading: string) => (part ?? sub(heading) ?? '').replace(/\n*$/, '\n\n');
  let full = `## bgp\n\n${keep(receivePart, RECEIVE_HEADING)}${keep(meshPart, MESH_HEADING)}`.replace(/\n{3,}/g, '\n\n');
  if (analysis) full += analysis.replace(/\n*$/, '\n\n');
  text = re.test(text) ? text.replace(re, () => full) : `${text.replace(/\n*$/, '\n\n')}${full}`;
  writeFileSync(file, text);
  log(`recorded in ${file}`);
}

await main();
