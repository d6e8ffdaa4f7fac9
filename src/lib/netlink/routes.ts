// Batched route programming over one rtnetlink socket.
//
// apply() packs many RTM_NEWROUTE/RTM_DELROUTE messages into each send (buffers of ~64 KiB).
// Only the last message of a buffer asks for an ack: the kernel still reports every failing
// message with an NLMSG_ERROR carrying its sequence number, so successes cost no reply at all
// and per-route errors (EEXIST, ENETUNREACH, ESRCH, ...) are reported without failing the batch.
// Between buffers the event loop gets a turn every `yieldEvery` routes.
import * as C from './constants.ts';
import { NetlinkError, NlWriter, decodeError, decodeLink, decodeRoute, encodeLinkDump, encodeRoute, encodeRouteDump, encodeRouteGet } from './codec.ts';
import type { Family, KernelRoute, NlMessage, Route, RouteOp } from './codec.ts';
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

  constructor(socket: NetlinkSocket, opts: NetlinkRoutesOptions = {}) {
    this.socket = socket;
    this.protocol = opts.protocol ?? DEFAULT_PROTOCOL;
    if (!Number.isInteger(this.protocol) || this.protocol < 0 || this.protocol > 255) {
      throw new NetlinkError('invalid-route', `protocol ${this.protocol}: expected an integer 0..255`);
    }
    this.bufferBytes = opts.bufferBytes ?? 65536;
    this.yieldEvery = opts.yieldEvery ?? 8192;
    this.writer = new NlWriter(this.bufferBytes + 4096);
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

  private async dumpLinksUnlocked() {
    // socket.dump takes the socket lock, which apply() already holds: run the dump inline.
    const w = new NlWriter(256);
    const seq = this.socket.nextSeq();
    encodeLinkDump(w, seq);
    this.socket.sendRaw(w.buf, w.pos);
    const out: ReturnType<typeof decodeLink>[] = [];
    for (;;) {
      for (const m of await this.socket.recv()) {
        if (m.seq !== seq) continue;
        if (m.type === C.NLMSG_DONE) return out;
        if (m.type === C.NLMSG_ERROR) {
          const info = decodeError(m);
          if (info.errno) throw new NetlinkError('kernel-error', `link dump: ${C.errnoName(info.errno)}`, info.errno);
          continue;
        }
        if (m.type === C.RTM_NEWLINK) out.push(decodeLink(m));
      }
    }
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
          else if (raw.dev !== undefined || raw.multipath !== undefined) r = this.withIfindex(raw);
          const at = w.pos;
          const err = typeof r === 'string' ? r : encodeRoute(w, op, r, firstSeq + count, 0, this.protocol);
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
          for (const r of rs) {
            if (r.flags & C.RTM_F_CLONED) continue;
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
