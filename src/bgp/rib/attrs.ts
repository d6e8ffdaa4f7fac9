// Route attributes as the RIB keeps them, interned: every distinct attribute set exists once
// (an AttrSet with a small integer id), so paths share them, comparisons are identity checks,
// and outbound UPDATE packing groups prefixes by AttrSet.

import type { AsPathSegment, LargeCommunity, PathAttributes } from '../packet/index.ts';
import { RIB_ERROR, RibError } from './errors.ts';

/**
 * The codec's PathAttributes with one difference: `nextHop` is the route's next hop whatever its
 * family (IPv4 NEXT_HOP, or the MP_REACH global next hop for IPv6), plus the optional IPv6
 * link-local next hop. `as4Path`/`as4Aggregator` must be unset (the codec merges them).
 */
export interface RouteAttrs extends PathAttributes {
  readonly linkLocalNextHop?: string;
}

export const AS_SET = 1;
export const AS_SEQUENCE = 2;
export const AS_CONFED_SEQUENCE = 3;
export const AS_CONFED_SET = 4;

/** RFC 1997 well-known communities. */
export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;
export const NO_EXPORT_SUBCONFED = 0xffffff03;

/** Calico converts route priority (metric) <-> LOCAL_PREF as `2^31-1 - x`. */
export const BIRD_INT_MAX = 2147483647;

export interface AttrSet {
  readonly id: number;
  /** Fingerprint: equal iff the attributes are equal. */
  readonly key: string;
  readonly attrs: RouteAttrs;
  /** RFC 4271 §9.1.2.2 a: AS_SET counts 1, confederation segments 0. */
  readonly asPathLength: number;
  /** First AS of the path (neighbouring AS), or -1 for an empty path (our own AS). */
  readonly neighborAs: number;
  readonly clusterListLength: number;
  /** ORIGINATOR_ID as a number, or -1. */
  readonly originatorId: number;
}

export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return 0;
  let n = 0;
  for (const s of path) {
    if (s.type === AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AS_SET) n += 1;
  }
  return n;
}

export function neighborAs(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return -1;
  for (const s of path) {
    if (s.type === AS_CONFED_SEQUENCE || s.type === AS_CONFED_SET) continue;
    return s.asns.length > 0 ? s.asns[0]! : -1;
  }
  return -1;
}

/** How many times `asn` appears anywhere in the path. */
export function countAs(path: readonly AsPathSegment[] | undefined, asn: number): number {
  if (!path) return 0;
  let n = 0;
  for (const s of path) for (const a of s.asns) if (a === asn) n++;
  return n;
}

/** The path with `asns` prepended (in the given order) to the leading AS_SEQUENCE. */
export function prependAs(path: readonly AsPathSegment[] | undefined, asns: readonly number[]): AsPathSegment[] {
  const segs = path ? [...path] : [];
  if (asns.length === 0) return segs;
  const first = segs[0];
  if (first && first.type === AS_SEQUENCE) {
    segs[0] = { type: AS_SEQUENCE, asns: [...asns, ...first.asns] };
  } else {
    segs.unshift({ type: AS_SEQUENCE, asns: [...asns] });
  }
  return segs;
}

/** The AS numbers of the path in order, sets flattened (for prefix matching). */
export function flatAsPath(path: readonly AsPathSegment[] | undefined): number[] {
  const out: number[] = [];
  if (path) for (const s of path) if (s.type === AS_SEQUENCE || s.type === AS_SET) out.push(...s.asns);
  return out;
}

/** Parse "aa:nn" (standard) or "aa:nn:mm" (large). */
export type ParsedCommunity = { readonly kind: 'standard'; readonly value: number } | { readonly kind: 'large'; readonly value: LargeCommunity };

export function parseCommunity(text: string, where = 'community'): ParsedCommunity {
  const parts = typeof text === 'string' ? text.split(':') : [];
  const nums = parts.map((p) => (/^(0|[1-9][0-9]{0,9})$/.test(p) ? Number(p) : NaN));
  if (parts.length === 2 && nums.every((n) => n <= 0xffff)) {
    return { kind: 'standard', value: (nums[0]! * 0x10000 + nums[1]!) >>> 0 };
  }
  if (parts.length === 3 && nums.every((n) => n <= 0xffffffff)) {
    return { kind: 'large', value: { globalAdmin: nums[0]!, localData1: nums[1]!, localData2: nums[2]! } };
  }
  throw new RibError(
    RIB_ERROR.INVALID_POLICY,
    `${where}: ${JSON.stringify(text)} is not a community (expected aa:nn with 16-bit parts, or aa:nn:mm with 32-bit parts)`,
  );
}

export function formatCommunity(v: number): string {
  return `${Math.floor(v / 0x10000)}:${v & 0xffff}`;
}

export function hasLargeCommunity(list: readonly LargeCommunity[] | undefined, c: LargeCommunity): boolean {
  if (!list) return false;
  for (const x of list) if (x.globalAdmin === c.globalAdmin && x.localData1 === c.localData1 && x.localData2 === c.localData2) return true;
  return false;
}

/** The attributes with a community added (set semantics, like BIRD's `.add`). */
export function withCommunity(attrs: RouteAttrs, c: ParsedCommunity): RouteAttrs {
  if (c.kind === 'standard') {
    const cur = attrs.communities ?? [];
    if (cur.includes(c.value)) return attrs;
    return { ...attrs, communities: [...cur, c.value] };
  }
  if (hasLargeCommunity(attrs.largeCommunities, c.value)) return attrs;
  return { ...attrs, largeCommunities: [...(attrs.largeCommunities ?? []), c.value] };
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Fingerprint of an attribute set: equal strings iff equal attributes (order-sensitive lists). */
export function attrsKey(a: RouteAttrs): string {
  let k = `${a.origin ?? '-'}|`;
  if (a.asPath) for (const s of a.asPath) k += `${s.type}:${s.asns.join(',')};`;
  k += `|${a.nextHop ?? ''}|${a.linkLocalNextHop ?? ''}|${a.med ?? ''}|${a.localPref ?? ''}|${a.atomicAggregate ? 1 : ''}|`;
  if (a.aggregator) k += `${a.aggregator.asn}@${a.aggregator.address}`;
  k += `|${a.communities ? a.communities.join(',') : ''}|`;
  if (a.largeCommunities) for (const c of a.largeCommunities) k += `${c.globalAdmin}:${c.localData1}:${c.localData2},`;
  k += `|${a.originatorId ?? ''}|${a.clusterList ? a.clusterList.join(',') : ''}|`;
  if (a.extendedCommunities) for (const e of a.extendedCommunities) k += hex(e) + ',';
  k += '|';
  if (a.unknown) for (const u of a.unknown) k += `${u.typeCode}/${u.flags}/${hex(u.value)},`;
  return k;
}

function ipv4Num(s: string | undefined): number {
  if (s === undefined) return -1;
  const p = s.split('.');
  if (p.length !== 4) return -1;
  let v = 0;
  for (const x of p) {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0 || n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

/**
 * The intern table. `intern` returns the one AttrSet for equal attributes. Entries nobody
 * references any more are dropped by `sweep(live)`, which the RIB calls when the table has grown
 * well past the live count (mark and sweep, no per-path reference counting).
 */
export class AttrTable {
  private readonly byKey = new Map<string, AttrSet>();
  private readonly ids = new Map<number, AttrSet>();
  private nextId = 1;

  get size(): number {
    return this.byKey.size;
  }

  intern(attrs: RouteAttrs): AttrSet {
    const key = attrsKey(attrs);
    const hit = this.byKey.get(key);
    if (hit) return hit;
    const set: AttrSet = {
      id: this.nextId++,
      key,
      attrs: { ...attrs },
      asPathLength: asPathLength(attrs.asPath),
      neighborAs: neighborAs(attrs.asPath),
      clusterListLength: attrs.clusterList ? attrs.clusterList.length : 0,
      originatorId: ipv4Num(attrs.originatorId),
    };
    this.byKey.set(key, set);
    this.ids.set(set.id, set);
    return set;
  }

  /** The set with this id (while it is in the table). */
  byId(id: number): AttrSet | undefined {
    return this.ids.get(id);
  }

  /** Keep only the sets in `live`; returns how many were dropped. */
  sweep(live: ReadonlySet<AttrSet>): number {
    let dropped = 0;
    for (const [k, v] of this.byKey) {
      if (!live.has(v)) {
        this.byKey.delete(k);
        this.ids.delete(v.id);
        dropped++;
      }
    }
    return dropped;
  }
}
