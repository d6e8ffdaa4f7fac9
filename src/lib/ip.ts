// IPv4/IPv6 addresses and CIDRs as bigints: parse, format (RFC 5952), masks, containment and
// overlap. Pure, allocation-light; shared by model, IPAM, felix and BGP.

export type IPFamily = 4 | 6;

/** An IP address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface IPAddr {
  readonly family: IPFamily;
  readonly value: bigint;
}

/** A CIDR: the address as written (possibly with host bits set) and its prefix length. */
export interface CIDR {
  readonly family: IPFamily;
  readonly ip: bigint;
  readonly prefix: number;
}

export class IPError extends Error {
  readonly code: 'invalid-ip' | 'invalid-cidr' | 'family-mismatch' | 'out-of-range';
  constructor(code: IPError['code'], message: string) {
    super(message);
    this.name = 'IPError';
    this.code = code;
  }
}

export function familyBits(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

const MAX4 = (1n << 32n) - 1n;
const MAX6 = (1n << 128n) - 1n;
export function familyMax(family: IPFamily): bigint {
  return family === 4 ? MAX4 : MAX6;
}

function parseV4Value(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    // Decimal only, no leading zeros (Go's parser rejects them too), 0-255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6Value(s: string): bigint | null {
  if (s.length < 2 || s.length > 45) return null;
  let head: string[];
  let tail: string[] = [];
  let compressed = false;
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    if (s.indexOf('::', dbl + 1) >= 0) return null;
    compressed = true;
    const a = s.slice(0, dbl);
    const b = s.slice(dbl + 2);
    head = a === '' ? [] : a.split(':');
    tail = b === '' ? [] : b.split(':');
  } else {
    head = s.split(':');
  }
  const groups: number[] = [];
  const all = [...head, ...tail];
  let v4tail: bigint | null = null;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    v4tail = parseV4Value(last);
    if (v4tail === null) return null;
    all.pop();
    if (tail.length) tail.pop();
    else head.pop();
  }
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
  }
  const want = v4tail === null ? 8 : 6;
  const have = head.length + tail.length;
  if (compressed) {
    if (have > want - 1) return null;
  } else if (have !== want) return null;
  for (const g of head) groups.push(parseInt(g, 16));
  for (let i = 0; i < want - have; i++) groups.push(0);
  for (const g of tail) groups.push(parseInt(g, 16));
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (v4tail !== null) v = (v << 32n) | v4tail;
  return v;
}

/** Parse an IPv4 or IPv6 address; null if it is not one (no zones, no brackets). */
export function tryParseIP(s: string): IPAddr | null {
  if (typeof s !== 'string') return null;
  if (s.includes(':')) {
    const v = parseV6Value(s);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseV4Value(s);
  return v === null ? null : { family: 4, value: v };
}

export function parseIP(s: string): IPAddr {
  const ip = tryParseIP(s);
  if (!ip) throw new IPError('invalid-ip', `invalid IP address ${JSON.stringify(s)}`);
  return ip;
}

export function isIP(s: string, family?: IPFamily): boolean {
  const ip = tryParseIP(s);
  return ip !== null && (family === undefined || ip.family === family);
}

/** Format: dotted quad, or RFC 5952 IPv6 (v4-mapped kept as ::ffff:a.b.c.d, as netip does). */
export function formatIP(ip: IPAddr | bigint, family?: IPFamily): string {
  const fam = typeof ip === 'bigint' ? (family ?? 4) : ip.family;
  const v = typeof ip === 'bigint' ? ip : ip.value;
  if (fam === 4) return formatV4(v);
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return '::ffff:' + formatV4(v & MAX4);
  }
  // Longest run of >= 2 zero groups, first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestLen < 2) return g.map(hex).join(':');
  const left = g.slice(0, bestStart).map(hex).join(':');
  const right = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String(Number((v >> s) & 0xffn))).join('.');
}

export function maskBits(family: IPFamily, prefix: number): bigint {
  const bits = familyBits(family);
  if (prefix <= 0) return 0n;
  return (familyMax(family) >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

export interface ParseCIDROptions {
  /** Reject CIDRs with host bits set (e.g. 10.0.0.1/24). Default false. */
  requireMasked?: boolean;
  /** Accept a bare IP as a full-length prefix (/32 or /128). Default false. */
  allowBareIP?: boolean;
}

/** Parse "addr/len"; null if invalid. Prefix length: decimal, no sign, no leading zeros. */
export function tryParseCIDR(s: string, opts: ParseCIDROptions = {}): CIDR | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash < 0) {
    if (!opts.allowBareIP) return null;
    const ip = tryParseIP(s);
    return ip ? { family: ip.family, ip: ip.value, prefix: familyBits(ip.family) } : null;
  }
  const ip = tryParseIP(s.slice(0, slash));
  if (!ip) return null;
  const p = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
  const prefix = Number(p);
  if (prefix > familyBits(ip.family)) return null;
  if (opts.requireMasked && (ip.value & ~maskBits(ip.family, prefix) & familyMax(ip.family)) !== 0n) return null;
  return { family: ip.family, ip: ip.value, prefix };
}

export function parseCIDR(s: string, opts: ParseCIDROptions = {}): CIDR {
  const c = tryParseCIDR(s, opts);
  if (c) return c;
  if (opts.requireMasked && tryParseCIDR(s, { ...opts, requireMasked: false })) {
    throw new IPError('invalid-cidr', `CIDR ${JSON.stringify(s)} has host bits set (expected ${formatCIDR(maskCIDR(parseCIDR(s, { allowBareIP: opts.allowBareIP })))})`);
  }
  throw new IPError('invalid-cidr', `invalid CIDR ${JSON.stringify(s)}`);
}

export function isCIDR(s: string, family?: IPFamily): boolean {
  const c = tryParseCIDR(s);
  return c !== null && (family === undefined || c.family === family);
}

/** The network address (host bits cleared). */
export function maskCIDR(c: CIDR): CIDR {
  return { family: c.family, ip: c.ip & maskBits(c.family, c.prefix), prefix: c.prefix };
}

export function isMasked(c: CIDR): boolean {
  return (c.ip & maskBits(c.family, c.prefix)) === c.ip;
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP(c.ip, c.family)}/${c.prefix}`;
}

/** Canonical text of a CIDR or bare IP, masked: Go's net.ParseCIDR(...).IPNet.String(). */
export function canonicalCIDR(s: string): string | null {
  const c = tryParseCIDR(s, { allowBareIP: true });
  return c ? formatCIDR(maskCIDR(c)) : null;
}

export function cidrFirst(c: CIDR): bigint {
  return c.ip & maskBits(c.family, c.prefix);
}

export function cidrLast(c: CIDR): bigint {
  return cidrFirst(c) | (familyMax(c.family) >> BigInt(c.prefix));
}

/** Number of addresses in the CIDR. */
export function cidrSize(c: CIDR): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

export function cidrContainsIP(c: CIDR, ip: IPAddr): boolean {
  if (c.family !== ip.family) return false;
  const m = maskBits(c.family, c.prefix);
  return (ip.value & m) === (c.ip & m);
}

/** True when `outer` contains every address of `inner`. */
export function cidrContains(outer: CIDR, inner: CIDR): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && cidrContainsIP(outer, { family: inner.family, value: inner.ip });
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** ip + n (n may be negative); throws if the result leaves the family's range. */
export function ipAdd(ip: IPAddr, n: bigint | number): IPAddr {
  const v = ip.value + BigInt(n);
  if (v < 0n || v > familyMax(ip.family)) throw new IPError('out-of-range', `${formatIP(ip)} + ${String(n)} is outside IPv${ip.family}`);
  return { family: ip.family, value: v };
}

/** The n-th address of a CIDR (0-based from the network address). */
export function cidrNth(c: CIDR, n: bigint | number): IPAddr {
  const off = BigInt(n);
  if (off < 0n || off >= cidrSize(c)) throw new IPError('out-of-range', `offset ${String(n)} is outside ${formatCIDR(c)}`);
  return { family: c.family, value: cidrFirst(c) + off };
}

export function ipCompare(a: IPAddr, b: IPAddr): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function ipEquals(a: IPAddr, b: IPAddr): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Network byte order bytes (4 or 16). */
export function ipToBytes(ip: IPAddr): Uint8Array {
  const n = ip.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function ipFromBytes(b: Uint8Array): IPAddr {
  if (b.length !== 4 && b.length !== 16) throw new IPError('invalid-ip', `an IP address has 4 or 16 bytes, not ${b.length}`);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return { family: b.length === 4 ? 4 : 6, value: v };
}

/** Split a CIDR into subnets of `newPrefix` (a generator: a /8 into /26s is 262,144 items). */
export function* cidrSubnets(c: CIDR, newPrefix: number): Generator<CIDR> {
  if (newPrefix < c.prefix || newPrefix > familyBits(c.family)) {
    throw new IPError('out-of-range', `cannot split ${formatCIDR(c)} into /${newPrefix}`);
  }
  const step = 1n << BigInt(familyBits(c.family) - newPrefix);
  const last = cidrLast(c);
  for (let v = cidrFirst(c); v <= last; v += step) yield { family: c.family, ip: v, prefix: newPrefix };
}

/** Split "host:port", "[v6]:port" or a bare IP. Port is null when absent. */
export function splitHostPort(s: string): { ip: IPAddr; port: number | null } | null {
  const bare = tryParseIP(s);
  if (bare) return { ip: bare, port: null };
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return null;
    host = s.slice(1, close);
    port = s.slice(close + 2);
    const ip = tryParseIP(host);
    if (!ip || ip.family !== 6) return null;
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return null;
    return { ip, port: Number(port) };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return null;
  host = s.slice(0, colon);
  port = s.slice(colon + 1);
  const ip = tryParseIP(host);
  if (!ip || ip.family !== 4) return null;
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return null;
  return { ip, port: Number(port) };
}

/** Offset of `ip` within `c` (0-based from the network address), or -1n if outside. */
export function cidrOrdinal(c: CIDR, ip: IPAddr): bigint {
  return cidrContainsIP(c, ip) ? ip.value - cidrFirst(c) : -1n;
}

/** The masked CIDR of the given length that contains `ip` (e.g. the /26 block of an address). */
export function cidrOf(ip: IPAddr, prefix: number): CIDR {
  if (prefix < 0 || prefix > familyBits(ip.family)) throw new IPError('out-of-range', `/${prefix} is not a valid IPv${ip.family} prefix length`);
  return maskCIDR({ family: ip.family, ip: ip.value, prefix });
}

/** Sort order: family, then network address, then prefix length (shorter first). */
export function cidrCompare(a: CIDR, b: CIDR): number {
  if (a.family !== b.family) return a.family - b.family;
  const fa = cidrFirst(a);
  const fb = cidrFirst(b);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.prefix - b.prefix;
}

export function cidrEquals(a: CIDR, b: CIDR): boolean {
  return a.family === b.family && a.prefix === b.prefix && cidrFirst(a) === cidrFirst(b);
}
