// Watchers. A WatchSession is one gRPC Watch stream (many watchers, ids from 0 per stream as
// etcd allocates them); the WatchHub indexes every watcher by key (exact-key watchers in a
// map, range/prefix watchers in a list) and, after each committed batch, sends each watcher
// the events it matches — as etcd does, one response per watcher per revision (a batch of
// many writes is many responses), and catch-up from a start revision in responses of at most
// 1000 revisions. A watcher that asked for `fragment` gets etcd's fragments: a response of
// --max-request-bytes or more is cut into pieces, all but the last marked `fragment`.
// Since the server is single-threaded and catch-up runs only between batches, a watcher moves
// from history to live events with no gap and no duplicate (its `nextRev` cursor guards both).
// A stream whose client reads slower than events come (its sink asks to pause) is not sent
// more: each of its watchers falls behind at the revision it had reached and, when the sink
// has drained, catches up from history like a new watcher with a start revision (etcd's
// unsynced watchers), so a stalled client costs the server a bounded queue, not every event.
import { watchEventFieldSize, watchResponseSize } from './codec.ts';
import { WatchReasons } from './errors.ts';
import type { Event, Header } from './proto.ts';
import { keySel, selContains, type KeySel, type MvccStore } from './store.ts';

export interface WatchSink {
  /** Sends a response; false asks the session to send no more until 'drain'. */
  write(msg: object): boolean;
  on?(event: 'drain', listener: () => void): unknown;
}

export interface WatchEnv {
  store: MvccStore;
  header(rev: number): Header;
  /** Runs fn when no write batch is open (committer.read). */
  whenIdle(fn: () => void): void;
  /** --max-request-bytes: the size at which responses are fragmented (etcd's default if absent). */
  maxRequestBytes?: number;
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
  fragment: boolean;
  /**
   * Events below this revision are not for this watcher (already sent, or before its start);
   * while it is not live, where its catch-up from history goes on from.
   */
  nextRev: number;
  /** Sent live events by dispatch; false while it catches up from history (or waits to). */
  live: boolean;
  sentSinceProgress: boolean;
}

/** etcd's default --max-request-bytes. */
const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/**
 * Not etcd's: a response without `fragment` is otherwise sent whole, as etcd does; past this
 * size it is split on revision boundaries so one catch-up cannot build a giant message.
 */
const UNFRAGMENTED_LIMIT = 64 * 1024 * 1024;
/** History rows read per query during catch-up. */
const CATCHUP_CHUNK = 1000;
/** etcd's watchBatchMaxRevs: revisions per catch-up response. */
const CATCHUP_MAX_REVS = 1000;

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
      if (!w.live) return;
      if (w.session.paused) {
        w.live = false;
        return;
      }
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
      // one response per revision, its header at that revision (etcd notifies per write)
      let from = 0;
      for (let i = 1; i <= evs.length; i++) {
        const r = evs[from]!.kv.mod_revision;
        if (i === evs.length || evs[i]!.kv.mod_revision !== r) {
          w.session.sendEvents(w, from === 0 && i === evs.length ? evs : evs.slice(from, i), r);
          from = i;
          // the sink asked to pause: the rest of the batch waits in history
          if (w.session.paused && i < evs.length) {
            w.live = false;
            w.nextRev = evs[i]!.kv.mod_revision;
            break;
          }
        }
      }
      if (w.live) w.nextRev = rev + 1;
    }
  }

  private progressTick(): void {
    const rev = this.env.store.rev;
    const visit = (w: Watcher) => {
      // as etcd: progress only for watchers that are in sync
      if (!w.progressNotify || !w.live) return;
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
  /** The sink asked for a pause: live events are not sent; watchers fall behind. */
  paused = false;

  constructor(hub: WatchHub, sink: WatchSink) {
    this.hub = hub;
    this.sink = sink;
    sink.on?.('drain', () => {
      this.paused = false;
      // a loop turn later: 'drain' comes from inside the connection's frame handling
      setImmediate(() => this.hub.environment.whenIdle(() => this.resume()));
    });
  }

  /** Catches up every watcher that fell behind, until done or the sink asks to pause again. */
  private resume(): void {
    for (const w of [...this.watchers.values()]) {
      if (this.closed || this.paused) return;
      if (!w.live) this.catchUp(w);
    }
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
    if (!this.sink.write(msg)) this.paused = true;
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
      fragment: c.fragment,
      nextRev: start,
      live: start > cur,
      sentSinceProgress: false,
    };
    this.watchers.set(id, w);
    this.send({ header: env.header(cur), watch_id: id, created: true });
    this.hub.add(w);
    if (!w.live) this.catchUp(w);
  }

  /**
   * Sends a watcher that is not live its history from `nextRev` up to the current revision, in
   * responses of up to 1000 revisions (counted before the filters, as etcd's eventBatch), and
   * makes it live. If the sink asks to pause, it stops after a whole response and stays behind
   * at the next revision. A start below the compaction revision cancels it (etcd's notice).
   */
  private catchUp(w: Watcher): void {
    const store = this.hub.environment.store;
    const cur = store.rev;
    if (w.nextRev < store.compactRev) {
      this.watchers.delete(w.id);
      this.hub.remove(w);
      // etcd's compaction notice carries no revision (its header revision is 0)
      this.send({ header: this.hub.environment.header(0), watch_id: w.id, canceled: true, compact_revision: store.compactRev });
      return;
    }
    let batch: Event[] = [];
    let revs = 0;
    const flush = () => {
      const evs = w.noPut || w.noDelete ? batch.filter((ev) => !(ev.type === 0 ? w.noPut : w.noDelete)) : batch;
      if (evs.length) this.sendEvents(w, evs, cur);
      batch = [];
      revs = 0;
    };
    let pos: [number, number] | null = [w.nextRev, 0];
    while (pos) {
      const chunk = store.historyChunk(w.sel, pos[0], pos[1], cur, CATCHUP_CHUNK);
      for (const ev of chunk.events) {
        const last = batch[batch.length - 1];
        if (!last || last.kv.mod_revision !== ev.kv.mod_revision) {
          if (revs === CATCHUP_MAX_REVS) {
            flush();
            if (this.paused || this.closed) {
              w.nextRev = ev.kv.mod_revision;
              return;
            }
          }
          revs++;
        }
        batch.push(ev);
      }
      pos = chunk.next;
    }
    if (batch.length) flush();
    w.live = true;
    w.nextRev = cur + 1;
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
    const header = env.header(rev);
    if (w.fragment) {
      this.sendFragments(w, header, out, env.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES);
      return;
    }
    // Whole, as etcd sends it, unless beyond UNFRAGMENTED_LIMIT (then cut on revision
    // boundaries where possible). Sizes are estimates: only the cut-off needs them.
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < out.length; i++) {
      const ev = out[i]!;
      bytes += ev.kv.key.length + ev.kv.value.length + 32 + (ev.prev_kv ? ev.prev_kv.key.length + ev.prev_kv.value.length : 0);
      const last = i === out.length - 1;
      const boundary = last || out[i + 1]!.kv.mod_revision !== ev.kv.mod_revision;
      if (last || (bytes >= UNFRAGMENTED_LIMIT && boundary) || bytes >= 4 * UNFRAGMENTED_LIMIT) {
        this.send({ header, watch_id: w.id, events: start === 0 && last ? out : out.slice(start, i + 1) });
        start = i + 1;
        bytes = 0;
      }
    }
  }

  /**
   * etcd's sendFragments: a response under `max` bytes (encoded), or of one event, goes whole;
   * otherwise each piece takes events while it stays under `max` (at least one), and every
   * piece but the last is marked `fragment`.
   */
  private sendFragments(w: Watcher, header: Header, evs: Event[], max: number): void {
    const whole = { header, watch_id: w.id, events: evs };
    if (evs.length < 2 || watchResponseSize(whole) < max) {
      this.send(whole);
      return;
    }
    const base = watchResponseSize({ header, watch_id: w.id, fragment: true });
    let i = 0;
    while (i < evs.length) {
      const from = i;
      let size = base;
      for (; i < evs.length; i++) {
        size += watchEventFieldSize(evs[i]!);
        if (i > from && size >= max) break;
      }
      this.send({ header, watch_id: w.id, fragment: i < evs.length, events: evs.slice(from, i) });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) this.hub.remove(w);
    this.watchers.clear();
  }
}
