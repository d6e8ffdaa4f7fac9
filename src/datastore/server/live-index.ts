// The latest live version of every key, in memory: a map for point reads, a sorted key list
// (latin1 strings compare in byte order) for ranges and a lease → keys index. It is derived
// from history when the store opens (the newest row of each key) and kept in step with every
// write; every change is logged so that a write rolled back to its savepoint, or a batch
// whose COMMIT failed, can be undone exactly.
import type { KeySel } from './store.ts';

export interface LiveEntry {
  key: Buffer;
  rev: number;
  sub: number;
  create_rev: number;
  version: number;
  lease: string;
  value: Buffer;
}

const L = (b: Buffer) => b.toString('latin1');

/** Keys per block of the sorted key list; a block that outgrows twice this is split. */
const BLOCK = 512;

/**
 * A sorted set of keys kept as a list of sorted blocks (each 1..2×BLOCK keys): inserting or
 * removing a key moves at most 2×BLOCK references instead of half the whole list, so a put
 * of a new key costs the same with 100 or 1,000,000 keys in the store.
 */
export class SortedKeys {
  private blocks: string[][] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Replaces the contents with `keys`, which must be sorted and distinct. */
  reset(keys: string[]): void {
    this.blocks = [];
    for (let i = 0; i < keys.length; i += BLOCK) this.blocks.push(keys.slice(i, i + BLOCK));
    this.n = keys.length;
  }

  /** Index of the block where `k` is or would go: the first whose last key is >= k (else the last). */
  private blockFor(k: string): number {
    const bs = this.blocks;
    let lo = 0;
    let hi = bs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const blk = bs[mid]!;
      if (blk[blk.length - 1]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `k`, which must not be present. */
  insert(k: string): void {
    if (this.blocks.length === 0) {
      this.blocks.push([k]);
      this.n = 1;
      return;
    }
    const b = this.blockFor(k);
    const blk = this.blocks[b]!;
    blk.splice(lowerBound(blk, k), 0, k);
    this.n++;
    if (blk.length > 2 * BLOCK) this.blocks.splice(b + 1, 0, blk.splice(BLOCK));
  }

  /** Removes `k` if present. */
  remove(k: string): void {
    if (this.blocks.length === 0) return;
    const b = this.blockFor(k);
    const blk = this.blocks[b]!;
    const i = lowerBound(blk, k);
    if (blk[i] !== k) return;
    blk.splice(i, 1);
    this.n--;
    if (blk.length === 0) this.blocks.splice(b, 1);
  }

  /** How many keys sort before `k`. */
  rank(k: string): number {
    if (this.blocks.length === 0) return 0;
    const b = this.blockFor(k);
    let r = 0;
    for (let j = 0; j < b; j++) r += this.blocks[j]!.length;
    return r + lowerBound(this.blocks[b]!, k);
  }

  /** Keys >= `from` and (if `end` is given) < `end`, in order, at most `limit` (-1: all). */
  slice(from: string, end: string | null, limit: number): string[] {
    const out: string[] = [];
    if (this.blocks.length === 0 || limit === 0) return out;
    let b = this.blockFor(from);
    let i = lowerBound(this.blocks[b]!, from);
    for (; b < this.blocks.length; b++, i = 0) {
      const blk = this.blocks[b]!;
      for (; i < blk.length; i++) {
        const k = blk[i]!;
        if (end !== null && k >= end) return out;
        out.push(k);
        if (out.length === limit) return out;
      }
    }
    return out;
  }
}

function lowerBound(arr: string[], k: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class LiveIndex {
  private readonly map = new Map<string, LiveEntry>();
  private readonly sorted = new SortedKeys();
  private readonly undo: [string, LiveEntry | undefined][] = [];
  private readonly byLease = new Map<string, Set<string>>();

  get size(): number {
    return this.map.size;
  }

  load(entries: Iterable<LiveEntry>): void {
    this.map.clear();
    this.byLease.clear();
    for (const e of entries) {
      const k = L(e.key);
      this.map.set(k, e);
      this.leaseAdd(k, e);
    }
    this.sorted.reset([...this.map.keys()].sort());
    this.undo.length = 0;
  }

  get(key: Buffer): LiveEntry | undefined {
    return this.map.get(L(key));
  }

  set(e: LiveEntry): void {
    const k = L(e.key);
    const prev = this.map.get(k);
    this.undo.push([k, prev]);
    if (!prev) this.sorted.insert(k);
    else this.leaseDel(k, prev);
    this.map.set(k, e);
    this.leaseAdd(k, e);
  }

  private leaseAdd(k: string, e: LiveEntry): void {
    if (e.lease === '0') return;
    let set = this.byLease.get(e.lease);
    if (!set) this.byLease.set(e.lease, (set = new Set()));
    set.add(k);
  }

  private leaseDel(k: string, e: LiveEntry): void {
    if (e.lease === '0') return;
    const set = this.byLease.get(e.lease);
    if (set?.delete(k) && set.size === 0) this.byLease.delete(e.lease);
  }

  /** Entries attached to a lease, in key order. */
  withLease(lease: string): LiveEntry[] {
    const set = this.byLease.get(lease);
    if (!set) return [];
    return [...set].sort().map((k) => this.map.get(k)!);
  }

  delete(key: Buffer): void {
    const k = L(key);
    const prev = this.map.get(k);
    if (!prev) return;
    this.undo.push([k, prev]);
    this.map.delete(k);
    this.leaseDel(k, prev);
    this.sorted.remove(k);
  }

  mark(): number {
    return this.undo.length;
  }

  /** Undoes every change made after `mark`. */
  rollbackTo(mark: number): void {
    while (this.undo.length > mark) {
      const [k, prev] = this.undo.pop()!;
      const cur = this.map.get(k);
      if (cur) this.leaseDel(k, cur);
      if (prev) {
        if (!cur) this.sorted.insert(k);
        this.map.set(k, prev);
        this.leaseAdd(k, prev);
      } else if (cur) {
        this.map.delete(k);
        this.sorted.remove(k);
      }
    }
  }

  /** The changes are durable: forget how to undo them. */
  settle(): void {
    this.undo.length = 0;
  }

  /** Entries in the selection, in key order, at most `limit` (-1: all). */
  scan(sel: KeySel, limit: number): LiveEntry[] {
    if (sel.kind === 'one') {
      const e = this.map.get(L(sel.key));
      return e && limit !== 0 ? [e] : [];
    }
    const keys = this.sorted.slice(L(sel.key), sel.kind === 'range' ? L(sel.end) : null, limit);
    const out: LiveEntry[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.map.get(keys[i]!)!;
    return out;
  }

  count(sel: KeySel): number {
    if (sel.kind === 'one') return this.map.has(L(sel.key)) ? 1 : 0;
    const lo = this.sorted.rank(L(sel.key));
    const hi = sel.kind === 'range' ? this.sorted.rank(L(sel.end)) : this.sorted.size;
    return Math.max(0, hi - lo);
  }
}
