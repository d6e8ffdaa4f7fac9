// Reads the traces of one watch line and prints where the slowest put → event round trips
// spent their time (diagnostics; see docs/design/datastore-server.md, "Latency trace").
//   CALICO_DATASTORE_TRACE=/tmp/srv.json BENCH_WATCH_TRACE=/tmp/cli \
//     node bench/datastore/index.ts --only watch --runs 1
//   node bench/datastore/watch-trace.ts /tmp/srv.json /tmp/cli.calico-datastore.json
// Stages (server clock, shifted onto the client's with both processes' timeOrigin):
// request (client send → server decoded), commitStart, committed (COMMIT), synced
// (fdatasync), dispatched (events to watchers), acked/responded, post (response written →
// event received by the client). Valid only with one server traced (--runs 1).
import { readFileSync } from 'node:fs';

const [srvFile, cliFile] = process.argv.slice(2);
if (!srvFile || !cliFile) {
  console.error('usage: node bench/datastore/watch-trace.ts <server trace.json> <client trace.json>');
  process.exit(2);
}
const srv = JSON.parse(readFileSync(srvFile, 'utf8')) as { origin: number; batches: Record<string, number>[]; gcs: [number, number, number][]; eld: object };
const cli = JSON.parse(readFileSync(cliFile, 'utf8')) as { origin: number; samples: [number, number, number][] };
const off = srv.origin - cli.origin;
const STAGES = ['decoded', 'commitStart', 'committed', 'synced', 'dispatched', 'acked', 'responded'] as const;
const batches = srv.batches.filter((b) => b.decoded !== undefined && b.responded !== undefined).slice(-cli.samples.length);
const rows = cli.samples.map(([t0, put, ev], i) => {
  const b = batches[i]!;
  const stages = STAGES.slice(1).map((s, j) => b[s]! - b[STAGES[j]!]!);
  const gc = srv.gcs.filter(([t, d]) => t + d > b.decoded! - 1 && t < b.decoded! + ev).map(([t, d, k]) => `${k === 1 ? 'scavenge' : k === 4 ? 'mark-compact' : k === 8 ? 'incremental' : 'gc' + k} ${d.toFixed(2)} at +${(t - b.decoded!).toFixed(2)}`);
  return { ev, put, req: b.decoded! + off - t0, stages, post: t0 + ev - (b.responded! + off), gc };
});
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number) => x.toFixed(2).padStart(6);
console.log(`event-loop delay (ms): ${JSON.stringify(srv.eld)}; GCs: ${srv.gcs.length}`);
console.log('        event    put | request | commitStart committed synced dispatched acked responded | post | GC');
console.log(`median ${f(med(rows.map((r) => r.ev)))} ${f(med(rows.map((r) => r.put)))} | ${f(med(rows.map((r) => r.req)))} | ${STAGES.slice(1).map((_, j) => f(med(rows.map((r) => r.stages[j]!)))).join(' ')} | ${f(med(rows.map((r) => r.post)))} |`);
rows.sort((a, b) => b.ev - a.ev);
for (const r of rows.slice(0, Math.max(1, Math.ceil(rows.length / 50)))) {
  console.log(`       ${f(r.ev)} ${f(r.put)} | ${f(r.req)} | ${r.stages.map(f).join(' ')} | ${f(r.post)} | ${r.gc.join(', ')}`);
}
// Where the slowest 2% lost their time: each stage's excess over its median, summed.
const slow = rows.slice(0, Math.max(1, Math.ceil(rows.length / 50)));
const medReq = med(rows.map((r) => r.req));
const medPost = med(rows.map((r) => r.post));
const medStage = STAGES.slice(1).map((_, j) => med(rows.map((r) => r.stages[j]!)));
const excess = { request: 0, fdatasync: 0, 'other server stages': 0, post: 0 };
for (const r of slow) {
  excess.request += Math.max(0, r.req - medReq);
  excess.post += Math.max(0, r.post - medPost);
  r.stages.forEach((d, j) => {
    const x = Math.max(0, d - medStage[j]!);
    if (STAGES[j + 1] === 'synced') excess.fdatasync += x;
    else excess['other server stages'] += x;
  });
}
const total = Object.values(excess).reduce((a, b) => a + b, 0);
console.log(
  `slowest ${slow.length}: excess over the medians ${total.toFixed(1)} ms = ` +
    Object.entries(excess).map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`).join(', ') +
    `; ${slow.filter((r) => r.gc.length).length} of them overlap a GC`,
);
