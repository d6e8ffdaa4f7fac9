import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goSort } from './go-sort.ts';

void describe('goSort (Go sort.Sort, as etcd sorts ranges)', () => {
  void it('sorts: every result is ordered, a permutation of the input', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const n of [0, 1, 2, 12, 13, 49, 50, 51, 200, 1000]) {
      for (const spread of [1, 3, 1000]) {
        for (const shape of ['random', 'ascending', 'descending', 'saw'] as const) {
          const input = Array.from({ length: n }, (_, i) =>
            shape === 'random' ? rnd(spread) : shape === 'ascending' ? Math.trunc((i * spread) / n) : shape === 'descending' ? spread - Math.trunc((i * spread) / n) : i % (spread + 1),
          );
          const out = input.map((v, i) => ({ v, i }));
          goSort(out, (a, b) => a.v < b.v);
          assert.deepEqual(out.map((x) => x.v), [...input].sort((a, b) => a - b), `n=${n} spread=${spread} ${shape}`);
          assert.deepEqual(out.map((x) => x.i).sort((a, b) => a - b), input.map((_, i) => i));
        }
      }
    }
  });

  void it('puts equal elements where etcd 3.4.23 (Go 1.19) does', () => {
    // the differential test's 40 keys: put in one txn in the order k(i*17 % 40); every third
    // of them written again, then every fifth; a range returns them by key, etcd sorts by version
    const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
    const version = new Map<number, number>();
    order.forEach((k, i) => version.set(k, 1 + (i % 3 === 0 ? 1 : 0) + (i % 5 === 0 ? 1 : 0)));
    const byKey = [...version.keys()].sort((a, b) => a - b).map((k) => ({ k: `k${String(k).padStart(2, '0')}`, v: version.get(k)! }));
    const asc = [...byKey];
    goSort(asc, (a, b) => a.v < b.v);
    assert.equal(
      asc.map((x) => x.k).join(' '),
      'k32 k38 k21 k29 k31 k36 k06 k07 k34 k09 k02 k39 k03 k13 k14 k28 k16 k17 k18 k27 k24 k20 k08 k23 k01 k25 k26 k19 k04 k12 k37 k11 k10 k33 k22 k35 k05 k30 k15 k00',
    );
    const desc = [...byKey];
    goSort(desc, (a, b) => b.v < a.v);
    assert.equal(
      desc.map((x) => x.k).join(' '),
      'k00 k30 k15 k10 k19 k05 k22 k37 k08 k35 k33 k11 k12 k01 k26 k25 k23 k04 k20 k38 k13 k06 k17 k24 k16 k02 k14 k27 k28 k29 k18 k31 k32 k03 k34 k09 k36 k07 k21 k39',
    );
    // up to 12 elements Go uses insertion sort: stable
    const small = byKey.slice(0, 12);
    goSort(small, (a, b) => a.v < b.v);
    assert.deepEqual(small, [...byKey.slice(0, 12)].sort((a, b) => a.v - b.v));
  });
});
