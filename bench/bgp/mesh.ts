// Full mesh of our speakers: N namespaces on one bridge (in a hub namespace), each running
// calico-bgp with iBGP sessions to every other node and originating one /26, with the config a
// user would write (default timers; as Calico renders the mesh, between two nodes only the lower
// address connects). Measures the time from spawning all N speakers until
// every node has the other N-1 /26s in its kernel table, split at the moment the last speaker
// listens on :179 (process start-up | BGP convergence), and the CPU each speaker used to get
// to listening (utime+stime from /proc/<pid>/stat, sampled when its listener appears).
//
// Before the timed runs the command runs (`check-config`) as on any host after install: that
// builds the bundle and the startup snapshot bin/calico-bgp runs (src/cmd/bundle-cache.ts) and
// fills Node's compile cache if they are stale; the timed starts then measure what a deployed
// speaker pays.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { countIPv4Routes } from '../../src/lib/netlink/index.ts';
import { Lab, median, sh, sleep } from './lab.ts';
import type { Proc } from './lab.ts';

function listening179(pid: number): boolean {
  try {
    // local_address 0xB3 = port 179, st 0A = LISTEN
    return /^\s*\d+: [0-9A-F]{8}:00B3 [0-9A-F]{8}:0000 0A /m.test(readFileSync(`/proc/${pid}/net/tcp`, 'utf8'));
  } catch {
    return false;
  }
}

/** MESH_LOG_DIR=DIR: speakers log at info level, kept as DIR/run<R>-node<I>.log (to see why a run was slow). */
const LOG_DIR = process.env.MESH_LOG_DIR;
/**
 * Calico's mesh (confd's BIRD template): between two nodes only the lower address connects, the
 * higher one has the peer `passive`. MESH_BOTH_ACTIVE=1: both sides connect (collisions every run).
 */
const BOTH_ACTIVE = process.env.MESH_BOTH_ACTIVE === '1';
const CLK_TCK = 100;
/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

export interface MeshOptions {
  nodes: number;
  runs: number;
  /** The speaker command (its argv before `--config FILE`). */
  speaker: string[];
  label: string;
  log: (s: string) => void;
  /** Extra environment for the speakers. */
  env?: NodeJS.ProcessEnv;
}

/**
 * One start of the command before the timed runs, as on a host after install: builds the bundle
 * (and, in the background, the startup snapshot) if the sources are newer. Waits until a start
 * would use the snapshot (CALICO_BUNDLE_DEBUG says which code runs; it says `bundle` while the
 * snapshot is still being built), at most 90 s.
 */
async function warmUp(o: MeshOptions, conf: string, env: NodeJS.ProcessEnv): Promise<void> {
  const t = performance.now();
  for (let i = 0; ; i++) {
    const r = spawnSync(o.speaker[0]!, [...o.speaker.slice(1), 'check-config', '--config', conf], { env: { ...env, CALICO_BUNDLE_DEBUG: '1' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${o.speaker.join(' ')} check-config failed: ${r.stderr}`);
    const how = /calico-ts bundle: (.*)/.exec(r.stderr)?.[1];
    if (!how?.includes(': bundle ') || performance.now() - t > 90_000) {
      o.log(`  mesh ${o.label}: warm-up ${(performance.now() - t).toFixed(0)} ms, ${i + 1} start(s); starts run: ${how ?? 'the command as given'}`);
      return;
    }
    await sleep(500);
  }
}

export async function runMesh(o: MeshOptions): Promise<string[]> {
  const total: number[] = [], ready: number[] = [], after: number[] = [], cpuListen: number[] = [], cpuDone: number[] = [];
  let fail = '';
  const env = { ...process.env, ...o.env };
  for (let run = 1; run <= o.runs; run++) {
    const lab = new Lab('cbm');
    try {
      const hub = lab.addNetns(`${lab.id}h`);
      sh('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
      const addr = (i: number) => `198.19.253.${i + 1}`;
      const nss: string[] = [];
      for (let i = 0; i < o.nodes; i++) {
        const ns = lab.addNetns(`${lab.id}n${i}`);
        nss.push(ns);
        sh('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', hub]);
        sh('ip', ['-n', ns, 'addr', 'add', `${addr(i)}/24`, 'dev', 'eth0']);
        sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        sh('ip', ['-n', hub, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      }
      const base = nss.map((ns) => countIPv4Routes(ns));
      const confs = nss.map((_, i) => {
        const f = path.join(lab.dir, `node${i}.json`);
        writeFileSync(f, JSON.stringify({
          asNumber: 64512, routerId: addr(i), listenAddress: addr(i), logLevel: LOG_DIR ? 'info' : 'warn',
          prefixes: [`198.19.${i}.0/26`],
          peers: nss.map((__, j) => j).filter((j) => j !== i).map((j) => ({ address: addr(j), asNumber: 64512, ...(!BOTH_ACTIVE && i > j ? { passive: true } : {}) })),
        }));
        return f;
      });
      if (run === 1) await warmUp(o, confs[0]!, env);
      await sleep(200); // let the namespaces' set-up settle before t0
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const procs: Proc[] = nss.map((ns, i) => lab.start(ns, [...o.speaker, '--config', confs[i]!], { env }));
      const listenAt = new Array<number>(o.nodes).fill(NaN);
      const cpuAtListen = new Array<number>(o.nodes).fill(NaN);
      const done = new Array<boolean>(o.nodes).fill(false);
      const deadline = Date.now() + 180_000;
      const want = o.nodes - 1;
      // Poll only what is still pending, so the poller's own CPU shrinks as speakers come up.
      for (;;) {
        const dead = procs.find((p) => p.exited);
        if (dead) throw new Error(`a speaker exited: ${dead.stderr.join('').slice(-400)}`);
        const now = performance.now() - t0;
        let pending = 0;
        for (let i = 0; i < o.nodes; i++) {
          const pid = procs[i]!.pid;
          if (Number.isNaN(listenAt[i]!) && listening179(pid)) {
            listenAt[i] = now;
            cpuAtListen[i] = cpuMs(pid);
          }
          if (!done[i]) done[i] = countIPv4Routes(pid) - base[i]! >= want;
          if (!done[i]) pending++;
        }
        if (!pending) break;
        if (Date.now() > deadline) throw new Error(`not converged after 180 s: ${pending} nodes lack routes`);
        await sleep(10);
      }
      const ms = performance.now() - t0;
      const pollCpu = process.cpuUsage(cpu0);
      const tReady = Math.max(...listenAt);
      total.push(ms);
      ready.push(tReady);
      after.push(ms - tReady);
      cpuListen.push(median(cpuAtListen));
      const cpuNow = procs.map((p) => cpuMs(p.pid));
      cpuDone.push(median(cpuNow));
      if (LOG_DIR) {
        await sleep(300);
        mkdirSync(LOG_DIR, { recursive: true });
        procs.forEach((p, i) => writeFileSync(path.join(LOG_DIR, `run${run}-node${i}.log`), `listening at ${listenAt[i]!.toFixed(0)} ms, CPU ${cpuAtListen[i]} ms\n${p.stderr.join('')}`));
      }
      o.log(`  mesh ${o.label} run ${run}: all routes everywhere ${ms.toFixed(0)} ms after spawn (all listening at ${tReady.toFixed(0)} ms); CPU per speaker: ${median(cpuAtListen).toFixed(0)} ms to listening, ${median(cpuNow).toFixed(0)} ms to converged (median), ${cpuNow.reduce((a, b) => a + b, 0).toFixed(0)} ms all speakers; this poller ${((pollCpu.user + pollCpu.system) / 1000).toFixed(0)} ms`);
    } catch (e) {
      fail = (e as Error).message;
      o.log(`  mesh run ${run} FAILED: ${fail}`);
    } finally {
      await lab.cleanup();
      lab.removeDir();
    }
  }
  const fmt = (a: number[]) => (a.length ? `${median(a).toFixed(0)} ms` : 'n/a');
  const list = (a: number[]) => a.map((x) => x.toFixed(0)).join(', ');
  return [
    `${o.nodes}-node full mesh of calico-bgp ${o.label} (iBGP, one /26 each, ${BOTH_ACTIVE ? 'both sides connect' : "Calico's rule: the higher address is passive"}) | median | runs`,
    '---|---|---',
    `spawn -> all ${o.nodes * (o.nodes - 1)} routes installed everywhere | ${fmt(total)} | ${list(total)} (goal < 2000 ms; ratio ${total.length ? (median(total) / 2000).toFixed(2) : 'n/a'})`,
    `spawn -> every speaker listening (process start-up) | ${fmt(ready)} | ${list(ready)}`,
    `last speaker listening -> all routes installed everywhere | ${fmt(after)} | ${list(after)}`,
    `CPU per speaker, spawn -> listening (median of ${o.nodes}) | ${fmt(cpuListen)} | ${list(cpuListen)}`,
    `CPU per speaker, spawn -> converged (median of ${o.nodes}) | ${fmt(cpuDone)} | ${list(cpuDone)}`,
    ...(fail ? [`failed: ${fail.slice(0, 300)}`] : []),
  ];
}
