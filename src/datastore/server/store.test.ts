import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { Committer } from './committer.ts';
import { DataDirError, EtcdError } from './errors.ts';
import { LiveIndex } from './live-index.ts';
import type { Event, PutRequest, RangeRequest } from './proto.ts';
import { crc32c, keySel, MvccStore } from './store.ts';
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

/** A schema-1 database (the layout before 2026-11-24: a `live` table and a `rev` meta row). */
function writeSchema1(file: string, rev: number): void {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA application_id = 1128551217');
  db.exec(`
    CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
    CREATE TABLE history (rev INTEGER NOT NULL, sub INTEGER NOT NULL, key BLOB NOT NULL, create_rev INTEGER NOT NULL,
      version INTEGER NOT NULL, value BLOB, lease INTEGER NOT NULL, tomb INTEGER NOT NULL, PRIMARY KEY (rev, sub)) WITHOUT ROWID;
    CREATE INDEX history_key ON history (key, rev);
    CREATE TABLE live (key BLOB PRIMARY KEY, rev INTEGER NOT NULL, sub INTEGER NOT NULL, create_rev INTEGER NOT NULL,
      version INTEGER NOT NULL, lease INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX live_lease ON live (lease) WHERE lease != 0;
    CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL) WITHOUT ROWID;
  `);
  const m = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
  for (const [k, v] of [['schema', '1'], ['rev', String(rev)], ['compact_rev', '0'], ['cluster_id', '11'], ['member_id', '22'], ['alarms', '']]) m.run(k, v);
  const h = db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  h.run(2, 0, B('/a'), 2, 1, B('a1'), 0, 0);
  h.run(3, 0, B('/b'), 3, 1, B('b1'), 7, 0);
  h.run(4, 0, B('/a'), 2, 2, B('a2'), 0, 0);
  h.run(4, 1, B('/c'), 4, 1, B('c1'), 0, 0);
  h.run(5, 0, B('/c'), 0, 0, null, 0, 1);
  db.prepare('INSERT INTO leases VALUES (?, ?)').run(7, 60);
  const l = db.prepare('INSERT INTO live VALUES (?, ?, ?, ?, ?, ?)');
  l.run(B('/a'), 4, 0, 2, 2, 0);
  l.run(B('/b'), 3, 0, 3, 1, 7);
  db.close();
}

void describe('MvccStore schema', () => {
  const dir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'ct-schema-'));
    dirs.push(d);
    return d;
  };

  void it('a put writes one history row and nothing else; the revision and latest state come back from history', async () => {
    const { store, com, file } = open();
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ['history', 'leases', 'meta']);
    const before = (store.db.prepare('SELECT count(*) AS n FROM meta').get() as { n: number }).n;
    write(com, (ctx) => store.put(ctx, put('/x', '1')));
    com.commit();
    await flush(com);
    write(com, (ctx) => store.deleteRange(ctx, { key: B('/x'), range_end: B(''), prev_kv: false }));
    write(com, (ctx) => store.put(ctx, put('/y', '2')));
    com.commit();
    await flush(com);
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM meta').get() as { n: number }).n, before, 'no meta row per write');
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n, 3);
    store.close();
    const again = new MvccStore({ file });
    assert.equal(again.rev, 4);
    assert.deepEqual(again.range(rng('/', '0')).kvs.map((kv) => [kv.key.toString(), kv.mod_revision, kv.create_revision, kv.version]), [['/y', 4, 4, 1]]);
    again.close();
  });

  void it('the revision survives compaction at the newest revision, and an empty store starts at 1', async () => {
    const { store, com, file } = open();
    assert.equal(store.rev, 1);
    write(com, (ctx) => store.put(ctx, put('/a', '1')));
    write(com, (ctx) => store.put(ctx, put('/a', '2')));
    com.commit();
    await flush(com);
    write(com, () => store.compact(3));
    com.commit();
    await flush(com);
    store.close();
    const again = new MvccStore({ file });
    assert.equal(again.rev, 3);
    assert.equal(again.compactRev, 3);
    assert.equal(again.range(rng('/a')).kvs[0]!.value.toString(), '2');
    again.close();
  });

  void it('migrates a schema-1 database in place: same revision, values, history, leases; the live table is gone', () => {
    const file = path.join(dir(), 'db');
    writeSchema1(file, 5);
    const store = new MvccStore({ file });
    assert.equal(store.rev, 5);
    assert.equal(store.clusterId, '11');
    assert.deepEqual(store.range(rng('/', '0')).kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.mod_revision, kv.version, kv.lease]), [
      ['/a', 'a2', 4, 2, '0'],
      ['/b', 'b1', 3, 1, '7'],
    ]);
    assert.equal(store.range(rng('/c', '', { revision: 4 })).kvs[0]!.value.toString(), 'c1');
    assert.deepEqual(store.leaseKeys('7').map(String), ['/b']);
    assert.equal(store.leases.get('7'), 60);
    const meta = store.db.prepare("SELECT CAST(v AS TEXT) AS v FROM meta WHERE k = 'schema'").get() as { v: string };
    assert.equal(meta.v, '2');
    assert.equal(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'live'").get(), undefined);
    store.close();
    // and it opens again as schema 2
    const again = new MvccStore({ file });
    assert.equal(again.rev, 5);
    again.close();
  });

  void it('refuses, changing nothing, a schema-1 database whose recorded revision disagrees with its history, and an unknown schema', () => {
    const file = path.join(dir(), 'db');
    writeSchema1(file, 9);
    assert.throws(
      () => new MvccStore({ file }),
      (e: Error) => e instanceof DataDirError && /not a usable calico-datastore database \(schema 1 database records revision 9 but its history ends at 5; not migrating\)/.test(e.message),
    );
    const db = new DatabaseSync(file);
    assert.equal((db.prepare("SELECT CAST(v AS TEXT) AS v FROM meta WHERE k = 'schema'").get() as { v: string }).v, '1');
    assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 'live'").get(), 'live table left in place');
    db.exec("UPDATE meta SET v = '7' WHERE k = 'schema'");
    db.close();
    assert.throws(
      () => new MvccStore({ file }),
      (e: Error) => e instanceof DataDirError && e.code === 'schema' && /has schema version 7, this calico-datastore understands 2/.test(e.message),
    );
  });

  void it('a failing first write of a batch rolls back alone and is answered at once; the next write starts a new batch', async () => {
    const { store, com } = open();
    const bad = write(com, (ctx) => {
      store.put(ctx, put('/bad', '1'));
      throw new Error('boom in the first write');
    });
    assert.match(bad.err!.details, /boom in the first write/);
    assert.equal(store.live.get(B('/bad')), undefined);
    const ok = write(com, (ctx) => store.put(ctx, put('/ok', '1')));
    com.commit();
    await flush(com);
    assert.equal(ok.err, null);
    assert.equal(store.rev, 2);
    assert.deepEqual(store.range(rng('/', '0')).kvs.map((kv) => kv.key.toString()), ['/ok']);
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n, 1);
  });
});

void describe('HashKV', () => {
  void it('CRC-32C and etcd 3.4\'s hash of an empty store', () => {
    assert.equal(crc32c(0, B('123456789')), 0xe3069283);
    assert.equal(crc32c(crc32c(0, B('1234')), B('56789')), 0xe3069283, 'continues across writes');
    const { store } = open();
    // etcd 3.4 answers 1084519789 for a store with nothing written (observed)
    assert.deepEqual(store.hashKv(0), { hash: 1084519789, current: 1, compact: -1 });
    assert.equal(store.hashKv(-1).hash, 1084519789);
    assert.throws(() => store.hashKv(2), /future revision/);
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

  void it('indexes keys by lease through set, delete and rollback', () => {
    const ix = new LiveIndex();
    const e = (k: string, lease: string) => ({ key: B(k), rev: 1, sub: 0, create_rev: 1, version: 1, lease, value: B('') });
    ix.load([e('b', '5'), e('a', '5'), e('c', '0')]);
    const keys = (l: string) => ix.withLease(l).map((x) => x.key.toString());
    assert.deepEqual(keys('5'), ['a', 'b']);
    const m = ix.mark();
    ix.set(e('a', '6'));
    ix.set(e('c', '5'));
    ix.delete(B('b'));
    assert.deepEqual([keys('5'), keys('6')], [['c'], ['a']]);
    ix.rollbackTo(m);
    assert.deepEqual([keys('5'), keys('6'), keys('0')], [['a', 'b'], [], []]);
  });
});

void describe('request validation', () => {
  const p = (k: string) => ({ request_put: { key: B(k), value: B(''), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } });
  const d = (k: string, end = '') => ({ request_delete_range: { key: B(k), range_end: B(end), prev_kv: false } });
  void it('finds overlapping writes like etcd checkIntervals', () => {
    assert.throws(() => checkTxnIntervals({ compare: [], success: [p('a'), p('a')], failure: [] }), /duplicate key/);
    assert.throws(() => checkTxnIntervals({ compare: [], success: [d('a', 'c'), p('b')], failure: [] }), /duplicate key/);
    // etcd takes range ends literally here: a from-key ("\0") or inverted delete overlaps no put
    checkTxnIntervals({ compare: [], success: [d('a', '\0'), p('zzz')], failure: [] });
    checkTxnIntervals({ compare: [], success: [d('d', 'a'), p('b')], failure: [] });
    assert.throws(() => checkTxnIntervals({ compare: [], success: [{ request_txn: { compare: [], success: [d('a', 'c')], failure: [] } }, p('b')], failure: [] }), /duplicate key/);
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
