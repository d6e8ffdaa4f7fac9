// Kernel route writes on a worker thread: the rtnetlink sends (where the kernel inserts routes,
// synchronously inside send()) run on another core while the main thread keeps decoding UPDATEs
// and running the RIB. Batches cross the thread boundary as one compact string each.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { NetlinkKernel, type KernelApplyResult, type KernelBatch, type KernelRoute, type KernelRoutes } from './kernel.ts';

/** One route per line: `dst metric type gw[,dev[,onlink]][;gw...]` (metric `-` when unset). */
export function encodeRoutes(routes: readonly KernelRoute[]): string {
  const lines = new Array<string>(routes.length);
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    let hops = '';
    for (let j = 0; j < r.nextHops.length; j++) {
      const h = r.nextHops[j]!;
      if (j) hops += ';';
      hops += h.gateway;
      if (h.dev !== undefined || h.onlink) hops += `,${h.dev ?? ''},${h.onlink ? 1 : 0}`;
    }
    lines[i] = `${r.dst} ${r.metric ?? '-'} ${r.type === 'blackhole' ? 'b' : 'u'} ${hops}`;
  }
  return lines.join('\n');
}

export function decodeRoutes(text: string): KernelRoute[] {
  if (!text) return [];
  const out: KernelRoute[] = [];
  for (const line of text.split('\n')) {
    const [dst, metric, type, hops] = line.split(' ');
    out.push({
      dst: dst!,
      metric: metric === '-' ? undefined : Number(metric),
      type: type === 'b' ? 'blackhole' : 'unicast',
      nextHops: hops
        ? hops.split(';').map((h) => {
            const [gateway, dev, onlink] = h.split(',');
            return dev === undefined ? { gateway: gateway! } : { gateway: gateway!, dev: dev || undefined, onlink: onlink === '1' };
          })
        : [],
    });
  }
  return out;
}

/**
 * The worker's entry beside this module: `kernel-worker-main.ts` when running from the sources,
 * `kernel-worker-main.mjs` when this code sits in a chunk of the esbuild bundle that
 * src/cmd/calico-bgp.ts runs (the bundle builds that file as a second entry next to its chunks).
 */
export function kernelWorkerUrl(base: string = import.meta.url): URL {
  const ts = new URL('./kernel-worker-main.ts', base);
  if (base.endsWith('.ts')) return ts;
  const mjs = new URL('./kernel-worker-main.mjs', base);
  return existsSync(mjs) || !existsSync(ts) ? mjs : ts;
}

/**
 * Whether this process was started from a V8 startup snapshot (bin/calico-bgp does that). Node
 * (26) aborts the whole process when a worker thread of such a process loads a stream-based
 * binding (child_process, net), which the writer thread's modules do: then no thread is started.
 */
export function startedFromSnapshot(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((a) => a === '--snapshot-blob' || a.startsWith('--snapshot-blob='));
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/**
 * KernelRoutes served by a worker thread that owns the netlink socket (see kernel-worker-main.ts).
 * In a process started from a startup snapshot the same writer runs on the calling thread
 * (bin/calico-bgp starts configs that ask for the worker without the snapshot; this is the
 * safety net).
 */
export class WorkerKernel implements KernelRoutes {
  private readonly worker: Worker | null = null;
  private readonly inline: NetlinkKernel | null = null;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private dead: Error | null = null;

  constructor(opts: { table: number; protocol: number }) {
    if (startedFromSnapshot()) {
      this.inline = new NetlinkKernel(opts);
      return;
    }
    // A small young generation: the thread only turns batches into netlink requests, whose
    // garbage would otherwise sit in (up to 3x16 MiB of) semi-spaces and count as our RSS.
    this.worker = new Worker(kernelWorkerUrl(), { workerData: opts, resourceLimits: { maxYoungGenerationSizeMb: 6 } });
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    const fail = (err: Error): void => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`kernel writer thread exited (${code})`)));
  }

  /** Whether batches really go to a worker thread. */
  get threaded(): boolean {
    return this.worker !== null;
  }

  private call<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const worker = this.worker!;
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id });
    });
  }

  apply(batch: KernelBatch): Promise<KernelApplyResult> {
    if (this.inline) return this.inline.apply(batch);
    return this.call<KernelApplyResult>({ op: 'apply', replace: encodeRoutes(batch.replace), remove: encodeRoutes(batch.remove) });
  }

  async list(): Promise<KernelRoute[]> {
    if (this.inline) return this.inline.list();
    return decodeRoutes(await this.call<string>({ op: 'list' }));
  }

  async close(): Promise<void> {
    if (this.inline) return this.inline.close();
    if (!this.worker) return;
    if (!this.dead) await this.call({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}
