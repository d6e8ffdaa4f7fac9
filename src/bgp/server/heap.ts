// Giving memory back after a burst (and keeping large buffers returnable). While a full table arrives V8 grows its young generation
// (up to 3 x 16 MiB semi-spaces) and old-space pages, and glibc's malloc keeps the buffers it
// handed out (socket reads, netlink batches, typed arrays being grown) in its heap even after
// they are freed; once the routes are in, all of that is headroom the process keeps mapped.
// `releaseMemory` runs a last-resort major GC (compacts the heap, shrinks the young generation),
// then malloc_trim(0) (returns free malloc pages to the OS). `gc` is not exposed without a
// command-line flag, so it is fetched once through --expose-gc set at run time; malloc_trim is
// bound through koffi (already loaded by the netlink writer). Either may be unavailable (another
// embedder, musl): that step is then skipped.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gcFn: GcFn | null | undefined;
let trimFn: ((pad: number) => number) | null | undefined;
let mallopt: ((param: number, value: number) => number) | null | undefined;
let mmapFixed = false;
/** glibc mallopt parameters. */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

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

function loadLibc(): void {
  if (trimFn !== undefined) return;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(l: string): { func(sig: string): (...args: number[]) => number } };
    const lib = koffi.load('libc.so.6');
    trimFn = lib.func('int malloc_trim(size_t)');
    mallopt = lib.func('int mallopt(int, int)');
  } catch {
    trimFn = null;
    mallopt = null;
  }
}

function getTrim(): ((pad: number) => number) | null {
  loadLibc();
  return trimFn ?? null;
}

/**
 * Keep large malloc blocks (>= 128 KiB: typed-array columns being grown, route batches) in their
 * own mappings, returned to the OS when freed, and return free memory at the top of the heap
 * beyond 256 KiB. glibc otherwise raises both thresholds each time a large block is freed (start-up
 * frees multi-MiB buffers), and later large blocks land in the main heap, which fragments and
 * keeps its top (measured after 100k routes: settled RSS growth ~17 -> ~11 MiB). Process-wide and
 * idempotent; a no-op without glibc/koffi. Returns whether the thresholds are fixed.
 */
export function keepLargeAllocationsMapped(): boolean {
  if (mmapFixed) return true;
  loadLibc();
  if (!mallopt) return false;
  // The trim threshold goes with it (glibc's own default ratio, 2x): the dynamic scheme had
  // raised it too, so free memory at the top of the heap was kept.
  mmapFixed = mallopt(M_MMAP_THRESHOLD, 128 * 1024) === 1 && mallopt(M_TRIM_THRESHOLD, 256 * 1024) === 1;
  return mmapFixed;
}

/** Runs a memory-reducing full GC, then returns free malloc memory to the OS. Returns false if GC could not be triggered. Pauses for tens of ms. */
export function releaseMemory(): boolean {
  const gc = getGc();
  if (gc) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const trim = getTrim();
  if (trim) trim(0);
  if (process.env.CALICO_BGP_DEBUG_MEMORY) {
    const m = process.memoryUsage();
    const mib = (x: number): string => (x / 1048576).toFixed(1);
    const spaces = v8.getHeapSpaceStatistics().map((s) => `${s.space_name} ${mib(s.space_used_size)}/${mib(s.physical_space_size)}`).join(', ');
    process.stderr.write(`calico-bgp memory after release: rss ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${mib(m.external)}, arrayBuffers ${mib(m.arrayBuffers)}; spaces (used/physical MiB): ${spaces}\n`);
  }
  return gc !== null;
}
