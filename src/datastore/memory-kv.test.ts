import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.ts';
import { RevisionCompacted, DatastoreUnavailable } from './errors.ts';
import type { KvEvent } from './kv.ts';

const tick = () => new Promise((r) => setImmediate(r));

void test('revisions, create-if-absent and mod-revision CAS', async () => {
  const kv = new MemoryKv();
  assert.equal(await kv.currentRevision(), 1);
  const p = await kv.put('/a', '1');
  assert.equal(p.revision, 2);
  const create = await kv.txn({ compare: [{ key: '/a', target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key: '/a', value: 'x' }], failure: [{ type: 'get', key: '/a' }] });
  assert.equal(create.succeeded, false);
  assert.equal(create.revision, 2, 'a failed txn writes nothing');
  const r0 = create.results[0];
  assert.ok(r0?.type === 'get' && r0.kvs[0]?.value === '1');
  const cas = await kv.txn({ compare: [{ key: '/a', target: 'mod', op: '=', value: 2 }], success: [{ type: 'put', key: '/a', value: '2' }] });
  assert.equal(cas.succeeded, true);
  const kva = await kv.get('/a');
  assert.deepEqual([kva?.value, kva?.modRevision, kva?.createRevision, kva?.version], ['2', 3, 2, 2]);
  const stale = await kv.txn({ compare: [{ key: '/a', target: 'mod', op: '=', value: 2 }], success: [{ type: 'put', key: '/a', value: '3' }] });
  assert.equal(stale.succeeded, false);
  assert.equal((await kv.get('/a', { revision: 2 }))?.value, '1', 'read at an old revision');
});

void test('range with prefix, limit, fromKey and revision', async () => {
  const kv = new MemoryKv();
  for (const k of ['/p/a', '/p/b', '/p/c', '/q/a']) await kv.put(k, k);
  const all = await kv.range('/p/');
  assert.deepEqual(all.kvs.map((k) => k.key), ['/p/a', '/p/b', '/p/c']);
  const page = await kv.range('/p/', { limit: 2 });
  assert.equal(page.more, true);
  assert.equal(page.count, 3);
  const rest = await kv.range('/p/', { fromKey: '/p/b\0' });
  assert.deepEqual(rest.kvs.map((k) => k.key), ['/p/c']);
  await kv.delete('/p/', { prefix: true });
  assert.equal((await kv.range('/p/')).kvs.length, 0);
  assert.equal((await kv.range('/p/', { revision: 4 })).kvs.length, 3);
});

void test('watch from a revision replays history in order, then live events', async () => {
  const kv = new MemoryKv();
  await kv.put('/w/1', 'a'); // rev 2
  await kv.put('/w/2', 'b'); // rev 3
  await kv.delete('/w/1'); // rev 4
  const seen: KvEvent[] = [];
  const w = kv.watch('/w/', { fromRevision: 3, prevKv: true }, { onEvents: (e) => seen.push(...e), onError: (e) => assert.fail(e) });
  await w.ready;
  await kv.put('/w/3', 'c'); // rev 5
  await tick();
  await tick();
  assert.deepEqual(seen.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [['put', '/w/2', 3], ['delete', '/w/1', 4], ['put', '/w/3', 5]]);
  assert.equal(seen[1]?.prev?.value, 'a');
  await w.cancel();
});

void test('compaction: old reads and watches fail with RevisionCompacted', async () => {
  const kv = new MemoryKv();
  await kv.put('/c', '1');
  await kv.put('/c', '2');
  await kv.put('/c', '3'); // rev 4
  await kv.compact(3);
  await assert.rejects(kv.get('/c', { revision: 2 }), RevisionCompacted);
  assert.equal((await kv.get('/c', { revision: 3 }))?.value, '2');
  const err = await new Promise<Error>((resolve) => kv.watch('/c', { fromRevision: 2 }, { onEvents: () => assert.fail('no events'), onError: resolve }));
  assert.ok(err instanceof RevisionCompacted);
  assert.equal(err.compactRevision, 3);
});

void test('outage fails calls and breaks watches', async () => {
  const kv = new MemoryKv();
  const err = new Promise<Error>((resolve) => kv.watch('/', {}, { onEvents: () => {}, onError: resolve }));
  await tick();
  kv.setUnavailable(true);
  assert.ok((await err) instanceof DatastoreUnavailable);
  await assert.rejects(kv.put('/x', '1'), DatastoreUnavailable);
  kv.setUnavailable(false);
  await kv.put('/x', '1');
});

void test('lease expiry deletes attached keys', async () => {
  const kv = new MemoryKv();
  const lease = await kv.leaseGrant(0.05);
  await kv.put('/l', 'v', { lease: lease.id });
  assert.ok(await kv.get('/l'));
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await kv.get('/l'), undefined);
});
