import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Committer } from './committer.ts';
import { EtcdError } from './errors.ts';
import { LiveIndex } from './live-index.ts';
import type { Event, PutRequest, RangeRequest } from './proto.ts';
import { keySel, MvccStore } from './store.ts';
import { checkTxnIntervals, checkTxnRequest } from './validate.ts';
import { isLoopbackHost, parseListenUrl, validateOptions, defaultOptions } from './config.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function open(): { store: MvccStore; com: Committer; events: Event[]; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-store-'));
  dirs.push(dir);
  const file = path.join(dir, 'db');
  const store = new MvccStore({ file });
  const events: Event[] = [];
  const com = new Committer(store, { onCommitted: (evs) => events.push(...evs), onCommitFailed: () => {}, onFatal: (e) => { throw e; } });
  return { store, com, events, file };
}
const B = (s: string) => Buffer.from(s);
const flush = (com: Committer) => new Promise<void>((r) => com.read(r));
const put = (k: string, v: string, extra: Partial<PutRequest> = {}): PutRequest => ({
  key: B(k), value: B(v), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...extra,
});
const rng = (k: string, end = '', extra: Partial<RangeRequest> = {}): RangeRequest => ({
  key: B(k), range_end: B(end), limit: 0, revision: 0, sort_order: 0, sort_target: 0, serializable: false, keys_only: false,
  count_only: false, min_mod_revision: 0, max_mod_revision: 0, min_create_revision: 0, max_create_revision: 0, ...extra,
});
function write<T>(com: Committer, fn: Parameters<Committer['write']>[0]): { err: EtcdError | null; value?: T } {
  const out: { err: EtcdError | null; value?: T } = { err: null };
  com.write(fn, (err, v) => {
    out.err = err;
    out.value = v as T;
  });
  return out;
}

void describe('MvccStore', () => {
  void it('groups writes of one batch into one commit; acks only after commit and fdatasync; one revision per write', async () => {
    const { store, com, events } = open();
    const a = write(com, (ctx) => store.put(ctx, put('/a', '1')));
    const b = write(com, (ctx) => store.put(ctx, put('/b', '2')));
    assert.equal(a.value, undefined, 'not acknowledged before commit');
    assert.equal(com.inBatch, true);
    com.commit();
    await flush(com);
    assert.equal(a.err, null);
    assert.equal(store.rev, 3);
    assert.deepEqual(events.map((e) => e.kv.mod_revision), [2, 3]);
    assert.equal(com.batches, 1);
    assert.equal(b.err, null);
  });

  void it('a failing write rolls back alone; the others in its batch commit', async () => {
    const { store, com } = open();
    write(com, (ctx) => store.put(ctx, put('/a', '1')));
    const bad = write(com, (ctx) => {
      store.put(ctx, put('/b', '1'));
      throw new Error('boom after a change');
    });
    write(com, (ctx) => store.put(ctx, put('/c', '1')));
    com.commit();
    await flush(com);
    assert.match(bad.err!.details, /boom/);
    assert.deepEqual(store.range(rng('/', '0')).kvs.map((kv) => kv.key.toString()), ['/a', '/c']);
    assert.equal(store.rev, 3);
  });

  void it('reads queued during a batch run after it commits and is durable; writes during the sync form the next batch', async () => {
    const { store, com } = open();
    write(com, (ctx) => store.put(ctx, put('/a', '1')));
    // three writes: batches above two sync off the loop (one or two sync inline)
    write(com, (ctx) => store.put(ctx, put('/a2', '1')));
    write(com, (ctx) => store.put(ctx, put('/a3', '1')));
    let seen = -1;
    com.read(() => (seen = store.range(rng('/a')).kvs.length));
    assert.equal(seen, -1);
    com.commit();
    assert.equal(seen, -1, 'not before the batch is durable');
    const b = write(com, (ctx) => store.put(ctx, put('/b', '1')));
    assert.equal(store.range(rng('/b')).kvs.length, 0, 'a write arriving during the sync waits for the next batch');
    await flush(com);
    assert.equal(seen, 1);
    assert.equal(com.batches, 1);
    assert.equal(b.value, undefined);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(com.batches, 2);
    assert.equal(b.err, null);
  });

  void it('reopens with exactly the committed state, history and index', async () => {
    const { store, com, file } = open();
    for (let i = 0; i < 5; i++) {
      write(com, (ctx) => store.put(ctx, put(`/k${i % 2}`, String(i))));
      com.commit();
      await flush(com);
    }
    write(com, (ctx) => store.deleteRange(ctx, { key: B('/k0'), range_end: B(''), prev_kv: false }));
    com.commit();
    await flush(com);
    // a write whose transaction never commits (a crash before COMMIT)
    store.db.exec('BEGIN');
    store.put(store.beginWrite(), put('/uncommitted', 'x'));
    store.db.exec('ROLLBACK');
    store.close();
    const again = new MvccStore({ file });
    assert.equal(again.rev, 7);
    assert.deepEqual(again.range(rng('/', '0')).kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.version]), [['/k1', '3', 2]]);
    assert.equal(again.range(rng('/k0', '', { revision: 5 })).kvs[0]!.value.toString(), '2');
    assert.equal(again.range(rng('/k0', '', { revision: 6 })).kvs[0]!.value.toString(), '4');
    assert.equal(again.range(rng('/uncommitted')).kvs.length, 0);
    again.close();
  });

  void it('compaction keeps the latest version at or below the revision and drops older ones', async () => {
    const { store, com } = open();
    for (let i = 0; i < 4; i++) {
      write(com, (ctx) => store.put(ctx, put('/a', String(i))));
      com.commit();
      await flush(com);
    }
    // revisions 2..5 for /a
    write(com, () => store.compact(4));
    com.commit();
    await flush(com);
    assert.equal(store.range(rng('/a', '', { revision: 4 })).kvs[0]!.value.toString(), '2');
    assert.throws(() => store.range(rng('/a', '', { revision: 3 })), /compacted/);
    const rows = store.db.prepare('SELECT rev FROM history ORDER BY rev').all() as { rev: number }[];
    assert.deepEqual(rows.map((r) => r.rev), [4, 5]);
  });
});

void describe('LiveIndex', () => {
  void it('scans ranges in byte order and undoes changes exactly', () => {
    const ix = new LiveIndex();
    const e = (k: string, v = 1) => ({ key: Buffer.from(k, 'latin1'), rev: v, sub: 0, create_rev: v, version: 1, lease: '0', value: B('') });
    ix.load([e('b'), e('a'), e('\xff')]);
    const m = ix.mark();
    ix.set(e('c'));
    ix.set(e('a', 9));
    ix.delete(B('b'));
    assert.deepEqual(ix.scan(keySel(B('a'), Buffer.from([0])), -1).map((x) => x.key.toString('latin1')), ['a', 'c', '\xff']);
    assert.equal(ix.count(keySel(B('a'), B('c'))), 1);
    ix.rollbackTo(m);
    assert.deepEqual(ix.scan(keySel(B('a'), Buffer.from([0])), -1).map((x) => [x.key.toString('latin1'), x.rev]), [['a', 1], ['b', 1], ['\xff', 1]]);
    assert.equal(ix.scan(keySel(B('a'), Buffer.from([0])), 2).length, 2);
  });
});

void describe('request validation', () => {
  const p = (k: string) => ({ request_put: { key: B(k), value: B(''), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } });
  const d = (k: string, end = '') => ({ request_delete_range: { key: B(k), range_end: B(end), prev_kv: false } });
  void it('finds overlapping writes like etcd checkIntervals', () => {
    assert.throws(() => checkTxnIntervals({ compare: [], success: [p('a'), p('a')], failure: [] }), /duplicate key/);
    assert.throws(() => checkTxnIntervals({ compare: [], success: [d('a', 'c'), p('b')], failure: [] }), /duplicate key/);
    assert.throws(() => checkTxnIntervals({ compare: [], success: [d('a', '\0'), p('zzz')], failure: [] }), /duplicate key/);
    checkTxnIntervals({ compare: [], success: [d('a', 'c'), p('c')], failure: [p('a')] });
    checkTxnIntervals({ compare: [], success: [{ request_txn: { compare: [], success: [p('x')], failure: [p('x')] } }], failure: [] });
  });
  void it('counts ops against the limit', () => {
    const many = Array.from({ length: 3 }, (_, i) => p(String(i)));
    assert.throws(() => checkTxnRequest({ compare: [], success: many, failure: [] }, 2), /too many operations/);
    checkTxnRequest({ compare: [], success: many, failure: [] }, 3);
  });
});

void describe('config', () => {
  void it('parses etcd-style client URLs and refuses unsafe ones', () => {
    assert.deepEqual(parseListenUrl('http://127.0.0.1:2379'), { scheme: 'http', host: '127.0.0.1', port: 2379, url: 'http://127.0.0.1:2379', tls: false });
    assert.equal((parseListenUrl('https://[::1]:0') as { host: string }).host, '::1');
    assert.equal(parseListenUrl('unix:///run/x.sock').tls, false);
    assert.throws(() => parseListenUrl('127.0.0.1:2379'), /expected http:\/\/host:port/);
    assert.throws(() => parseListenUrl('http://127.0.0.1'), /explicit port/);
    assert.ok(isLoopbackHost('127.5.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('198.18.0.1') && !isLoopbackHost('::'));
    const o = { ...defaultOptions('/tmp/x'), listenClientUrls: ['http://198.18.0.1:2379'] };
    assert.throws(() => validateOptions(o), /refusing to serve plain-text/);
    validateOptions({ ...o, insecureListenNonLoopback: true });
    assert.throws(() => validateOptions({ ...defaultOptions('/tmp/x'), clientCertAuth: true }), /--trusted-ca-file/);
  });
});
