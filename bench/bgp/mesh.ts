// Full mesh of our speakers: N namespaces on one bridge (in a hub namespace), each running
// calico-bgp with iBGP sessions to every other node and originating one /26. Measures the time
// from spawning all speakers until every node has the other N-1 /26s in its kernel table, and
// (for context) until every speaker listens on :179.
import { readFileSync, writeFileSync } from 'node:fs';
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

export async function runMesh(o: { nodes: number; runs: number; speaker: string[]; label: string; log: (s: string) => void }): Promise<string[]> {
  const total: number[] = [], ready: number[] = [], after: number[] = [];
  let fail = '';
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
          asNumber: 64512, routerId: addr(i), listenAddress: addr(i), logLevel: 'warn', connectRetryTime: 1, idleHoldTime: 1,
          prefixes: [`198.19.${i}.0/26`],
          peers: nss.map((__, j) => j).filter((j) => j !== i).map((j) => ({ address: addr(j), asNumber: 64512 })),
        }));
        return f;
      });
      const t0 = performance.now();
      const procs: Proc[] = nss.map((ns, i) => lab.start(ns, [...o.speaker, '--config', confs[i]!]));
      let tReady = NaN;
      const deadline = Date.now() + 180_000;
      const want = o.nodes - 1;
      for (;;) {
        const dead = procs.find((p) => p.exited);
        if (dead) throw new Error(`a speaker exited: ${dead.stderr.join('').slice(-400)}`);
        if (Number.isNaN(tReady) && procs.every((p) => listening179(p.pid))) tReady = performance.now() - t0;
        const counts = procs.map((p, i) => countIPv4Routes(p.pid) - base[i]!);
        if (counts.every((c) => c >= want)) break;
        if (Date.now() > deadline) throw new Error(`not converged after 180 s: routes per node ${counts.join(',')}`);
        await sleep(20);
      }
      const ms = performance.now() - t0;
      total.push(ms);
      ready.push(tReady);
      after.push(ms - tReady);
      o.log(`  mesh ${o.label} run ${run}: all routes everywhere ${ms.toFixed(0)} ms after spawn (all listening at ${tReady.toFixed(0)} ms)`);
    } catch (e) {
      fail = (e as Error).message;
      o.log(`  mesh run ${run} FAILED: ${fail}`);
    } finally {
      await lab.cleanup();
      lab.removeDir();
    }
  }
  return [
    `${o.nodes}-node full mesh of calico-bgp ${o.label} (iBGP, one /26 each) | median | runs`,
    '---|---|---',
    `spawn -> all ${o.nodes * (o.nodes - 1)} routes installed everywhere | ${total.length ? median(total).toFixed(0) : 'n/a'} ms | ${total.map((x) => x.toFixed(0)).join(', ')} (goal < 2000 ms)`,
    `spawn -> every speaker listening (process start-up) | ${ready.length ? median(ready).toFixed(0) : 'n/a'} ms | ${ready.map((x) => x.toFixed(0)).join(', ')}`,
    `last speaker listening -> all routes installed everywhere | ${after.length ? median(after).toFixed(0) : 'n/a'} ms | ${after.map((x) => x.toFixed(0)).join(', ')}`,
    ...(fail ? [`failed: ${fail.slice(0, 300)}`] : []),
  ];
}
