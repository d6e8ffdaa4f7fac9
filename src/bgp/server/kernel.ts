// Kernel route programming for the speaker. `KernelRoutes` is the small interface the speaker
// needs; `KernelSync` batches desired-state changes so that a burst of UPDATEs becomes one write
// (never one await per route). The default writer is `IpBatchKernel` (one `ip -batch` process per
// flush); the netlink writer from src/lib plugs in through the same interface.
import { spawn } from 'node:child_process';
import { NetlinkRoutes, type Route as NlRoute } from '../../lib/netlink/index.ts';

export interface KernelRoute {
  /** Canonical CIDR. */
  dst: string;
  type: 'unicast' | 'blackhole';
  /** One next hop, or several (multipath). Empty for blackhole. */
  nextHops: ReadonlyArray<{ gateway: string; dev?: string; onlink?: boolean }>;
  /** Route metric (priority); part of the kernel's route key, so a change is delete + add. */
  metric?: number;
}

export interface KernelBatch {
  replace: KernelRoute[];
  /** Routes to delete, as they were programmed (the metric identifies them). */
  remove: KernelRoute[];
}

export interface KernelApplyResult {
  /** Per-destination failures (the rest were applied). */
  failed: Array<{ dst: string; op: 'replace' | 'remove'; error: string }>;
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

/** Writes routes with `ip -batch -` (iproute2): the fallback when netlink is unavailable. */
export class IpBatchKernel implements KernelRoutes {
  private readonly table: number;
  private readonly protocol: number;
  constructor(opts: { table: number; protocol: number }) {
    this.table = opts.table;
    this.protocol = opts.protocol;
  }

  private tail(r: KernelRoute): string {
    return `proto ${this.protocol} table ${this.table}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`;
  }

  private line(r: KernelRoute): string {
    const parts = ['route', 'replace'];
    if (r.type === 'blackhole') parts.push('blackhole', r.dst);
    else {
      parts.push(r.dst);
      const hop = (h: KernelRoute['nextHops'][number]): string => `via ${h.gateway}${h.dev ? ` dev ${h.dev}` : ''}${h.onlink ? ' onlink' : ''}`;
      if (r.nextHops.length === 1) parts.push(hop(r.nextHops[0]!));
      else for (const h of r.nextHops) parts.push('nexthop', hop(h));
    }
    parts.push(this.tail(r));
    return parts.join(' ');
  }

  async apply(batch: KernelBatch): Promise<KernelApplyResult> {
    const lines: string[] = [];
    const order: Array<{ dst: string; op: 'replace' | 'remove' }> = [];
    for (const r of batch.remove) {
      lines.push(`route del ${r.dst} ${this.tail(r)}`);
      order.push({ dst: r.dst, op: 'remove' });
    }
    for (const r of batch.replace) {
      lines.push(this.line(r));
      order.push({ dst: r.dst, op: 'replace' });
    }
    if (!lines.length) return { failed: [] };
    const r = await run(['ip', '-force', '-batch', '-'], lines.join('\n') + '\n');
    const failed: KernelApplyResult['failed'] = [];
    if (r.code !== 0) {
      // iproute2 prints the error text, then "Command failed -:<line>".
      let prev = '';
      for (const l of r.stderr.split('\n')) {
        const m = /Command failed -:(\d+)/.exec(l);
        const o = m ? order[Number(m[1]) - 1] : undefined;
        // Deleting a route that is already gone is fine.
        if (o && !(o.op === 'remove' && /No such process|not found/i.test(prev))) failed.push({ ...o, error: prev.trim() || 'failed' });
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
      const rows = JSON.parse(r.stdout || '[]') as Array<{ dst: string; gateway?: string; dev?: string; type?: string; metric?: number; nexthops?: Array<{ gateway: string; dev?: string }> }>;
      for (const row of rows) {
        let dst = row.dst;
        if (dst === 'default') dst = fam === '-4' ? '0.0.0.0/0' : '::/0';
        else if (!dst.includes('/')) dst = fam === '-4' ? `${dst}/32` : `${dst}/128`;
        const hops = row.nexthops ?? (row.gateway ? [{ gateway: row.gateway, dev: row.dev }] : []);
        out.push({ dst, type: row.type === 'blackhole' ? 'blackhole' : 'unicast', nextHops: hops.map((h) => ({ gateway: h.gateway })), metric: row.metric });
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
    for (const d of batch.remove) this.routes.delete(d.dst);
    for (const r of batch.replace) this.routes.set(r.dst, r);
    return { failed: [] };
  }
  async list(): Promise<KernelRoute[]> {
    return [...this.routes.values()];
  }
  async close(): Promise<void> {}
}

/** A kernel route without its destination: shared by every prefix with the same next hops. */
export type KernelRouteSpec = Omit<KernelRoute, 'dst'>;

function sameRoute(a: KernelRouteSpec | null | undefined, b: KernelRouteSpec | null | undefined): boolean {
  if (a === b) return !!a;
  if (!a || !b) return false;
  if (a.type !== b.type || a.metric !== b.metric || a.nextHops.length !== b.nextHops.length) return false;
  return a.nextHops.every((h, i) => {
    const o = b.nextHops[i]!;
    return h.gateway === o.gateway && h.dev === o.dev && !!h.onlink === !!o.onlink;
  });
}

function withDst(dst: string, r: KernelRouteSpec): KernelRoute {
  return { dst, type: r.type, nextHops: r.nextHops, metric: r.metric };
}

/**
 * Desired-vs-programmed reconciler. `set`/`delete` only record intent; a flush is scheduled on
 * the next macrotask and at most one write is in flight: changes arriving meanwhile coalesce into
 * the next batch. Failed routes are retried with backoff.
 *
 * Memory: one Map entry per prefix in the steady state. `desired` maps a prefix to a route spec
 * (shared between prefixes: the speaker passes one spec object per next-hop set); what the kernel
 * holds is recorded only where it may differ from `desired` (`unsynced`: prefixes changed since
 * their last successful write, failed ones, and adopted routes), so no second per-prefix object.
 */
export class KernelSync {
  private readonly kernel: KernelRoutes;
  private readonly desired = new Map<string, KernelRouteSpec>();
  /** Programmed state of prefixes whose kernel route may differ from `desired` (null: none). */
  private readonly unsynced = new Map<string, KernelRouteSpec | null>();
  private dirty = new Set<string>();
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

  /** Routes we want in the kernel. */
  get size(): number {
    return this.desired.size;
  }

  /** Routes we believe are in the kernel. */
  get programmedSize(): number {
    let n = this.desired.size;
    for (const [d, have] of this.unsynced) {
      const want = this.desired.has(d);
      if (want && !have) n--;
      else if (!want && have) n++;
    }
    return n;
  }

  private programmed(dst: string): KernelRouteSpec | null {
    const u = this.unsynced.get(dst);
    if (u !== undefined) return u;
    return this.desired.get(dst) ?? null;
  }

  /** Adopt routes already in the kernel (ours, from a previous run) as programmed; kept until sweep(). */
  adopt(routes: readonly KernelRoute[]): void {
    for (const r of routes) {
      if (this.desired.has(r.dst) && !this.unsynced.has(r.dst)) this.dirty.add(r.dst);
      if (!this.unsynced.has(r.dst) || this.desired.has(r.dst)) this.unsynced.set(r.dst, r);
    }
    if (this.dirty.size) this.schedule();
  }

  set(r: KernelRoute): void {
    this.setRoute(r.dst, r);
  }

  /** Want `dst` routed as `spec` (pass the same spec object for equal routes: it is kept by reference). */
  setRoute(dst: string, spec: KernelRouteSpec): void {
    const cur = this.desired.get(dst);
    if (cur === spec || sameRoute(cur, spec)) return;
    if (!this.unsynced.has(dst)) this.unsynced.set(dst, cur ?? null);
    this.desired.set(dst, spec);
    this.dirty.add(dst);
    this.schedule();
  }

  delete(dst: string): void {
    const cur = this.desired.get(dst);
    if (cur === undefined) {
      if (!this.unsynced.get(dst)) return;
    } else {
      if (!this.unsynced.has(dst)) this.unsynced.set(dst, cur);
      this.desired.delete(dst);
    }
    this.dirty.add(dst);
    this.schedule();
  }

  /** Remove everything programmed but not desired (the stale sweep after a graceful restart). */
  sweep(): void {
    for (const [d, have] of this.unsynced) if (have && !this.desired.has(d)) this.dirty.add(d);
    this.schedule();
  }

  /** Resolves when every change recorded so far has been attempted once. */
  async idle(): Promise<void> {
    while ((this.dirty.size && !this.retryTimer) || this.flushing || this.scheduled) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  private wake(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.dirty.size && !this.retryTimer) this.schedule();
        this.wake();
      });
    });
  }

  /** Record that the kernel now holds `spec` for `dst` (null: nothing). */
  private programmedNow(dst: string, spec: KernelRouteSpec | null): void {
    const want = this.desired.get(dst) ?? null;
    if (want === spec || (want === null && spec === null)) this.unsynced.delete(dst);
    else this.unsynced.set(dst, spec);
  }

  private async flush(): Promise<void> {
    const batch: KernelBatch = { replace: [], remove: [] };
    const replaceSpecs: KernelRouteSpec[] = [];
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const d of dirty) {
      const want = this.desired.get(d);
      const have = this.programmed(d);
      if (want) {
        if (sameRoute(want, have)) {
          this.programmedNow(d, want);
          continue;
        }
        // The metric is part of the kernel's key: replacing would leave the old route behind.
        if (have && have.metric !== want.metric) batch.remove.push(withDst(d, have));
        batch.replace.push(withDst(d, want));
        replaceSpecs.push(want);
      } else if (have) batch.remove.push(withDst(d, have));
      else this.unsynced.delete(d);
    }
    if (!batch.replace.length && !batch.remove.length) return;
    let res: KernelApplyResult;
    try {
      this.writes++;
      res = await this.kernel.apply(batch);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      res = { failed: [...batch.replace.map((r) => ({ dst: r.dst, op: 'replace' as const, error })), ...batch.remove.map((r) => ({ dst: r.dst, op: 'remove' as const, error }))] };
    }
    const badRemove = new Set<string>();
    const badReplace = new Set<string>();
    for (const f of res.failed) (f.op === 'remove' ? badRemove : badReplace).add(f.dst);
    for (const r of batch.remove) if (!badRemove.has(r.dst)) this.programmedNow(r.dst, null);
    for (let i = 0; i < batch.replace.length; i++) {
      const r = batch.replace[i]!;
      if (!badReplace.has(r.dst)) this.programmedNow(r.dst, replaceSpecs[i]!);
    }
    if (res.failed.length) {
      this.lastError = `${res.failed.length} route change(s) failed, e.g. ${res.failed[0]!.op} ${res.failed[0]!.dst}: ${res.failed[0]!.error}`;
      this.onError(this.lastError);
      for (const f of res.failed) this.dirty.add(f.dst);
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
      this.lastError = null;
    }
  }

  /** Remove every route we programmed (normal shutdown). */
  async removeAll(): Promise<void> {
    for (const [d, spec] of this.desired) {
      if (!this.unsynced.has(d)) this.unsynced.set(d, spec);
      this.dirty.add(d);
    }
    this.desired.clear();
    for (const [d, have] of this.unsynced) if (have) this.dirty.add(d);
    this.schedule();
    await this.idle();
  }

  /** Stop writing (pending retries are dropped). */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

/** The in-process rtnetlink writer (src/lib/netlink) behind KernelRoutes: many routes per send. */
export class NetlinkKernel implements KernelRoutes {
  private readonly nl: NetlinkRoutes;
  private readonly table: number;
  constructor(opts: { table: number; protocol: number }) {
    this.table = opts.table;
    this.nl = NetlinkRoutes.open({ protocol: opts.protocol });
  }

  private toNl(r: KernelRoute): NlRoute {
    if (r.type === 'blackhole') return { dst: r.dst, table: this.table, metric: r.metric, type: 'blackhole' };
    if (r.nextHops.length === 1) {
      const h = r.nextHops[0]!;
      if (h.dev === undefined && h.onlink === undefined) return { dst: r.dst, table: this.table, metric: r.metric, gateway: h.gateway };
      return { dst: r.dst, table: this.table, metric: r.metric, gateway: h.gateway, dev: h.dev, onlink: h.onlink };
    }
    return { dst: r.dst, table: this.table, metric: r.metric, multipath: r.nextHops.map((h) => ({ gateway: h.gateway, dev: h.dev, onlink: h.onlink })) };
  }

  async apply(batch: KernelBatch): Promise<KernelApplyResult> {
    const res = await this.nl.apply({
      del: batch.remove.map((r) => ({ dst: r.dst, table: this.table, metric: r.metric })),
      replace: batch.replace.map((r) => this.toNl(r)),
    });
    const failed: KernelApplyResult['failed'] = [];
    for (const e of res.errors) {
      if (e.op === 'del' && e.code === 'ESRCH') continue; // already gone
      failed.push({ dst: e.op === 'del' ? batch.remove[e.index]!.dst : batch.replace[e.index]!.dst, op: e.op === 'del' ? 'remove' : 'replace', error: `${e.code}: ${e.message}` });
    }
    return { failed };
  }

  async list(): Promise<KernelRoute[]> {
    const rows = await this.nl.dumpOwn({ table: this.table });
    return rows.map((k) => ({
      dst: k.dst,
      type: k.type === 'blackhole' ? 'blackhole' : 'unicast',
      nextHops: k.gateway ? [{ gateway: k.gateway }] : [],
      metric: k.metric,
    }));
  }

  async close(): Promise<void> {
    this.nl.close();
  }
}
