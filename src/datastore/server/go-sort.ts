// Go's sort.Sort (pattern-defeating quicksort, as in Go 1.19–1.21, the toolchain etcd 3.4.23
// is built with), reproduced so that sorted ranges put EQUAL elements in the order etcd does.
// sort.Sort is not stable: for more than 12 elements, ties come out in an order that depends
// on the algorithm's exact steps (pivot choice, partitioning, the pattern breaker's
// pseudo-random swaps), so a faithful reimplementation is the only way to match it. Sorting
// is in place; `less` is Go's Less(i, j) on the elements.

export type Less<T> = (a: T, b: T) => boolean;

const MAX_INSERTION = 12;
const SHORTEST_NINTHER = 50;
const MAX_SWAPS = 4 * 3;
const PARTIAL_MAX_STEPS = 5;
const PARTIAL_SHORTEST_SHIFTING = 50;

const HINT_UNKNOWN = 0;
const HINT_INCREASING = 1;
const HINT_DECREASING = 2;

/** Sorts `data` in place exactly as Go's sort.Sort with this Less would. */
export function goSort<T>(data: T[], less: Less<T>): void {
  const n = data.length;
  if (n <= 1) return;
  new PdqSorter(data, less).run(0, n, bitLen(n));
}

/** Number of bits needed for n (Go's bits.Len). */
function bitLen(n: number): number {
  return n === 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

const MASK64 = (1n << 64n) - 1n;

class PdqSorter<T> {
  private readonly d: T[];
  private readonly lt: Less<T>;

  constructor(data: T[], less: Less<T>) {
    this.d = data;
    this.lt = less;
  }

  private less(i: number, j: number): boolean {
    return this.lt(this.d[i]!, this.d[j]!);
  }

  private swap(i: number, j: number): void {
    const t = this.d[i]!;
    this.d[i] = this.d[j]!;
    this.d[j] = t;
  }

  run(a: number, b: number, limit: number): void {
    let wasBalanced = true;
    let wasPartitioned = true;
    for (;;) {
      const length = b - a;
      if (length <= MAX_INSERTION) {
        this.insertion(a, b);
        return;
      }
      if (limit === 0) {
        this.heap(a, b);
        return;
      }
      if (!wasBalanced) {
        this.breakPatterns(a, b);
        limit--;
      }
      let [pivot, hint] = this.choosePivot(a, b);
      if (hint === HINT_DECREASING) {
        this.reverse(a, b);
        pivot = b - 1 - (pivot - a);
        hint = HINT_INCREASING;
      }
      if (wasBalanced && wasPartitioned && hint === HINT_INCREASING && this.partialInsertion(a, b)) return;
      // many elements equal to the pivot: put them first, go on with the greater ones
      if (a > 0 && !this.less(a - 1, pivot)) {
        a = this.partitionEqual(a, b, pivot);
        continue;
      }
      const [mid, already] = this.partition(a, b, pivot);
      wasPartitioned = already;
      const left = mid - a;
      const right = b - mid;
      const threshold = Math.trunc(length / 8);
      if (left < right) {
        wasBalanced = left >= threshold;
        this.run(a, mid, limit);
        a = mid + 1;
      } else {
        wasBalanced = right >= threshold;
        this.run(mid + 1, b, limit);
        b = mid;
      }
    }
  }

  private insertion(a: number, b: number): void {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && this.less(j, j - 1); j--) this.swap(j, j - 1);
    }
  }

  private siftDown(lo: number, hi: number, first: number): void {
    let root = lo;
    for (;;) {
      let child = 2 * root + 1;
      if (child >= hi) return;
      if (child + 1 < hi && this.less(first + child, first + child + 1)) child++;
      if (!this.less(first + root, first + child)) return;
      this.swap(first + root, first + child);
      root = child;
    }
  }

  private heap(a: number, b: number): void {
    const hi = b - a;
    for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) this.siftDown(i, hi, a);
    for (let i = hi - 1; i >= 0; i--) {
      this.swap(a, a + i);
      this.siftDown(0, i, a);
    }
  }

  /** Elements < pivot, then the pivot, then elements >= pivot; [new pivot index, was already so]. */
  private partition(a: number, b: number, pivot: number): [number, boolean] {
    this.swap(a, pivot);
    let i = a + 1;
    let j = b - 1;
    while (i <= j && this.less(i, a)) i++;
    while (i <= j && !this.less(j, a)) j--;
    if (i > j) {
      this.swap(j, a);
      return [j, true];
    }
    this.swap(i, j);
    i++;
    j--;
    for (;;) {
      while (i <= j && this.less(i, a)) i++;
      while (i <= j && !this.less(j, a)) j--;
      if (i > j) break;
      this.swap(i, j);
      i++;
      j--;
    }
    this.swap(j, a);
    return [j, false];
  }

  /** Elements equal to the pivot first (none is smaller), then greater ones; returns where those start. */
  private partitionEqual(a: number, b: number, pivot: number): number {
    this.swap(a, pivot);
    let i = a + 1;
    let j = b - 1;
    for (;;) {
      while (i <= j && !this.less(a, i)) i++;
      while (i <= j && this.less(a, j)) j--;
      if (i > j) break;
      this.swap(i, j);
      i++;
      j--;
    }
    return i;
  }

  /** Fixes up to a few out-of-order neighbours; true if [a, b) ends sorted. */
  private partialInsertion(a: number, b: number): boolean {
    let i = a + 1;
    for (let step = 0; step < PARTIAL_MAX_STEPS; step++) {
      while (i < b && !this.less(i, i - 1)) i++;
      if (i === b) return true;
      if (b - a < PARTIAL_SHORTEST_SHIFTING) return false;
      this.swap(i, i - 1);
      // the smaller one moves left (Go 1.19–1.21 bound this walk by index 1, not a + 1)
      if (i - a >= 2) {
        for (let j = i - 1; j >= 1; j--) {
          if (!this.less(j, j - 1)) break;
          this.swap(j, j - 1);
        }
      }
      // the greater one moves right
      if (b - i >= 2) {
        for (let j = i + 1; j < b; j++) {
          if (!this.less(j, j - 1)) break;
          this.swap(j, j - 1);
        }
      }
    }
    return false;
  }

  /** Three swaps around the middle driven by a xorshift generator seeded with the length. */
  private breakPatterns(a: number, b: number): void {
    const length = b - a;
    if (length < 8) return;
    let r = BigInt(length);
    const modulus = 1 << bitLen(length);
    const mid = a + Math.trunc(length / 4) * 2;
    for (let idx = mid - 1; idx <= mid + 1; idx++) {
      r ^= (r << 13n) & MASK64;
      r ^= r >> 17n;
      r ^= (r << 5n) & MASK64;
      let other = Number(r & BigInt(modulus - 1));
      if (other >= length) other -= length;
      this.swap(idx, a + other);
    }
  }

  private choosePivot(a: number, b: number): [number, number] {
    const l = b - a;
    const swaps = { n: 0 };
    const q = Math.trunc(l / 4);
    let i = a + q;
    let j = a + q * 2;
    let k = a + q * 3;
    if (l >= 8) {
      if (l >= SHORTEST_NINTHER) {
        i = this.median(i - 1, i, i + 1, swaps);
        j = this.median(j - 1, j, j + 1, swaps);
        k = this.median(k - 1, k, k + 1, swaps);
      }
      j = this.median(i, j, k, swaps);
    }
    if (swaps.n === 0) return [j, HINT_INCREASING];
    if (swaps.n === MAX_SWAPS) return [j, HINT_DECREASING];
    return [j, HINT_UNKNOWN];
  }

  /** Index of the median of three, counting the order swaps it took. */
  private median(a: number, b: number, c: number, swaps: { n: number }): number {
    if (this.less(b, a)) {
      swaps.n++;
      [a, b] = [b, a];
    }
    if (this.less(c, b)) {
      swaps.n++;
      [b, c] = [c, b];
    }
    if (this.less(b, a)) {
      swaps.n++;
      [a, b] = [b, a];
    }
    return b;
  }

  private reverse(a: number, b: number): void {
    for (let i = a, j = b - 1; i < j; i++, j--) this.swap(i, j);
  }
}
