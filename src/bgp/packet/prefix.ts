// Prefixes: compact NLRI values with a canonical string key, IP text <-> bytes, and the hot
// NLRI decode/encode loops. Keys match src/lib's canonical CIDR text (dotted quad; RFC 5952
// IPv6, v4-mapped as ::ffff:a.b.c.d).
import type { Afi, FamilyKey, Prefix } from './types.ts';

const OCTET: string[] = [];
for (let i = 0; i < 256; i++) OCTET.push(String(i));
const SLASH_LEN: string[] = [];
for (let i = 0; i <= 128; i++) SLASH_LEN.push('/' + i);

export function familyKey(afi: number, safi: number): FamilyKey {
  return ((afi & 0xffff) << 8) | (safi & 0xff);
}

// ---------------------------------------------------------------------------------------------
// Prefix implementations: IPv4 addr and key are computed on first use (decode allocates one
// small object per IPv4 prefix, nothing else).
// ---------------------------------------------------------------------------------------------

class Ipv4Prefix implements Prefix {
  readonly afi: 1 = 1;
  readonly len: number;
  /** The network address as an unsigned 32-bit number. */
  readonly value: number;
  readonly pathId: number | undefined;
  #key: string | undefined;
  #addr: Uint8Array | undefined;
  constructor(value: number, len: number, key: string | undefined, pathId: number | undefined) {
    this.value = value;
    this.len = len;
    this.#key = key;
    this.pathId = pathId;
  }
  /** Built on first use: consumers that read `value`/`len` (the RIB) never pay for the text. */
  get key(): string {
    let k = this.#key;
    if (k === undefined) {
      k = ipv4PrefixText(this.value, this.len);
      this.#key = k;
    }
    return k;
  }
  get addr(): Uint8Array {
    let a = this.#addr;
    if (a === undefined) {
      const v = this.value;
      a = new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
      this.#addr = a;
    }
    return a;
  }
}

class Ipv6Prefix implements Prefix {
  readonly afi: 2 = 2;
  readonly len: number;
  readonly key: string;
  readonly addr: Uint8Array;
  readonly pathId: number | undefined;
  constructor(addr: Uint8Array, len: number, key: string, pathId: number | undefined) {
    this.addr = addr;
    this.len = len;
    this.key = key;
    this.pathId = pathId;
  }
}

// Keys are built as one flat string: concatenating the parts gives a cons string that V8
// flattens on the first Map lookup but keeps alive beside the flat copy (~90 B per key instead
// of ~35 B; the RIB, the kernel reconciler and the codec all hold the same key string).
const KEY_BUF = Buffer.alloc(24);

function putDecimal(o: number, n: number): number {
  const b = KEY_BUF;
  if (n >= 100) {
    b[o++] = 48 + ((n / 100) | 0);
    b[o++] = 48 + (((n / 10) | 0) % 10);
  } else if (n >= 10) b[o++] = 48 + ((n / 10) | 0);
  b[o++] = 48 + (n % 10);
  return o;
}

/** Text of an IPv4 prefix from its address as a uint32 and its length, e.g. "198.18.0.0/24". */
export function ipv4PrefixText(v: number, len: number): string {
  let o = putDecimal(0, v >>> 24);
  KEY_BUF[o++] = 46;
  o = putDecimal(o, (v >>> 16) & 0xff);
  KEY_BUF[o++] = 46;
  o = putDecimal(o, (v >>> 8) & 0xff);
  KEY_BUF[o++] = 46;
  o = putDecimal(o, v & 0xff);
  KEY_BUF[o++] = 47;
  o = putDecimal(o, len);
  return KEY_BUF.toString('latin1', 0, o);
}

function maskV4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Canonical key string of (afi, addr, len); host bits of addr are ignored. */
export function prefixKey(afi: Afi, addr: Uint8Array, len: number): string {
  return makePrefix(afi, addr, len).key;
}

/** Build a prefix from an address (4 or 16 bytes; host bits are cleared) and a length. */
export function makePrefix(afi: Afi, addr: Uint8Array, len: number, pathId?: number): Prefix {
  if (afi === 1) {
    if (addr.length !== 4) throw new RangeError(`makePrefix: IPv4 address must be 4 bytes, got ${addr.length}`);
    if (!Number.isInteger(len) || len < 0 || len > 32) throw new RangeError(`makePrefix: IPv4 prefix length ${len} outside 0..32`);
    const v = (((addr[0]! << 24) | (addr[1]! << 16) | (addr[2]! << 8) | addr[3]!) & maskV4(len)) >>> 0;
    return new Ipv4Prefix(v, len, ipv4PrefixText(v, len), pathId);
  }
  if (afi === 2) {
    if (addr.length !== 16) throw new RangeError(`makePrefix: IPv6 address must be 16 bytes, got ${addr.length}`);
    if (!Number.isInteger(len) || len < 0 || len > 128) throw new RangeError(`makePrefix: IPv6 prefix length ${len} outside 0..128`);
    const a = new Uint8Array(16);
    const full = len >>> 3;
    a.set(addr.subarray(0, full));
    if (len & 7) a[full] = addr[full]! & (0xff << (8 - (len & 7)));
    return new Ipv6Prefix(a, len, formatIpv6(a) + SLASH_LEN[len]!, pathId);
  }
  throw new RangeError(`makePrefix: unsupported AFI ${String(afi)}`);
}

/** Decimal 0..max at text[start, end), no leading zeros; -1 if not. */
function decimal(text: string, start: number, end: number, max: number): number {
  const n = end - start;
  if (n < 1 || n > 3) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  if (n > 1 && text.charCodeAt(start) === 48) return -1;
  return v <= max ? v : -1;
}

/** Fast path: canonical dotted quad at text[0, end) -> unsigned value, or -1. */
function fastIpv4(text: string, end: number): number {
  let v = 0;
  let start = 0;
  for (let part = 0; part < 4; part++) {
    let stop = end;
    if (part < 3) {
      stop = text.indexOf('.', start);
      if (stop < 0 || stop >= end) return -1;
    }
    const o = decimal(text, start, stop, 255); // rejects any extra '.'
    if (o < 0) return -1;
    v = v * 256 + o;
    start = stop + 1;
  }
  return v;
}

/**
 * Fast path: IPv6 text at text[0, end) without an embedded dotted quad -> 16 bytes in `out`.
 * Returns false for anything unusual (the slow path then explains what is wrong).
 */
function fastIpv6(text: string, end: number, out: Uint8Array): boolean {
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    let v = 0;
    let n = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      n++;
      i++;
    }
    if (n === 0 || n > 4) return false;
    groups.push(v);
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false; // '.' (dotted quad) or junk: slow path
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
      if (i === end) break;
    } else if (i === end) return false;
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  out.fill(0);
  const tail = gap < 0 ? 0 : groups.length - gap;
  for (let g = 0; g < groups.length; g++) {
    const slot = gap < 0 || g < gap ? g : 8 - tail + (g - gap);
    out[2 * slot] = groups[g]! >>> 8;
    out[2 * slot + 1] = groups[g]! & 0xff;
  }
  return true;
}

/** Parse "198.19.0.0/24" or "fd00::/64" (host bits must be zero). Throws Error with a clear message. */
export function parsePrefix(text: string, pathId?: number): Prefix {
  // Fast path for the common case: canonical IPv4 text, which is then its own key.
  const sl = text.indexOf('/');
  if (sl > 0 && text.indexOf(':') < 0) {
    const len = decimal(text, sl + 1, text.length, 32);
    const v = len < 0 ? -1 : fastIpv4(text, sl);
    if (v >= 0 && ((v & ~maskV4(len)) >>> 0) === 0) return new Ipv4Prefix(v, len, text, pathId);
  } else if (sl > 0) {
    const len = decimal(text, sl + 1, text.length, 128);
    const a = new Uint8Array(16);
    if (len >= 0 && fastIpv6(text, sl, a)) {
      const full = len >>> 3;
      let clean = len === 128 || (len & 7 ? (a[full]! & (0xff >> (len & 7))) === 0 : a[full] === 0);
      for (let k = full + 1; clean && k < 16; k++) if (a[k] !== 0) clean = false;
      if (clean) return new Ipv6Prefix(a, len, formatIpv6(a) + SLASH_LEN[len]!, pathId);
    }
  }
  return parsePrefixSlow(text, pathId);
}

function parsePrefixSlow(text: string, pathId?: number): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`invalid prefix ${JSON.stringify(text)}: expected <address>/<length>`);
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) {
    throw new Error(`invalid prefix ${JSON.stringify(text)}: length ${JSON.stringify(lenText)} is not a number`);
  }
  const len = Number(lenText);
  const v6 = addrText.includes(':');
  const afi: Afi = v6 ? 2 : 1;
  const max = v6 ? 128 : 32;
  if (len > max) throw new Error(`invalid prefix ${JSON.stringify(text)}: length ${len} exceeds ${max}`);
  let addr: Uint8Array;
  try {
    addr = v6 ? parseIpv6(addrText) : parseIpv4(addrText);
  } catch (e) {
    throw new Error(`invalid prefix ${JSON.stringify(text)}: ${(e as Error).message}`, { cause: e });
  }
  const p = makePrefix(afi, addr, len, pathId);
  for (let i = 0; i < addr.length; i++) {
    if (addr[i] !== p.addr[i]) throw new Error(`invalid prefix ${JSON.stringify(text)}: host bits set (did you mean ${p.key}?)`);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return OCTET[bytes[offset]!]! + '.' + OCTET[bytes[offset + 1]!]! + '.' + OCTET[bytes[offset + 2]!]! + '.' + OCTET[bytes[offset + 3]!]!;
}

const HEX: string[] = [];
for (let i = 0; i < 16; i++) HEX.push(i.toString(16));

function hexGroup(g: number): string {
  if (g < 16) return HEX[g]!;
  return g.toString(16);
}

/** RFC 5952 text of 16 bytes at offset (lowercase, longest zero run compressed). */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const g0 = (bytes[offset]! << 8) | bytes[offset + 1]!;
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const g = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
    if (g === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestLen = i - runStart + 1;
        bestStart = runStart;
      }
    } else runStart = -1;
  }
  if (bestStart === 0 && bestLen === 5 && g0 === 0 && ((bytes[offset + 10]! << 8) | bytes[offset + 11]!) === 0xffff) {
    return '::ffff:' + formatIpv4(bytes, offset + 12);
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && s.charCodeAt(s.length - 1) !== 58) s += ':';
    s += hexGroup((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  }
  return s;
}

/** Dotted quad -> 4 bytes. Throws Error naming the bad input. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${JSON.stringify(text)}: expected 4 dotted decimal octets`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
      throw new Error(`invalid IPv4 address ${JSON.stringify(text)}: octet ${JSON.stringify(p)} is not 0..255`);
    }
    out[i] = Number(p);
  }
  return out;
}

/** IPv6 text (with ::, optional trailing dotted quad) -> 16 bytes. Throws Error naming the bad input. */
export function parseIpv6(text: string): Uint8Array {
  const bad = (why: string): never => {
    throw new Error(`invalid IPv6 address ${JSON.stringify(text)}: ${why}`);
  };
  if (text.length < 2 || text.length > 45) bad('wrong length');
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) bad("more than one '::'");
  const headText = dbl >= 0 ? text.slice(0, dbl) : text;
  const tailText = dbl >= 0 ? text.slice(dbl + 2) : '';
  const head = headText === '' ? [] : headText.split(':');
  const tail = tailText === '' ? [] : tailText.split(':');
  let v4: Uint8Array | null = null;
  const lastList = tail.length ? tail : head;
  const last = lastList[lastList.length - 1];
  if (last !== undefined && last.includes('.')) {
    v4 = parseIpv4(last);
    lastList.pop();
  }
  const want = v4 ? 6 : 8;
  const have = head.length + tail.length;
  if (dbl >= 0 ? have > want - 1 : have !== want) bad(`expected ${want} groups`);
  const groups: number[] = [];
  const pushGroup = (s: string): void => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(s)) bad(`group ${JSON.stringify(s)} is not 1-4 hex digits`);
    groups.push(parseInt(s, 16));
  };
  head.forEach(pushGroup);
  for (let i = 0; i < want - have; i++) groups.push(0);
  tail.forEach(pushGroup);
  const out = new Uint8Array(16);
  for (let i = 0; i < want; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

// ---------------------------------------------------------------------------------------------
// NLRI wire loops (internal to the codec)
// ---------------------------------------------------------------------------------------------

/**
 * Decode a run of NLRI (RFC 4271 §4.3 prefix encoding, optionally RFC 7911 path ids) from
 * buf[pos, end) into `out`. Returns null on success, or a description of the syntax error
 * (prefix length above the family maximum, or a prefix overrunning the field).
 */
export function decodeNlriRun(
  buf: Uint8Array,
  pos: number,
  end: number,
  afi: Afi,
  addPath: boolean,
  out: Prefix[],
): string | null {
  if (afi === 1) {
    while (pos < end) {
      let pathId: number | undefined;
      if (addPath) {
        if (pos + 4 > end) return `path identifier at offset ${pos} overruns the field`;
        pathId = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
        pos += 4;
        if (pos >= end) return `path identifier at offset ${pos - 4} has no prefix`;
      }
      const len = buf[pos++]!;
      if (len > 32) return `IPv4 prefix length ${len} at offset ${pos - 1} exceeds 32`;
      const nb = (len + 7) >>> 3;
      if (pos + nb > end) return `IPv4 prefix /${len} at offset ${pos - 1} overruns the field by ${pos + nb - end} bytes`;
      let v = 0;
      switch (nb) {
        case 4:
          v = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
          break;
        case 3:
          v = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8);
          break;
        case 2:
          v = (buf[pos]! << 24) | (buf[pos + 1]! << 16);
          break;
        case 1:
          v = buf[pos]! << 24;
          break;
      }
      pos += nb;
      v = (v & maskV4(len)) >>> 0;
      out.push(new Ipv4Prefix(v, len, undefined, pathId));
    }
    return null;
  }
  while (pos < end) {
    let pathId: number | undefined;
    if (addPath) {
      if (pos + 4 > end) return `path identifier at offset ${pos} overruns the field`;
      pathId = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
      pos += 4;
      if (pos >= end) return `path identifier at offset ${pos - 4} has no prefix`;
    }
    const len = buf[pos++]!;
    if (len > 128) return `IPv6 prefix length ${len} at offset ${pos - 1} exceeds 128`;
    const nb = (len + 7) >>> 3;
    if (pos + nb > end) return `IPv6 prefix /${len} at offset ${pos - 1} overruns the field by ${pos + nb - end} bytes`;
    const a = new Uint8Array(16);
    for (let i = 0; i < nb; i++) a[i] = buf[pos + i]!;
    if (len & 7) a[nb - 1] = a[nb - 1]! & (0xff << (8 - (len & 7)));
    pos += nb;
    out.push(new Ipv6Prefix(a, len, formatIpv6(a) + SLASH_LEN[len]!, pathId));
  }
  return null;
}

/** Wire size of one prefix (with path id if addPath). */
export function nlriSize(p: Prefix, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((p.len + 7) >>> 3);
}

/** Write one prefix at buf[pos]; returns the new position. Caller ensured room. */
export function writeNlri(buf: Uint8Array, pos: number, p: Prefix, addPath: boolean): number {
  if (addPath) {
    const id = p.pathId ?? 0;
    buf[pos++] = id >>> 24;
    buf[pos++] = (id >>> 16) & 0xff;
    buf[pos++] = (id >>> 8) & 0xff;
    buf[pos++] = id & 0xff;
  }
  const len = p.len;
  buf[pos++] = len;
  const nb = (len + 7) >>> 3;
  if (p instanceof Ipv4Prefix) {
    const v = p.value;
    if (nb > 0) buf[pos++] = v >>> 24;
    if (nb > 1) buf[pos++] = (v >>> 16) & 0xff;
    if (nb > 2) buf[pos++] = (v >>> 8) & 0xff;
    if (nb > 3) buf[pos++] = v & 0xff;
    return pos;
  }
  const a = p.addr;
  for (let i = 0; i < nb; i++) buf[pos++] = a[i]!;
  if (len & 7) buf[pos - 1] = buf[pos - 1]! & (0xff << (8 - (len & 7)));
  return pos;
}
