// MemoryKv: an in-process fake of the etcd v3 data model for fast unit tests — MVCC history
// (read at a revision, watch from a revision), compare-and-swap transactions, compaction,
// leases, and fault injection (an "outage" that fails calls and breaks watches). Watch events
// are delivered asynchronously, one batch per revision, like a server would.

import {
  DatastoreRequestError,
  DatastoreUnavailable,
  RevisionCompacted,
} from './errors.ts';
import type {
  Compare,
  DeleteResult,
  KeyValue,
  Kv,
  KvEvent,
  KvWatch,
  Lease,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  WatchOptions,
} from './kv.ts';

interface Version {
  readonly rev: number;
  /** undefined: a tombstone (the key was deleted at rev). */
  readonly kv: KeyValue | undefined;
}

interface MemWatch {
  prefix: string;
  next: number; // next revision to deliver
  prevKv: boolean;
  handlers: WatchHandlers;
  dead: boolean;
}

interface MemLease {
  id: string;
  ttl: number;
  keys: Set<string>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class MemoryKv implements Kv {
  readonly description = 'memory://';
  private rev = 1;
  private compactRev = 0;
  private readonly keys = new Map<string, Version[]>();
  /** Events by revision, for watch replay. */
  private readonly history: Array<{ rev: number; events: KvEvent[] }> = [];
  private readonly watches = new Set<MemWatch>();
  private readonly leases = new Map<string, MemLease>();
  private nextLeaseId = 0x1000;
  private down = false;
  private closed = false;
  /** Count of calls made, by method, for tests. */
  readonly calls = new Map<string, number>();

  /** Simulate losing (true) or regaining (false) the datastore. Breaking kills every watch. */
  setUnavailable(down: boolean): void {
    this.down = down;
    if (down) {
      for (const w of this.watches) this.killWatch(w, this.unavailable());
    }
  }

  /** Current revision without the async ceremony (tests). */
  get revision(): number {
    return this.rev;
  }

  private unavailable(): DatastoreUnavailable {
    return new DatastoreUnavailable([this.description], 'simulated outage');
  }

  private async enter(method: string): Promise<void> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    await Promise.resolve();
    if (this.closed) throw new DatastoreUnavailable([this.description], 'client closed');
    if (this.down) throw this.unavailable();
  }

  private latest(key: string, atRev = this.rev): KeyValue | undefined {
    const versions = this.keys.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i]!;
      if (v.rev <= atRev) return v.kv;
    }
    return undefined;
  }

  private checkRevision(revision: number | undefined): number {
    if (revision === undefined || revision <= 0) return this.rev;
    if (revision < this.compactRev) throw new RevisionCompacted(revision, this.compactRev);
    if (revision > this.rev) throw new DatastoreRequestError('etcdserver: mvcc: required revision is a future revision');
    return revision;
  }

  private matching(prefix: string, atRev: number, exact = false): KeyValue[] {
    const out: KeyValue[] = [];
    if (exact) {
      const kv = this.latest(prefix, atRev);
      return kv ? [kv] : [];
    }
    for (const key of this.keys.keys()) {
      if (!key.startsWith(prefix)) continue;
      const kv = this.latest(key, atRev);
      if (kv) out.push(kv);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  async get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined> {
    await this.enter('get');
    return this.latest(key, this.checkRevision(options?.revision));
  }

  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    await this.enter('range');
    const at = this.checkRevision(options?.revision);
    const from = options?.fromKey;
    const all = this.matching(prefix, at).filter((kv) => from === undefined || kv.key >= from);
    const limit = options?.limit && options.limit > 0 ? options.limit : all.length;
    let kvs = all.slice(0, limit);
    if (options?.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, revision: this.rev, more: all.length > limit, count: all.length };
  }

  async put(key: string, value: string, options?: { lease?: string; prevKv?: boolean }): Promise<PutResult> {
    await this.enter('put');
    const prev = this.latest(key);
    this.commit([{ type: 'put', key, value, ...(options?.lease ? { lease: options.lease } : {}) }]);
    return { revision: this.rev, ...(options?.prevKv && prev ? { prev } : {}) };
  }

  async delete(key: string, options?: { prefix?: boolean; prevKv?: boolean }): Promise<DeleteResult> {
    await this.enter('delete');
    const [res] = this.commit([{ type: 'delete', key, prefix: options?.prefix ?? false }]);
    const r = res as Extract<TxnOpResult, { type: 'delete' }>;
    return { revision: this.rev, deleted: r.deleted, prev: options?.prevKv ? r.prev : [] };
  }

  async txn(req: TxnRequest): Promise<TxnResult> {
    await this.enter('txn');
    const ok = req.compare.every((c) => this.compare(c));
    const results = this.commit(ok ? req.success : (req.failure ?? []));
    return { succeeded: ok, revision: this.rev, results };
  }

  private compare(c: Compare): boolean {
    const kv = this.latest(c.key);
    let actual: number | string;
    switch (c.target) {
      case 'version': actual = kv?.version ?? 0; break;
      case 'create': actual = kv?.createRevision ?? 0; break;
      case 'mod': actual = kv?.modRevision ?? 0; break;
      case 'value':
        if (!kv) return false; // etcd: a value compare on a missing key fails
        actual = kv.value;
        break;
    }
    const want = c.value;
    switch (c.op) {
      case '=': return actual === want;
      case '!=': return actual !== want;
      case '<': return actual < want;
      case '>': return actual > want;
    }
  }

  /** Applies ops atomically at one new revision (if any op writes). */
  private commit(ops: readonly TxnOp[]): TxnOpResult[] {
    const writes = ops.some((op) => op.type === 'put' || (op.type === 'delete' && this.matching(op.key, this.rev, !op.prefix).length > 0));
    const rev = writes ? this.rev + 1 : this.rev;
    const events: KvEvent[] = [];
    const results: TxnOpResult[] = [];
    for (const op of ops) {
      if (op.type === 'get') {
        results.push({ type: 'get', kvs: this.matching(op.key, this.rev, !op.prefix) });
      } else if (op.type === 'put') {
        const prev = this.latestIncludingPending(op.key);
        if (op.lease && op.lease !== '0' && !this.leases.has(op.lease)) {
          throw new DatastoreRequestError('etcdserver: requested lease not found');
        }
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          modRevision: rev,
          createRevision: prev ? prev.createRevision : rev,
          version: prev ? prev.version + 1 : 1,
          lease: op.lease ?? '0',
        };
        if (prev && prev.lease !== '0') this.leases.get(prev.lease)?.keys.delete(op.key);
        if (op.lease && op.lease !== '0') this.leases.get(op.lease)!.keys.add(op.key);
        this.pushVersion(op.key, rev, kv);
        events.push({ type: 'put', kv, ...(prev ? { prev } : {}) });
        results.push({ type: 'put' });
      } else {
        const victims = op.prefix
          ? [...this.keys.keys()].filter((k) => k.startsWith(op.key)).map((k) => this.latest(k)).filter((kv) => kv !== undefined)
          : [this.latest(op.key)].filter((kv) => kv !== undefined);
        for (const prev of victims) {
          if (prev.lease !== '0') this.leases.get(prev.lease)?.keys.delete(prev.key);
          this.pushVersion(prev.key, rev, undefined);
          events.push({
            type: 'delete',
            kv: { key: prev.key, value: '', modRevision: rev, createRevision: 0, version: 0, lease: '0' },
            prev,
          });
        }
        results.push({ type: 'delete', deleted: victims.length, prev: victims });
      }
    }
    if (writes) {
      this.rev = rev;
      this.history.push({ rev, events });
      this.scheduleDelivery();
    }
    return results;
  }

  private latestIncludingPending(key: string): KeyValue | undefined {
    const versions = this.keys.get(key);
    return versions?.[versions.length - 1]?.kv;
  }

  private pushVersion(key: string, rev: number, kv: KeyValue | undefined): void {
    let versions = this.keys.get(key);
    if (!versions) this.keys.set(key, (versions = []));
    const last = versions[versions.length - 1];
    if (last && last.rev === rev) versions[versions.length - 1] = { rev, kv };
    else versions.push({ rev, kv });
  }

  private deliveryScheduled = false;
  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      for (const w of this.watches) this.deliver(w);
    });
  }

  private deliver(w: MemWatch): void {
    if (w.dead) return;
    for (const h of this.history) {
      if (h.rev < w.next) continue;
      const events = h.events
        .filter((e) => e.kv.key.startsWith(w.prefix))
        .map((e) => (w.prevKv || !e.prev ? e : { type: e.type, kv: e.kv }));
      w.next = h.rev + 1;
      if (events.length) w.handlers.onEvents(events, h.rev);
      if (w.dead) return;
    }
    w.next = Math.max(w.next, this.rev + 1);
  }

  private killWatch(w: MemWatch, err: Error): void {
    if (w.dead) return;
    w.dead = true;
    this.watches.delete(w);
    setImmediate(() => w.handlers.onError(err));
  }

  watch(prefix: string, options: WatchOptions, handlers: WatchHandlers): KvWatch {
    const w: MemWatch = {
      prefix,
      next: options.fromRevision && options.fromRevision > 0 ? options.fromRevision : this.rev + 1,
      prevKv: options.prevKv ?? false,
      handlers,
      dead: false,
    };
    const ready = (async () => {
      await Promise.resolve();
      if (this.down || this.closed) {
        this.killWatch(w, this.unavailable());
        return;
      }
      if (options.fromRevision && options.fromRevision > 0 && options.fromRevision < this.compactRev) {
        this.killWatch(w, new RevisionCompacted(options.fromRevision, this.compactRev));
        return;
      }
      this.watches.add(w);
      setImmediate(() => this.deliver(w));
    })();
    return {
      ready,
      cancel: async () => {
        w.dead = true;
        this.watches.delete(w);
        await ready;
      },
    };
  }

  async leaseGrant(ttlSeconds: number): Promise<Lease> {
    await this.enter('leaseGrant');
    const id = String(this.nextLeaseId++);
    const lease: MemLease = { id, ttl: ttlSeconds, keys: new Set(), timer: undefined };
    this.leases.set(id, lease);
    this.armLease(lease);
    return { id, ttl: ttlSeconds };
  }

  private armLease(lease: MemLease): void {
    if (lease.timer) clearTimeout(lease.timer);
    lease.timer = setTimeout(() => this.expire(lease.id), lease.ttl * 1000);
    lease.timer.unref();
  }

  private expire(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    if (lease.timer) clearTimeout(lease.timer);
    this.leases.delete(id);
    const ops: TxnOp[] = [...lease.keys].map((key) => ({ type: 'delete', key }));
    if (ops.length) this.commit(ops);
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.enter('leaseRevoke');
    if (!this.leases.has(id)) throw new DatastoreRequestError('etcdserver: requested lease not found');
    this.expire(id);
  }

  async leaseKeepAliveOnce(id: string): Promise<number> {
    await this.enter('leaseKeepAlive');
    const lease = this.leases.get(id);
    if (!lease) throw new DatastoreRequestError('etcdserver: requested lease not found');
    this.armLease(lease);
    return lease.ttl;
  }

  async compact(revision: number): Promise<void> {
    await this.enter('compact');
    if (revision <= this.compactRev) {
      throw new DatastoreRequestError('etcdserver: mvcc: required revision has been compacted');
    }
    if (revision > this.rev) throw new DatastoreRequestError('etcdserver: mvcc: required revision is a future revision');
    this.compactRev = revision;
    for (const [key, versions] of this.keys) {
      // keep the newest version at or below the compaction point (if live) and all after it
      let keepFrom = 0;
      for (let i = 0; i < versions.length; i++) if (versions[i]!.rev <= revision) keepFrom = i;
      const kept = versions.slice(keepFrom).filter((v, i) => i > 0 || v.kv !== undefined || v.rev > revision);
      if (kept.length) this.keys.set(key, kept);
      else this.keys.delete(key);
    }
    while (this.history.length && this.history[0]!.rev < revision) this.history.shift();
    // etcd cancels watchers that still need compacted revisions.
    for (const w of this.watches) {
      if (w.next < revision) this.killWatch(w, new RevisionCompacted(w.next, revision));
    }
  }

  async currentRevision(): Promise<number> {
    await this.enter('currentRevision');
    return this.rev;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watches) {
      w.dead = true;
    }
    this.watches.clear();
    for (const l of this.leases.values()) if (l.timer) clearTimeout(l.timer);
  }
}
