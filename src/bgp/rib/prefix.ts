// Prefix and address helpers the RIB needs on hot paths: family of a prefix key, a compact
// numeric form for containment tests (IPv4 as a 32-bit number, IPv6 as a bigint), and
// ordering keys for addresses. Prefix keys are canonical CIDR text as produced by the codec
// (`Prefix.key`): host bits clear, RFC 5952 IPv6.

import { canonicalCIDR, tryParseCIDR, tryParseIP } from '../../lib/index.ts';
import { RIB_ERROR, RibError } from './errors.ts';

/** Address family of a unicast route. SAFI is always unicast (1) in the RIB. */
export type Family = 'ipv4' | 'ipv6';
export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

export function familyOf(prefixKey: string): Family {
  return prefixKey.includes(':') ? 'ipv6' : 'ipv4';
}

export function familyAfi(f: Family): 1 | 2 {
  return f === 'ipv4' ? 1 : 2;
}

export function familyFromAfi(afi: number, safi = 1): Family | null {
  if (safi !== 1) return null;
  return afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : null;
}

/** A parsed prefix for containment tests. */
export interface NumPrefix {
  readonly family: Family;
  readonly len: number;
  /** IPv4: the network address as an unsigned 32-bit number. */
  readonly v4: number;
  /** IPv6: the network address. */
  readonly v6: bigint;
}

function parseV4Fast(s: string, end: number): number {
  let val = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return -1;
      val = val * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || octet > 255) return -1;
  return val * 256 + octet;
}

/** Parse an IPv4 dotted quad to an unsigned 32-bit number; -1 if it is not one. */
export function ipv4ToNumber(s: string): number {
  return parseV4Fast(s, s.length);
}

/** Parse a prefix key (or any CIDR text); null when it is not valid CIDR text. */
export function tryParseNumPrefix(key: string): NumPrefix | null {
  const slash = key.indexOf('/');
  if (slash < 0) return null;
  if (!key.includes(':')) {
    const v = parseV4Fast(key, slash);
    const lenText = key.slice(slash + 1);
    if (v < 0 || !/^(0|[1-9][0-9]?)$/.test(lenText)) return null;
    const len = Number(lenText);
    if (len > 32) return null;
    return { family: 'ipv4', len, v4: maskV4(v, len), v6: 0n };
  }
  const c = tryParseCIDR(key);
  if (!c || c.family !== 6) return null;
  return { family: 'ipv6', len: c.prefix, v4: 0, v6: maskV6(c.ip, c.prefix) };
}

export function parseNumPrefix(key: string, where = 'prefix'): NumPrefix {
  const p = tryParseNumPrefix(key);
  if (!p) throw new RibError(RIB_ERROR.INVALID_PREFIX, `${where}: ${JSON.stringify(key)} is not a CIDR (expected e.g. 198.18.0.0/24 or fd00:198:18::/48)`);
  return p;
}

function maskV4(v: number, len: number): number {
  if (len === 0) return 0;
  const shift = 32 - len;
  return shift === 0 ? v : Math.floor(v / 2 ** shift) * 2 ** shift;
}

const MAX6 = (1n << 128n) - 1n;
function maskV6(v: bigint, len: number): bigint {
  if (len === 0) return 0n;
  const shift = BigInt(128 - len);
  return ((v >> shift) << shift) & MAX6;
}

/** True when `inner` lies within `outer` (equal counts). */
export function prefixWithin(inner: NumPrefix, outer: NumPrefix): boolean {
  if (inner.family !== outer.family || inner.len < outer.len) return false;
  if (inner.family === 'ipv4') return maskV4(inner.v4, outer.len) === outer.v4;
  return maskV6(inner.v6, outer.len) === outer.v6;
}

export function prefixEquals(a: NumPrefix, b: NumPrefix): boolean {
  return a.family === b.family && a.len === b.len && a.v4 === b.v4 && a.v6 === b.v6;
}

/** True when the address (text) is inside the prefix. */
export function addressWithin(address: string, p: NumPrefix): boolean {
  if (p.family === 'ipv4') {
    if (address.includes(':')) return false;
    const v = ipv4ToNumber(address);
    return v >= 0 && maskV4(v, p.len) === p.v4;
  }
  const ip = tryParseIP(address);
  return ip !== null && ip.family === 6 && maskV6(ip.value, p.len) === p.v6;
}

/**
 * Canonical prefix key for user input (originate, config). The codec already gives canonical
 * keys for wire prefixes; this is for everything else. Throws a RibError naming `where`.
 */
export function canonicalPrefix(text: string, where = 'prefix'): string {
  const c = typeof text === 'string' && text.includes('/') ? canonicalCIDR(text) : null;
  if (c === null) throw new RibError(RIB_ERROR.INVALID_PREFIX, `${where}: ${JSON.stringify(text)} is not a CIDR (expected e.g. 198.18.0.0/24 or fd00:198:18::/48)`);
  return c;
}

/**
 * A string that orders addresses numerically (IPv4 before IPv6), for the "lowest peer address"
 * tie-break. Throws on a non-address.
 */
export function addressOrderKey(address: string, where = 'address'): string {
  const ip = tryParseIP(address);
  if (!ip) throw new RibError(RIB_ERROR.INVALID_ADDRESS, `${where}: ${JSON.stringify(address)} is not an IP address`);
  return (ip.family === 4 ? '4' : '6') + ip.value.toString(16).padStart(ip.family === 4 ? 8 : 32, '0');
}

/** BGP identifier (dotted quad) as an unsigned 32-bit number. Throws on bad input. */
export function routerIdToNumber(id: string, where = 'router id'): number {
  const v = ipv4ToNumber(id);
  if (v < 0) throw new RibError(RIB_ERROR.INVALID_ADDRESS, `${where}: ${JSON.stringify(id)} is not a dotted-quad BGP identifier`);
  return v;
}

export function isAddress(text: string, family?: Family): boolean {
  const ip = tryParseIP(text);
  if (!ip) return false;
  return family === undefined || (family === 'ipv4' ? ip.family === 4 : ip.family === 6);
}
