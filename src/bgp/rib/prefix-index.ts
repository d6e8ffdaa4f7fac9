// A compact prefix -> row index. IPv4 prefixes are keyed by integers (address as uint32 +
// length) in an open-addressing table of typed arrays: no string, no object, no Map entry per
// prefix. Other keys (IPv6, and any IPv4 text that is not canonical) use an ordinary Map from
// the key string. Rows are small integers, reused after removal; callers keep their per-prefix
// data in columns (typed arrays) indexed by row and grow them in `onGrow`.

/** Text of an IPv4 prefix, e.g. "198.18.0.0/24" (one flat string). */
export function ipv4PrefixText(v: number, len: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${len}`;
}

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

const NO_LEN = 255;

export class PrefixIndex {
  /** Per row: IPv4 address (rows keyed by integers). */
  addr: Uint32Array;
  /** Per row: IPv4 prefix length, or 255 for rows keyed by string. */
  plen: Uint8Array;
  /** Per row: 1 while in use. */
  used: Uint8Array;
  /** Rows ever handed out (rows < top may be in use). */
  top = 0;
  /** Rows in use. */
  size = 0;
  private cap: number;
  /** Open addressing (linear probing): row + 1, 0 = empty. */
  private slots: Int32Array;
  private shift: number;
  private readonly strs: (string | undefined)[] = [];
  private readonly byStr = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly onGrow: (cap: number) => void;

  constructor(onGrow: (cap: number) => void, initial = 64) {
    this.cap = initial;
    this.addr = new Uint32Array(initial);
    this.plen = new Uint8Array(initial);
    this.used = new Uint8Array(initial);
    this.slots = new Int32Array(initial * 2);
    this.shift = 32 - Math.log2(initial * 2);
    this.onGrow = onGrow;
  }

  get capacity(): number {
    return this.cap;
  }

  private hash(v: number, len: number): number {
    return Math.imul(v ^ Math.imul(len + 1, 0x27d4eb2d), 0x9e3779b1) >>> this.shift;
  }

  /** Row of an IPv4 prefix (value already masked), or -1. */
  find4(v: number, len: number): number {
    const slots = this.slots;
    const m = slots.length - 1;
    for (let i = this.hash(v, len); ; i = (i + 1) & m) {
      const s = slots[i]!;
      if (s === 0) return -1;
      const r = s - 1;
      if (this.addr[r] === v && this.plen[r] === len) return r;
    }
  }

  /** Row of a key string (canonical IPv4 text is found by value), or -1. */
  findKey(key: string): number {
    const x = parseCanonicalV4(key);
    if (x >= 0) return this.find4(Math.floor(x / 64), x % 64);
    return this.byStr.get(key) ?? -1;
  }

  add4(v: number, len: number): number {
    let r = this.find4(v, len);
    if (r >= 0) return r;
    r = this.newRow();
    this.addr[r] = v;
    this.plen[r] = len;
    this.insertSlot(r, v, len);
    return r;
  }

  addKey(key: string): number {
    const x = parseCanonicalV4(key);
    if (x >= 0) return this.add4(Math.floor(x / 64), x % 64);
    let r = this.byStr.get(key);
    if (r !== undefined) return r;
    r = this.newRow();
    this.plen[r] = NO_LEN;
    this.addr[r] = 0;
    this.strs[r] = key;
    this.byStr.set(key, r);
    return r;
  }

  isV4(row: number): boolean {
    return this.plen[row] !== NO_LEN;
  }

  /** The row's key text (formatted for IPv4 rows: a new string each call). */
  keyOf(row: number): string {
    const l = this.plen[row]!;
    return l === NO_LEN ? this.strs[row]! : ipv4PrefixText(this.addr[row]!, l);
  }

  remove(row: number): void {
    if (this.used[row] !== 1) return;
    const l = this.plen[row]!;
    if (l === NO_LEN) {
      this.byStr.delete(this.strs[row]!);
      this.strs[row] = undefined;
    } else this.deleteSlot(row, this.addr[row]!, l);
    this.used[row] = 0;
    this.size--;
    this.free.push(row);
  }

  private newRow(): number {
    let r = this.free.pop();
    if (r === undefined) {
      if (this.top === this.cap) this.growRows();
      r = this.top++;
    }
    this.used[r] = 1;
    this.size++;
    if ((this.size - this.byStr.size) * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    return r;
  }

  private growRows(): void {
    const cap = this.cap * 2;
    const addr = new Uint32Array(cap);
    addr.set(this.addr);
    const plen = new Uint8Array(cap);
    plen.set(this.plen);
    const used = new Uint8Array(cap);
    used.set(this.used);
    this.addr = addr;
    this.plen = plen;
    this.used = used;
    this.cap = cap;
    this.onGrow(cap);
  }

  private insertSlot(r: number, v: number, len: number): void {
    const slots = this.slots;
    const m = slots.length - 1;
    let i = this.hash(v, len);
    while (slots[i] !== 0) i = (i + 1) & m;
    slots[i] = r + 1;
  }

  private deleteSlot(row: number, v: number, len: number): void {
    const slots = this.slots;
    const m = slots.length - 1;
    let i = this.hash(v, len);
    while (slots[i] !== row + 1) {
      if (slots[i] === 0) return;
      i = (i + 1) & m;
    }
    // Backward-shift deletion: no tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const s = slots[j]!;
      if (s === 0) break;
      const r = s - 1;
      const home = this.hash(this.addr[r]!, this.plen[r]!);
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
    this.shift = 32 - Math.log2(n);
    for (let r = 0; r < this.top; r++) if (this.used[r] === 1 && this.plen[r] !== NO_LEN) this.insertSlot(r, this.addr[r]!, this.plen[r]!);
  }
}
