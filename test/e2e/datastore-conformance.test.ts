// One set of etcd v3 API tests, run against calico-datastore AND a real etcd (/usr/bin/etcd),
// each started here on free loopback ports with a temporary data directory. Requests and
// responses are raw gRPC (test/e2e/datastore-lib/raw-client.ts) so codes and messages are exact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startDatastore, startEtcd, type Proc } from './datastore-lib/procs.ts';
import { B, prefixEnd, RawEtcd, type Msg } from './datastore-lib/raw-client.ts';

const rev = (r: Msg) => Number(r.header.revision);
const str = (b: Buffer | undefined) => (b ? Buffer.from(b).toString() : '');
const keys = (r: Msg) => (r.kvs as Msg[]).map((kv) => str(kv.key));

const OUT_OF_RANGE = 11;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

for (const kind of ['calico-datastore', 'etcd'] as const) {
  void describe(`etcd v3 conformance: ${kind}`, () => {
    let proc: Proc;
    let c: RawEtcd;
    before(async () => {
      proc = kind === 'etcd' ? await startEtcd() : await startDatastore();
      c = new RawEtcd(proc.endpoint);
    });
    after(async () => {
      c?.close();
      await proc?.cleanup();
    });

    void it('revision increments once per write txn; create/mod revision and version per key', async () => {
      const p = '/rev/';
      const r0 = await c.rev();
      assert.equal(rev(await c.put({ key: B(p + 'a'), value: B('1') })), r0 + 1);
      assert.equal(rev(await c.put({ key: B(p + 'a'), value: B('2') })), r0 + 2);
      let g = await c.range({ key: B(p + 'a') });
      assert.equal(g.kvs.length, 1);
      assert.deepEqual(
        [Number(g.kvs[0].create_revision), Number(g.kvs[0].mod_revision), Number(g.kvs[0].version), str(g.kvs[0].value)],
        [r0 + 1, r0 + 2, 2, '2'],
      );
      // one txn, three puts: one revision
      const t = await c.txn({
        success: ['b', 'c', 'd'].map((k) => ({ request_put: { key: B(p + k), value: B(k) } })),
      });
      assert.equal(t.succeeded, true);
      assert.equal(rev(t), r0 + 3);
      g = await c.range({ key: B(p), range_end: prefixEnd(p) });
      assert.deepEqual(keys(g), [p + 'a', p + 'b', p + 'c', p + 'd']);
      assert.deepEqual(g.kvs.slice(1).map((kv: Msg) => Number(kv.mod_revision)), [r0 + 3, r0 + 3, r0 + 3]);
      // deleting nothing, read-only txns and a failed compare with an empty branch do not bump
      const d0 = await c.del({ key: B(p + 'nothing') });
      assert.equal(Number(d0.deleted), 0);
      assert.equal(rev(d0), r0 + 3);
      assert.equal(rev(await c.txn({ success: [{ request_range: { key: B(p + 'a') } }] })), r0 + 3);
      const tf = await c.txn({
        compare: [{ key: B(p + 'a'), target: 3, result: 0, value: B('nope') }],
        success: [{ request_put: { key: B(p + 'x'), value: B('x') } }],
      });
      assert.equal(tf.succeeded, false);
      assert.equal(rev(tf), r0 + 3);
      assert.equal(await c.rev(), r0 + 3);
      // delete, then re-create: version restarts at 1, create revision is new
      const d = await c.del({ key: B(p + 'a') });
      assert.equal(Number(d.deleted), 1);
      assert.equal(rev(d), r0 + 4);
      await c.put({ key: B(p + 'a'), value: B('3') });
      g = await c.range({ key: B(p + 'a') });
      assert.deepEqual([Number(g.kvs[0].create_revision), Number(g.kvs[0].version)], [r0 + 5, 1]);
      // reads at past revisions
      assert.equal(str((await c.range({ key: B(p + 'a'), revision: r0 + 2 })).kvs[0].value), '2');
      assert.equal((await c.range({ key: B(p + 'a'), revision: r0 + 4 })).kvs.length, 0);
      const past = await c.range({ key: B(p + 'a'), revision: r0 + 1 });
      assert.equal(str(past.kvs[0].value), '1');
      assert.equal(rev(past), r0 + 5, 'header revision is the current revision');
      const fut = await c.callErr('KV', 'Range', { key: B(p + 'a'), revision: r0 + 100 });
      assert.deepEqual(fut, { code: OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision is a future revision' });
    });

    void it('range: prefix, from-key, limit with more and count, keys_only, count_only, sort, revision filters', async () => {
      const p = '/rng/';
      for (const k of ['a', 'b', 'c', 'd', 'e']) await c.put({ key: B(p + k), value: B('v' + k) });
      const base = Number((await c.range({ key: B(p + 'a') })).kvs[0].mod_revision);
      let r = await c.range({ key: B(p), range_end: prefixEnd(p), limit: 2 });
      assert.deepEqual(keys(r), [p + 'a', p + 'b']);
      assert.equal(r.more, true);
      assert.equal(Number(r.count), 5);
      r = await c.range({ key: B(p), range_end: prefixEnd(p), limit: 5 });
      assert.equal(r.more, false);
      r = await c.range({ key: B(p + 'c'), range_end: prefixEnd(p) });
      assert.deepEqual(keys(r), [p + 'c', p + 'd', p + 'e']);
      r = await c.range({ key: B(p + 'd'), range_end: Buffer.from([0]) });
      assert.ok(keys(r).slice(0, 2).join() === [p + 'd', p + 'e'].join(), 'from-key range starts at the key');
      r = await c.range({ key: B(p), range_end: prefixEnd(p), keys_only: true });
      assert.equal(r.kvs.length, 5);
      assert.ok(r.kvs.every((kv: Msg) => kv.value.length === 0 && Number(kv.version) === 1));
      r = await c.range({ key: B(p), range_end: prefixEnd(p), count_only: true });
      assert.equal(r.kvs.length, 0);
      assert.equal(Number(r.count), 5);
      r = await c.range({ key: B(p), range_end: prefixEnd(p), sort_order: 2, sort_target: 0, limit: 2 });
      assert.deepEqual(keys(r), [p + 'e', p + 'd']);
      assert.equal(r.more, true);
      r = await c.range({ key: B(p), range_end: prefixEnd(p), sort_order: 2, sort_target: 3 });
      assert.deepEqual(keys(r), [p + 'e', p + 'd', p + 'c', p + 'b', p + 'a']);
      r = await c.range({ key: B(p), range_end: prefixEnd(p), min_mod_revision: base + 1, max_mod_revision: base + 3 });
      assert.deepEqual(keys(r), [p + 'b', p + 'c', p + 'd']);
      r = await c.range({ key: B(p), range_end: prefixEnd(p), min_create_revision: base + 3 });
      assert.deepEqual(keys(r), [p + 'd', p + 'e']);
      assert.deepEqual(await c.callErr('KV', 'Range', { key: B('') }), { code: INVALID_ARGUMENT, details: 'etcdserver: key is not provided' });
      // etcd 3.5+ rejects unknown sort enums (calico-datastore follows it); etcd 3.4 ignores them.
      if (kind === 'calico-datastore') {
        assert.deepEqual(await c.callErr('KV', 'Range', { key: B('x'), sort_order: 7 }), {
          code: INVALID_ARGUMENT,
          details: 'etcdserver: invalid sort option',
        });
      }
    });

    void it('put and delete: prev_kv, ignore_value, ignore_lease, empty key', async () => {
      const p = '/prev/';
      let r = await c.put({ key: B(p + 'a'), value: B('1'), prev_kv: true });
      assert.equal(r.prev_kv, null);
      r = await c.put({ key: B(p + 'a'), value: B('2'), prev_kv: true });
      assert.equal(str(r.prev_kv.value), '1');
      assert.equal(Number(r.prev_kv.version), 1);
      r = await c.put({ key: B(p + 'a'), ignore_value: true, prev_kv: true });
      assert.equal(str(r.prev_kv.value), '2');
      const g = await c.range({ key: B(p + 'a') });
      assert.equal(str(g.kvs[0].value), '2');
      assert.equal(Number(g.kvs[0].version), 3);
      assert.deepEqual(await c.callErr('KV', 'Put', { key: B(p + 'missing'), ignore_value: true }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: key not found',
      });
      assert.deepEqual(await c.callErr('KV', 'Put', { key: B(p + 'a'), value: B('x'), ignore_value: true }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: value is provided',
      });
      assert.deepEqual(await c.callErr('KV', 'Put', { key: B(''), value: B('x') }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: key is not provided',
      });
      await c.put({ key: B(p + 'b'), value: B('bb') });
      const d = await c.del({ key: B(p), range_end: prefixEnd(p), prev_kv: true });
      assert.equal(Number(d.deleted), 2);
      assert.deepEqual(
        (d.prev_kvs as Msg[]).map((kv) => [str(kv.key), str(kv.value)]),
        [
          [p + 'a', '2'],
          [p + 'b', 'bb'],
        ],
      );
    });

    void it('txn: compares on version/create/mod/value/lease, nested txns, and their responses', async () => {
      const p = '/txn/';
      const put = await c.put({ key: B(p + 'k'), value: B('v1') });
      const mod = rev(put);
      const cmp = (target: number, result: number, field: string, v: unknown) => ({ key: B(p + 'k'), target, result, [field]: v });
      const ok = async (compare: Msg) => (await c.txn({ compare: [compare] })).succeeded as boolean;
      assert.equal(await ok(cmp(0, 0, 'version', 1)), true);
      assert.equal(await ok(cmp(0, 1, 'version', 0)), true);
      assert.equal(await ok(cmp(1, 0, 'create_revision', mod)), true);
      assert.equal(await ok(cmp(2, 0, 'mod_revision', mod)), true);
      assert.equal(await ok(cmp(2, 2, 'mod_revision', mod)), false);
      assert.equal(await ok(cmp(3, 0, 'value', B('v1'))), true);
      assert.equal(await ok(cmp(3, 3, 'value', B('v1'))), false);
      assert.equal(await ok(cmp(4, 0, 'lease', 0)), true);
      // missing key: version/create/mod are 0; a value compare always fails
      const miss = (target: number, result: number, field: string, v: unknown) => ({ key: B(p + 'none'), target, result, [field]: v });
      assert.equal(await ok(miss(0, 0, 'version', 0)), true);
      assert.equal(await ok(miss(1, 0, 'create_revision', 0)), true);
      assert.equal(await ok(miss(3, 3, 'value', B('x'))), false);
      // nested: the outer succeeds, the inner fails, its failure branch runs
      const r = await c.txn({
        compare: [cmp(0, 0, 'version', 1)],
        success: [
          { request_put: { key: B(p + 'n1'), value: B('a') } },
          {
            request_txn: {
              compare: [miss(0, 1, 'version', 0)],
              success: [{ request_put: { key: B(p + 'n2'), value: B('no') } }],
              failure: [{ request_put: { key: B(p + 'n3'), value: B('yes') } }, { request_range: { key: B(p + 'n1') } }],
            },
          },
        ],
      });
      assert.equal(r.succeeded, true);
      assert.equal(r.responses.length, 2);
      const inner = r.responses[1].response_txn;
      assert.equal(inner.succeeded, false);
      assert.equal(str(inner.responses[1].response_range.kvs[0].value), 'a', 'a range inside a txn sees earlier puts of the txn');
      assert.equal(Number(inner.responses[1].response_range.kvs[0].mod_revision), rev(r));
      assert.equal((await c.range({ key: B(p + 'n2') })).kvs.length, 0);
      assert.equal(str((await c.range({ key: B(p + 'n3') })).kvs[0].value), 'yes');
      assert.equal(Number((await c.range({ key: B(p + 'n3') })).kvs[0].mod_revision), rev(r));
    });

    void it('txn errors: duplicate keys, too many ops, unknown lease, empty key', async () => {
      const p = '/txnerr/';
      const put = (k: string) => ({ request_put: { key: B(p + k), value: B('v') } });
      assert.deepEqual(await c.callErr('KV', 'Txn', { success: [put('a'), put('a')] }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: duplicate key given in txn request',
      });
      assert.deepEqual(
        await c.callErr('KV', 'Txn', { success: [{ request_delete_range: { key: B(p), range_end: prefixEnd(p) } }, put('b')] }),
        { code: INVALID_ARGUMENT, details: 'etcdserver: duplicate key given in txn request' },
      );
      assert.deepEqual(await c.callErr('KV', 'Txn', { success: [put('a'), { request_txn: { success: [put('a')] } }] }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: duplicate key given in txn request',
      });
      // the same key on both branches of a nested txn is fine
      const both = await c.txn({ success: [{ request_txn: { success: [put('s')], failure: [put('s')] } }] });
      assert.equal(both.succeeded, true);
      const many = Array.from({ length: 129 }, (_, i) => put('m' + i));
      assert.deepEqual(await c.callErr('KV', 'Txn', { success: many }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: too many operations in txn request',
      });
      assert.equal((await c.txn({ success: many.slice(0, 128) })).succeeded, true);
      assert.deepEqual(await c.callErr('KV', 'Txn', { success: [{ request_put: { key: B(p + 'l'), value: B('v'), lease: '12345' } }] }), {
        code: NOT_FOUND,
        details: 'etcdserver: requested lease not found',
      });
      assert.deepEqual(await c.callErr('KV', 'Txn', { compare: [{ key: B(''), target: 0, result: 0, version: 0 }] }), {
        code: INVALID_ARGUMENT,
        details: 'etcdserver: key is not provided',
      });
      assert.equal((await c.range({ key: B(p + 'l') })).kvs.length, 0, 'a rejected txn changes nothing');
    });

    void it('CAS conflicts: concurrent compare-and-swap increments never lose an update', async () => {
      const key = B('/cas/counter');
      await c.put({ key, value: B('0') });
      const clients = Array.from({ length: 4 }, () => new RawEtcd(proc.endpoint));
      let conflicts = 0;
      try {
        await Promise.all(
          clients.map(async (cl) => {
            for (let n = 0; n < 10; ) {
              const g = await cl.range({ key });
              const kv = g.kvs[0];
              const next = String(Number(str(kv.value)) + 1);
              const t = await cl.txn({
                compare: [{ key, target: 2, result: 0, mod_revision: kv.mod_revision }],
                success: [{ request_put: { key, value: B(next) } }],
              });
              if (t.succeeded) n++;
              else conflicts++;
            }
          }),
        );
      } finally {
        for (const cl of clients) cl.close();
      }
      const g = await c.range({ key });
      assert.equal(str(g.kvs[0].value), '40');
      assert.equal(Number(g.kvs[0].version), 41);
      assert.ok(conflicts >= 0);
    });

    void it('concurrent writers: every write gets its own revision, dense and ordered', async () => {
      const clients = Array.from({ length: 8 }, () => new RawEtcd(proc.endpoint));
      const r0 = await c.rev();
      const revs: number[] = [];
      try {
        await Promise.all(
          clients.map(async (cl, i) => {
            await Promise.all(
              Array.from({ length: 25 }, async (_, j) => {
                const r = await cl.put({ key: B(`/conc/${i}/${j}`), value: B(`${i}-${j}`) });
                revs.push(rev(r));
              }),
            );
          }),
        );
      } finally {
        for (const cl of clients) cl.close();
      }
      revs.sort((a, b) => a - b);
      assert.deepEqual(revs, Array.from({ length: 200 }, (_, i) => r0 + 1 + i));
      const all = await c.range({ key: B('/conc/'), range_end: prefixEnd('/conc/') });
      assert.equal(all.kvs.length, 200);
      for (const kv of all.kvs as Msg[]) {
        const [, , i, j] = str(kv.key).split('/');
        assert.equal(str(kv.value), `${i}-${j}`);
      }
    });

    void it('watch: created response, ordered events with prev_kv, filters, cancel, progress', async () => {
      const p = '/watch/';
      const w = c.watch();
      try {
        const r0 = await c.rev();
        w.create({ key: B(p), range_end: prefixEnd(p), prev_kv: true });
        const created = await w.next();
        assert.equal(created.created, true);
        assert.equal(Number(created.watch_id), 0);
        assert.equal(rev(created), r0);
        w.create({ key: B(p + 'a'), filters: [0] }); // NOPUT on one key
        const created2 = await w.next();
        assert.equal(Number(created2.watch_id), 1);
        await c.put({ key: B(p + 'a'), value: B('1') });
        await c.put({ key: B(p + 'a'), value: B('2') });
        await c.txn({ success: [{ request_put: { key: B(p + 'b'), value: B('b') } }, { request_delete_range: { key: B(p + 'a') } }] });
        const got: Msg[] = [];
        const byWatch = new Map<number, Msg[]>();
        while (got.length < 5) {
          const m = await w.next();
          const id = Number(m.watch_id);
          byWatch.set(id, [...(byWatch.get(id) ?? []), ...m.events]);
          got.push(...m.events);
        }
        const all = byWatch.get(0)!;
        assert.deepEqual(
          all.map((e) => [e.type, str(e.kv.key), Number(e.kv.mod_revision), e.prev_kv ? str(e.prev_kv.value) : null]),
          [
            [0, p + 'a', r0 + 1, null],
            [0, p + 'a', r0 + 2, '1'],
            [0, p + 'b', r0 + 3, null],
            [1, p + 'a', r0 + 3, '2'],
          ],
        );
        const del = all[3]!;
        assert.deepEqual([Number(del.kv.version), Number(del.kv.create_revision)], [0, 0]);
        assert.deepEqual(
          byWatch.get(1)!.map((e) => [e.type, Number(e.kv.mod_revision)]),
          [[1, r0 + 3]],
        );
        // progress request: one response for the stream, watch_id -1, current revision
        w.progress();
        const pr = await w.next();
        assert.equal(Number(pr.watch_id), -1);
        assert.equal(rev(pr), r0 + 3);
        assert.equal(pr.events.length, 0);
        // cancel
        w.cancel(0);
        const cr = await w.next();
        assert.equal(cr.canceled, true);
        assert.equal(Number(cr.watch_id), 0);
        await c.put({ key: B(p + 'z'), value: B('z') });
        assert.equal(await w.quiet(300), null, 'no events after cancel');
      } finally {
        w.close();
      }
    });

    void it('watch: resume from a past revision gets exactly the history from there, then live events', async () => {
      const p = '/resume/';
      const r0 = await c.rev();
      for (let i = 0; i < 20; i++) await c.put({ key: B(p + (i % 3)), value: B(String(i)) });
      await c.del({ key: B(p + '0') });
      const w = c.watch();
      try {
        w.create({ key: B(p), range_end: prefixEnd(p), start_revision: r0 + 11 });
        assert.equal((await w.next()).created, true);
        const evs = await w.events(11);
        assert.deepEqual(
          evs.map((e) => Number(e.kv.mod_revision)),
          Array.from({ length: 11 }, (_, i) => r0 + 11 + i),
        );
        assert.deepEqual(evs.slice(0, 10).map((e) => str(e.kv.value)), Array.from({ length: 10 }, (_, i) => String(10 + i)));
        assert.equal(evs[10]!.type, 1);
        await c.put({ key: B(p + 'live'), value: B('L') });
        const live = await w.events(1);
        assert.equal(str(live[0]!.kv.key), p + 'live');
        assert.equal(Number(live[0]!.kv.mod_revision), r0 + 22);
        // a watch on a future revision waits for it
        w.create({ key: B(p), range_end: prefixEnd(p), start_revision: r0 + 24, watch_id: 7 });
        const cr = await w.next();
        assert.equal(Number(cr.watch_id), 7);
        await c.put({ key: B(p + 'f'), value: B('1') }); // r0+23: only watch 0 sees it
        await c.put({ key: B(p + 'f'), value: B('2') }); // r0+24: both
        const seen: [number, number][] = [];
        while (seen.length < 3) {
          const m = await w.next();
          for (const e of m.events) seen.push([Number(m.watch_id), Number(e.kv.mod_revision)]);
        }
        seen.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        assert.deepEqual(seen, [
          [0, r0 + 23],
          [0, r0 + 24],
          [7, r0 + 24],
        ]);
        // duplicate watch id is refused
        w.create({ key: B(p), watch_id: 7 });
        const dup = await w.next();
        assert.equal(dup.canceled, true);
        assert.equal(Number(dup.watch_id), -1);
      } finally {
        w.close();
      }
    });

    void it('compaction: compacted and future revisions are refused with etcd errors, watches get compact_revision', async () => {
      const p = '/compact/';
      for (let i = 0; i < 5; i++) await c.put({ key: B(p + 'k'), value: B(String(i)) });
      const cur = await c.rev();
      const at = cur - 2;
      await c.compact({ revision: at, physical: true });
      assert.equal(str((await c.range({ key: B(p + 'k'), revision: at })).kvs[0].value), '2');
      assert.deepEqual(await c.callErr('KV', 'Range', { key: B(p + 'k'), revision: at - 1 }), {
        code: OUT_OF_RANGE,
        details: 'etcdserver: mvcc: required revision has been compacted',
      });
      assert.deepEqual(await c.callErr('KV', 'Compact', { revision: at }), {
        code: OUT_OF_RANGE,
        details: 'etcdserver: mvcc: required revision has been compacted',
      });
      assert.deepEqual(await c.callErr('KV', 'Compact', { revision: cur + 10 }), {
        code: OUT_OF_RANGE,
        details: 'etcdserver: mvcc: required revision is a future revision',
      });
      assert.deepEqual(
        await c.callErr('KV', 'Txn', { success: [{ request_range: { key: B(p + 'k'), revision: at - 1 } }] }),
        { code: OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' },
      );
      const w = c.watch();
      try {
        w.create({ key: B(p + 'k'), start_revision: at - 1 });
        const created = await w.next();
        assert.equal(created.created, true);
        const cancel = await w.next();
        assert.equal(cancel.canceled, true);
        assert.equal(Number(cancel.compact_revision), at);
        assert.equal(Number(cancel.watch_id), Number(created.watch_id));
        // watching from the compaction revision itself still works
        w.create({ key: B(p + 'k'), start_revision: at });
        assert.equal((await w.next()).created, true);
        const evs = await w.events(3);
        assert.deepEqual(evs.map((e) => str(e.kv.value)), ['2', '3', '4']);
      } finally {
        w.close();
      }
    });

    void it('leases: grant, put with lease, time-to-live with keys, keep-alive, revoke, unknown lease', async () => {
      const p = '/lease/';
      const g = await c.call('Lease', 'LeaseGrant', { TTL: 30 });
      const id = g.ID as string;
      assert.equal(Number(g.TTL), 30);
      assert.notEqual(id, '0');
      await c.put({ key: B(p + 'a'), value: B('1'), lease: id });
      await c.put({ key: B(p + 'b'), value: B('2'), lease: id });
      const kv = (await c.range({ key: B(p + 'a') })).kvs[0];
      assert.equal(kv.lease, id);
      const ttl = await c.call('Lease', 'LeaseTimeToLive', { ID: id, keys: true });
      assert.equal(Number(ttl.grantedTTL), 30);
      assert.ok(Number(ttl.TTL) > 25 && Number(ttl.TTL) <= 30, `TTL ${ttl.TTL}`);
      assert.deepEqual((ttl.keys as Buffer[]).map(str).sort(), [p + 'a', p + 'b']);
      const leases = await c.call('Lease', 'LeaseLeases', {});
      assert.ok((leases.leases as Msg[]).some((l) => l.ID === id));
      // keep-alive answers with the TTL; for an unknown lease, TTL 0
      const ka = c.keepAlive();
      ka.on('error', () => {}); // 'Cancelled on client' after cancel()
      const kaResp = new Promise<Msg[]>((resolve) => {
        const got: Msg[] = [];
        ka.on('data', (m: Msg) => {
          got.push(m);
          if (got.length === 2) resolve(got);
        });
      });
      ka.write({ ID: id });
      ka.write({ ID: '999999' });
      const kar = await kaResp;
      ka.end();
      ka.cancel();
      assert.deepEqual(
        kar.map((m) => [m.ID, Number(m.TTL)]),
        [
          [id, 30],
          ['999999', 0],
        ],
      );
      // a put detaches the key from its lease unless ignore_lease
      await c.put({ key: B(p + 'b'), value: B('3') });
      await c.put({ key: B(p + 'a'), value: B('4'), ignore_lease: true });
      assert.equal((await c.range({ key: B(p + 'a') })).kvs[0].lease, id);
      const r0 = await c.rev();
      const rv = await c.call('Lease', 'LeaseRevoke', { ID: id });
      assert.equal(rev(rv), r0 + 1, 'revoking deletes the attached keys in one revision');
      assert.equal((await c.range({ key: B(p + 'a') })).kvs.length, 0);
      assert.equal(str((await c.range({ key: B(p + 'b') })).kvs[0].value), '3');
      const gone = await c.call('Lease', 'LeaseTimeToLive', { ID: id });
      assert.equal(Number(gone.TTL), -1);
      assert.deepEqual(await c.callErr('Lease', 'LeaseRevoke', { ID: id }), { code: NOT_FOUND, details: 'etcdserver: requested lease not found' });
      assert.deepEqual(await c.callErr('KV', 'Put', { key: B(p + 'c'), value: B('x'), lease: id }), {
        code: NOT_FOUND,
        details: 'etcdserver: requested lease not found',
      });
      // granting an id that exists
      const g2 = await c.call('Lease', 'LeaseGrant', { TTL: 30, ID: '424242' });
      assert.equal(g2.ID, '424242');
      assert.deepEqual(await c.callErr('Lease', 'LeaseGrant', { TTL: 30, ID: '424242' }), {
        code: 9,
        details: 'etcdserver: lease already exists',
      });
      await c.call('Lease', 'LeaseRevoke', { ID: '424242' });
    });

    void it('leases: expiry deletes the attached keys, and watchers see the deletes', async () => {
      const p = '/expire/';
      const g = await c.call('Lease', 'LeaseGrant', { TTL: 1 });
      assert.equal(Number(g.TTL), 2, 'etcd raises TTLs below its minimum (2 s with default election settings)');
      await c.put({ key: B(p + 'a'), value: B('1'), lease: g.ID });
      await c.put({ key: B(p + 'b'), value: B('1'), lease: g.ID });
      const w = c.watch();
      try {
        w.create({ key: B(p), range_end: prefixEnd(p) });
        await w.next();
        const t0 = Date.now();
        const evs = await w.events(2, 8000);
        const took = Date.now() - t0;
        assert.deepEqual(evs.map((e) => [e.type, str(e.kv.key)]), [
          [1, p + 'a'],
          [1, p + 'b'],
        ]);
        assert.equal(evs[0].kv.mod_revision, evs[1].kv.mod_revision, 'one revision for the whole expiry');
        assert.ok(took > 500 && took < 6000, `expired after ${took} ms`);
        assert.equal((await c.range({ key: B(p), range_end: prefixEnd(p) })).kvs.length, 0);
        assert.equal(Number((await c.call('Lease', 'LeaseTimeToLive', { ID: g.ID })).TTL), -1);
      } finally {
        w.close();
      }
    });

    void it('maintenance status and member list describe one healthy member', async () => {
      const st = await c.call('Maintenance', 'Status', {});
      assert.match(st.version, /^3\.\d+\.\d+/);
      assert.equal(st.leader, st.header.member_id);
      assert.ok(Number(st.dbSize) > 0);
      assert.ok(Number(st.raftIndex) > 0);
      const ml = await c.call('Cluster', 'MemberList', {});
      assert.equal(ml.members.length, 1);
      assert.equal(ml.members[0].ID, st.header.member_id);
      assert.ok((ml.members[0].clientURLs as string[]).includes(proc.endpoint), `${ml.members[0].clientURLs} has ${proc.endpoint}`);
      const al = await c.call('Maintenance', 'Alarm', { action: 0 });
      assert.deepEqual(al.alarms, []);
    });

    void it('gRPC health service: the server ("") is SERVING, other services NOT_FOUND', async () => {
      // grpc.health.v1.HealthCheckRequest { string service = 1 } / Response { status = 1 }
      const ch = new grpc.Client(proc.endpoint.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
      const check = (service: string) =>
        new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) => {
          const svc = Buffer.from(service);
          const req = service ? Buffer.concat([Buffer.from([0x0a, svc.length]), svc]) : Buffer.alloc(0);
          ch.makeUnaryRequest(
            '/grpc.health.v1.Health/Check',
            (b: Buffer) => b,
            (b: Buffer) => b,
            req,
            (err, res) => resolve({ err, res }),
          );
        });
      try {
        const ok = await check('');
        assert.equal(ok.err, null);
        assert.deepEqual([...ok.res!], [0x08, 0x01], 'status SERVING');
        const nf = await check('no.such.Service');
        assert.equal(nf.err?.code, NOT_FOUND);
        assert.equal(nf.err?.details, 'unknown service');
      } finally {
        ch.close();
      }
    });
  });
}
