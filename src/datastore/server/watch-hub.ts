// Watchers. A WatchSession is one gRPC Watch stream (many watchers, ids from 0 per stream as
// etcd allocates them); the WatchHub indexes every watcher by key (exact-key watchers in a
// map, range/prefix watchers in a list) and, after each committed batch, sends each watcher
// the events it matches — one response per watcher per batch, split so no response grows
// past ~1 MiB. Catch-up from a start revision reads the history table in chunks; since the
// server is single-threaded and catch-up runs only between batches, a watcher moves from
// history to live events with no gap and no duplicate (its `nextRev` cursor guards both).
import { WatchReasons } from './errors.ts';
import type { Event, Header } from './proto.ts';
import { keySel, selContains, type KeySel, type MvccStore } from './store.ts';

export interface WatchSink {
  write(msg: object): boolean;
}

export interface WatchEnv {
  store: MvccStore;
  header(rev: number): Header;
  /** Runs fn when no write batch is open (committer.read). */
  whenIdle(fn: () => void): void;
}

interface Watcher {
  id: number;
  session: WatchSession;
  sel: KeySel;
  exactKey: string | null;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  progressNotify: boolean;
  /** Events below this revision are not for this watcher (already sent, or before its start). */
  nextRev: number;
  sentSinceProgress: boolean;
}

const MAX_RESPONSE_BYTES = 1 << 20;
const CATCHUP_CHUNK = 1000;

export class WatchHub {
  private readonly exact = new Map<string, Set<Watcher>>();
  private readonly ranged = new Set<Watcher>();
  private readonly env: WatchEnv;
  private progressTimer: NodeJS.Timeout | null = null;
  count = 0;

  constructor(env: WatchEnv, progressIntervalMs: number) {
    this.env = env;
    if (progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => env.whenIdle(() => this.progressTick()), progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  get environment(): WatchEnv {
    return this.env;
  }

  add(w: Watcher): void {
    if (w.exactKey !== null) {
      let set = this.exact.get(w.exactKey);
      if (!set) this.exact.set(w.exactKey, (set = new Set()));
      set.add(w);
    } else {
      this.ranged.add(w);
    }
    this.count++;
  }

  remove(w: Watcher): void {
    if (w.exactKey !== null) {
      const set = this.exact.get(w.exactKey);
      if (set?.delete(w)) {
        this.count--;
        if (set.size === 0) this.exact.delete(w.exactKey);
      }
    } else if (this.ranged.delete(w)) {
      this.count--;
    }
  }

  /** Delivers a committed batch's events. */
  dispatch(events: Event[], rev: number): void {
    if (this.count === 0) return;
    let per: Map<Watcher, Event[]> | null = null;
    const offer = (w: Watcher, ev: Event) => {
      if (ev.kv.mod_revision < w.nextRev) return;
      if (ev.type === 0 ? w.noPut : w.noDelete) return;
      per ??= new Map();
      const list = per.get(w);
      if (list) list.push(ev);
      else per.set(w, [ev]);
    };
    const hasExact = this.exact.size > 0;
    const hasRanged = this.ranged.size > 0;
    for (const ev of events) {
      if (hasExact) {
        const set = this.exact.get(ev.kv.key.toString('latin1'));
        if (set) for (const w of set) offer(w, ev);
      }
      if (hasRanged) for (const w of this.ranged) if (selContains(w.sel, ev.kv.key)) offer(w, ev);
    }
    if (!per) return;
    for (const [w, evs] of per as Map<Watcher, Event[]>) {
      w.session.sendEvents(w, evs, rev);
      w.nextRev = rev + 1;
    }
  }

  private progressTick(): void {
    const rev = this.env.store.rev;
    const visit = (w: Watcher) => {
      if (!w.progressNotify) return;
      if (!w.sentSinceProgress) w.session.send({ header: this.env.header(rev), watch_id: w.id });
      w.sentSinceProgress = false;
    };
    for (const set of this.exact.values()) for (const w of set) visit(w);
    for (const w of this.ranged) visit(w);
  }

  close(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
  }
}

export interface WatchCreateRequest {
  key: Buffer;
  range_end: Buffer;
  start_revision: string | number;
  progress_notify: boolean;
  filters: number[];
  prev_kv: boolean;
  watch_id: string | number;
  fragment: boolean;
}

export interface WatchRequest {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: WatchCreateRequest | null;
  cancel_request?: { watch_id: string | number } | null;
  progress_request?: object | null;
}

/** One Watch gRPC stream. */
export class WatchSession {
  private readonly hub: WatchHub;
  private readonly sink: WatchSink;
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private closed = false;

  constructor(hub: WatchHub, sink: WatchSink) {
    this.hub = hub;
    this.sink = sink;
  }

  handle(req: WatchRequest): void {
    if (this.closed) return;
    const env = this.hub.environment;
    if (req.create_request) {
      const c = req.create_request;
      env.whenIdle(() => this.create(c));
    } else if (req.cancel_request) {
      const id = Number(req.cancel_request.watch_id);
      env.whenIdle(() => this.cancel(id));
    } else if (req.progress_request) {
      env.whenIdle(() => this.send({ header: env.header(env.store.rev), watch_id: -1 }));
    }
  }

  send(msg: object): void {
    if (this.closed) return;
    this.sink.write(msg);
  }

  private create(c: WatchCreateRequest): void {
    if (this.closed) return;
    const env = this.hub.environment;
    const store = env.store;
    const cur = store.rev;
    const key = c.key.length ? c.key : Buffer.from([0]);
    const sel = keySel(key, c.range_end);
    const fail = (reason: string) =>
      this.send({ header: env.header(cur), watch_id: -1, created: true, canceled: true, cancel_reason: reason });
    if (sel.kind === 'range' && Buffer.compare(key, sel.end) >= 0) return fail('mvcc: watcher range is empty');
    let id = Number(c.watch_id);
    if (id !== 0) {
      if (this.watchers.has(id)) return fail(WatchReasons.duplicateId);
    } else {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    // 0 means "from the next revision"; any other value, negative too, is taken as given
    // (etcd: a start below the compaction revision, -1 before any, is answered as compacted)
    const start = Number(c.start_revision) !== 0 ? Number(c.start_revision) : cur + 1;
    const w: Watcher = {
      id,
      session: this,
      sel,
      exactKey: sel.kind === 'one' ? key.toString('latin1') : null,
      noPut: c.filters.includes(0),
      noDelete: c.filters.includes(1),
      prevKv: c.prev_kv,
      progressNotify: c.progress_notify,
      nextRev: start,
      sentSinceProgress: false,
    };
    this.watchers.set(id, w);
    this.send({ header: env.header(cur), watch_id: id, created: true });
    if (start <= cur) {
      if (start < store.compactRev) {
        this.watchers.delete(id);
        // etcd's compaction notice carries no revision (its header revision is 0)
        this.send({ header: env.header(0), watch_id: id, canceled: true, compact_revision: store.compactRev });
        return;
      }
      let pos: [number, number] | null = [start, 0];
      while (pos) {
        const chunk = store.historyChunk(sel, pos[0], pos[1], cur, CATCHUP_CHUNK);
        const evs = chunk.events.filter((ev) => !(ev.type === 0 ? w.noPut : w.noDelete));
        if (evs.length) this.sendEvents(w, evs, cur);
        pos = chunk.next;
      }
      w.nextRev = cur + 1;
    }
    this.hub.add(w);
  }

  private cancel(id: number): void {
    const w = this.watchers.get(id);
    if (!w) return;
    this.watchers.delete(id);
    this.hub.remove(w);
    const env = this.hub.environment;
    this.send({ header: env.header(env.store.rev), watch_id: id, canceled: true });
  }

  sendEvents(w: Watcher, evs: Event[], rev: number): void {
    const env = this.hub.environment;
    let out = evs;
    if (w.prevKv) {
      out = evs.map((ev) => {
        if (ev.type === 0 && ev.kv.create_revision === ev.kv.mod_revision) return ev;
        const prev = env.store.prevKv(ev.kv.key, ev.kv.mod_revision);
        return prev ? { type: ev.type, kv: ev.kv, prev_kv: prev } : ev;
      });
    }
    w.sentSinceProgress = true;
    // Split big batches (on revision boundaries when possible) to stay under client limits.
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < out.length; i++) {
      const ev = out[i]!;
      bytes += ev.kv.key.length + ev.kv.value.length + 32 + (ev.prev_kv ? ev.prev_kv.key.length + ev.prev_kv.value.length : 0);
      const last = i === out.length - 1;
      const boundary = last || out[i + 1]!.kv.mod_revision !== ev.kv.mod_revision;
      if (last || (bytes >= MAX_RESPONSE_BYTES && boundary) || bytes >= 4 * MAX_RESPONSE_BYTES) {
        this.send({ header: env.header(rev), watch_id: w.id, events: start === 0 && last ? out : out.slice(start, i + 1) });
        start = i + 1;
        bytes = 0;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) this.hub.remove(w);
    this.watchers.clear();
  }
}
