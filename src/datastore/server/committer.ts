// Group commit. Every write that arrives in one event-loop turn runs inside one SQLite
// transaction (each in its own savepoint, so one failing write does not spoil the others);
// the transaction commits (one fsync, synchronous=FULL) in setImmediate, and only then are
// the writes acknowledged and their events given to watchers. Reads that arrive while a
// batch is open run after it commits, so no client ever sees data that is not yet durable.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { EtcdError, Errors } from './errors.ts';
import { mark } from './trace.ts';
import type { Event } from './proto.ts';
import type { MvccStore, WriteCtx } from './store.ts';

const INLINE_SYNC_MAX = 2;

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
  private syncing = false;
  private waiting: { fn: (ctx: WriteCtx) => unknown; done: Done<unknown> }[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly commitFn = () => this.commit();
  /** Batches committed and writes in them, for metrics and benchmarks. */
  batches = 0;
  writes = 0;

  private readonly _store: MvccStore;
  private readonly sp: { save: StatementSync; release: StatementSync; rollback: StatementSync; begin: StatementSync; commit: StatementSync };
  private readonly hooks: CommitterHooks;

  constructor(store: MvccStore, hooks: CommitterHooks) {
    this._store = store;
    this.hooks = hooks;
    this.db = store.db;
    this.sp = {
      save: this.db.prepare('SAVEPOINT w'),
      release: this.db.prepare('RELEASE w'),
      rollback: this.db.prepare('ROLLBACK TO w'),
      // prepared once: db.exec() would compile the statement text on every batch
      begin: this.db.prepare('BEGIN'),
      commit: this.db.prepare('COMMIT'),
    };
  }

  get store(): MvccStore {
    return this._store;
  }

  /**
   * Runs `fn` inside the open batch (or, while the previous batch is being made durable,
   * queues it for the next batch) and calls `done` once its batch is committed and durable
   * (or with the error that made it fail). `fn` must throw before changing anything when it
   * rejects a request; an error after a change is rolled back to the write's savepoint.
   */
  write<T>(fn: (ctx: WriteCtx) => T, done: Done<T>): void {
    if (this.closed) {
      done(Errors.stopped());
      return;
    }
    if (this.syncing) {
      this.waiting.push({ fn, done: done as Done<unknown> });
      return;
    }
    this.execute(fn, done);
  }

  private execute<T>(fn: (ctx: WriteCtx) => T, done: Done<T>): void {
    // The first write of a batch needs no savepoint: if it fails, the whole (so far
    // one-write) transaction is rolled back instead.
    const first = !this.open;
    if (first) {
      try {
        this.sp.begin.run();
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
    if (!first) this.sp.save.run();
    let value: T;
    try {
      value = fn(ctx);
      if (!first) this.sp.release.run();
    } catch (e) {
      const err = toEtcdError(e);
      if (!this.db.isTransaction) {
        // SQLite gave up the whole transaction (disk full, I/O error): the batch is lost.
        this.abort(e as Error);
        done(err);
        return;
      }
      if (first) {
        // Nothing else is in this transaction: roll it all back and answer the error now
        // (it reveals nothing that is not durable). The scheduled commit finds no batch.
        try {
          this.db.exec('ROLLBACK');
          store.live.rollbackTo(mark);
        } catch (e2) {
          this.abort(e2 as Error);
          done(err);
          return;
        }
        this.open = false;
        done(err);
        this.drainAfter();
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

  /**
   * Runs `fn` now if everything committed is durable and no batch is open; else as soon as
   * that is true again (reads never see data that could still be lost).
   */
  read(fn: () => void): void {
    if (this.open || this.syncing) this.after.push(fn);
    else fn();
  }

  get inBatch(): boolean {
    return this.open || this.syncing;
  }

  /**
   * Commits the open batch, then makes it durable with an fdatasync of the WAL off the event
   * loop; while that runs, new writes queue (their requests are still received and decoded),
   * and they form the next batch once this one is acknowledged. Pipelining as etcd does with
   * its raft log, without ever exposing non-durable data.
   */
  commit(): void {
    if (!this.open) return;
    mark('commitStart');
    this.open = false;
    const store = this._store;
    try {
      this.sp.commit.run();
    } catch (e) {
      this.failBatch(e as Error);
      return;
    }
    store.live.settle();
    mark('committed');
    this.batches++;
    const entries = this.entries;
    const events = this.events;
    const rev = store.rev;
    this.entries = [];
    this.events = [];
    this.syncing = true;
    // A batch of one or two writes (a lone client) syncs inline: two thread hand-offs would
    // cost more than the loop time gained. Larger batches sync off the loop (pipelining).
    const inline = entries.length <= INLINE_SYNC_MAX;
    store.syncWal((err) => {
      this.syncing = false;
      if (err) {
        // Committed but not durable, and already applied in memory: acknowledge nothing and
        // stop (a restart recovers exactly what is on disk).
        this.closed = true;
        const fatal = new Error(`cannot make committed writes durable (fdatasync of the WAL failed: ${err.message})`);
        for (const en of entries) en.fail(Errors.storage(fatal.message));
        this.hooks.onFatal(fatal);
        this.wakeIdle();
        return;
      }
      mark('synced');
      if (events.length) this.hooks.onCommitted(events, rev);
      mark('dispatched');
      for (const en of entries) en.ack();
      mark('acked');
      this.drainAfter();
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) {
        if (this.closed) w.done(Errors.stopped());
        else if (this.syncing) this.waiting.push(w);
        else this.execute(w.fn, w.done);
      }
      this.wakeIdle();
    }, inline);
  }

  private wakeIdle(): void {
    if (this.open || this.syncing) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private drainAfter(): void {
    while (this.after.length && !this.open && !this.syncing) {
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

  /** Commits what is pending, waits until it is durable, and refuses further writes. */
  async close(): Promise<void> {
    this.commit();
    this.closed = true;
    while (this.open || this.syncing) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
