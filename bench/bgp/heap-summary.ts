// Summarizes a V8 .heapsnapshot: retained-by-nobody self sizes grouped by node type + name.
// usage: node bench/bgp/heap-summary.ts FILE.heapsnapshot [N]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) { process.stderr.write('usage: heap-summary.ts FILE.heapsnapshot [N]\n'); process.exit(2); }
const snap = JSON.parse(readFileSync(file, 'utf8')) as {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[];
};
const f = snap.snapshot.meta.node_fields;
const W = f.length, T = f.indexOf('type'), NAME = f.indexOf('name'), SIZE = f.indexOf('self_size');
const types = snap.snapshot.meta.node_types[0];
const agg = new Map<string, { n: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += W) {
  const type = types[snap.nodes[i + T]!]!;
  let name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[snap.nodes[i + NAME]!]! : `(${type})`;
  if (name.length > 60) name = `${name.slice(0, 57)}...`;
  const key = `${type}: ${name}`;
  const size = snap.nodes[i + SIZE]!;
  const e = agg.get(key) ?? { n: 0, bytes: 0 };
  e.n++; e.bytes += size; total += size;
  agg.set(key, e);
}
console.log(`heap total self size ${(total / 1048576).toFixed(1)} MiB`);
for (const [k, v] of [...agg].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(topArg ?? 30))) {
  console.log(`${(v.bytes / 1048576).toFixed(1).padStart(7)} MiB ${String(v.n).padStart(9)}  ${k}`);
}
