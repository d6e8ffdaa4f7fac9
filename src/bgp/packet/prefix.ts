import type { Afi, FamilyKey, Prefix } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
/** Parse "198.19.0.0/24" or "fd00::/64" (host bits must be zero). Throws Error with a clear message. */
export function parsePrefix(text: string): Prefix { void text; return ni(); }
/** Build a prefix from an address (4 or 16 bytes; host bits are cleared) and a length. */
export function makePrefix(afi: Afi, addr: Uint8Array, len: number, pathId?: number): Prefix { void afi; void addr; void len; void pathId; return ni(); }
/** Canonical key string of (afi, addr, len). */
export function prefixKey(afi: Afi, addr: Uint8Array, len: number): string { void afi; void addr; void len; return ni(); }
export function familyKey(afi: number, safi: number): FamilyKey { return (afi << 8) | safi; }
export function formatIpv4(bytes: Uint8Array, offset = 0): string { void bytes; void offset; return ni(); }
export function formatIpv6(bytes: Uint8Array, offset = 0): string { void bytes; void offset; return ni(); }
export function parseIpv4(text: string): Uint8Array { void text; return ni(); }
export function parseIpv6(text: string): Uint8Array { void text; return ni(); }
