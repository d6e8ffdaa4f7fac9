// Kernel route programming for the speaker. `KernelRoutes` is the small interface the speaker
// needs; `KernelSync` batches desired-state changes so that a burst of UPDATEs becomes one write
// (never one await per route). The default writer is `IpBatchKernel` (one `ip -batch` process per
// flush); the netlink writer from src/lib plugs in through the same interface.
import { spawn } from 'node:child_process';

export interface KernelRoute {
  /** Canonical CIDR. */
  dst: string;
  /** Next hop; absent for blackhole/unreachable. */
  gateway?: string;
  dev?: string;
  onlink?: boolean;
  blackhole?: boolean;
}

export interface KernelBatch {
  replace: KernelRoute[];
  remove: string[];
}

export interface KernelApplyResult {
  /** Per-destination failures (the rest were applied). */
  failed: Array<{ dst: string; error: string }>;
}

export interface KernelRoutes {
  apply(batch: KernelBatch): Promise<KernelApplyResult>;
  /** Routes in our table with our protocol number. */
  list(): Promise<KernelRoute[]>;
  close(): Promise<void>;
}

export class KernelError extends Error {
  readonly code = 'bgp-kernel-failed';
  constructor(message: string) {
    super(message);
    this.name = 'KernelError';
  }
}

function run(argv: string[], input: string | null): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    p.stdin.on('error', () => undefined);
    p.stdin.end(input ?? '');
  });
}

/** Writes routes with `ip -batch -` (iproute2). Runs in the process's own network namespace. */
export class IpBatchKernel implements KernelRoutes {
  private readonly table: number;
  private readonly protocol: number;
  constructor(opts: { table: number; protocol: number }) {
    this.table = opts.table;
    this.protocol = opts.protocol;
  }

  private line(r: KernelRoute): string {
    const fam = r.dst.includes(':') ? '-6 ' : '';
    void fam;
    const parts = ['route', 'replace'];
    if (r.blackhole) parts.push('blackhole');
    parts.push(r.dst);
    if (r.gateway) parts.push('via', r.gateway);
    if (r.dev) parts.push('dev', r.dev);
    if (r.onlink) parts.push('onlink');
    parts.push('proto', String(this.protocol), 'table', String(this.table));
    return parts.join(' ');
  }

  async apply(batch: KernelBatch): Promise<KernelApplyResult> {
    const lines: string[] = [];
    const order: string[] = [];
    for (const d of batch.remove) {
      lines.push(`route del ${d} proto ${this.protocol} table ${this.table}`);
      order.push(d);
    }
    for (const r of batch.replace) {
      lines.push(this.line(r));
      order.push(r.dst);
    }
    if (!lines.length) return { failed: [] };
    const r = await run(['ip', '-force', '-batch', '-'], lines.join('\n') + '\n');
    const failed: KernelApplyResult['failed'] = [];
    if (r.code !== 0) {
      // iproute2 reports "Command failed -:<line>" after each failing line's error text.
      const errLines = r.stderr.split('\n');
      let prev = '';
      for (const l of errLines) {
        const m = /Command failed -:(\d+)/.exec(l);
        if (m) {
          const idx = Number(m[1]) - 1;
          const dst = order[idx];
          // Deleting a route that is already gone is fine.
          if (dst && !(idx < batch.remove.length && /No such process|not found/i.test(prev))) failed.push({ dst, error: prev.trim() || 'failed' });
        }
        prev = l;
      }
    }
    return { failed };
  }

  async list(): Promise<KernelRoute[]> {
    const out: KernelRoute[] = [];
    for (const fam of ['-4', '-6']) {
      const r = await run(['ip', '-j', fam, 'route', 'show', 'table', String(this.table), 'proto', String(this.protocol)], null);
      if (r.code !== 0) throw new KernelError(`cannot list routes (ip ${fam} route show): ${r.stderr.trim()}`);
      const rows = JSON.parse(r.stdout || '[]') as Array<{ dst: string; gateway?: string; dev?: string; type?: string }>;
      for (const row of rows) {
        let dst = row.dst;
        if (dst === 'default') dst = fam === '-4' ? '0.0.0.0/0' : '::/0';
        else if (!dst.includes('/')) dst = fam === '-4' ? `${dst}/32` : `${dst}/128`;
        out.push({ dst, gateway: row.gateway, dev: row.dev, blackhole: row.type === 'blackhole' });
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** In-memory kernel for unit tests. */
export class MemoryKernel implements KernelRoutes {
  readonly routes = new Map<string, KernelRoute>();
  batches = 0;
  async apply(batch: KernelBatch): Promise<KernelApplyResult> {
    this.batches++;
    for (const d of batch.remove) this.routes.delete(d);
    for (const r of batch.replace) this.routes.set(r.dst, r);
    return { failed: [] };
  }
  async list(): Promise<KernelRoute[]> {
    return [...this.routes.values()];
  }
  async close(): Promise<void> {}
}

function sameRoute(a: KernelRoute | undefined, b: KernelRoute | undefined): boolean {
  return !!a && !!b && a.gateway === b.gateway && a.dev === b.dev && !!a.onlink === !!b.onlink && !!a.blackhole === !!b.blackhole;
}

/**
 * Desired-vs-programmed reconciler. `set`/`delete` only record intent; a flush is scheduled on
 * the next macrotask and at most one write is in flight: changes arriving meanwhile coalesce into
 * the next batch. Failed routes are retried with backoff.
 */
export class KernelSync {
  private readonly kernel: KernelRoutes;
  private readonly desired = new Map<string, KernelRoute>();
  private readonly programmed = new Map<string, KernelRoute>();
  private readonly dirty = new Set<string>();
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = 500;
  private closed = false;
  private readonly onError: (msg: string) => void;
  private idleWaiters: Array<() => void> = [];
  lastError: string | null = null;
  writes = 0;

  constructor(kernel: KernelRoutes, onError: (msg: string) => void = () => undefined) {
    this.kernel = kernel;
    this.onError = onError;
  }

  get size(): number {
    return this.desired.size;
  }

  /** Adopt routes already in the kernel (ours from a previous run) as programmed state. */
  adopt(routes: readonly KernelRoute[]): void {
    for (const r of routes) {
      this.programmed.set(r.dst, r);
      if (!this.desired.has(r.dst)) this.dirty.add(r.dst);
    }
  }

  /** Adopted routes that are still not desired (for the stale sweep). */
  hold(dsts: Iterable<string>): void {
    for (const d of dsts) this.dirty.delete(d);
  }

  set(r: KernelRoute): void {
    const cur = this.desired.get(r.dst);
    if (sameRoute(cur, r)) return;
    this.desired.set(r.dst, r);
    this.dirty.add(r.dst);
    this.schedule();
  }

  delete(dst: string): void {
    if (!this.desired.delete(dst) && !this.programmed.has(dst)) return;
    this.dirty.add(dst);
    this.schedule();
  }

  /** Mark everything programmed-but-not-desired for removal (the stale sweep after restart). */
  sweep(): void {
    for (const d of this.programmed.keys()) if (!this.desired.has(d)) this.dirty.add(d);
    this.schedule();
  }

  has(dst: string): boolean {
    return this.desired.has(dst);
  }

  /** Resolves when every change recorded so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.dirty.size || this.flushing || this.scheduled) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.dirty.size && !this.retryTimer) this.schedule();
        if (!this.dirty.size || this.retryTimer) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const f of w) f();
        }
      });
    });
  }

  private async flush(): Promise<void> {
    const batch: KernelBatch = { replace: [], remove: [] };
    for (const d of this.dirty) {
      const want = this.desired.get(d);
      const have = this.programmed.get(d);
      if (want) {
        if (!sameRoute(want, have)) batch.replace.push(want);
      } else if (have) batch.remove.push(d);
    }
    this.dirty.clear();
    if (!batch.replace.length && !batch.remove.length) return;
    let res: KernelApplyResult;
    try {
      this.writes++;
      res = await this.kernel.apply(batch);
    } catch (err) {
      res = { failed: [...batch.replace.map((r) => ({ dst: r.dst, error: String(err) })), ...batch.remove.map((d) => ({ dst: d, error: String(err) }))] };
    }
    const failed = new Set(res.failed.map((f) => f.dst));
    for (const r of batch.replace) if (!failed.has(r.dst)) this.programmed.set(r.dst, r);
    for (const d of batch.remove) if (!failed.has(d)) this.programmed.delete(d);
    if (res.failed.length) {
      this.lastError = `${res.failed.length} route(s) failed, e.g. ${res.failed[0]!.dst}: ${res.failed[0]!.error}`;
      this.onError(this.lastError);
      for (const d of failed) this.dirty.add(d);
      if (!this.retryTimer && !this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.schedule();
        }, this.retryDelay);
        this.retryTimer.unref();
        this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
      }
    } else {
      this.retryDelay = 500;
    }
  }

  /** Remove every route we programmed (normal shutdown), then stop. */
  async removeAll(): Promise<void> {
    this.desired.clear();
    for (const d of this.programmed.keys()) this.dirty.add(d);
    this.schedule();
    await this.idle();
  }

  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
