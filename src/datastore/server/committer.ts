// Group commit. Every write that arrives in one event-loop turn runs inside one SQLite
// transaction (each in its own savepoint, so one failing write does not spoil the others);
// the transaction commits (one fsync, synchronous=FULL) in setImmediate, and only then are
// the writes acknowledged and their events given to watchers. Reads that arrive while a
// batch is open run after it commits, so no client ever sees data that is not yet durable.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { EtcdError, Errors } from './errors.ts';
import type { Event } from './proto.ts';
import type { MvccStore, WriteCtx } from './store.ts';

export type Done<T> = (err: EtcdError | null, value?: T) => void;

interface Entry {
  ack: () => void;
  fail: (e: EtcdError) => void;
}

export interface CommitterHooks {
  /** Called after a batch commits, with its events in revision order. */
  onCommitted(events: Event[], rev: number): void;
  /** Called when a batch could not be committed (the writes were rolled back). */
  onCommitFailed(err: Error): void;
  /** Called when committed writes could not be made durable; the committer stops. */
  onFatal(err: Error): void;
}

export function toEtcdError(e: unknown): EtcdError {
  if (e instanceof EtcdError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return Errors.storage(msg);
}

export class Committer {
  private readonly db: DatabaseSync;
  private open = false;
  private closed = false;
  private entries: Entry[] = [];
  private events: Event[] = [];
  private after: (() => void)[] = [];
  private persistedRev: number;
  private readonly commitFn = () => this.commit();
  /** Batches committed and writes in them, for metrics and benchmarks. */
  batches = 0;
  writes = 0;

  private readonly _store: MvccStore;
  private readonly sp: { save: StatementSync; release: StatementSync; rollback: StatementSync };
  private readonly hooks: CommitterHooks;

  constructor(store: MvccStore, hooks: CommitterHooks) {
    this._store = store;
    this.hooks = hooks;
    this.db = store.db;
    this.sp = {
      save: this.db.prepare('SAVEPOINT w'),
      release: this.db.prepare('RELEASE w'),
      rollback: this.db.prepare('ROLLBACK TO w'),
    };
    this.persistedRev = store.rev;
  }

  get store(): MvccStore {
    return this._store;
  }

  /**
   * Runs `fn` now, inside the open batch, and calls `done` once the batch has committed
   * (or with the error that made it fail). `fn` must throw before changing anything when
   * it rejects a request; an error after a change is rolled back to the write's savepoint.
   */
  write<T>(fn: (ctx: WriteCtx) => T, done: Done<T>): void {
    if (this.closed) {
      done(Errors.stopped());
      return;
    }
    if (!this.open) {
      try {
        this.db.exec('BEGIN');
      } catch (e) {
        done(toEtcdError(e));
        return;
      }
      this.open = true;
      setImmediate(this.commitFn);
    }
    const store = this._store;
    const ctx = store.beginWrite();
    const mark = store.live.mark();
    this.sp.save.run();
    let value: T;
    try {
      value = fn(ctx);
      this.sp.release.run();
    } catch (e) {
      const err = toEtcdError(e);
      if (!this.db.isTransaction) {
        // SQLite gave up the whole transaction (disk full, I/O error): the batch is lost.
        this.abort(e as Error);
        done(err);
        return;
      }
      try {
        this.sp.rollback.run();
        this.sp.release.run();
        store.live.rollbackTo(mark);
      } catch (e2) {
        this.abort(e2 as Error);
        done(err);
        return;
      }
      this.entries.push({ ack: () => done(err), fail: (x) => done(x) });
      return;
    }
    store.endWrite(ctx);
    if (ctx.events.length) for (const ev of ctx.events) this.events.push(ev);
    this.writes++;
    this.entries.push({ ack: () => done(null, value), fail: (x) => done(x) });
  }

  /** Runs `fn` now if no batch is open, else right after the open batch commits. */
  read(fn: () => void): void {
    if (this.open) this.after.push(fn);
    else fn();
  }

  get inBatch(): boolean {
    return this.open;
  }

  /** Commits the open batch now (also used at shutdown). */
  commit(): void {
    if (!this.open) return;
    this.open = false;
    const store = this._store;
    try {
      if (store.rev !== this.persistedRev) store.persistRev();
      this.db.exec('COMMIT');
    } catch (e) {
      this.failBatch(e as Error);
      return;
    }
    try {
      store.syncWal();
    } catch (e) {
      // Committed but not durable, and already visible in memory: nothing is acknowledged,
      // and the only honest way on is to stop (a restart recovers what is on disk).
      this.closed = true;
      this.hooks.onFatal(new Error(`cannot make committed writes durable (fdatasync of the WAL failed: ${(e as Error).message})`));
      return;
    }
    this.persistedRev = store.rev;
    store.live.settle();
    this.batches++;
    const entries = this.entries;
    const events = this.events;
    this.entries = [];
    this.events = [];
    if (events.length) this.hooks.onCommitted(events, store.rev);
    for (const en of entries) en.ack();
    this.drainAfter();
  }

  private drainAfter(): void {
    while (this.after.length && !this.open) {
      const fns = this.after;
      this.after = [];
      for (const fn of fns) fn();
    }
  }

  private failBatch(e: Error): void {
    try {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
    } catch {
      /* nothing more to undo */
    }
    this._store.reload();
    this.persistedRev = this._store.rev;
    const err = toEtcdError(e);
    const entries = this.entries;
    this.entries = [];
    this.events = [];
    this.hooks.onCommitFailed(e);
    for (const en of entries) en.fail(err);
    this.drainAfter();
  }

  /** The transaction is gone mid-batch: fail what it held and start clean. */
  private abort(e: Error): void {
    this.open = false;
    this.failBatch(e);
  }

  /** Commits what is pending and refuses further writes. */
  close(): void {
    this.commit();
    this.closed = true;
  }
}
