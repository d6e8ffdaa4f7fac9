import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { keepLargeAllocationsMapped, releaseMemory } from './heap.ts';

const newSpace = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

void test('releaseMemory runs a memory-reducing GC: the young generation shrinks, live data stays', () => {
  const keep = new Map<string, { i: number; a: number[] }>();
  for (let i = 0; i < 400_000; i++) {
    const o = { i, a: [i, i + 1] };
    if (i % 8 === 0) keep.set(`k${i}`, o);
  }
  const before = newSpace();
  assert.equal(releaseMemory(), true, 'gc could be triggered');
  const after = newSpace();
  console.log(`# new space ${(before / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MiB`);
  assert.ok(after < before, `new space did not shrink: ${before} -> ${after}`);
  assert.equal(keep.size, 50_000);
  assert.equal(keep.get('k8')?.a[1], 9);
});

void test('keepLargeAllocationsMapped fixes the malloc mmap threshold (glibc), idempotently', () => {
  const first = keepLargeAllocationsMapped();
  assert.equal(typeof first, 'boolean');
  assert.equal(keepLargeAllocationsMapped(), first);
  if (process.platform === 'linux' && process.report?.getReport && (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) {
    assert.equal(first, true, 'glibc present: mallopt(M_MMAP_THRESHOLD) should succeed');
  }
  // Large buffers still work (mapped separately now).
  const big = new Uint32Array(1 << 20);
  big[big.length - 1] = 7;
  assert.equal(big[big.length - 1], 7);
});
