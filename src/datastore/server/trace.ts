// Latency trace (diagnostics only, off unless CALICO_DATASTORE_TRACE=<file>): per write batch,
// timestamps of its stages; GC pauses and event-loop delay; written as JSON at exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';

const FILE = process.env.CALICO_DATASTORE_TRACE;
export const tracing = !!FILE;
type Rec = Record<string, number>;
const batches: Rec[] = [];
let cur: Rec | null = null;
const gcs: [number, number, number][] = [];
let session: Session | null = null;
function stopHeap(): void {
  session?.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(process.env.CALICO_DATASTORE_TRACE_HEAP!, JSON.stringify(r.profile));
  });
  session = null;
}
export function mark(stage: string): void {
  if (!FILE) return;
  if (stage === 'decoded' || !cur) {
    batches.push((cur = {}));
    // heap sampling over write batches 300..1100 only (the timed part of the watch line)
    if (batches.length === 300) session?.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    if (batches.length === 1100) stopHeap();
  }
  cur[stage] ??= performance.now();
}
if (FILE) {
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.duration, ((e as { detail?: { kind?: number } }).detail)?.kind ?? 0]);
  });
  obs.observe({ entryTypes: ['gc'] });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  if (process.env.CALICO_DATASTORE_TRACE_HEAP) {
    session = new Session();
    session.connect();
  }
  process.on('exit', () => {
    stopHeap();
    writeFileSync(FILE, JSON.stringify({ origin: performance.timeOrigin, batches, gcs, eld: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 } }));
  });
}
