// Pure netlink codec: nlmsghdr framing, rtmsg / ifinfomsg / ifaddrmsg bodies and rtattr TLVs
// (4-byte aligned), plus fast IP text <-> bytes helpers. No I/O; host byte order is little
// endian (x86-64, arm64), which netlink uses for its native-endian fields.
import * as C from './constants.ts';

// ---------------------------------------------------------------- errors

export type NetlinkErrorCode =
  | 'invalid-route' | 'invalid-address' | 'invalid-link' | 'malformed-message' | 'kernel-error'
  | 'syscall-failed' | 'netns-failed' | 'timeout' | 'closed' | 'unknown-device' | 'unsupported';

/** An operational netlink failure with a stable code (and the kernel errno when there is one). */
export class NetlinkError extends Error {
  readonly code: NetlinkErrorCode;
  readonly errno: number | undefined;
  constructor(code: NetlinkErrorCode, message: string, errno?: number) {
    super(message);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = errno;
  }
}

// ---------------------------------------------------------------- IP text <-> bytes

export type Family = 4 | 6;

/** Parses dotted-quad IPv4 into buf[off..off+4). Returns false on malformed input. */
export function parseIPv4Into(s: string, buf: Uint8Array, off: number): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let part = 0, val = 0, digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return false;
      buf[off + part] = val;
      part++; val = 0; digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return false; // no leading zeros
      val = val * 10 + (c - 48);
      if (val > 255 || ++digits > 3) return false;
    } else return false;
  }
  if (part !== 3 || digits === 0) return false;
  buf[off + 3] = val;
  return true;
}

/** Parses an IPv6 address (with `::` and an optional dotted IPv4 tail) into 16 bytes at off. */
export function parseIPv6Into(s: string, buf: Uint8Array, off: number): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  const n = s.length;
  if (s.startsWith('::')) { gap = 0; i = 2; if (i === n) { buf.fill(0, off, off + 16); return true; } }
  else if (s.charCodeAt(0) === 58) return false;
  while (i < n) {
    // dotted IPv4 tail?
    const rest = s.slice(i);
    if (rest.includes('.') && !rest.includes(':')) {
      const tmp = new Uint8Array(4);
      if (!parseIPv4Into(rest, tmp, 0)) return false;
      groups.push((tmp[0]! << 8) | tmp[1]!, (tmp[2]! << 8) | tmp[3]!);
      i = n;
      break;
    }
    let v = 0, d = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) h = c - 55;
      else break;
      v = (v << 4) | h;
      if (++d > 4) return false;
      i++;
    }
    if (d === 0) return false;
    groups.push(v);
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
    } else if (i === n) return false; // trailing single ':'
  }
  if (groups.length > 8 || (gap < 0 && groups.length !== 8) || (gap >= 0 && groups.length > 7)) return false;
  const full = new Array<number>(8).fill(0);
  if (gap < 0) for (let k = 0; k < 8; k++) full[k] = groups[k]!;
  else {
    for (let k = 0; k < gap; k++) full[k] = groups[k]!;
    const tail = groups.length - gap;
    for (let k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k]!;
  }
  for (let k = 0; k < 8; k++) { buf[off + 2 * k] = full[k]! >> 8; buf[off + 2 * k + 1] = full[k]! & 0xff; }
  return true;
}

/** An address in wire form. */
export interface IPBytes { family: Family; bytes: Uint8Array }

export function parseIP(s: string): IPBytes | null {
  if (s.includes(':')) {
    const b = new Uint8Array(16);
    return parseIPv6Into(s, b, 0) ? { family: 6, bytes: b } : null;
  }
  const b = new Uint8Array(4);
  return parseIPv4Into(s, b, 0) ? { family: 4, bytes: b } : null;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text: lowercase, longest run (>= 2) of zero groups compressed, first on ties. */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((b[off + 2 * k]! << 8) | b[off + 2 * k + 1]!);
  let bestStart = -1, bestLen = 0;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) { k++; continue; }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen && e - k >= 2) { bestStart = k; bestLen = e - k; }
    k = e;
  }
  // IPv4-mapped ::ffff:a.b.c.d
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${formatIPv4(b, off + 12)}`;
  const hex = (x: number) => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  return `${g.slice(0, bestStart).map(hex).join(':')}::${g.slice(bestStart + bestLen).map(hex).join(':')}`;
}

export function formatIP(b: Uint8Array, family: Family, off = 0): string {
  return family === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

// ---------------------------------------------------------------- writer

/** Growable little-endian buffer for building one or many netlink messages back to back. */
export class NlWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity = 65536) {
    this.buf = Buffer.alloc(capacity);
  }
  reset(): void { this.pos = 0; }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = Buffer.alloc(cap);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }
  /** Starts a message; returns its offset for endMessage(). Body and attributes follow. */
  beginMessage(type: number, flags: number, seq: number, pid = 0): number {
    this.ensure(C.NLMSG_HDRLEN);
    const at = this.pos;
    const b = this.buf;
    b.writeUInt32LE(0, at);
    b.writeUInt16LE(type, at + 4);
    b.writeUInt16LE(flags, at + 6);
    b.writeUInt32LE(seq >>> 0, at + 8);
    b.writeUInt32LE(pid >>> 0, at + 12);
    this.pos = at + C.NLMSG_HDRLEN;
    return at;
  }
  endMessage(at: number): void {
    this.buf.writeUInt32LE(this.pos - at, at);
    this.align();
  }
  align(): void {
    const pad = (4 - (this.pos & 3)) & 3;
    if (pad) { this.ensure(pad); this.buf.fill(0, this.pos, this.pos + pad); this.pos += pad; }
  }
  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v & 0xff; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v | 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  zeros(n: number): void { this.ensure(n); this.buf.fill(0, this.pos, this.pos + n); this.pos += n; }

  attr(type: number, data: Uint8Array): void {
    this.ensure(4 + data.length + 3);
    this.buf.writeUInt16LE(4 + data.length, this.pos);
    this.buf.writeUInt16LE(type, this.pos + 2);
    this.buf.set(data, this.pos + 4);
    this.pos += 4 + data.length;
    this.align();
  }
  attrU32(type: number, v: number): void {
    this.ensure(8);
    const b = this.buf, p = this.pos;
    b.writeUInt16LE(8, p); b.writeUInt16LE(type, p + 2); b.writeUInt32LE(v >>> 0, p + 4);
    this.pos = p + 8;
  }
  attrU8(type: number, v: number): void {
    this.ensure(8);
    const b = this.buf, p = this.pos;
    b.writeUInt16LE(5, p); b.writeUInt16LE(type, p + 2); b[p + 4] = v; b[p + 5] = 0; b[p + 6] = 0; b[p + 7] = 0;
    this.pos = p + 8;
  }
  /** NUL-terminated string attribute. */
  attrString(type: number, s: string): void {
    const data = Buffer.from(`${s}\0`, 'utf8');
    this.attr(type, data);
  }
  /** Address attribute parsed straight from text; returns false (writing nothing) if malformed. */
  attrIP(type: number, s: string, family: Family): boolean {
    const len = family === 4 ? 4 : 16;
    this.ensure(4 + len);
    const p = this.pos;
    const ok = family === 4 ? parseIPv4Into(s, this.buf, p + 4) : parseIPv6Into(s, this.buf, p + 4);
    if (!ok) return false;
    this.buf.writeUInt16LE(4 + len, p);
    this.buf.writeUInt16LE(type, p + 2);
    this.pos = p + 4 + len;
    return true;
  }
  beginNested(type: number): number {
    this.ensure(4);
    const at = this.pos;
    this.buf.writeUInt16LE(type, at + 2);
    this.pos += 4;
    return at;
  }
  endNested(at: number): void {
    this.buf.writeUInt16LE(this.pos - at, at);
    this.align();
  }
  /** A copy of the bytes written so far. */
  toBuffer(): Buffer { return Buffer.from(this.buf.subarray(0, this.pos)); }
}

// ---------------------------------------------------------------- reading

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The datagram buffer and this message's payload bounds in it (after the 16-byte header). */
  buf: Buffer;
  start: number;
  end: number;
}

/**
 * Splits a datagram into messages. Throws NetlinkError('malformed-message') when a header's
 * length is shorter than a header or runs past the datagram.
 */
export function splitMessages(buf: Buffer, len = buf.length): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + C.NLMSG_HDRLEN <= len) {
    const mlen = buf.readUInt32LE(off);
    if (mlen < C.NLMSG_HDRLEN || off + mlen > len) {
      throw new NetlinkError('malformed-message', `netlink message at offset ${off}: length ${mlen} outside 16..${len - off}`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8), pid: buf.readUInt32LE(off + 12),
      buf, start: off + C.NLMSG_HDRLEN, end: off + mlen,
    });
    off += (mlen + 3) & ~3;
  }
  return out;
}

/** Calls fn(type, start, end) for each rtattr in buf[start..end); nested flag bit stripped. */
export function forEachAttr(buf: Buffer, start: number, end: number, fn: (type: number, s: number, e: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const alen = buf.readUInt16LE(off);
    if (alen < 4 || off + alen > end) {
      throw new NetlinkError('malformed-message', `rtattr at offset ${off}: length ${alen} outside 4..${end - off}`);
    }
    fn(buf.readUInt16LE(off + 2) & 0x3fff, off + 4, off + alen);
    off += (alen + 3) & ~3;
  }
}

export interface NlErrorInfo {
  /** 0 for an ack, else a positive errno. */
  errno: number;
  /** Sequence number and type of the request this answers. */
  seq: number;
  requestType: number;
  /** Extended-ack message text (NETLINK_EXT_ACK), if any. */
  extMessage?: string;
}

export function decodeError(m: NlMessage): NlErrorInfo {
  const b = m.buf;
  if (m.end - m.start < 4 + C.NLMSG_HDRLEN) throw new NetlinkError('malformed-message', `NLMSG_ERROR too short (${m.end - m.start} bytes)`);
  const err = 0 - b.readInt32LE(m.start) || 0;
  const ohdr = m.start + 4;
  const olen = b.readUInt32LE(ohdr);
  const info: NlErrorInfo = { errno: err, seq: b.readUInt32LE(ohdr + 8), requestType: b.readUInt16LE(ohdr + 4) };
  if (m.flags & C.NLM_F_ACK_TLVS) {
    const tlvStart = m.flags & C.NLM_F_CAPPED ? ohdr + C.NLMSG_HDRLEN : ohdr + ((olen + 3) & ~3);
    if (tlvStart <= m.end) {
      forEachAttr(b, tlvStart, m.end, (t, s, e) => {
        if (t === C.NLMSGERR_ATTR_MSG) {
          let z = s; while (z < e && b[z] !== 0) z++;
          info.extMessage = b.toString('utf8', s, z);
        }
      });
    }
  }
  return info;
}

// ---------------------------------------------------------------- routes

export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'local';
export type RouteScope = 'universe' | 'site' | 'link' | 'host';

export interface NextHop {
  gateway?: string;
  ifindex?: number;
  dev?: string;
  onlink?: boolean;
  /** 1..256 (kernel stores weight-1 in rtnh_hops). */
  weight?: number;
}

/** A kernel route as this library writes and reads it. */
export interface Route {
  /** Destination CIDR (`198.19.0.0/24`, `fd00:198:18::/64`); a bare address means a host route. */
  dst: string;
  gateway?: string;
  /** Output device by name (resolved to an ifindex by the writer) or by index. */
  dev?: string;
  ifindex?: number;
  onlink?: boolean;
  /** Routing table (default main, 254). */
  table?: number;
  /** rtm_protocol; the writer fills its own default when absent. */
  protocol?: number;
  scope?: RouteScope | number;
  type?: RouteType;
  metric?: number;
  /** Preferred source address. */
  src?: string;
  multipath?: NextHop[];
}

const TYPE_NUM: Record<RouteType, number> = {
  unicast: C.RTN_UNICAST, blackhole: C.RTN_BLACKHOLE, unreachable: C.RTN_UNREACHABLE,
  prohibit: C.RTN_PROHIBIT, local: C.RTN_LOCAL,
};
const TYPE_NAME: Record<number, RouteType> = {
  [C.RTN_UNICAST]: 'unicast', [C.RTN_BLACKHOLE]: 'blackhole', [C.RTN_UNREACHABLE]: 'unreachable',
  [C.RTN_PROHIBIT]: 'prohibit', [C.RTN_LOCAL]: 'local',
};
const SCOPE_NUM: Record<RouteScope, number> = {
  universe: C.RT_SCOPE_UNIVERSE, site: C.RT_SCOPE_SITE, link: C.RT_SCOPE_LINK, host: C.RT_SCOPE_HOST,
};

export type RouteOp = 'add' | 'replace' | 'del';

/** Header flags per operation (without NLM_F_ACK, which the caller decides). */
export function routeFlags(op: RouteOp): number {
  if (op === 'add') return C.NLM_F_REQUEST | C.NLM_F_CREATE | C.NLM_F_EXCL;
  if (op === 'replace') return C.NLM_F_REQUEST | C.NLM_F_CREATE | C.NLM_F_REPLACE;
  return C.NLM_F_REQUEST;
}

function parsePrefixLen(s: string, max: number): number {
  const n = s.length;
  if (n === 0 || n > 3) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + c - 48;
  }
  if (n > 1 && s.charCodeAt(0) === 48) return -1;
  return v <= max ? v : -1;
}

/** Family of a route's destination, or null if dst is not an address/CIDR string. */
export function routeFamily(r: Route): Family | null {
  if (typeof r.dst !== 'string') return null;
  return r.dst.includes(':') ? 6 : 4;
}

/**
 * Appends one RTM_NEWROUTE / RTM_DELROUTE message. `ifindex` for the route (and each next hop)
 * must already be resolved (dev names are the writer's job). Returns null on success or a
 * message describing what is wrong with the route (nothing is written then).
 */
export function encodeRoute(w: NlWriter, op: RouteOp, r: Route, seq: number, extraFlags: number, defaultProtocol: number, nhid = 0): string | null {
  const dst = r.dst;
  if (typeof dst !== 'string') return `dst: expected a CIDR string, got ${typeof dst}`;
  const slash = dst.indexOf('/');
  const family: Family = dst.includes(':') ? 6 : 4;
  const addrText = slash < 0 ? dst : dst.slice(0, slash);
  const bits = family === 4 ? 32 : 128;
  const plen = slash < 0 ? bits : parsePrefixLen(dst.slice(slash + 1), bits);
  if (plen < 0) return `dst "${dst}": prefix length must be 0..${bits}`;
  const type = r.type === undefined ? C.RTN_UNICAST : TYPE_NUM[r.type];
  if (type === undefined) return `type "${String(r.type)}": expected unicast, blackhole, unreachable, prohibit or local`;
  const protocol = r.protocol ?? defaultProtocol;
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) return `protocol ${protocol}: expected 0..255`;
  const table = r.table ?? C.RT_TABLE_MAIN;
  if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) return `table ${table}: expected 1..4294967295`;
  let scope: number;
  if (op === 'del' && r.scope === undefined) scope = C.RT_SCOPE_NOWHERE;
  else if (r.scope === undefined) {
    scope = type === C.RTN_LOCAL ? C.RT_SCOPE_HOST
      : type === C.RTN_UNICAST && r.gateway === undefined && r.multipath === undefined ? C.RT_SCOPE_LINK : C.RT_SCOPE_UNIVERSE;
  } else if (typeof r.scope === 'number') scope = r.scope;
  else {
    const s = SCOPE_NUM[r.scope];
    if (s === undefined) return `scope "${String(r.scope)}": expected universe, site, link or host`;
    scope = s;
  }
  if (type !== C.RTN_UNICAST && type !== C.RTN_LOCAL && (r.gateway !== undefined || r.multipath !== undefined)) {
    return `a ${r.type} route cannot have a gateway or next hops`;
  }

  const start = w.pos;
  const at = w.beginMessage(op === 'del' ? C.RTM_DELROUTE : C.RTM_NEWROUTE, routeFlags(op) | extraFlags, seq);
  w.ensure(C.RTMSG_LEN);
  const b = w.buf, p = w.pos;
  b[p] = family === 4 ? C.AF_INET : C.AF_INET6;
  b[p + 1] = plen;
  b[p + 2] = 0; b[p + 3] = 0;
  b[p + 4] = table > 255 ? C.RT_TABLE_UNSPEC : table;
  b[p + 5] = protocol;
  b[p + 6] = scope;
  b[p + 7] = op === 'del' && r.type === undefined ? C.RTN_UNSPEC : type;
  b.writeUInt32LE(r.onlink ? C.RTNH_F_ONLINK : 0, p + 8);
  w.pos = p + C.RTMSG_LEN;
  const fail = (msg: string): string => { w.pos = start; return msg; };
  if (!w.attrIP(C.RTA_DST, addrText, family)) return fail(`dst "${dst}": expected an IPv${family} address/prefix`);
  // host bits must be clear: the kernel rejects them for IPv4 with EINVAL ("Invalid prefix for given prefix length")
  if (!hostBitsClear(w.buf, w.pos - (family === 4 ? 4 : 16), family === 4 ? 4 : 16, plen)) {
    return fail(`dst "${dst}": host bits set beyond /${plen}`);
  }
  if (table > 255) w.attrU32(C.RTA_TABLE, table);
  if (nhid) {
    // The next hop lives in a nexthop object: gateway, device and onlink are its business.
    w.buf[p + 6] = C.RT_SCOPE_UNIVERSE;
    w.buf.writeUInt32LE(0, p + 8);
    w.attrU32(C.RTA_NH_ID, nhid);
    if (r.metric !== undefined) {
      if (!Number.isInteger(r.metric) || r.metric < 0 || r.metric > 0xffffffff) return fail(`metric ${r.metric}: expected 0..4294967295`);
      w.attrU32(C.RTA_PRIORITY, r.metric);
    }
    if (r.src !== undefined && !w.attrIP(C.RTA_PREFSRC, r.src, family)) return fail(`src "${r.src}": expected an IPv${family} address`);
    w.endMessage(at);
    return null;
  }
  if (r.gateway !== undefined) {
    const gfam: Family = r.gateway.includes(':') ? 6 : 4;
    if (gfam !== family) return fail(`gateway "${r.gateway}": family differs from dst "${dst}"`);
    if (!w.attrIP(C.RTA_GATEWAY, r.gateway, family)) return fail(`gateway "${r.gateway}": expected an IPv${family} address`);
  }
  if (r.ifindex !== undefined) {
    if (!Number.isInteger(r.ifindex) || r.ifindex <= 0) return fail(`ifindex ${r.ifindex}: expected a positive integer`);
    w.attrU32(C.RTA_OIF, r.ifindex);
  }
  if (r.metric !== undefined) {
    if (!Number.isInteger(r.metric) || r.metric < 0 || r.metric > 0xffffffff) return fail(`metric ${r.metric}: expected 0..4294967295`);
    w.attrU32(C.RTA_PRIORITY, r.metric);
  }
  if (r.src !== undefined && !w.attrIP(C.RTA_PREFSRC, r.src, family)) return fail(`src "${r.src}": expected an IPv${family} address`);
  if (r.multipath !== undefined) {
    if (!Array.isArray(r.multipath) || r.multipath.length === 0) return fail('multipath: expected a non-empty list of next hops');
    const mp = w.beginNested(C.RTA_MULTIPATH);
    for (let i = 0; i < r.multipath.length; i++) {
      const nh = r.multipath[i];
      if (nh === null || typeof nh !== 'object') return fail(`multipath[${i}]: expected an object with gateway/ifindex`);
      w.ensure(C.RTNH_LEN);
      const nhAt = w.pos;
      const weight = nh.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 256) return fail(`multipath[${i}].weight ${weight}: expected 1..256`);
      w.buf.writeUInt16LE(0, nhAt);
      w.buf[nhAt + 2] = nh.onlink ? C.RTNH_F_ONLINK : 0;
      w.buf[nhAt + 3] = weight - 1;
      w.buf.writeInt32LE(nh.ifindex ?? 0, nhAt + 4);
      w.pos = nhAt + C.RTNH_LEN;
      if (nh.gateway !== undefined && !w.attrIP(C.RTA_GATEWAY, nh.gateway, family)) {
        return fail(`multipath[${i}].gateway "${nh.gateway}": expected an IPv${family} address`);
      }
      w.buf.writeUInt16LE(w.pos - nhAt, nhAt);
    }
    w.endNested(mp);
  }
  w.endMessage(at);
  return null;
}

function hostBitsClear(b: Uint8Array, off: number, len: number, plen: number): boolean {
  for (let i = 0; i < len; i++) {
    const keep = plen >= (i + 1) * 8 ? 8 : Math.max(0, plen - i * 8);
    const mask = keep === 8 ? 0 : 0xff >> keep;
    if (b[off + i]! & mask) return false;
  }
  return true;
}

/** A route read from the kernel (dump or event). */
export interface KernelRoute {
  family: Family;
  dst: string;
  table: number;
  protocol: number;
  scope: number;
  type: RouteType | number;
  flags: number;
  gateway?: string;
  ifindex?: number;
  metric?: number;
  src?: string;
  multipath?: { gateway?: string; ifindex: number; weight: number; flags: number }[];
  /** Nexthop object id (RTA_NH_ID) when the route uses one; gateway/ifindex are then filled from it by NetlinkRoutes. */
  nhid?: number;
}

/** Decodes an RTM_NEWROUTE/RTM_DELROUTE payload; null for families other than IPv4/IPv6. */
export function decodeRoute(m: NlMessage): KernelRoute | null {
  const b = m.buf, p = m.start;
  if (m.end - p < C.RTMSG_LEN) throw new NetlinkError('malformed-message', `rtmsg too short (${m.end - p} bytes)`);
  const af = b[p]!;
  if (af !== C.AF_INET && af !== C.AF_INET6) return null;
  const family: Family = af === C.AF_INET ? 4 : 6;
  const plen = b[p + 1]!;
  const t = b[p + 7]!;
  const r: KernelRoute = {
    family, dst: family === 4 ? `0.0.0.0/${plen}` : `::/${plen}`, table: b[p + 4]!, protocol: b[p + 5]!,
    scope: b[p + 6]!, type: TYPE_NAME[t] ?? t, flags: b.readUInt32LE(p + 8),
  };
  forEachAttr(b, p + C.RTMSG_LEN, m.end, (type, s, e) => {
    switch (type) {
      case C.RTA_DST: r.dst = `${formatIP(b, family, s)}/${plen}`; break;
      case C.RTA_GATEWAY: r.gateway = formatIP(b, family, s); break;
      case C.RTA_OIF: r.ifindex = b.readUInt32LE(s); break;
      case C.RTA_PRIORITY: r.metric = b.readUInt32LE(s); break;
      case C.RTA_PREFSRC: r.src = formatIP(b, family, s); break;
      case C.RTA_TABLE: r.table = b.readUInt32LE(s); break;
      case C.RTA_NH_ID: r.nhid = b.readUInt32LE(s); break;
      case C.RTA_MULTIPATH: {
        const hops: NonNullable<KernelRoute['multipath']> = [];
        let o = s;
        while (o + C.RTNH_LEN <= e) {
          const len = b.readUInt16LE(o);
          if (len < C.RTNH_LEN || o + len > e) throw new NetlinkError('malformed-message', `rtnexthop length ${len} at ${o}`);
          const hop: NonNullable<KernelRoute['multipath']>[number] = { flags: b[o + 2]!, weight: b[o + 3]! + 1, ifindex: b.readInt32LE(o + 4) };
          forEachAttr(b, o + C.RTNH_LEN, o + len, (nt, ns) => { if (nt === C.RTA_GATEWAY) hop.gateway = formatIP(b, family, ns); });
          hops.push(hop);
          o += (len + 3) & ~3;
        }
        r.multipath = hops;
        break;
      }
      default: break;
    }
  });
  return r;
}

/** Appends an RTM_GETROUTE dump request; table/protocol are kernel-side filters under strict checking. */
export function encodeRouteDump(w: NlWriter, family: Family | 0, seq: number, filter: { table?: number; protocol?: number } = {}): void {
  const at = w.beginMessage(C.RTM_GETROUTE, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  w.u8(family === 0 ? C.AF_UNSPEC : family === 4 ? C.AF_INET : C.AF_INET6);
  w.u8(0); w.u8(0); w.u8(0);
  const table = filter.table ?? 0;
  w.u8(table > 255 ? 0 : table);
  w.u8(filter.protocol ?? 0);
  w.u8(0); w.u8(0);
  w.u32(0);
  if (table > 255) w.attrU32(C.RTA_TABLE, table);
  w.endMessage(at);
}

/**
 * Appends an RTM_GETROUTE lookup (like `ip route get [fibmatch] ADDR`): the kernel answers with
 * the route it would use; with fibMatch, the matching FIB entry (its prefix) instead of a clone.
 */
export function encodeRouteGet(w: NlWriter, address: string, seq: number, opts: { table?: number; fibMatch?: boolean } = {}): boolean {
  const family: Family = address.includes(':') ? 6 : 4;
  const at = w.beginMessage(C.RTM_GETROUTE, C.NLM_F_REQUEST, seq);
  w.u8(family === 4 ? C.AF_INET : C.AF_INET6);
  w.u8(family === 4 ? 32 : 128); w.u8(0); w.u8(0);
  const table = opts.table ?? 0;
  w.u8(table > 255 ? 0 : table); w.u8(0); w.u8(0); w.u8(0);
  w.u32(opts.fibMatch ? C.RTM_F_FIB_MATCH : 0);
  if (!w.attrIP(C.RTA_DST, address, family)) { w.pos = at; return false; }
  if (table) w.attrU32(C.RTA_TABLE, table);
  w.endMessage(at);
  return true;
}

// ---------------------------------------------------------------- nexthop objects

/** A nexthop object (`ip nexthop`): one gateway via one device. */
export interface Nexthop {
  id: number;
  family: Family;
  protocol: number;
  gateway?: string;
  ifindex?: number;
  onlink: boolean;
  blackhole: boolean;
}

export function encodeNexthopAdd(w: NlWriter, nh: { id: number; gateway: string; ifindex: number; onlink?: boolean; protocol: number }, seq: number): string | null {
  const family: Family = nh.gateway.includes(':') ? 6 : 4;
  const at = w.beginMessage(C.RTM_NEWNEXTHOP, C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_REPLACE, seq);
  w.u8(family === 4 ? C.AF_INET : C.AF_INET6); w.u8(0); w.u8(nh.protocol); w.u8(0);
  w.u32(nh.onlink ? C.RTNH_F_ONLINK : 0);
  w.attrU32(C.NHA_ID, nh.id);
  w.attrU32(C.NHA_OIF, nh.ifindex);
  if (!w.attrIP(C.NHA_GATEWAY, nh.gateway, family)) { w.pos = at; return `gateway "${nh.gateway}": expected an IPv${family} address`; }
  w.endMessage(at);
  return null;
}

export function encodeNexthopDel(w: NlWriter, id: number, seq: number): void {
  const at = w.beginMessage(C.RTM_DELNEXTHOP, C.NLM_F_REQUEST | C.NLM_F_ACK, seq);
  w.zeros(C.NHMSG_LEN);
  w.attrU32(C.NHA_ID, id);
  w.endMessage(at);
}

export function encodeNexthopDump(w: NlWriter, seq: number): void {
  const at = w.beginMessage(C.RTM_GETNEXTHOP, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  w.zeros(C.NHMSG_LEN);
  w.endMessage(at);
}

export function decodeNexthop(m: NlMessage): Nexthop | null {
  const b = m.buf, p = m.start;
  if (m.end - p < C.NHMSG_LEN) throw new NetlinkError('malformed-message', `nhmsg too short (${m.end - p} bytes)`);
  const af = b[p]!;
  const family: Family = af === C.AF_INET6 ? 6 : 4;
  const nh: Nexthop = { id: 0, family, protocol: b[p + 2]!, onlink: (b.readUInt32LE(p + 4) & C.RTNH_F_ONLINK) !== 0, blackhole: false };
  let group = false;
  forEachAttr(b, p + C.NHMSG_LEN, m.end, (t, s) => {
    if (t === C.NHA_ID) nh.id = b.readUInt32LE(s);
    else if (t === C.NHA_OIF) nh.ifindex = b.readUInt32LE(s);
    else if (t === C.NHA_GATEWAY) nh.gateway = formatIP(b, family, s);
    else if (t === C.NHA_BLACKHOLE) nh.blackhole = true;
    else if (t === C.NHA_GROUP) group = true;
  });
  return group || nh.id === 0 ? null : nh;
}

// ---------------------------------------------------------------- links

export interface Link {
  ifindex: number;
  name: string;
  flags: number;
  up: boolean;
  mtu?: number;
  /** Hardware address as aa:bb:... */
  mac?: string;
  /** IFLA_INFO_KIND (veth, bridge, vxlan, ...). */
  kind?: string;
  /** ifindex of the peer/parent link (IFLA_LINK). */
  link?: number;
  master?: number;
}

function cString(b: Buffer, s: number, e: number): string {
  let z = s; while (z < e && b[z] !== 0) z++;
  return b.toString('utf8', s, z);
}

export function decodeLink(m: NlMessage): Link {
  const b = m.buf, p = m.start;
  if (m.end - p < C.IFINFOMSG_LEN) throw new NetlinkError('malformed-message', `ifinfomsg too short (${m.end - p} bytes)`);
  const flags = b.readUInt32LE(p + 8);
  const l: Link = { ifindex: b.readInt32LE(p + 4), name: '', flags, up: (flags & C.IFF_UP) !== 0 };
  forEachAttr(b, p + C.IFINFOMSG_LEN, m.end, (t, s, e) => {
    if (t === C.IFLA_IFNAME) l.name = cString(b, s, e);
    else if (t === C.IFLA_MTU) l.mtu = b.readUInt32LE(s);
    else if (t === C.IFLA_ADDRESS) l.mac = [...b.subarray(s, e)].map((x) => x.toString(16).padStart(2, '0')).join(':');
    else if (t === C.IFLA_LINK) l.link = b.readUInt32LE(s);
    else if (t === C.IFLA_MASTER) l.master = b.readUInt32LE(s);
    else if (t === C.IFLA_LINKINFO) {
      forEachAttr(b, s, e, (it, is, ie) => { if (it === C.IFLA_INFO_KIND) l.kind = cString(b, is, ie); });
    }
  });
  return l;
}

export function encodeLinkDump(w: NlWriter, seq: number): void {
  const at = w.beginMessage(C.RTM_GETLINK, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  w.zeros(C.IFINFOMSG_LEN);
  w.endMessage(at);
}

function ifinfomsg(w: NlWriter, ifindex: number, flags: number, change: number): void {
  w.u8(C.AF_UNSPEC); w.u8(0); w.u16(0); w.i32(ifindex); w.u32(flags); w.u32(change);
}

export interface VethSpec {
  name: string;
  peerName: string;
  /** Open fd of the netns the peer should be created in (IFLA_NET_NS_FD). */
  peerNetnsFd?: number;
  mtu?: number;
  /** Peer's MAC, aa:bb:cc:dd:ee:ff. */
  peerMac?: string;
  mac?: string;
}

export function checkIfName(name: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 15 || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw new NetlinkError('invalid-link', `${what} "${String(name)}": expected 1-15 bytes without whitespace, '/' or ':'`);
  }
}

function macBytes(mac: string, what: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new NetlinkError('invalid-link', `${what} "${mac}": expected aa:bb:cc:dd:ee:ff`);
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

export function encodeVethAdd(w: NlWriter, v: VethSpec, seq: number): void {
  checkIfName(v.name, 'veth name');
  checkIfName(v.peerName, 'veth peer name');
  const at = w.beginMessage(C.RTM_NEWLINK, C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_EXCL, seq);
  ifinfomsg(w, 0, 0, 0);
  w.attrString(C.IFLA_IFNAME, v.name);
  if (v.mtu !== undefined) w.attrU32(C.IFLA_MTU, v.mtu);
  if (v.mac !== undefined) w.attr(C.IFLA_ADDRESS, macBytes(v.mac, 'mac'));
  const li = w.beginNested(C.IFLA_LINKINFO);
  w.attrString(C.IFLA_INFO_KIND, 'veth');
  const data = w.beginNested(C.IFLA_INFO_DATA);
  const peer = w.beginNested(C.VETH_INFO_PEER);
  ifinfomsg(w, 0, 0, 0);
  w.attrString(C.IFLA_IFNAME, v.peerName);
  if (v.mtu !== undefined) w.attrU32(C.IFLA_MTU, v.mtu);
  if (v.peerMac !== undefined) w.attr(C.IFLA_ADDRESS, macBytes(v.peerMac, 'peerMac'));
  if (v.peerNetnsFd !== undefined) w.attrU32(C.IFLA_NET_NS_FD, v.peerNetnsFd);
  w.endNested(peer);
  w.endNested(data);
  w.endNested(li);
  w.endMessage(at);
}

export interface LinkChange {
  up?: boolean;
  mtu?: number;
  name?: string;
  /** Move the link into the netns behind this open fd. */
  netnsFd?: number;
  mac?: string;
}

export function encodeLinkSet(w: NlWriter, ifindex: number, ch: LinkChange, seq: number): void {
  const at = w.beginMessage(C.RTM_NEWLINK, C.NLM_F_REQUEST | C.NLM_F_ACK, seq);
  ifinfomsg(w, ifindex, ch.up ? C.IFF_UP : 0, ch.up === undefined ? 0 : C.IFF_UP);
  if (ch.name !== undefined) { checkIfName(ch.name, 'new name'); w.attrString(C.IFLA_IFNAME, ch.name); }
  if (ch.mtu !== undefined) w.attrU32(C.IFLA_MTU, ch.mtu);
  if (ch.mac !== undefined) w.attr(C.IFLA_ADDRESS, macBytes(ch.mac, 'mac'));
  if (ch.netnsFd !== undefined) w.attrU32(C.IFLA_NET_NS_FD, ch.netnsFd);
  w.endMessage(at);
}

export function encodeLinkDel(w: NlWriter, ifindex: number, seq: number): void {
  const at = w.beginMessage(C.RTM_DELLINK, C.NLM_F_REQUEST | C.NLM_F_ACK, seq);
  ifinfomsg(w, ifindex, 0, 0);
  w.endMessage(at);
}

// ---------------------------------------------------------------- addresses

export interface Address {
  ifindex: number;
  family: Family;
  /** The interface address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6). */
  address: string;
  prefixLen: number;
  /** Peer address on point-to-point links (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
  scope: number;
  flags: number;
  label?: string;
}

export function decodeAddress(m: NlMessage): Address | null {
  const b = m.buf, p = m.start;
  if (m.end - p < C.IFADDRMSG_LEN) throw new NetlinkError('malformed-message', `ifaddrmsg too short (${m.end - p} bytes)`);
  const af = b[p]!;
  if (af !== C.AF_INET && af !== C.AF_INET6) return null;
  const family: Family = af === C.AF_INET ? 4 : 6;
  let local: string | undefined, addr: string | undefined, label: string | undefined;
  let flags = b[p + 2]!;
  forEachAttr(b, p + C.IFADDRMSG_LEN, m.end, (t, s, e) => {
    if (t === C.IFA_LOCAL) local = formatIP(b, family, s);
    else if (t === C.IFA_ADDRESS) addr = formatIP(b, family, s);
    else if (t === C.IFA_LABEL) label = cString(b, s, e);
    else if (t === C.IFA_FLAGS) flags = b.readUInt32LE(s);
  });
  const address = local ?? addr;
  if (address === undefined) return null;
  const a: Address = { ifindex: b.readUInt32LE(p + 4), family, address, prefixLen: b[p + 1]!, scope: b[p + 3]!, flags };
  if (local !== undefined && addr !== undefined && addr !== local) a.peer = addr;
  if (label !== undefined) a.label = label;
  return a;
}

export function encodeAddrDump(w: NlWriter, seq: number, family: Family | 0 = 0): void {
  const at = w.beginMessage(C.RTM_GETADDR, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  w.u8(family === 0 ? C.AF_UNSPEC : family === 4 ? C.AF_INET : C.AF_INET6);
  w.zeros(7);
  w.endMessage(at);
}

export interface AddressSpec {
  ifindex: number;
  /** CIDR: the address and its prefix length, e.g. 198.18.0.1/24 or fd00:198:18::1/64. */
  cidr: string;
  peer?: string;
  scope?: number;
  /** IFA_F_NODAD etc. */
  flags?: number;
}

export function encodeAddress(w: NlWriter, op: 'add' | 'replace' | 'del', a: AddressSpec, seq: number): void {
  const slash = typeof a.cidr === 'string' ? a.cidr.indexOf('/') : -1;
  if (slash < 0) throw new NetlinkError('invalid-address', `address "${String(a.cidr)}": expected address/prefix-length`);
  const ip = parseIP(a.cidr.slice(0, slash));
  if (!ip) throw new NetlinkError('invalid-address', `address "${a.cidr}": not an IPv4 or IPv6 address`);
  const plen = parsePrefixLen(a.cidr.slice(slash + 1), ip.family === 4 ? 32 : 128);
  if (plen < 0) throw new NetlinkError('invalid-address', `address "${a.cidr}": prefix length must be 0..${ip.family === 4 ? 32 : 128}`);
  if (!Number.isInteger(a.ifindex) || a.ifindex <= 0) throw new NetlinkError('invalid-address', `address "${a.cidr}": ifindex ${a.ifindex} is not a positive integer`);
  const flags = op === 'del' ? C.NLM_F_REQUEST | C.NLM_F_ACK
    : C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | (op === 'add' ? C.NLM_F_EXCL : C.NLM_F_REPLACE);
  const at = w.beginMessage(op === 'del' ? C.RTM_DELADDR : C.RTM_NEWADDR, flags, seq);
  w.u8(ip.family === 4 ? C.AF_INET : C.AF_INET6);
  w.u8(plen);
  w.u8((a.flags ?? 0) & 0xff);
  w.u8(a.scope ?? C.RT_SCOPE_UNIVERSE);
  w.u32(a.ifindex);
  w.attr(C.IFA_LOCAL, ip.bytes);
  let peer = ip.bytes;
  if (a.peer !== undefined) {
    const pi = parseIP(a.peer);
    if (!pi || pi.family !== ip.family) throw new NetlinkError('invalid-address', `peer "${a.peer}": expected an IPv${ip.family} address`);
    peer = pi.bytes;
  }
  w.attr(C.IFA_ADDRESS, peer);
  if (a.flags !== undefined && a.flags > 0xff) w.attrU32(C.IFA_FLAGS, a.flags);
  w.endMessage(at);
}

/** The network a /len address lives in, as a CIDR string (host bits cleared). */
export function networkOf(address: string, prefixLen: number): string {
  const ip = parseIP(address);
  if (!ip) throw new NetlinkError('invalid-address', `address "${address}": not an IPv4 or IPv6 address`);
  const b = ip.bytes;
  for (let i = 0; i < b.length; i++) {
    const keep = prefixLen >= (i + 1) * 8 ? 8 : Math.max(0, prefixLen - i * 8);
    b[i] = b[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${formatIP(b, ip.family)}/${prefixLen}`;
}
