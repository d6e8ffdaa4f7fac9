// Summarizes a V8 .cpuprofile: self time per function (file:line) and per file, top N.
// usage: node bench/bgp/profile-summary.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const [file, topArg] = process.argv.slice(2);
if (!file) { process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [N]\n'); process.exit(2); }
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const top = Number(topArg ?? 25);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
const fn = new Map<string, number>(), files = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(src|node_modules)\//, '$1/');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  files.set(url || n.callFrame.functionName, (files.get(url || n.callFrame.functionName) ?? 0) + us);
  total += us;
}
const show = (m: Map<string, number>, title: string) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show(fn, 'self time by function');
show(files, 'self time by file');
