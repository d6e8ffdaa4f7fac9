// Batched route programming over one rtnetlink socket.
//
// apply() packs many RTM_NEWROUTE/RTM_DELROUTE messages into each send (buffers of ~64 KiB).
// Only the last message of a buffer asks for an ack: the kernel still reports every failing
// message with an NLMSG_ERROR carrying its sequence number, so successes cost no reply at all
// and per-route errors (EEXIST, ENETUNREACH, ESRCH, ...) are reported without failing the batch.
// Between buffers the event loop gets a turn every `yieldEvery` routes.
import * as C from './constants.ts';
import {
  NetlinkError, NlWriter, decodeError, decodeLink, decodeNexthop, decodeRoute, encodeLinkDump, encodeNexthopAdd, encodeNexthopDel,
  encodeNexthopDump, encodeRoute, encodeRouteDump, encodeRouteGet,
} from './codec.ts';
import type { Family, KernelRoute, Nexthop, NlMessage, Route, RouteOp } from './codec.ts';
import { NetlinkSocket } from './socket.ts';
import type { NetlinkSocketOptions } from './socket.ts';

export interface RouteBatch {
  /** Create; fails per route with EEXIST when the same route (dst, table, metric) exists. */
  add?: readonly Route[];
  /** Create or replace. */
  replace?: readonly Route[];
  /** Delete (matching protocol, so only our own routes); ESRCH when absent. */
  del?: readonly Route[];
}

export interface RouteError {
  op: RouteOp;
  /** Index into the batch's list for that op. */
  index: number;
  route: Route;
  /** Kernel errno name (EEXIST, ENETUNREACH, ESRCH, ...) or 'invalid-route' for input we refused. */
  code: string;
  errno?: number;
  message: string;
}

export interface ApplyResult {
  /** Routes the kernel accepted. */
  ok: number;
  errors: RouteError[];
}

export interface NetlinkRoutesOptions extends NetlinkSocketOptions {
  /** rtm_protocol stamped on routes that do not set one, and used to filter dumps (default 80). */
  protocol?: number;
  /** Bytes per send (default 64 KiB). */
  bufferBytes?: number;
  /** Give the event loop a turn after this many routes (default 8192; 0 = never). */
  yieldEvery?: number;
  /**
   * Put single-gateway routes that name their device on shared nexthop objects (`ip nexthop`,
   * kernel >= 5.3) instead of a gateway per route: about a third less kernel time per route.
   * Objects carry our protocol; `pruneNexthops()` deletes ours that no route uses. Default off.
   */
  nexthopObjects?: boolean;
  /** First nexthop id this writer allocates (default 0x43410000); ids are per network namespace. */
  nexthopIdBase?: number;
}

/** Felix's DefaultRouteProto (80) unless told otherwise. */
export const DEFAULT_PROTOCOL = 80;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

export interface RouteDumpFilter {
  family?: Family;
  table?: number;
  /** Only routes with this rtm_protocol; omit for all. */
  protocol?: number;
  /** Include the kernel's local/broadcast table entries when no table is given (default false). */
  includeLocal?: boolean;
}

export class NetlinkRoutes {
  readonly socket: NetlinkSocket;
  readonly protocol: number;
  private readonly bufferBytes: number;
  private readonly yieldEvery: number;
  private readonly writer: NlWriter;
  private ifindexByName = new Map<string, number>();
  private readonly useNexthops: boolean;
  private nhLoaded = false;
  private readonly nhByKey = new Map<string, number>();
  private readonly nhById = new Map<number, Nexthop>();
  private nextNhId: number;

  constructor(socket: NetlinkSocket, opts: NetlinkRoutesOptions = {}) {
    this.socket = socket;
    this.protocol = opts.protocol ?? DEFAULT_PROTOCOL;
    if (!Number.isInteger(this.protocol) || this.protocol < 0 || this.protocol > 255) {
      throw new NetlinkError('invalid-route', `protocol ${this.protocol}: expected an integer 0..255`);
    }
    this.bufferBytes = opts.bufferBytes ?? 65536;
    this.yieldEvery = opts.yieldEvery ?? 8192;
    this.writer = new NlWriter(this.bufferBytes + 4096);
    this.useNexthops = opts.nexthopObjects ?? false;
    this.nextNhId = opts.nexthopIdBase ?? 0x43410000;
  }

  /** Opens a socket (in opts.netns if given) and wraps it. */
  static open(opts: NetlinkRoutesOptions = {}): NetlinkRoutes {
    return new NetlinkRoutes(NetlinkSocket.open(opts), opts);
  }

  close(): void {
    this.socket.close();
  }

  /** Applies a batch: deletes first, then adds, then replaces. Resolves with per-route errors. */
  apply(batch: RouteBatch): Promise<ApplyResult> {
    return this.socket.exclusive(() => this.applyLocked(batch));
  }

  private async resolveDevs(batch: RouteBatch): Promise<void> {
    const missing = new Set<string>();
    const scan = (rs: readonly Route[] | undefined) => {
      for (const r of rs ?? []) {
        if (r === null || typeof r !== 'object') continue;
        if (r.dev !== undefined && r.ifindex === undefined && !this.ifindexByName.has(r.dev)) missing.add(r.dev);
        for (const nh of Array.isArray(r.multipath) ? r.multipath : []) if (nh?.dev !== undefined && nh.ifindex === undefined && !this.ifindexByName.has(nh.dev)) missing.add(nh.dev);
      }
    };
    scan(batch.del); scan(batch.add); scan(batch.replace);
    if (missing.size === 0) return;
    const links = await this.dumpLinksUnlocked();
    this.ifindexByName = new Map(links.map((l) => [l.name, l.ifindex]));
  }

  private dumpLinksUnlocked() {
    return this.dumpUnlocked('link dump', (w, seq) => encodeLinkDump(w, seq), (m) => (m.type === C.RTM_NEWLINK ? decodeLink(m) : null));
  }

  /** A dump while already holding the socket lock (socket.dump would wait for it). */
  private async dumpUnlocked<T>(what: string, build: (w: NlWriter, seq: number) => void, decode: (m: NlMessage) => T | null): Promise<T[]> {
    const w = new NlWriter(256);
    const seq = this.socket.nextSeq();
    build(w, seq);
    this.socket.sendRaw(w.buf, w.pos);
    const out: T[] = [];
    for (;;) {
      for (const m of await this.socket.recv()) {
        if (m.seq !== seq) continue;
        if (m.type === C.NLMSG_DONE) return out;
        if (m.type === C.NLMSG_ERROR) {
          const info = decodeError(m);
          if (info.errno) throw new NetlinkError('kernel-error', `${what}: ${C.errnoName(info.errno)}${info.extMessage ? ` (${info.extMessage})` : ''}`, info.errno);
          continue;
        }
        const v = decode(m);
        if (v !== null) out.push(v);
      }
    }
  }

  // ------------------------------------------------------------ nexthop objects

  private static nhKey(gateway: string, ifindex: number, onlink: boolean | undefined): string {
    return `${gateway}|${ifindex}|${onlink ? 1 : 0}`;
  }

  /** Reads the kernel's nexthop objects (all of them: we map ids of any owner when decoding). */
  private async loadNexthops(): Promise<void> {
    const all = await this.dumpUnlocked('nexthop dump', (w, seq) => encodeNexthopDump(w, seq), (m) => (m.type === C.RTM_NEWNEXTHOP ? decodeNexthop(m) : null));
    this.nhById.clear();
    this.nhByKey.clear();
    for (const nh of all) {
      this.nhById.set(nh.id, nh);
      if (nh.protocol === this.protocol && nh.gateway !== undefined && nh.ifindex !== undefined) {
        this.nhByKey.set(NetlinkRoutes.nhKey(nh.gateway, nh.ifindex, nh.onlink), nh.id);
        if (nh.id >= this.nextNhId) this.nextNhId = nh.id + 1;
      }
    }
    this.nhLoaded = true;
  }

  private nhEligible(op: RouteOp, r: Route): boolean {
    return op !== 'del' && (r.type === undefined || r.type === 'unicast') && typeof r.gateway === 'string'
      && r.ifindex !== undefined && r.multipath === undefined && typeof r.dst === 'string' && r.dst.includes(':') === r.gateway.includes(':');
  }

  /** Creates the nexthop objects a batch needs; routes whose object failed fall back to a plain gateway. */
  private async ensureNexthops(routes: Route[]): Promise<void> {
    if (!this.nhLoaded) await this.loadNexthops();
    const want = new Map<string, { gateway: string; ifindex: number; onlink: boolean }>();
    for (const r of routes) {
      const key = NetlinkRoutes.nhKey(r.gateway!, r.ifindex!, r.onlink);
      if (!this.nhByKey.has(key) && !want.has(key)) want.set(key, { gateway: r.gateway!, ifindex: r.ifindex!, onlink: !!r.onlink });
    }
    if (want.size === 0) return;
    const w = new NlWriter(4096);
    const first = this.socket.reserveSeq(want.size);
    const pending: [string, number, Nexthop][] = [];
    for (const [key, nh] of want) {
      const id = this.nextNhId++;
      if (encodeNexthopAdd(w, { id, ...nh, protocol: this.protocol }, first + pending.length) !== null) continue;
      pending.push([key, id, { id, family: nh.gateway.includes(':') ? 6 : 4, protocol: this.protocol, gateway: nh.gateway, ifindex: nh.ifindex, onlink: nh.onlink, blackhole: false }]);
    }
    if (pending.length === 0) return;
    this.socket.sendRaw(w.buf, w.pos);
    let acked = 0;
    while (acked < pending.length) {
      for (const m of this.socket.recvNow() ?? await this.socket.recv()) {
        const k = m.seq - first;
        if (m.type !== C.NLMSG_ERROR || k < 0 || k >= pending.length) continue;
        acked++;
        if (decodeError(m).errno === 0) {
          const [key, id, nh] = pending[k]!;
          this.nhByKey.set(key, id);
          this.nhById.set(id, nh);
        }
      }
    }
  }

  /**
   * Deletes nexthop objects carrying our protocol that no route uses any more. Call after
   * deleting/replacing many routes (deleting an object in use would delete its routes).
   */
  pruneNexthops(): Promise<number> {
    return this.socket.exclusive(async () => {
      await this.loadNexthops();
      const used = new Set<number>();
      for (const fam of [4, 6] as const) {
        const rs = await this.dumpUnlocked('route dump', (w, seq) => encodeRouteDump(w, fam, seq), (m) => (m.type === C.RTM_NEWROUTE ? decodeRoute(m) : null));
        for (const r of rs) if (r.nhid !== undefined) used.add(r.nhid);
      }
      let n = 0;
      for (const nh of [...this.nhById.values()]) {
        if (nh.protocol !== this.protocol || used.has(nh.id)) continue;
        const w = new NlWriter(64);
        const seq = this.socket.nextSeq();
        encodeNexthopDel(w, nh.id, seq);
        this.socket.sendRaw(w.buf, w.pos);
        for (let done = false; !done;) {
          for (const m of this.socket.recvNow() ?? await this.socket.recv()) {
            if (m.seq !== seq || m.type !== C.NLMSG_ERROR) continue;
            done = true;
            const e = decodeError(m).errno;
            if (e !== 0 && e !== 2 /* ENOENT: gone already */) throw new NetlinkError('kernel-error', `delete nexthop ${nh.id}: ${C.errnoName(e)}`, e);
          }
        }
        this.nhById.delete(nh.id);
        if (nh.gateway !== undefined && nh.ifindex !== undefined) this.nhByKey.delete(NetlinkRoutes.nhKey(nh.gateway, nh.ifindex, nh.onlink));
        n++;
      }
      return n;
    });
  }

  private withIfindex(r: Route): Route | string {
    let out = r;
    if (r.dev !== undefined && r.ifindex === undefined) {
      const idx = this.ifindexByName.get(r.dev);
      if (idx === undefined) return `dev "${r.dev}": no such interface`;
      out = { ...r, ifindex: idx };
    }
    if (Array.isArray(r.multipath) && r.multipath.some((nh) => nh?.dev !== undefined && nh.ifindex === undefined)) {
      const hops = [];
      for (const nh of r.multipath) {
        if (nh?.dev !== undefined && nh.ifindex === undefined) {
          const idx = this.ifindexByName.get(nh.dev);
          if (idx === undefined) return `multipath dev "${nh.dev}": no such interface`;
          hops.push({ ...nh, ifindex: idx });
        } else hops.push(nh);
      }
      out = { ...out, multipath: hops };
    }
    return out;
  }

  private async applyLocked(batch: RouteBatch): Promise<ApplyResult> {
    await this.resolveDevs(batch);
    const errors: RouteError[] = [];
    let ok = 0;
    const lists: [RouteOp, readonly Route[]][] = [['del', batch.del ?? []], ['add', batch.add ?? []], ['replace', batch.replace ?? []]];
    const w = this.writer;
    // Per buffer: which (op, index) each sequence number stands for.
    const seqOp: RouteOp[] = [];
    const seqIdx: number[] = [];
    let sinceYield = 0;
    if (this.useNexthops) {
      const need: Route[] = [];
      for (const [op, routes] of lists) {
        if (op === 'del') continue;
        for (const raw of routes) {
          if (raw === null || typeof raw !== 'object') continue;
          const r = raw.dev !== undefined ? this.withIfindex(raw) : raw;
          if (typeof r !== 'string' && this.nhEligible(op, r)) need.push(r);
        }
      }
      if (need.length) await this.ensureNexthops(need);
    }
    for (const [op, routes] of lists) {
      let i = 0;
      while (i < routes.length) {
        w.reset();
        seqOp.length = 0; seqIdx.length = 0;
        // Enough sequence numbers for the fullest possible buffer (smallest message 36 bytes).
        const firstSeq = this.socket.reserveSeq(Math.ceil(this.bufferBytes / 32) + 64);
        let lastAt = -1;
        let count = 0;
        while (i < routes.length && w.pos < this.bufferBytes) {
          const raw = routes[i]!;
          let r: Route | string = raw;
          if (raw === null || typeof raw !== 'object') r = `route: expected an object, got ${raw === null ? 'null' : typeof raw}`;
          else if (op === 'del' && this.useNexthops) {
            // Routes on nexthop objects only match a delete that names no gateway/device (or the
            // object): delete by destination, table, metric and our protocol alone.
            r = { dst: raw.dst };
            if (raw.table !== undefined) r.table = raw.table;
            if (raw.metric !== undefined) r.metric = raw.metric;
            if (raw.protocol !== undefined) r.protocol = raw.protocol;
            if (raw.type !== undefined) r.type = raw.type;
          } else if (raw.dev !== undefined || raw.multipath !== undefined) r = this.withIfindex(raw);
          const at = w.pos;
          const nhid = this.useNexthops && typeof r !== 'string' && this.nhEligible(op, r)
            ? this.nhByKey.get(NetlinkRoutes.nhKey(r.gateway!, r.ifindex!, r.onlink)) ?? 0 : 0;
          const err = typeof r === 'string' ? r : encodeRoute(w, op, r, firstSeq + count, 0, this.protocol, nhid);
          if (err !== null) {
            errors.push({ op, index: i, route: raw, code: 'invalid-route', message: `${op} route ${i} (${describe(raw)}): ${err}` });
          } else {
            seqOp.push(op); seqIdx.push(i);
            lastAt = at;
            count++;
          }
          i++;
        }
        if (count === 0) continue;
        const lastSeq = firstSeq + count - 1;
        // Ack only the last message; failures before it are reported individually.
        w.buf.writeUInt16LE(w.buf.readUInt16LE(lastAt + 6) | C.NLM_F_ACK, lastAt + 6);
        this.socket.sendRaw(w.buf, w.pos);
        let failed = 0;
        let done = false;
        while (!done) {
          let msgs: NlMessage[];
          try {
            msgs = this.socket.recvNow() ?? await this.socket.recv();
          } catch (e) {
            if (e instanceof NetlinkError && e.errno === 105 /* ENOBUFS */) {
              throw new NetlinkError('kernel-error', `route ${op}: replies overflowed the receive buffer; outcome of ${count} routes unknown (raise rcvbuf)`, 105);
            }
            throw e;
          }
          for (const m of msgs) {
            if (m.type !== C.NLMSG_ERROR) continue;
            const k = m.seq - firstSeq;
            if (k < 0 || k >= count) continue; // a stale reply from an earlier conversation
            const info = decodeError(m);
            if (info.errno !== 0) {
              failed++;
              const idx = seqIdx[k]!;
              const route = routes[idx]!;
              const code = C.errnoName(info.errno);
              errors.push({
                op: seqOp[k]!, index: idx, route, code, errno: info.errno,
                message: `${op} route ${idx} (${describe(route)}): ${code}${info.extMessage ? `: ${info.extMessage}` : ''}`,
              });
            }
            if (m.seq === lastSeq) done = true;
          }
        }
        ok += count - failed;
        sinceYield += count;
        if (this.yieldEvery > 0 && sinceYield >= this.yieldEvery) {
          sinceYield = 0;
          await yieldLoop();
        }
      }
    }
    return { ok, errors };
  }

  /**
   * Dumps routes (kernel-side filtered by table/protocol under strict checking, and filtered
   * again here). Cached clones are skipped. Retries a dump interrupted by concurrent changes.
   */
  async dump(filter: RouteDumpFilter = {}): Promise<KernelRoute[]> {
    const fams: (Family | 0)[] = filter.family === undefined ? [4, 6] : [filter.family];
    const out: KernelRoute[] = [];
    for (const fam of fams) {
      for (let attempt = 0; ; attempt++) {
        try {
          const rs = await this.socket.dump(`route dump (IPv${fam})`, (w, seq) => encodeRouteDump(w, fam, seq, filter),
            (m) => (m.type === C.RTM_NEWROUTE ? decodeRoute(m) : null));
          if (rs.some((r) => r.nhid !== undefined && !this.nhById.has(r.nhid))) {
            await this.socket.exclusive(() => this.loadNexthops());
          }
          for (const r of rs) {
            if (r.flags & C.RTM_F_CLONED) continue;
            if (r.nhid !== undefined) {
              const nh = this.nhById.get(r.nhid);
              if (nh?.gateway !== undefined) r.gateway = nh.gateway;
              if (nh?.ifindex !== undefined) r.ifindex = nh.ifindex;
              if (nh?.onlink) r.flags |= C.RTNH_F_ONLINK;
            }
            if (filter.table !== undefined ? r.table !== filter.table : !filter.includeLocal && r.table === C.RT_TABLE_LOCAL) continue;
            if (filter.protocol !== undefined && r.protocol !== filter.protocol) continue;
            out.push(r);
          }
          break;
        } catch (e) {
          if (e instanceof NetlinkError && e.errno === 4 && attempt < 3) continue;
          throw e;
        }
      }
    }
    return out;
  }

  /**
   * The FIB entry the kernel would use for an address (`ip route get fibmatch`), or null when
   * there is none (ENETUNREACH / EHOSTUNREACH / ESRCH). One request, no dump: cheap enough to poll.
   */
  lookup(address: string, opts: { table?: number } = {}): Promise<KernelRoute | null> {
    return this.socket.exclusive(async () => {
      const w = new NlWriter(128);
      const seq = this.socket.nextSeq();
      if (!encodeRouteGet(w, address, seq, { ...opts, fibMatch: true })) {
        throw new NetlinkError('invalid-address', `route lookup: "${address}" is not an IPv4 or IPv6 address`);
      }
      this.socket.sendRaw(w.buf, w.pos);
      for (;;) {
        for (const m of this.socket.recvNow() ?? await this.socket.recv()) {
          if (m.seq !== seq) continue;
          if (m.type === C.NLMSG_ERROR) {
            const info = decodeError(m);
            if (info.errno === 101 || info.errno === 113 || info.errno === 3) return null;
            throw new NetlinkError('kernel-error', `route lookup ${address}: ${C.errnoName(info.errno)}${info.extMessage ? ` (${info.extMessage})` : ''}`, info.errno);
          }
          if (m.type === C.RTM_NEWROUTE) return decodeRoute(m);
        }
      }
    });
  }

  /** Dumps routes carrying this writer's protocol number (optionally one family/table). */
  dumpOwn(filter: Omit<RouteDumpFilter, 'protocol'> = {}): Promise<KernelRoute[]> {
    return this.dump({ ...filter, protocol: this.protocol });
  }
}

function describe(r: Route): string {
  if (r === null || typeof r !== 'object') return String(r);
  let s = String(r.dst);
  if (r.gateway !== undefined) s += ` via ${r.gateway}`;
  if (r.dev !== undefined) s += ` dev ${r.dev}`;
  else if (r.ifindex !== undefined) s += ` ifindex ${r.ifindex}`;
  if (r.table !== undefined) s += ` table ${r.table}`;
  return s;
}
