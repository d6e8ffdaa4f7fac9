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

export class LiveIndex {
  private readonly map = new Map<string, LiveEntry>();
  private sorted: string[] = [];
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
    this.sorted = [...this.map.keys()].sort();
    this.undo.length = 0;
  }

  get(key: Buffer): LiveEntry | undefined {
    return this.map.get(L(key));
  }

  set(e: LiveEntry): void {
    const k = L(e.key);
    const prev = this.map.get(k);
    this.undo.push([k, prev]);
    if (!prev) this.sorted.splice(this.lowerBound(k), 0, k);
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
    this.sorted.splice(this.lowerBound(k), 1);
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
        if (!cur) this.sorted.splice(this.lowerBound(k), 0, k);
        this.map.set(k, prev);
        this.leaseAdd(k, prev);
      } else if (cur) {
        this.map.delete(k);
        this.sorted.splice(this.lowerBound(k), 1);
      }
    }
  }

  /** The changes are durable: forget how to undo them. */
  settle(): void {
    this.undo.length = 0;
  }

  private lowerBound(k: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private bounds(sel: KeySel): [number, number] {
    const lo = this.lowerBound(L(sel.key));
    const hi = sel.kind === 'range' ? Math.max(lo, this.lowerBound(L(sel.end))) : this.sorted.length;
    return [lo, hi];
  }

  /** Entries in the selection, in key order, at most `limit` (-1: all). */
  scan(sel: KeySel, limit: number): LiveEntry[] {
    if (sel.kind === 'one') {
      const e = this.map.get(L(sel.key));
      return e && limit !== 0 ? [e] : [];
    }
    const [lo, hi0] = this.bounds(sel);
    const hi = limit >= 0 ? Math.min(hi0, lo + limit) : hi0;
    const out: LiveEntry[] = new Array(Math.max(0, hi - lo));
    for (let i = lo; i < hi; i++) out[i - lo] = this.map.get(this.sorted[i]!)!;
    return out;
  }

  count(sel: KeySel): number {
    if (sel.kind === 'one') return this.map.has(L(sel.key)) ? 1 : 0;
    const [lo, hi] = this.bounds(sel);
    return hi - lo;
  }
}
