// Giving memory back after a burst. While a full table arrives V8 grows its young generation
// (up to 3 x 16 MiB semi-spaces) and old-space pages; once the routes are in, that headroom is
// garbage V8 keeps mapped. A last-resort major GC compacts the heap and shrinks the young
// generation (measured: RSS 106 -> 74 MiB in a synthetic ingest). `gc` is not exposed without a
// command-line flag, so it is fetched once through --expose-gc set at run time; if that fails
// (another embedder, a future Node) this is a no-op.
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gcFn: GcFn | null | undefined;

function getGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  const existing = (globalThis as { gc?: GcFn }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    v8.setFlagsFromString('--expose-gc');
    const f = vm.runInNewContext('gc') as unknown;
    gcFn = typeof f === 'function' ? (f as GcFn) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Runs a memory-reducing full GC. Returns false if GC could not be triggered. Pauses for tens of ms. */
export function releaseMemory(): boolean {
  const gc = getGc();
  if (!gc) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
