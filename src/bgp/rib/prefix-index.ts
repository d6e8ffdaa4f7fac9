// A compact prefix -> row index. IPv4 prefixes are keyed by integers (address as uint32 +
// length) in an open-addressing table of typed arrays: no string, no object, no Map entry per
// prefix. Other keys (IPv6, and any IPv4 text that is not canonical) use an ordinary Map from
// the key string. Rows are small integers, reused after removal; users keep their per-prefix
// data in columns (typed arrays) indexed by row and grow them from a grow listener.
//
// Several users may share one index (the RIB and the kernel reconciler: one record per prefix):
// each holds rows under its own bit; a row is freed when no holder is left. A user must treat a
// row it does not hold as empty (its own columns are zero there).

import { ipv4PrefixText } from '../packet/index.ts';

export { ipv4PrefixText };

function maskV4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Canonical IPv4 prefix text -> [value, len]; null when `key` is not exactly canonical IPv4 CIDR. */
function parseCanonicalV4(key: string): number {
  // Returns value * 64 + len (fits a double exactly), or -1.
  const n = key.length;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let part = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 && part < 3) {
      if (digits === 0) return -1;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      part++;
    } else if (c === 47 && part === 3) {
      if (digits === 0) return -1;
      v = v * 256 + octet;
      break;
    } else return -1;
  }
  if (i >= n - 1 || i + 3 < n) return -1;
  let len = 0;
  for (let j = i + 1; j < n; j++) {
    const c = key.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return -1;
    if (j > i + 1 && len === 0) return -1; // leading zero
    len = len * 10 + c;
  }
  if (len > 32 || ((v & ~maskV4(len)) >>> 0) !== 0) return -1;
  return v * 64 + len;
}

/** [value, len] of a canonical IPv4 prefix key, or null. */
export function canonicalV4(key: string): { readonly value: number; readonly len: number } | null {
  const x = parseCanonicalV4(key);
  return x < 0 ? null : { value: Math.floor(x / 64), len: x % 64 };
}

const NO_LEN = 255; // row keyed by string
const FREE = 254; // row not in use

/** Next capacity: x1.25 (typed-array copies are cheap; less slack than doubling). */
function nextCap(cap: number): number {
  return cap + Math.max(64, cap >> 2);
}

export class PrefixIndex {
  /** Per row: IPv4 address (rows keyed by integers). */
  addr: Uint32Array<ArrayBuffer>;
  /** Per row: IPv4 prefix length, 255 for rows keyed by string, 254 for free rows. */
  plen: Uint8Array<ArrayBuffer>;
  /** Per row: holder bits. */
  private holders: Uint8Array<ArrayBuffer>;
  /** Rows ever handed out (rows < top may be in use: see `isUsed`). */
  top = 0;
  /** Rows in use. */
  size = 0;
  private cap: number;
  /** Open addressing (linear probing, any table size): row + 1, 0 = empty. */
  private slots: Int32Array<ArrayBuffer>;
  private v4count = 0;
  private readonly strs: (string | undefined)[] = [];
  private readonly byStr = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly growListeners: ((cap: number) => void)[] = [];

  constructor(initial = 64) {
    this.cap = initial;
    this.addr = new Uint32Array(initial);
    this.plen = new Uint8Array(initial).fill(FREE);
    this.holders = new Uint8Array(initial);
    this.slots = new Int32Array(Math.ceil(initial * 1.6) + 1);
  }

  /** Call `fn(capacity)` now and whenever rows are added beyond it (grow your columns there). */
  onGrow(fn: (cap: number) => void): void {
    this.growListeners.push(fn);
    fn(this.cap);
  }

  /** Does holder `bit` hold the row? */
  holds(row: number, bit: number): boolean {
    return (this.holders[row]! & bit) !== 0;
  }

  get capacity(): number {
    return this.cap;
  }

  isUsed(row: number): boolean {
    return this.plen[row] !== FREE;
  }

  private home(v: number, len: number): number {
    const h = Math.imul(v ^ Math.imul(len + 1, 0x27d4eb2d), 0x9e3779b1) >>> 0;
    return Math.floor((h / 4294967296) * this.slots.length);
  }

  /** Row of an IPv4 prefix (value already masked), or -1. */
  find4(v: number, len: number): number {
    const slots = this.slots;
    const n = slots.length;
    for (let i = this.home(v, len); ; ) {
      const s = slots[i]!;
      if (s === 0) return -1;
      const r = s - 1;
      if (this.addr[r] === v && this.plen[r] === len) return r;
      if (++i === n) i = 0;
    }
  }

  /** Row of a key string (canonical IPv4 text is found by value), or -1. */
  findKey(key: string): number {
    const x = parseCanonicalV4(key);
    if (x >= 0) return this.find4(Math.floor(x / 64), x % 64);
    return this.byStr.get(key) ?? -1;
  }

  /** The row of an IPv4 prefix (value already masked), added if absent, held by `bit`. */
  add4(v: number, len: number, bit = 1): number {
    let r = this.find4(v, len);
    if (r >= 0) {
      this.holders[r] = this.holders[r]! | bit;
      return r;
    }
    if ((this.v4count + 1) * 4 > this.slots.length * 3) this.rehash(Math.ceil((this.v4count + 1) * 1.6) + 1);
    r = this.newRow(bit);
    this.addr[r] = v;
    this.plen[r] = len;
    this.v4count++;
    this.insertSlot(r, v, len);
    return r;
  }

  /** The row of a key, added if absent, held by `bit`. */
  addKey(key: string, bit = 1): number {
    const x = parseCanonicalV4(key);
    if (x >= 0) return this.add4(Math.floor(x / 64), x % 64, bit);
    let r = this.byStr.get(key);
    if (r !== undefined) {
      this.holders[r] = this.holders[r]! | bit;
      return r;
    }
    r = this.newRow(bit);
    this.plen[r] = NO_LEN;
    this.addr[r] = 0;
    this.strs[r] = key;
    this.byStr.set(key, r);
    return r;
  }

  isV4(row: number): boolean {
    return this.plen[row]! <= 32;
  }

  /** The row's key text (formatted for IPv4 rows: a new string each call). */
  keyOf(row: number): string {
    const l = this.plen[row]!;
    return l === NO_LEN ? this.strs[row]! : ipv4PrefixText(this.addr[row]!, l);
  }

  /** Holder `bit` lets go of the row; it is freed (and may be reused) once nobody holds it. */
  remove(row: number, bit = 1): void {
    const l = this.plen[row]!;
    if (l === FREE) return;
    const h = this.holders[row]! & ~bit;
    this.holders[row] = h;
    if (h !== 0) return;
    if (l === NO_LEN) {
      this.byStr.delete(this.strs[row]!);
      this.strs[row] = undefined;
    } else {
      this.deleteSlot(row, this.addr[row]!, l);
      this.v4count--;
    }
    this.plen[row] = FREE;
    this.size--;
    this.free.push(row);
  }

  private newRow(bit: number): number {
    let r = this.free.pop();
    if (r === undefined) {
      if (this.top === this.cap) this.growRows();
      r = this.top++;
    }
    this.holders[r] = bit;
    this.size++;
    return r;
  }

  private growRows(): void {
    const cap = nextCap(this.cap);
    const addr = new Uint32Array(cap);
    addr.set(this.addr);
    const plen = new Uint8Array(cap).fill(FREE);
    plen.set(this.plen);
    const holders = new Uint8Array(cap);
    holders.set(this.holders);
    this.addr = addr;
    this.plen = plen;
    this.holders = holders;
    this.cap = cap;
    for (const fn of this.growListeners) fn(cap);
  }

  private insertSlot(r: number, v: number, len: number): void {
    const slots = this.slots;
    const n = slots.length;
    let i = this.home(v, len);
    while (slots[i] !== 0) if (++i === n) i = 0;
    slots[i] = r + 1;
  }

  private deleteSlot(row: number, v: number, len: number): void {
    const slots = this.slots;
    const n = slots.length;
    let i = this.home(v, len);
    while (slots[i] !== row + 1) {
      if (slots[i] === 0) return;
      if (++i === n) i = 0;
    }
    // Backward-shift deletion: no tombstones.
    let j = i;
    for (;;) {
      if (++j === n) j = 0;
      const s = slots[j]!;
      if (s === 0) break;
      const r = s - 1;
      const home = this.home(this.addr[r]!, this.plen[r]!);
      // Move s into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        slots[i] = s;
        i = j;
      }
    }
    slots[i] = 0;
  }

  private rehash(n: number): void {
    this.slots = new Int32Array(n);
    for (let r = 0; r < this.top; r++) {
      const l = this.plen[r]!;
      if (l <= 32) this.insertSlot(r, this.addr[r]!, l);
    }
  }
}
