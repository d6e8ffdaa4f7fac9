// Kernel route programming for the speaker. `KernelRoutes` is the small interface the speaker
// needs; `KernelSync` batches desired-state changes so that a burst of UPDATEs becomes one write
// (never one await per route). The default writer is `IpBatchKernel` (one `ip -batch` process per
// flush); the netlink writer from src/lib plugs in through the same interface.
import { spawn } from 'node:child_process';
import { NetlinkRoutes, type Route as NlRoute } from '../../lib/netlink/index.ts';
import { PrefixIndex } from '../rib/index.ts';

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

function withDst(dst: string, r: KernelRouteSpec): KernelRoute {
  return { dst, type: r.type, nextHops: r.nextHops, metric: r.metric };
}

/** KernelSync's holder bit in a (possibly shared) PrefixIndex; the RIB holds rows under bit 1. */
const HOLDER = 2;

/** Rows per kernel write (see KernelSync.flush). */
const FLUSH_CHUNK = 8192;

/** Interned route specs: equal specs (sameRoute) get equal small ids; id 0 = no route. */
class SpecTable {
  specs: (KernelRouteSpec | null)[] = [null];
  private readonly byKey = new Map<string, number>();
  /** Identity cache in front of byKey: the speaker passes one spec object per next-hop set. */
  private readonly byRef = new Map<KernelRouteSpec, number>();

  static key(r: KernelRouteSpec): string {
    let k = `${r.type}|${r.metric === undefined ? '-' : r.metric}|`;
    for (const h of r.nextHops) k += `${h.gateway}/${h.dev === undefined ? '-' : `d${h.dev}`}/${h.onlink ? 1 : 0},`;
    return k;
  }

  id(r: KernelRouteSpec, remember: boolean): number {
    const hit = this.byRef.get(r);
    if (hit !== undefined) return hit;
    const k = SpecTable.key(r);
    let id = this.byKey.get(k);
    if (id === undefined) {
      id = this.specs.length;
      this.specs.push(r);
      this.byKey.set(k, id);
    }
    if (remember) {
      if (this.byRef.size >= 4096) this.byRef.clear();
      this.byRef.set(r, id);
    }
    return id;
  }

  /** Keep only ids for which live(id) is true; returns the old -> new id map. */
  compact(live: Uint8Array): Uint32Array {
    const map = new Uint32Array(this.specs.length);
    const next: (KernelRouteSpec | null)[] = [null];
    this.byKey.clear();
    this.byRef.clear();
    for (let id = 1; id < this.specs.length; id++) {
      if (!live[id]) continue;
      const r = this.specs[id]!;
      map[id] = next.length;
      this.byKey.set(SpecTable.key(r), next.length);
      next.push(r);
    }
    this.specs = next;
    return map;
  }
}

/**
 * Desired-vs-programmed reconciler. `set`/`delete` only record intent; a flush is scheduled on
 * the next macrotask and at most one write is in flight: changes arriving meanwhile coalesce into
 * the next batch. Failed routes are retried with backoff.
 *
 * Memory: no object or string per prefix. Prefixes are rows of a PrefixIndex (IPv4 keyed by
 * integers); per row, the desired and the programmed route are small ids of interned route specs
 * (typed arrays), and a dirty flag. A row is dropped once nothing is desired or programmed.
 */
export class KernelSync {
  private readonly kernel: KernelRoutes;
  private readonly index: PrefixIndex;
  /** Desired spec id per row (0: none). */
  private want = new Uint32Array(64);
  /** Programmed spec id per row as far as we know (0: none). */
  private have = new Uint32Array(64);
  private isDirty = new Uint8Array(64);
  private readonly specs = new SpecTable();
  private specSweepAt = 1024;
  private dirty: number[] = [];
  private wantCount = 0;
  private haveCount = 0;
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = 500;
  private closed = false;
  private readonly onError: (msg: string) => void;
  private idleWaiters: Array<() => void> = [];
  lastError: string | null = null;
  writes = 0;

  /**
   * `index`: share the RIB's prefix index (RibOptions.prefixIndex) so that a prefix is one row for
   * both; rows are held under KernelSync's own bit.
   */
  constructor(kernel: KernelRoutes, onError: (msg: string) => void = () => undefined, opts: { index?: PrefixIndex } = {}) {
    this.kernel = kernel;
    this.onError = onError;
    this.index = opts.index ?? new PrefixIndex();
    this.index.onGrow((cap) => this.grow(cap));
  }

  private grow(cap: number): void {
    if (cap <= this.want.length) return;
    const w = new Uint32Array(cap);
    w.set(this.want);
    this.want = w;
    const h = new Uint32Array(cap);
    h.set(this.have);
    this.have = h;
    const d = new Uint8Array(cap);
    d.set(this.isDirty);
    this.isDirty = d;
  }

  /** Routes we want in the kernel. */
  get size(): number {
    return this.wantCount;
  }

  /** Routes we believe are in the kernel. */
  get programmedSize(): number {
    return this.haveCount;
  }

  private setWant(row: number, id: number): void {
    const cur = this.want[row]!;
    if (cur === 0 && id !== 0) this.wantCount++;
    else if (cur !== 0 && id === 0) this.wantCount--;
    this.want[row] = id;
  }

  private setHave(row: number, id: number): void {
    const cur = this.have[row]!;
    if (cur === 0 && id !== 0) this.haveCount++;
    else if (cur !== 0 && id === 0) this.haveCount--;
    this.have[row] = id;
  }

  private markDirty(row: number): void {
    if (this.isDirty[row]) return;
    this.isDirty[row] = 1;
    this.dirty.push(row);
  }

  /** Forget a row with nothing desired, programmed or pending. */
  private maybeDrop(row: number): void {
    if (this.want[row] === 0 && this.have[row] === 0 && !this.isDirty[row]) this.index.remove(row, HOLDER);
  }

  /** Adopt routes already in the kernel (ours, from a previous run) as programmed; kept until sweep(). */
  adopt(routes: readonly KernelRoute[]): void {
    for (const r of routes) {
      const row = this.index.addKey(r.dst, HOLDER);
      if (this.want[row] !== 0) this.markDirty(row);
      this.setHave(row, this.specs.id({ type: r.type, nextHops: r.nextHops, metric: r.metric }, false));
    }
    if (this.dirty.length) this.schedule();
  }

  set(r: KernelRoute): void {
    this.setRoute(r.dst, r);
  }

  /** Want `dst` routed as `spec` (pass the same spec object for equal routes: it is interned by reference first). */
  setRoute(dst: string, spec: KernelRouteSpec): void {
    const id = this.specs.id(spec, true);
    const row = this.index.addKey(dst, HOLDER);
    if (this.want[row] === id) return;
    this.setWant(row, id);
    this.markDirty(row);
    this.schedule();
  }

  delete(dst: string): void {
    const row = this.index.findKey(dst);
    if (row < 0) return;
    if (this.want[row] === 0) {
      if (this.have[row] === 0) return;
    } else this.setWant(row, 0);
    this.markDirty(row);
    this.schedule();
  }

  /** Remove everything programmed but not desired (the stale sweep after a graceful restart). */
  sweep(): void {
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) if (ix.isUsed(r) && this.have[r] !== 0 && this.want[r] === 0) this.markDirty(r);
    this.schedule();
  }

  /** Resolves when every change recorded so far has been attempted once. */
  async idle(): Promise<void> {
    while ((this.dirty.length && !this.retryTimer) || this.flushing || this.scheduled) {
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
        if (this.dirty.length && !this.retryTimer) this.schedule();
        this.wake();
      });
    });
  }

  /** Renumber spec ids when many are unused (only between writes: no ids are in flight). */
  private maybeSweepSpecs(): void {
    const n = this.specs.specs.length;
    if (n < this.specSweepAt) return;
    const live = new Uint8Array(n);
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      live[this.want[r]!] = 1;
      live[this.have[r]!] = 1;
    }
    const map = this.specs.compact(live);
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      this.want[r] = map[this.want[r]!]!;
      this.have[r] = map[this.have[r]!]!;
    }
    this.specSweepAt = Math.max(1024, 2 * this.specs.specs.length);
  }

  /**
   * Writes every dirty row, FLUSH_CHUNK rows per kernel call: the route objects the writer needs
   * exist for one chunk at a time (short-lived garbage instead of a whole table promoted to the
   * old generation while a large write is in flight).
   */
  private async flush(): Promise<void> {
    this.maybeSweepSpecs();
    const rows = this.dirty;
    this.dirty = [];
    const failed: KernelApplyResult['failed'] = [];
    for (let from = 0; from < rows.length; from += FLUSH_CHUNK) {
      await this.flushChunk(rows, from, Math.min(rows.length, from + FLUSH_CHUNK), failed);
    }
    if (failed.length) {
      this.lastError = `${failed.length} route change(s) failed, e.g. ${failed[0]!.op} ${failed[0]!.dst}: ${failed[0]!.error}`;
      this.onError(this.lastError);
      for (const f of failed) {
        const row = this.index.findKey(f.dst);
        if (row >= 0) this.markDirty(row);
      }
      if (!this.retryTimer && !this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.schedule();
        }, this.retryDelay);
        this.retryTimer.unref();
        this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
      }
    } else if (this.writesInFlush > 0) {
      this.retryDelay = 500;
      this.lastError = null;
    }
    this.writesInFlush = 0;
  }

  private writesInFlush = 0;

  private async flushChunk(rows: readonly number[], from: number, to: number, failedOut: KernelApplyResult['failed']): Promise<void> {
    const batch: KernelBatch = { replace: [], remove: [] };
    const specs = this.specs.specs;
    const ix = this.index;
    const removeRows: number[] = [];
    const replaceRows: number[] = [];
    const replaceIds: number[] = [];
    for (let k = from; k < to; k++) {
      const row = rows[k]!;
      this.isDirty[row] = 0;
      const want = this.want[row]!;
      const have = this.have[row]!;
      if (want !== 0) {
        if (want === have) continue;
        const w = specs[want]!;
        const dst = ix.keyOf(row);
        // The metric is part of the kernel's key: replacing would leave the old route behind.
        if (have !== 0 && specs[have]!.metric !== w.metric) {
          batch.remove.push(withDst(dst, specs[have]!));
          removeRows.push(row);
        }
        batch.replace.push(withDst(dst, w));
        replaceRows.push(row);
        replaceIds.push(want);
      } else if (have !== 0) {
        batch.remove.push(withDst(ix.keyOf(row), specs[have]!));
        removeRows.push(row);
      } else this.maybeDrop(row);
    }
    if (!batch.replace.length && !batch.remove.length) return;
    let res: KernelApplyResult;
    try {
      this.writes++;
      this.writesInFlush++;
      res = await this.kernel.apply(batch);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      res = { failed: [...batch.replace.map((r) => ({ dst: r.dst, op: 'replace' as const, error })), ...batch.remove.map((r) => ({ dst: r.dst, op: 'remove' as const, error }))] };
    }
    let badRemove: Set<string> | null = null;
    let badReplace: Set<string> | null = null;
    for (const f of res.failed) {
      if (f.op === 'remove') (badRemove ??= new Set()).add(f.dst);
      else (badReplace ??= new Set()).add(f.dst);
      failedOut.push(f);
    }
    for (let i = 0; i < removeRows.length; i++) {
      if (badRemove?.has(batch.remove[i]!.dst)) continue;
      this.setHave(removeRows[i]!, 0);
    }
    for (let i = 0; i < replaceRows.length; i++) {
      if (badReplace?.has(batch.replace[i]!.dst)) continue;
      this.setHave(replaceRows[i]!, replaceIds[i]!);
    }
    for (const row of removeRows) this.maybeDrop(row);
  }

  /** Remove every route we programmed (normal shutdown). */
  async removeAll(): Promise<void> {
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      this.setWant(r, 0);
      if (this.have[r] !== 0) this.markDirty(r);
    }
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
