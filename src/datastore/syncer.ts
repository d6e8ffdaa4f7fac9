// Syncer: a consistent list-then-watch stream of datastore updates for long-lived components
// (felix's calculation graph, the BGP speaker, controllers). It is Calico's watchersyncer
// contract on the etcd v3 data model:
//
//   status 'wait-for-datastore' → (list at revision R) → one batch of 'set' updates →
//   status 'in-sync' → watch from R+1 → batches of 'set'/'delete' updates, in revision order.
//
// It survives
// - lost connections: it retries with exponential backoff and resumes the watch from the
//   revision after the last one it delivered, so nothing is missed and nothing repeated;
// - compaction (the resume revision is gone): it relists and emits only the difference from
//   what it has delivered — 'delete' for keys that vanished, 'set' for keys whose modRevision
//   changed — then 'in-sync' again.
//
// Invariant: the consumer's view (the sum of delivered updates) equals the datastore at some
// revision after each batch; a key's updates arrive in increasing modRevision order and a
// 'set' is never repeated for the same modRevision. One serialized loop; watch callbacks only
// enqueue.

import { DatastoreUnavailable, RevisionCompacted } from './errors.ts';
import type { Kv, KvEvent, KvWatch } from './kv.ts';

export type SyncStatus = 'wait-for-datastore' | 'resync' | 'in-sync';

export interface SyncUpdate {
  readonly type: 'set' | 'delete';
  readonly key: string;
  /** The new value ('' for delete). */
  readonly value: string;
  /** modRevision of the new value; for a delete, the deleting revision. */
  readonly revision: number;
}

export interface SyncerCallbacks {
  onUpdates(updates: readonly SyncUpdate[]): void;
  onStatus(status: SyncStatus): void;
}

export interface SyncerOptions {
  /** Key prefixes to sync, e.g. ['/calico/resources/v3/projectcalico.org/']. */
  readonly prefixes: readonly string[];
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Keys per page when listing. */
  readonly pageSize?: number;
  /** Called with every error the syncer recovers from (for logs). */
  readonly onError?: (err: Error) => void;
}

export interface SyncerStats {
  lists: number;
  watchRestarts: number;
  lastRevision: number;
}

type Item =
  | { kind: 'events'; watch: number; gen: number; events: readonly KvEvent[]; header: number }
  | { kind: 'error'; gen: number; err: Error }
  | { kind: 'stop' };

export class Syncer {
  private readonly kv: Kv;
  private readonly callbacks: SyncerCallbacks;
  private readonly opts: Required<Omit<SyncerOptions, 'onError'>> & Pick<SyncerOptions, 'onError'>;
  /** What the consumer has been told: key → modRevision. */
  private readonly delivered = new Map<string, number>();
  /** Per prefix: every revision up to this one has been delivered. */
  private progress: number[] = [];
  private readonly queue: Item[] = [];
  private wake: (() => void) | undefined;
  private watches: KvWatch[] = [];
  private gen = 0;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private status: SyncStatus | undefined;
  private sleepTimer: ReturnType<typeof setTimeout> | undefined;
  private sleepResolve: (() => void) | undefined;
  readonly stats: SyncerStats = { lists: 0, watchRestarts: 0, lastRevision: 0 };

  constructor(deps: { kv: Kv }, callbacks: SyncerCallbacks, options: SyncerOptions) {
    this.kv = deps.kv;
    this.callbacks = callbacks;
    this.opts = {
      prefixes: options.prefixes,
      initialBackoffMs: options.initialBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5_000,
      pageSize: options.pageSize ?? 1_000,
      onError: options.onError,
    };
    if (!options.prefixes.length) throw new TypeError('Syncer needs at least one key prefix');
  }

  start(): void {
    if (this.loopDone) return;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.push({ kind: 'stop' });
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepResolve?.();
    await this.loopDone;
    await this.cancelWatches();
  }

  /** Number of keys the consumer currently holds (for tests and status). */
  get size(): number {
    return this.delivered.size;
  }

  private setStatus(s: SyncStatus): void {
    if (this.status === s) return;
    this.status = s;
    try {
      this.callbacks.onStatus(s);
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  /** A consumer that throws must not stop the stream or make it lose its place. */
  private emit(updates: readonly SyncUpdate[]): void {
    try {
      this.callbacks.onUpdates(updates);
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  private push(item: Item): void {
    this.queue.push(item);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async next(): Promise<Item> {
    while (!this.queue.length) await new Promise<void>((r) => (this.wake = r));
    return this.queue.shift()!;
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((r) => {
      this.sleepResolve = r;
      this.sleepTimer = setTimeout(r, ms);
    });
    this.sleepTimer = undefined;
    this.sleepResolve = undefined;
  }

  private async loop(): Promise<void> {
    this.setStatus('wait-for-datastore');
    let needList = true;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.setStatus('in-sync');
        }
        const err = await this.watchUntilError();
        if (this.stopped) break;
        this.opts.onError?.(err);
        if (err instanceof RevisionCompacted) {
          // History we need is gone: relist at once (not a connectivity problem).
          needList = true;
          failures = 0;
          continue;
        }
        failures = this.madeProgress ? 0 : failures;
        failures++;
      } catch (err) {
        if (this.stopped) break;
        this.opts.onError?.(err as Error);
        if (err instanceof RevisionCompacted) {
          needList = true;
          continue;
        }
        failures++;
      }
      const delay = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** Math.min(failures - 1, 20));
      await this.sleep(delay * (0.8 + Math.random() * 0.4));
    }
  }

  /** Lists every prefix at one revision and delivers the difference from what was delivered. */
  private async relist(): Promise<void> {
    if (this.everSynced) this.setStatus('resync');
    this.stats.lists++;
    let revision = 0;
    const seen = new Map<string, { value: string; mod: number }>();
    for (const prefix of this.opts.prefixes) {
      let fromKey: string | undefined;
      for (;;) {
        const page = await this.kv.range(prefix, {
          limit: this.opts.pageSize,
          ...(revision ? { revision } : {}),
          ...(fromKey !== undefined ? { fromKey } : {}),
        });
        if (!revision) revision = page.revision;
        for (const kv of page.kvs) seen.set(kv.key, { value: kv.value, mod: kv.modRevision });
        if (!page.more || page.kvs.length === 0) break;
        fromKey = page.kvs[page.kvs.length - 1]!.key + '\0';
      }
    }
    const updates: SyncUpdate[] = [];
    for (const key of this.delivered.keys()) {
      if (!seen.has(key)) updates.push({ type: 'delete', key, value: '', revision });
    }
    for (const [key, v] of seen) {
      if (this.delivered.get(key) !== v.mod) updates.push({ type: 'set', key, value: v.value, revision: v.mod });
    }
    for (const u of updates) {
      if (u.type === 'delete') this.delivered.delete(u.key);
      else this.delivered.set(u.key, u.revision);
    }
    this.progress = this.opts.prefixes.map(() => revision);
    this.everSynced = true;
    this.stats.lastRevision = revision;
    if (updates.length) this.emit(updates);
  }

  private madeProgress = false;
  private everSynced = false;

  /** Starts one watch per prefix from the revision after the delivered one; returns the first error. */
  private async watchUntilError(): Promise<Error> {
    await this.cancelWatches();
    const gen = ++this.gen;
    this.madeProgress = false;
    // Probe connectivity first so an outage costs one cheap call, not a watch per prefix.
    await this.kv.currentRevision();
    this.stats.watchRestarts++;
    this.opts.prefixes.forEach((prefix, i) => {
      const w = this.kv.watch(
        prefix,
        { fromRevision: this.progress[i]! + 1, progressNotify: true },
        {
          onEvents: (events, header) => this.push({ kind: 'events', watch: i, gen, events, header }),
          onError: (err) => this.push({ kind: 'error', gen, err }),
        },
      );
      this.watches.push(w);
    });
    for (;;) {
      const item = await this.next();
      if (item.kind === 'stop') return new DatastoreUnavailable([this.kv.description], 'syncer stopped');
      if (item.gen !== gen) continue; // from a watch we already replaced
      if (item.kind === 'error') {
        await this.cancelWatches();
        return item.err;
      }
      this.madeProgress = true;
      this.apply(item.watch, item.events, item.header);
    }
  }

  private apply(watch: number, events: readonly KvEvent[], header: number): void {
    const updates: SyncUpdate[] = [];
    let last = this.progress[watch]!;
    for (const ev of events) {
      const key = ev.kv.key;
      const rev = ev.kv.modRevision;
      if (rev <= this.progress[watch]!) continue; // replayed after a resume: already delivered
      last = Math.max(last, rev);
      const have = this.delivered.get(key);
      if (ev.type === 'put') {
        if (have !== undefined && have >= rev) continue;
        this.delivered.set(key, rev);
        updates.push({ type: 'set', key, value: ev.kv.value, revision: rev });
      } else {
        if (have === undefined || have >= rev) continue;
        this.delivered.delete(key);
        updates.push({ type: 'delete', key, value: '', revision: rev });
      }
    }
    // An event-less response is a progress notification: everything up to `header` is delivered.
    if (events.length === 0 && header > last) last = header;
    this.progress[watch] = last;
    this.stats.lastRevision = Math.max(this.stats.lastRevision, last);
    if (updates.length) this.emit(updates);
  }

  private async cancelWatches(): Promise<void> {
    const ws = this.watches;
    this.watches = [];
    await Promise.all(ws.map((w) => w.cancel()));
  }
}
