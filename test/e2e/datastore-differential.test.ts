// Differential tests: the same raw etcd v3 gRPC requests go to calico-datastore and to a real
// etcd 3.4 (/usr/bin/etcd), both started here on free loopback ports, and every response (or
// gRPC error code and message) is compared field by field. Only what must differ is
// normalised: the top-level header's cluster_id/member_id/raft_term, revisions (relative to
// the revision each case starts at, so one divergence cannot cascade into later cases), lease
// ids the server chose, and remaining lease TTLs. Deliberate deviations from etcd 3.4 are
// asserted explicitly at the end (and listed in docs/datastore.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startDatastore, startEtcd, type Proc } from './datastore-lib/procs.ts';
import { prefixEnd, RawEtcd, RawWatch, type Msg } from './datastore-lib/raw-client.ts';

const PROGRESS_MS = 300;
const REV_FIELDS = new Set(['revision', 'mod_revision', 'create_revision', 'compact_revision']);

type Kind = 'calico-datastore' | 'etcd';
type Rec = [label: string, value: unknown];

/** One server's half of a case: its client, the case's key prefix, and the log of results. */
class Side {
  readonly kind: Kind;
  readonly c: RawEtcd;
  readonly prefix: string;
  /** Revision when the case started; revisions are logged relative to it. */
  r0 = 0;
  readonly log: Rec[] = [];
  /** Lease ids the server chose → stable names. */
  readonly aliases = new Map<string, string>();
  private readonly watches: RawWatch[] = [];

  constructor(kind: Kind, c: RawEtcd, prefix: string) {
    this.kind = kind;
    this.c = c;
    this.prefix = prefix;
  }

  /** A key under this case's prefix. */
  k(s = ''): Buffer {
    return Buffer.from(this.prefix + s);
  }
  /** The end of this case's prefix (or of prefix+s). */
  end(s = ''): Buffer {
    return prefixEnd(this.prefix + s);
  }
  /** An absolute revision from one relative to the case start. */
  rev(d: number): number {
    return this.r0 + d;
  }

  /** Runs one request, logs its normalised response (or error), returns the raw response. */
  async step(label: string, fn: (c: RawEtcd) => Promise<Msg>, pick?: (m: Msg) => unknown): Promise<Msg | null> {
    try {
      const r = await fn(this.c);
      this.log.push([label, norm(pick ? pick(r) : r, this, true)]);
      return r;
    } catch (e) {
      const se = e as { code?: unknown; details?: unknown };
      if (typeof se.code !== 'number') throw e;
      this.log.push([label, { error: se.code, details: se.details }]);
      return null;
    }
  }

  note(label: string, v: unknown): void {
    this.log.push([label, norm(v, this, false)]);
  }

  watch(): RawWatch {
    const w = this.c.watch();
    this.watches.push(w);
    return w;
  }

  /** Logs the next watch response (or 'none' after timeoutMs). */
  async next(label: string, w: RawWatch, timeoutMs = 3000, pick?: (m: Msg) => unknown): Promise<Msg | null> {
    let m: Msg;
    try {
      m = await w.next(timeoutMs);
    } catch {
      this.log.push([label, 'none']);
      return null;
    }
    this.log.push([label, norm(pick ? pick(m) : m, this, true)]);
    return m;
  }

  /** Logs that no watch response arrives within ms. */
  async quiet(label: string, w: RawWatch, ms: number): Promise<void> {
    const m = await w.quiet(ms);
    this.log.push([label, m ? norm(m, this, true) : 'none']);
  }

  close(): void {
    for (const w of this.watches) w.close();
  }
}

/** A watch response with only the revision of its header (for notes). */
const wmsg = (m: Msg): Msg => ({ ...m, header: { revision: m.header?.revision } });

function bytes(b: Uint8Array): string {
  const buf = Buffer.from(b);
  return /^[\x20-\x7e]*$/.test(buf.toString('latin1')) ? `s:${buf.toString('latin1')}` : `x:${buf.toString('hex')}`;
}

/** Normalises a response for comparison (see the file comment). */
function norm(v: unknown, side: Side, top: boolean): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return bytes(v);
  if (Array.isArray(v)) return v.map((x) => norm(x, side, false));
  if (typeof v === 'string') return side.aliases.get(v) ?? v;
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[key];
    if (top && key === 'header' && x && typeof x === 'object') {
      // the top-level header: identity and term differ by design; the revision must not
      const h = x as Msg;
      out[key] = { revision: relRev(h.revision, side) };
    } else if (REV_FIELDS.has(key) && (typeof x === 'string' || typeof x === 'number')) {
      out[key] = relRev(x, side);
    } else {
      out[key] = norm(x, side, false);
    }
  }
  return out;
}

function relRev(x: unknown, side: Side): unknown {
  const n = Number(x);
  if (!Number.isFinite(n) || n === 0) return x;
  return `@${n - side.r0}`;
}

function firstDifference(a: Rec[], b: Rec[]): string | null {
  const n = Math.max(a.length, b.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (!isDeepStrictEqual(a[i], b[i])) {
      out.push(
        `step ${i} ${a[i]?.[0] ?? b[i]?.[0]}:\n  calico-datastore: ${JSON.stringify(a[i]?.[1])}\n  etcd:             ${JSON.stringify(b[i]?.[1])}`,
      );
      if (out.length >= 6) break;
    }
  }
  return out.length ? out.join('\n') : null;
}

const B = (s: string) => Buffer.from(s);
const ZERO = Buffer.from([0]);
/** Compare targets and results (etcd's enum numbers). */
const T = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
const R = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
const CMP_FIELD = ['version', 'create_revision', 'mod_revision', 'value', 'lease'] as const;

void describe('calico-datastore against etcd 3.4: same requests, same responses', () => {
  let ours: Proc;
  let etcd: Proc;
  let co: RawEtcd;
  let ce: RawEtcd;
  let n = 0;

  before(async () => {
    [ours, etcd] = await Promise.all([
      startDatastore({ args: ['--experimental-watch-progress-notify-interval', `${PROGRESS_MS}ms`] }),
      startEtcd({ extraArgs: ['--experimental-watch-progress-notify-interval', `${PROGRESS_MS}ms`] }),
    ]);
    co = new RawEtcd(ours.endpoint);
    ce = new RawEtcd(etcd.endpoint);
  });
  after(async () => {
    co?.close();
    ce?.close();
    await Promise.all([ours?.cleanup(), etcd?.cleanup()]);
  });

  /** One case: the script runs against both servers (concurrently), then the logs must match. */
  const diff = (name: string, script: (s: Side) => Promise<void>) => {
    const prefix = `/d/${String(++n).padStart(2, '0')}/`;
    void it(name, async () => {
      const sides = [new Side('calico-datastore', co, prefix), new Side('etcd', ce, prefix)] as const;
      try {
        await Promise.all(
          sides.map(async (s) => {
            s.r0 = await s.c.rev();
            await script(s);
          }),
        );
      } finally {
        for (const s of sides) s.close();
      }
      // DIFF_DUMP=<part of a case name> prints both logs (for writing new cases)
      if (process.env['DIFF_DUMP'] && name.includes(process.env['DIFF_DUMP'])) {
        for (const side of sides) console.log(side.kind, JSON.stringify(side.log, null, 1));
      }
      assert.ok(sides[1].log.length > 0, 'the case logged something');
      const d = firstDifference(sides[0].log, sides[1].log);
      if (d) assert.fail(`calico-datastore differs from etcd 3.4 in "${name}":\n${d}`);
    });
  };

  // ------------------------------------------------------------------ Range

  diff('range: prefix, from-key, empty and inverted ranges, limit/more/count, count_only, keys_only, serializable, revisions', async (s) => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) await s.step(`put ${k}`, (c) => c.put({ key: s.k(k), value: B('v' + k) }));
    await s.step('put c again', (c) => c.put({ key: s.k('c'), value: B('vc2') }));
    await s.step('delete b', (c) => c.del({ key: s.k('b') }));
    const rng = (label: string, req: Msg) => s.step(label, (c) => c.range(req));
    const all = { key: s.k(), range_end: s.end() };
    await rng('prefix', all);
    await rng('from-key', { key: s.k('c'), range_end: ZERO });
    await rng('from-key count_only', { key: s.k('c'), range_end: ZERO, count_only: true });
    await rng('whole keyspace count_only', { key: ZERO, range_end: ZERO, count_only: true });
    await rng('end before key', { key: s.k('d'), range_end: s.k('b') });
    await rng('end equals key', { key: s.k('c'), range_end: s.k('c') });
    await rng('one key', { key: s.k('c') });
    await rng('missing key', { key: s.k('zz') });
    await rng('key "\\0" alone', { key: ZERO });
    for (const limit of [-1, 0, 1, 3, 4, 5]) await rng(`limit ${limit}`, { ...all, limit });
    await rng('count_only + limit', { ...all, count_only: true, limit: 1 });
    await rng('count_only + keys_only', { ...all, count_only: true, keys_only: true });
    await rng('keys_only', { ...all, keys_only: true });
    await rng('keys_only + limit', { ...all, keys_only: true, limit: 2 });
    await rng('serializable', { ...all, serializable: true });
    await rng('serializable + limit', { ...all, serializable: true, limit: 1 });
    for (const d of [1, 2, 3, 5, 6, 7]) await rng(`at revision r0+${d}`, { ...all, revision: s.rev(d) });
    await rng('at revision r0+3 with limit 1', { ...all, revision: s.rev(3), limit: 1 });
    await rng('at revision r0+6 count_only', { ...all, revision: s.rev(6), count_only: true });
    await rng('at revision r0+4 keys_only from-key', { key: s.k('a'), range_end: ZERO, revision: s.rev(4), keys_only: true });
    await rng('revision -1 (current)', { ...all, revision: -1 });
    await rng('revision r0+8 (future)', { ...all, revision: s.rev(8) });
    await rng('revision far future', { ...all, revision: '9000000000000' });
    await rng('count_only at a future revision', { ...all, revision: s.rev(8), count_only: true });
  });

  diff('range: sort by every target and order, with and without limit, keys_only', async (s) => {
    // ties on version, create and value so that sort stability shows
    const writes: [string, string][] = [
      ['c', 'v3'],
      ['a', 'v9'],
      ['e', 'v1'],
      ['b', 'v3'],
      ['d', 'v0'],
      ['f', 'v5'],
      ['a', 'v2'],
      ['d', 'v0'],
      ['d', 'v7'],
      ['b', 'v3'],
    ];
    for (const [k, v] of writes) await s.step(`put ${k}=${v}`, (c) => c.put({ key: s.k(k), value: B(v) }));
    await s.step('txn put g and h at one revision', (c) =>
      c.txn({ success: [{ request_put: { key: s.k('h'), value: B('v1') } }, { request_put: { key: s.k('g'), value: B('v1') } }] }),
    );
    const kv = (m: Msg) => ({ keys: (m.kvs as Msg[]).map((x) => Buffer.from(x.key).toString().slice(s.prefix.length)), more: m.more, count: m.count });
    for (const target of [0, 1, 2, 3, 4]) {
      for (const order of [0, 1, 2]) {
        for (const limit of [0, 3]) {
          await s.step(`sort target ${target} order ${order} limit ${limit}`, (c) =>
            c.range({ key: s.k(), range_end: s.end(), sort_target: target, sort_order: order, limit }), kv);
        }
      }
    }
    await s.step('sort by value, keys_only', (c) => c.range({ key: s.k(), range_end: s.end(), sort_target: 4, sort_order: 2, keys_only: true }));
    await s.step('sort by mod, descending, limit 2, min_mod filter', (c) =>
      c.range({ key: s.k(), range_end: s.end(), sort_target: 3, sort_order: 2, limit: 2, min_mod_revision: s.rev(3) }), kv);
    await s.step('sort by create ascending, count_only', (c) => c.range({ key: s.k(), range_end: s.end(), sort_target: 2, sort_order: 1, count_only: true }));
    await s.step('sort by version, serializable, at a past revision', (c) =>
      c.range({ key: s.k(), range_end: s.end(), sort_target: 1, sort_order: 2, serializable: true, revision: s.rev(8) }), kv);
  });

  diff('range: binary keys sort bytewise (high bytes, zero bytes, 0xff prefixes)', async (s) => {
    const raw = (...b: number[]) => Buffer.concat([s.k(), Buffer.from(b)]);
    const keys = [raw(0x7a), raw(0x80), raw(0xff), raw(0xff, 0xff), raw(0xff, 0x00), raw(0x00), raw(0x00, 0x01), raw(0xc3, 0xa9), raw(0x41)];
    for (const k of keys) await s.step(`put ${k.subarray(s.prefix.length).toString('hex')}`, (c) => c.put({ key: k, value: k.subarray(s.prefix.length) }));
    const rng = (label: string, req: Msg) => s.step(label, (c) => c.range(req));
    await rng('prefix', { key: s.k(), range_end: s.end(), keys_only: true });
    await rng('from 0x80 to 0xff', { key: raw(0x80), range_end: raw(0xff), keys_only: true });
    await rng('from 0xff, prefix end', { key: raw(0xff), range_end: prefixEnd(s.prefix + '\xff'), keys_only: true });
    await rng('from-key 0xc3', { key: raw(0xc3), range_end: ZERO, keys_only: true });
    await rng('from 0x00 to 0x00 0x01', { key: raw(0x00), range_end: raw(0x00, 0x01) });
    await rng('sort by value descending', { key: s.k(), range_end: s.end(), sort_target: 4, sort_order: 2, keys_only: true });
    await s.step('delete 0x80 up to 0xff 0x00', (c) => c.del({ key: raw(0x80), range_end: raw(0xff, 0x00), prev_kv: true }));
    await rng('what is left', { key: s.k(), range_end: s.end(), keys_only: true });
  });

  diff('range: sort with many ties (more than a dozen equal keys)', async (s) => {
    // 40 keys in one txn (equal create and mod revisions), versions 1-3, values from 4 choices
    const keys = Array.from({ length: 40 }, (_, i) => `k${String((i * 17) % 40).padStart(2, '0')}`);
    await s.step('txn: 40 puts', (c) => c.txn({ success: keys.map((k, i) => ({ request_put: { key: s.k(k), value: B(`v${i % 4}`) } })) }));
    await s.step('txn: bump every third', (c) => c.txn({ success: keys.filter((_, i) => i % 3 === 0).map((k) => ({ request_put: { key: s.k(k), value: B('v1') } })) }));
    await s.step('txn: bump every fifth', (c) => c.txn({ success: keys.filter((_, i) => i % 5 === 0).map((k) => ({ request_put: { key: s.k(k), value: B('v2') } })) }));
    const kv = (m: Msg) => (m.kvs as Msg[]).map((x) => Buffer.from(x.key).toString().slice(s.prefix.length)).join(' ');
    for (const target of [0, 1, 2, 3, 4]) {
      for (const order of [0, 1, 2]) {
        for (const limit of [0, 15]) {
          await s.step(`sort target ${target} order ${order} limit ${limit}`, (c) =>
            c.range({ key: s.k(), range_end: s.end(), sort_target: target, sort_order: order, limit }), kv);
        }
      }
    }
    // 120 keys (past Go's ninther and partial-insertion thresholds): values mostly
    // descending in key order with runs of ties, versions in a saw pattern
    const big = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    await s.step('txn: 120 puts', (c) => c.txn({ success: big.map((k, i) => ({ request_put: { key: s.k(k), value: B(`w${String(Math.trunc((119 - i) / 5)).padStart(2, '0')}`) } })) }));
    await s.step('txn: bump some', (c) => c.txn({ success: big.filter((_, i) => i % 7 < 3).map((k) => ({ request_put: { key: s.k(k), ignore_value: true } })) }));
    const mkv = (m: Msg) => (m.kvs as Msg[]).map((x) => Buffer.from(x.key).toString().slice(s.prefix.length + 1)).join(' ');
    for (const target of [1, 2, 3, 4]) {
      for (const order of [1, 2]) {
        await s.step(`120 keys: sort target ${target} order ${order}`, (c) => c.range({ key: s.k('m'), range_end: s.end('m'), sort_target: target, sort_order: order }), mkv);
      }
    }
    await s.step('all 160 keys by value descending, limit 70', (c) => c.range({ key: s.k(), range_end: s.end(), sort_target: 4, sort_order: 2, limit: 70 }), kv);
  });

  diff('range: min/max mod and create revision filters with limit, count and more', async (s) => {
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await s.step(`put ${k}`, (c) => c.put({ key: s.k(k), value: B(k) }));
    await s.step('put b again', (c) => c.put({ key: s.k('b'), value: B('b2') }));
    await s.step('put e again', (c) => c.put({ key: s.k('e'), value: B('e2') }));
    const all = { key: s.k(), range_end: s.end() };
    const cases: [string, Msg][] = [
      ['min_mod', { min_mod_revision: s.rev(4) }],
      ['max_mod', { max_mod_revision: s.rev(3) }],
      ['min_mod + max_mod', { min_mod_revision: s.rev(2), max_mod_revision: s.rev(5) }],
      ['min_create', { min_create_revision: s.rev(3) }],
      ['max_create', { max_create_revision: s.rev(2) }],
      ['min_create + max_create', { min_create_revision: s.rev(2), max_create_revision: s.rev(4) }],
      ['min_mod + limit 1', { min_mod_revision: s.rev(4), limit: 1 }],
      ['min_mod + limit 10', { min_mod_revision: s.rev(4), limit: 10 }],
      ['max_mod + limit 2', { max_mod_revision: s.rev(3), limit: 2 }],
      ['min_create + count_only', { min_create_revision: s.rev(5), count_only: true }],
      ['min_mod beyond everything', { min_mod_revision: s.rev(100) }],
      ['max_mod below everything', { max_mod_revision: 1 }],
      ['min_mod + keys_only + limit 1', { min_mod_revision: s.rev(7), keys_only: true, limit: 1 }],
      ['negative min_mod', { min_mod_revision: -5 }],
      ['filters at a past revision', { min_mod_revision: s.rev(2), revision: s.rev(5) }],
    ];
    for (const [label, extra] of cases) await s.step(label, (c) => c.range({ ...all, ...extra }));
  });

  // ------------------------------------------------------------------ Put / DeleteRange

  diff('put: prev_kv, ignore_value, ignore_lease, leases, and their errors', async (s) => {
    const a = s.k('a');
    const put = (label: string, req: Msg) => s.step(label, (c) => c.put(req));
    await put('ignore_value on a missing key', { key: a, ignore_value: true });
    await put('ignore_lease on a missing key', { key: a, value: B('x'), ignore_lease: true });
    await put('ignore_value with a value', { key: a, value: B('x'), ignore_value: true });
    await put('ignore_lease with a lease', { key: a, value: B('x'), lease: 5, ignore_lease: true });
    await put('unknown lease', { key: a, value: B('x'), lease: 987654 });
    await put('unknown lease + ignore_value on a missing key', { key: a, lease: 987654, ignore_value: true });
    await put('first put, prev_kv', { key: a, value: B('1'), prev_kv: true });
    await put('second put, prev_kv', { key: a, value: B('2'), prev_kv: true });
    await put('ignore_value, prev_kv', { key: a, ignore_value: true, prev_kv: true });
    await s.step('grant lease 7001', (c) => c.call('Lease', 'LeaseGrant', { ID: 7001, TTL: 600 }));
    await put('ignore_value + lease', { key: a, ignore_value: true, lease: 7001, prev_kv: true });
    await put('new value, ignore_lease (keeps the lease)', { key: a, value: B('3'), ignore_lease: true, prev_kv: true });
    await put('ignore_value + ignore_lease', { key: a, ignore_value: true, ignore_lease: true, prev_kv: true });
    await put('plain put drops the lease', { key: a, value: B('4'), prev_kv: true });
    await put('empty value', { key: s.k('empty'), value: B('') });
    await put('empty value again, prev_kv', { key: s.k('empty'), value: B(''), prev_kv: true });
    await put('binary key and value', { key: Buffer.concat([s.k(), Buffer.from([0xff, 0x00, 0x01])]), value: Buffer.from([0, 1, 2, 255]) });
    await s.step('range all', (c) => c.range({ key: s.k(), range_end: s.end() }));
    await s.step('lease time-to-live with keys', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7001, keys: true }), ttl);
    await put('put with lease 7001', { key: s.k('l'), value: B('l'), lease: 7001 });
    await s.step('revoke lease 7001', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7001 }));
    await s.step('range all after revoke', (c) => c.range({ key: s.k(), range_end: s.end() }));
    await put('ignore_lease on a key whose lease was revoked', { key: a, value: B('5'), ignore_lease: true, prev_kv: true });
  });

  diff('delete: prev_kv, ranges, from-key, inverted, nothing to delete', async (s) => {
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await s.step(`put ${k}`, (c) => c.put({ key: s.k(k), value: B(k) }));
    const del = (label: string, req: Msg) => s.step(label, (c) => c.del(req));
    await del('missing key', { key: s.k('zz') });
    await del('missing key, prev_kv', { key: s.k('zz'), prev_kv: true });
    await del('one key', { key: s.k('a') });
    await del('range [b, d), prev_kv', { key: s.k('b'), range_end: s.k('d'), prev_kv: true });
    await del('inverted range', { key: s.k('f'), range_end: s.k('d'), prev_kv: true });
    await del('empty range', { key: s.k('d'), range_end: s.k('d'), prev_kv: true });
    await del('from-key e, prev_kv', { key: s.k('e'), range_end: ZERO, prev_kv: true });
    await del('the rest, prefix', { key: s.k(), range_end: s.end(), prev_kv: true });
    await del('again, nothing left', { key: s.k(), range_end: s.end(), prev_kv: true });
    await s.step('range all', (c) => c.range({ key: s.k(), range_end: s.end() }));
  });

  // ------------------------------------------------------------------ Txn

  diff('txn: every compare target and result, on a key, a missing key, a range and from-key', async (s) => {
    await s.step('grant lease 7101', (c) => c.call('Lease', 'LeaseGrant', { ID: 7101, TTL: 600 }));
    await s.step('put k', (c) => c.put({ key: s.k('k'), value: B('m') }));
    await s.step('put k again', (c) => c.put({ key: s.k('k'), value: B('m') }));
    await s.step('put k2 with lease', (c) => c.put({ key: s.k('k2'), value: B('q'), lease: 7101 }));
    const mod = (await s.c.range({ key: s.k('k') })).kvs[0].mod_revision as string;
    const create = (await s.c.range({ key: s.k('k') })).kvs[0].create_revision as string;
    const operands: Record<number, unknown[]> = {
      [T.VERSION]: [0, 1, 2, 3],
      [T.CREATE]: [0, Number(create) - 1, create, Number(create) + 1],
      [T.MOD]: [0, Number(mod) - 1, mod, Number(mod) + 1],
      [T.VALUE]: [B(''), B('a'), B('m'), B('z')],
      [T.LEASE]: [0, 7100, 7101, 7102],
    };
    const targets: [string, Msg][] = [
      ['key', { key: s.k('k') }],
      ['missing key', { key: s.k('none') }],
      ['range [k, l)', { key: s.k('k'), range_end: s.k('l') }],
      ['empty range', { key: s.k('x'), range_end: s.k('y') }],
      ['from-key', { key: s.k('k'), range_end: ZERO }],
    ];
    for (const [tname, sel] of targets) {
      for (const target of [0, 1, 2, 3, 4]) {
        for (const result of [0, 1, 2, 3]) {
          const succ: boolean[] = [];
          for (const operand of operands[target]!) {
            const r = await s.c.txn({ compare: [{ ...sel, target, result, [CMP_FIELD[target]!]: operand }] });
            succ.push(r.succeeded as boolean);
          }
          s.note(`${tname}: target ${target} result ${result}`, succ);
        }
      }
    }
    // a compare whose operand field does not match its target compares against zero/empty
    await s.step('target VERSION with a mod_revision operand', (c) =>
      c.txn({ compare: [{ key: s.k('k'), target: T.VERSION, result: R.GREATER, mod_revision: 100 }] }),
    );
    await s.step('target VALUE with no operand', (c) => c.txn({ compare: [{ key: s.k('k'), target: T.VALUE, result: R.GREATER }] }));
    await s.step('target VALUE with no operand, missing key', (c) =>
      c.txn({ compare: [{ key: s.k('none'), target: T.VALUE, result: R.NOT_EQUAL }] }),
    );
    await s.step('several compares, all true', (c) =>
      c.txn({
        compare: [
          { key: s.k('k'), target: T.VERSION, result: R.EQUAL, version: 2 },
          { key: s.k('k2'), target: T.LEASE, result: R.EQUAL, lease: 7101 },
        ],
        success: [{ request_range: { key: s.k('k') } }],
        failure: [{ request_range: { key: s.k('k2') } }],
      }),
    );
    await s.step('several compares, the last false', (c) =>
      c.txn({
        compare: [
          { key: s.k('k'), target: T.VERSION, result: R.EQUAL, version: 2 },
          { key: s.k('k2'), target: T.VALUE, result: R.EQUAL, value: B('nope') },
        ],
        success: [{ request_range: { key: s.k('k') } }],
        failure: [{ request_range: { key: s.k('k2') } }],
      }),
    );
    await s.step('put e (empty value)', (c) => c.put({ key: s.k('e'), value: B('') }));
    for (const [label, value] of [['empty', B('')], ['a', B('a')]] as const) {
      for (const result of [0, 1, 2, 3]) {
        await s.step(`empty value compared with "${label}", result ${result}`, (c) =>
          c.txn({ compare: [{ key: s.k('e'), target: T.VALUE, result, value }] }), (m) => ({ succeeded: m.succeeded }));
      }
    }
    await s.step('unknown compare target 7', (c) => c.txn({ compare: [{ key: s.k('k'), target: 7, result: R.EQUAL, version: 5 }] }));
    await s.step('unknown compare target 7 on a missing key', (c) => c.txn({ compare: [{ key: s.k('none'), target: 7, result: R.NOT_EQUAL }] }));
    await s.step('unknown compare result 9', (c) => c.txn({ compare: [{ key: s.k('k'), target: T.VERSION, result: 9, version: 99 }] }));
    await s.step('empty txn', (c) => c.txn({}));
    await s.step('revoke lease 7101', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7101 }));
  });

  diff('txn: nested txns on both branches, reads of earlier writes, response headers', async (s) => {
    await s.step('put a', (c) => c.put({ key: s.k('a'), value: B('1') }));
    const ver = (k: string, v: number) => ({ key: s.k(k), target: T.VERSION, result: R.EQUAL, version: v });
    await s.step('nested: outer true, inner false', (c) =>
      c.txn({
        compare: [ver('a', 1)],
        success: [
          { request_range: { key: s.k('a') } },
          { request_put: { key: s.k('b'), value: B('2'), prev_kv: true } },
          {
            request_txn: {
              compare: [ver('b', 1)], // compares see the state before the whole txn: b is missing
              success: [{ request_put: { key: s.k('c'), value: B('no') } }],
              failure: [
                { request_range: { key: s.k('b') } },
                { request_put: { key: s.k('d'), value: B('yes') } },
                { request_delete_range: { key: s.k('a'), prev_kv: true } },
                { request_range: { key: s.k(), range_end: s.end() } },
              ],
            },
          },
          { request_range: { key: s.k(), range_end: s.end(), count_only: true } },
        ],
      }),
    );
    await s.step('nested in failure, read-only', (c) =>
      c.txn({
        compare: [ver('a', 1)],
        success: [{ request_put: { key: s.k('x'), value: B('x') } }],
        failure: [
          { request_range: { key: s.k('b') } },
          { request_txn: { compare: [ver('b', 1)], success: [{ request_range: { key: s.k('d') } }] } },
          { request_txn: { compare: [ver('b', 5)], success: [{ request_range: { key: s.k('d') } }] } },
        ],
      }),
    );
    await s.step('three levels deep, writes at the bottom', (c) =>
      c.txn({
        success: [
          {
            request_txn: {
              success: [
                { request_txn: { compare: [ver('d', 1)], success: [{ request_put: { key: s.k('e'), value: B('deep') } }] } },
                { request_range: { key: s.k('e') } },
              ],
            },
          },
        ],
      }),
    );
    await s.step('delete nothing inside a txn', (c) => c.txn({ success: [{ request_delete_range: { key: s.k('nothing') } }] }));
    await s.step('delete nothing, then put', (c) =>
      c.txn({ success: [{ request_delete_range: { key: s.k('nothing') } }, { request_put: { key: s.k('f'), value: B('f') } }] }),
    );
    await s.step('put, then delete nothing', (c) =>
      c.txn({ success: [{ request_put: { key: s.k('g'), value: B('g') } }, { request_delete_range: { key: s.k('nothing') } }] }),
    );
    await s.step('failed compare, empty failure branch', (c) => c.txn({ compare: [ver('a', 9)], success: [{ request_put: { key: s.k('z'), value: B('z') } }] }));
    await s.step('range all', (c) => c.range({ key: s.k(), range_end: s.end() }));
  });

  diff('txn: overlapping writes (duplicate key checks)', async (s) => {
    const put = (k: string) => ({ request_put: { key: s.k(k), value: B(k) } });
    const del = (k: string, end?: Buffer) => ({ request_delete_range: { key: s.k(k), ...(end ? { range_end: end } : {}) } });
    const txn = (label: string, req: Msg) => s.step(label, (c) => c.txn(req));
    await s.step('put a..d', (c) => c.txn({ success: ['a', 'b', 'c', 'd'].map(put) }));
    await txn('put, put same key', { success: [put('a'), put('a')] });
    await txn('put same key on success and failure', { success: [put('a')], failure: [put('a')] });
    await txn('put and delete same key', { success: [del('a'), put('a')] });
    await txn('put then delete same key', { success: [put('a'), del('a')] });
    await txn('delete a range covering the put', { success: [del('a', s.k('c')), put('b')] });
    await txn('delete a range ending at the put', { success: [del('a', s.k('b')), put('b')] });
    await txn('delete from-key ("\\0" end) and put after it', { success: [del('a', ZERO), put('c')] });
    await txn('delete an inverted range and put inside it', { success: [del('d', s.k('a')), put('b')] });
    await txn('two overlapping deletes', { success: [del('a', s.k('c')), del('b', s.k('d'))] });
    await txn('nested put, outer put of the same key', { success: [put('a'), { request_txn: { success: [put('a')] } }] });
    await txn('nested put in both branches (exclusive)', { success: [{ request_txn: { success: [put('a')], failure: [put('a')] } }] });
    await txn('two nested txns putting the same key', { success: [{ request_txn: { success: [put('a')] } }, { request_txn: { success: [put('a')] } }] });
    await txn('nested failure branch and an earlier nested success', {
      success: [{ request_txn: { success: [put('a')] } }, { request_txn: { failure: [put('a')] } }],
    });
    await txn('nested delete, outer put', { success: [{ request_txn: { success: [del('a')] } }, put('a')] });
    await txn('outer delete, nested put', { success: [del('a'), { request_txn: { success: [put('a')] } }] });
    await txn('nested from-key delete, outer put', { success: [{ request_txn: { success: [del('a', ZERO)] } }, put('b')] });
    await txn('nested range delete, outer put', { success: [{ request_txn: { success: [del('a', s.k('c'))] } }, put('b')] });
    await txn('range reads of the same key are fine', { success: [put('a'), { request_range: { key: s.k('a') } }, { request_range: { key: s.k('a') } }] });
    await txn('empty request op', { success: [{}] });
    await txn('empty request op in failure', { failure: [{}] });
    await txn('empty key in a compare', { compare: [{ key: B(''), target: T.VERSION, result: R.EQUAL, version: 0 }] });
    await txn('empty key in a put', { success: [{ request_put: { key: B(''), value: B('x') } }] });
    await txn('empty key in a range', { success: [{ request_range: { key: B('') } }] });
    await txn('empty key in a delete', { failure: [{ request_delete_range: { key: B('') } }] });
    await txn('ignore_value with a value in a txn', { success: [{ request_put: { key: s.k('a'), value: B('x'), ignore_value: true } }] });
    await s.step('range all', (c) => c.range({ key: s.k(), range_end: s.end() }));
  });

  diff('txn: operation limits (--max-txn-ops 128, nested budget)', async (s) => {
    const put = (i: number) => ({ request_put: { key: s.k(`m${i}`), value: B('v') } });
    const rng = (i: number) => ({ request_range: { key: s.k(`m${i}`) } });
    const cmp = (i: number) => ({ key: s.k(`m${i}`), target: T.VERSION, result: R.EQUAL, version: 0 });
    const many = (k: number, f: (i: number) => Msg) => Array.from({ length: k }, (_, i) => f(i));
    const txn = (label: string, req: Msg) => s.step(label, (c) => c.txn(req), (m) => ({ header: m.header, succeeded: m.succeeded, n: (m.responses as Msg[]).length }));
    await txn('128 puts', { success: many(128, put) });
    await txn('129 puts', { success: many(129, put) });
    await txn('129 ranges', { success: many(129, rng) });
    await txn('129 compares', { compare: many(129, cmp) });
    await txn('128 compares', { compare: many(128, cmp) });
    await txn('129 failure ops', { failure: many(129, rng) });
    await txn('100 ops + nested 28', { success: [...many(99, rng), { request_txn: { success: many(28, rng) } }] });
    await txn('100 ops + nested 29', { success: [...many(99, rng), { request_txn: { success: many(29, rng) } }] });
    await txn('100 compares + nested 29 in failure', { compare: many(100, cmp), failure: [{ request_txn: { failure: many(29, rng) } }] });
    const nest = (levels: number): Msg => (levels === 1 ? { success: [rng(0)] } : { success: [{ request_txn: nest(levels - 1) }] });
    await txn('txns nested 100 deep', nest(100));
    await txn('txns nested 128 deep', nest(128));
    await txn('txns nested 129 deep', nest(129));
    await txn('txns nested 140 deep', nest(140));
  });

  diff('txn: checks on the taken path only, and in etcd order (puts before ranges)', async (s) => {
    await s.step('put a', (c) => c.put({ key: s.k('a'), value: B('1') }));
    const txn = (label: string, req: Msg) => s.step(label, (c) => c.txn(req));
    const t = { key: s.k('a'), target: T.VERSION, result: R.EQUAL, version: 1 };
    const f = { ...t, version: 9 };
    const badLease = { request_put: { key: s.k('l'), value: B('x'), lease: 424299 } };
    const missingIgnore = { request_put: { key: s.k('missing'), ignore_value: true } };
    const future = { request_range: { key: s.k('a'), revision: s.rev(50) } };
    await txn('unknown lease on the branch not taken', { compare: [f], success: [badLease], failure: [{ request_range: { key: s.k('a') } }] });
    await txn('unknown lease on the taken branch', { compare: [t], success: [badLease] });
    await txn('ignore_value on a missing key', { success: [missingIgnore] });
    await txn('ignore_value on a key deleted earlier in the txn', { success: [{ request_delete_range: { key: s.k('a') } }, { request_put: { key: s.k('a'), ignore_value: true } }] });
    await txn('ignore_value on a key put earlier in the same txn (nested)', {
      success: [{ request_put: { key: s.k('n'), value: B('n') } }, { request_txn: { success: [{ request_put: { key: s.k('n2'), ignore_value: true } }] } }],
    });
    await txn('unknown lease + ignore_value on a missing key, one put', {
      success: [{ request_put: { key: s.k('missing'), ignore_value: true, lease: 424299 } }],
    });
    await txn('future range, then unknown lease', { success: [future, badLease] });
    await txn('future range then put (no lease problem)', { success: [future, { request_put: { key: s.k('p'), value: B('p') } }] });
    await txn('future range, read-only', { success: [future] });
    await txn('future range on the branch not taken', { compare: [f], success: [future] });
    await txn('future range in a nested txn', { success: [{ request_txn: { success: [future] } }] });
    await txn('range at revision -1 (before any compaction)', { success: [{ request_range: { key: s.k('a'), revision: -1 } }] });
    await txn('range at revision -2 (before any compaction)', { success: [{ request_range: { key: s.k('a'), revision: -2 } }] });
    await txn('range at revision 0', { success: [{ request_range: { key: s.k('a'), revision: 0 } }] });
    await txn('range at the current revision inside a write txn', {
      success: [{ request_put: { key: s.k('a'), value: B('2') } }, { request_range: { key: s.k('a'), revision: s.rev(1) } }],
    });
    await s.step('range all', (c) => c.range({ key: s.k(), range_end: s.end() }));
  });

  // ------------------------------------------------------------------ Compact (the first compaction of both servers)

  diff('compact: at 0 before any compaction, past, current, future, already compacted; reads and txns after it', async (s) => {
    await s.step('compact 0 (never compacted before)', (c) => c.compact({ revision: 0 }));
    await s.step('compact 0 again', (c) => c.compact({ revision: 0 }));
    await s.step('compact -1', (c) => c.compact({ revision: -1 }));
    for (let i = 0; i < 5; i++) await s.step(`put k ${i}`, (c) => c.put({ key: s.k('k'), value: B(String(i)) }));
    await s.step('put j', (c) => c.put({ key: s.k('j'), value: B('j') }));
    await s.step('delete j', (c) => c.del({ key: s.k('j') }));
    await s.step('compact at r0+3', (c) => c.compact({ revision: s.rev(3) }));
    await s.step('compact at r0+3 again', (c) => c.compact({ revision: s.rev(3) }));
    await s.step('compact at r0+2 (older)', (c) => c.compact({ revision: s.rev(2) }));
    await s.step('compact in the future', (c) => c.compact({ revision: s.rev(50) }));
    await s.step('compact at r0+5, physical', (c) => c.compact({ revision: s.rev(5), physical: true }));
    const rng = (label: string, req: Msg) => s.step(label, (c) => c.range(req));
    await rng('range at the compaction revision', { key: s.k(), range_end: s.end(), revision: s.rev(5) });
    await rng('range one below', { key: s.k(), range_end: s.end(), revision: s.rev(4) });
    await rng('range at revision 1', { key: s.k('k'), revision: 1 });
    await rng('range at revision -1', { key: s.k('k'), revision: -1 });
    await rng('range between compaction and now', { key: s.k(), range_end: s.end(), revision: s.rev(6) });
    await rng('count_only below the compaction', { key: s.k(), range_end: s.end(), revision: s.rev(4), count_only: true });
    await rng('future revision after compaction', { key: s.k(), revision: s.rev(50) });
    const txn = (label: string, req: Msg) => s.step(label, (c) => c.txn(req));
    await txn('txn range below the compaction', { success: [{ request_range: { key: s.k('k'), revision: s.rev(4) } }] });
    await txn('txn range at revision -1 after a compaction', { success: [{ request_range: { key: s.k('k'), revision: -1 } }] });
    await txn('txn range below compaction + unknown lease', {
      success: [{ request_range: { key: s.k('k'), revision: s.rev(4) } }, { request_put: { key: s.k('l'), value: B('x'), lease: 424298 } }],
    });
    await s.step('compact at the current revision', async (c) => c.compact({ revision: await c.rev() }));
    await rng('range at the current revision after compacting it', { key: s.k(), range_end: s.end() });
  });

  // ------------------------------------------------------------------ Watch

  diff('watch: created, live events with prev_kv and filters, range/from-key/empty key, cancel', async (s) => {
    const w = s.watch();
    const nx = (label: string) => s.next(label, w);
    w.create({ key: s.k(), range_end: s.end(), prev_kv: true });
    await nx('created: prefix + prev_kv');
    w.create({ key: s.k('a'), filters: [0] });
    await nx('created: NOPUT on a');
    w.create({ key: s.k('a'), filters: [1] });
    await nx('created: NODELETE on a');
    w.create({ key: s.k('a'), filters: [0, 1] });
    await nx('created: NOPUT + NODELETE on a');
    w.create({ key: s.k('b'), range_end: ZERO });
    await nx('created: from-key b');
    w.create({ key: s.k('c'), range_end: s.k('a') });
    await nx('created: inverted range');
    w.create({ key: s.k('c'), range_end: s.k('c') });
    await nx('created: empty range');
    await s.step('put a 1', (c) => c.put({ key: s.k('a'), value: B('1') }));
    const collect = async (label: string, count: number) => {
      const got: Msg[] = [];
      for (let i = 0; i < count; i++) {
        const m = await w.next(3000).catch(() => null);
        if (!m) break;
        got.push(m);
      }
      got.sort((x, y) => Number(x.watch_id) - Number(y.watch_id));
      s.note(label, got.map(wmsg));
    };
    await collect('events after put a 1', 2); // prefix + NODELETE
    await s.step('put a 2', (c) => c.put({ key: s.k('a'), value: B('2') }));
    await collect('events after put a 2', 2);
    await s.step('put b', (c) => c.put({ key: s.k('b'), value: B('b') }));
    await collect('events after put b', 2); // prefix + from-key
    await s.step('delete a', (c) => c.del({ key: s.k('a') }));
    await collect('events after delete a', 2); // prefix + NOPUT
    await s.step('txn: put c, delete b, put a', (c) =>
      c.txn({
        success: [
          { request_put: { key: s.k('c'), value: B('c') } },
          { request_delete_range: { key: s.k('b') } },
          { request_put: { key: s.k('a'), value: B('3') } },
        ],
      }),
    );
    await collect('events after the txn', 3); // prefix, NODELETE (a), from-key (c, b)
    await s.step('delete nothing', (c) => c.del({ key: s.k('zzz') }));
    await s.quiet('no events for deleting nothing', w, 200);
    w.cancel(0);
    await nx('cancel 0');
    w.cancel(0);
    await s.quiet('cancel 0 again: no response', w, 200);
    w.cancel(77);
    await s.quiet('cancel an unknown id: no response', w, 200);
    await s.step('put a 4', (c) => c.put({ key: s.k('a'), value: B('4') }));
    await collect('events after the cancel', 1);
    const w2 = s.watch();
    w2.create({ key: B('') });
    await s.next('created: empty key', w2);
    w2.create({ key: B(''), range_end: ZERO, start_revision: s.rev(1) });
    await s.next('created: empty key, from-key "\\0" (everything) from r0+1', w2);
    await s.next('catch-up: everything from r0+1', w2);
  });

  diff('watch: start revisions (past, future, current), client watch ids, duplicate ids, progress requests', async (s) => {
    for (let i = 0; i < 4; i++) await s.step(`put k ${i}`, (c) => c.put({ key: s.k('k'), value: B(String(i)) }));
    await s.step('delete k', (c) => c.del({ key: s.k('k') }));
    const w = s.watch();
    const nx = (label: string) => s.next(label, w);
    w.create({ key: s.k('k'), start_revision: s.rev(2), prev_kv: true });
    await nx('created: from r0+2 with prev_kv');
    await nx('catch-up from r0+2');
    w.create({ key: s.k(), range_end: s.end(), start_revision: s.rev(1), filters: [0] });
    await nx('created: prefix from r0+1, NOPUT');
    await nx('catch-up: the delete only');
    w.create({ key: s.k('k'), start_revision: s.rev(7) });
    await nx('created: future start r0+7');
    w.create({ key: s.k('k'), start_revision: s.rev(5) });
    await nx('created: start at the current revision');
    await nx('catch-up: the current revision');
    w.create({ key: s.k('k'), start_revision: -3 });
    await nx('created: negative start revision');
    await nx('catch-up from a negative start revision');
    w.create({ key: s.k('k'), watch_id: 100 });
    await nx('created: client id 100');
    w.create({ key: s.k('k'), watch_id: 100 });
    await nx('created: duplicate id 100');
    w.create({ key: s.k('k') });
    await nx('created: next automatic id');
    w.create({ key: s.k('k'), watch_id: -7 });
    await nx('created: negative client id');
    w.progress();
    await nx('progress request');
    await s.step('put k 6', (c) => c.put({ key: s.k('k'), value: B('6') })); // r0+6
    const got: Msg[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await w.next(3000).catch(() => null);
      if (m) got.push(m);
    }
    got.sort((x, y) => Number(x.watch_id) - Number(y.watch_id));
    s.note('live events for r0+6', got.map(wmsg));
    await s.step('put k 7', (c) => c.put({ key: s.k('k'), value: B('7') })); // r0+7
    const got2: Msg[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await w.next(3000).catch(() => null);
      if (m) got2.push(m);
    }
    got2.sort((x, y) => Number(x.watch_id) - Number(y.watch_id));
    s.note('live events for r0+7 (the future watcher starts)', got2.map(wmsg));
    w.cancel(100);
    await nx('cancel client id 100');
    w.cancel(-7);
    await nx('cancel negative id');
  });

  diff('watch: writes that arrive together (one response per revision), long catch-up (over 1000 revisions)', async (s) => {
    const w = s.watch();
    w.create({ key: s.k(), range_end: s.end() });
    await s.next('created', w);
    // not awaited one by one: calico-datastore commits these as one batch
    await s.step('20 puts at once', async (c) => {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => c.put({ key: s.k(`p${i % 5}`), value: B(String(i)) })));
      return { revisions: rs.map((r) => Number(r.header.revision)).sort((a, b) => a - b) };
    }, (m) => ({ revisions: (m.revisions as number[]).map((r) => r - s.r0) }));
    const shape: unknown[] = [];
    for (let got = 0; got < 20; ) {
      const m = await w.next(3000).catch(() => null);
      if (!m) break;
      got += (m.events as Msg[]).length;
      shape.push({ rev: Number(m.header.revision) - s.r0, events: (m.events as Msg[]).map((e) => Number(e.kv.mod_revision) - s.r0) });
    }
    s.note('responses for 20 puts at once', shape);
    await s.step('1100 more puts', async (c) => {
      for (let i = 0; i < 1100; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => c.put({ key: s.k(`q${(i + j) % 7}`), value: B(String(i + j)) })));
      return {};
    });
    const w2 = s.watch();
    w2.create({ key: s.k(), range_end: s.end(), start_revision: s.rev(1) });
    await s.next('created: catch-up of 1120 revisions', w2);
    const chunks: unknown[] = [];
    for (let got = 0; got < 1120; ) {
      const m = await w2.next(5000).catch(() => null);
      if (!m) break;
      const evs = m.events as Msg[];
      got += evs.length;
      chunks.push({ rev: Number(m.header.revision) - s.r0, n: evs.length, first: Number(evs[0]?.kv.mod_revision) - s.r0, last: Number(evs[evs.length - 1]?.kv.mod_revision) - s.r0 });
    }
    s.note('catch-up responses', chunks);
  });

  diff('watch: fragment on responses larger than --max-request-bytes', async (s) => {
    const big = (c: string) => Buffer.alloc(700_000, c);
    for (const k of ['a', 'b', 'c']) await s.step(`put ${k} (700 kB)`, (c) => c.put({ key: s.k(k), value: big(k) }), (m) => ({ header: m.header }));
    await s.step('txn: put x and y (2 x 700 kB, one revision)', (c) => c.txn({ success: ['x', 'y'].map((k) => ({ request_put: { key: s.k(k), value: big(k) } })) }), (m) => ({ header: m.header }));
    const shape = (m: Msg) => ({
      rev: Number(m.header.revision) - s.r0,
      watch_id: m.watch_id,
      fragment: m.fragment,
      events: (m.events as Msg[]).map((e) => `${Buffer.from(e.kv.key).toString().slice(s.prefix.length)}@${Number(e.kv.mod_revision) - s.r0}:${e.kv.value.length}`),
    });
    for (const fragment of [true, false]) {
      const w = s.watch();
      w.create({ key: s.k(), range_end: s.end(), start_revision: s.rev(1), fragment });
      await s.next(`created (fragment ${fragment})`, w);
      const got: unknown[] = [];
      for (let n = 0; n < 5; ) {
        const m = await w.next(5000).catch(() => null);
        if (!m) break;
        n += (m.events as Msg[]).length;
        got.push(shape(m));
      }
      s.note(`catch-up of 3.5 MB (fragment ${fragment})`, got);
      await s.step('put z', (c) => c.put({ key: s.k('z'), value: B('z') }));
      await s.next(`live event (fragment ${fragment})`, w, 3000, shape);
    }
  });

  diff('watch: compacted start revision, progress_notify, fragment on small responses', async (s) => {
    for (let i = 0; i < 4; i++) await s.step(`put k ${i}`, (c) => c.put({ key: s.k('k'), value: B(String(i)) }));
    await s.step('compact at r0+3', (c) => c.compact({ revision: s.rev(3) }));
    const w = s.watch();
    const nx = (label: string) => s.next(label, w);
    w.create({ key: s.k('k'), start_revision: s.rev(2) });
    await nx('created: start below the compaction');
    await nx('canceled: compacted');
    w.create({ key: s.k('k'), start_revision: s.rev(3), prev_kv: true });
    await nx('created: start at the compaction revision, prev_kv');
    await nx('catch-up from the compaction revision');
    w.cancel(1);
    await nx('cancel');
    w.create({ key: s.k('k'), start_revision: 1 });
    await nx('created: start at revision 1');
    await nx('canceled: compacted (revision 1)');
    w.create({ key: s.k('p'), progress_notify: true });
    await nx('created: progress_notify');
    await s.next('progress notification', w, PROGRESS_MS * 10);
    w.cancel(3);
    await nx('cancel the progress watcher');
    // a deletion at exactly the compaction revision
    await s.step('put t', (c) => c.put({ key: s.k('t'), value: B('t') })); // r0+5
    await s.step('txn: delete t, put u', (c) => c.txn({ success: [{ request_delete_range: { key: s.k('t') } }, { request_put: { key: s.k('u'), value: B('u') } }] })); // r0+6
    // physical: etcd answers once the compaction is done, so the watch below sees its result
    await s.step('compact at r0+6 (the deletion), physical', (c) => c.compact({ revision: s.rev(6), physical: true }));
    w.create({ key: s.k(), range_end: s.end(), start_revision: s.rev(6), prev_kv: true });
    await nx('created: from the compaction revision, which deleted t');
    await nx('catch-up from a compaction revision that holds a deletion');
    w.cancel(4);
    await nx('cancel 4');
    await s.step('range t at r0+6', (c) => c.range({ key: s.k('t'), revision: s.rev(6) }));
    await s.step('range all at r0+6', (c) => c.range({ key: s.k(), range_end: s.end(), revision: s.rev(6) }));
    w.create({ key: s.k('f'), fragment: true, start_revision: s.rev(6) });
    await nx('created: fragment');
    await s.step('put f', (c) => c.put({ key: s.k('f'), value: B('f') }));
    await nx('small event with fragment');
  });

  // ------------------------------------------------------------------ Lease

  diff('lease: TTLs (0, negative, minimum, huge), chosen ids, duplicates, revoke, time-to-live, leases', async (s) => {
    const grant = (label: string, req: Msg) => s.step(label, (c) => c.call('Lease', 'LeaseGrant', req), (m) => ({ ...m, ID: s.aliases.get(m.ID) ?? m.ID }));
    const revoke = (id: number | string) => s.step(`revoke ${s.aliases.get(String(id)) ?? id}`, (c) => c.call('Lease', 'LeaseRevoke', { ID: id }));
    // TTLs below etcd's minimum become 2 s: revoke those at once, before they could expire
    for (const [ttlReq, id] of [[0, 7201], [-5, 7202], [1, 7203], [2, 7208]] as const) {
      await grant(`TTL ${ttlReq}, id ${id}`, { TTL: ttlReq, ID: id });
      await revoke(id);
    }
    await grant('TTL 30, id 7204', { TTL: 30, ID: 7204 });
    await grant('TTL 9000000000, id 7205', { TTL: '9000000000', ID: 7205 });
    await grant('TTL 9000000001, id 7206', { TTL: '9000000001', ID: 7206 });
    await grant('duplicate id 7204', { TTL: 30, ID: 7204 });
    await grant('duplicate id with a huge TTL', { TTL: '9000000001', ID: 7204 });
    await grant('negative id', { TTL: 30, ID: -7207 });
    const auto = await s.c.call('Lease', 'LeaseGrant', { TTL: 500 });
    s.aliases.set(auto.ID as string, 'auto-id');
    s.note('automatic id: positive', BigInt(auto.ID as string) > 0n);
    s.note('automatic id grant', wmsg(auto));
    await s.step('put with lease 7204', (c) => c.put({ key: s.k('b'), value: B('b'), lease: 7204 }));
    await s.step('put with lease 7204', (c) => c.put({ key: s.k('a'), value: B('a'), lease: 7204 }));
    await s.step('put with the automatic lease', (c) => c.put({ key: s.k('c'), value: B('c'), lease: auto.ID }));
    await s.step('time-to-live 7204 with keys', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7204, keys: true }), ttl);
    await s.step('time-to-live 7204 without keys', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7204 }), ttl);
    await s.step('time-to-live of an unknown lease', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 999111, keys: true }));
    await s.step('time-to-live of the automatic lease', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: auto.ID, keys: true }), ttl);
    await s.step('leases', (c) => c.call('Lease', 'LeaseLeases', {}), (m) => ({
      ...m,
      leases: (m.leases as Msg[]).map((l) => String(l.ID)).filter((id) => /^-?72\d\d$/.test(id) || id === auto.ID),
    }));
    await s.step('revoke unknown', (c) => c.call('Lease', 'LeaseRevoke', { ID: 999111 }));
    await s.step('revoke 0', (c) => c.call('Lease', 'LeaseRevoke', { ID: 0 }));
    await s.step('revoke 7204 (deletes a and b in one revision)', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7204 }));
    await s.step('revoke 7204 again', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7204 }));
    await s.step('range after revoke', (c) => c.range({ key: s.k(), range_end: s.end() }));
    for (const id of [7205, -7207, auto.ID as string]) await revoke(id);
    await s.step('range after revoking the rest', (c) => c.range({ key: s.k(), range_end: s.end() }));
    // keep-alive of an unknown lease answers TTL 0
    s.note('keep-alive of an unknown lease', await keepAliveOnce(s.c, 999111));
  });

  diff('lease: keys moved between leases, deleted keys, keep-alive, revoke and expiry seen by a watcher', async (s) => {
    await s.step('grant 7401', (c) => c.call('Lease', 'LeaseGrant', { ID: 7401, TTL: 600 }));
    await s.step('grant 7402', (c) => c.call('Lease', 'LeaseGrant', { ID: 7402, TTL: 600 }));
    await s.step('grant 7403 (TTL 2: expires)', (c) => c.call('Lease', 'LeaseGrant', { ID: 7403, TTL: 2 }));
    for (const k of ['c', 'a', 'b']) await s.step(`put ${k} on 7401`, (c) => c.put({ key: s.k(k), value: B(k), lease: 7401 }));
    await s.step('move b to 7402', (c) => c.put({ key: s.k('b'), value: B('b2'), lease: 7402, prev_kv: true }));
    await s.step('delete c', (c) => c.del({ key: s.k('c') }));
    await s.step('put x, y on 7403', (c) => c.txn({ success: ['y', 'x'].map((k) => ({ request_put: { key: s.k(k), value: B(k), lease: 7403 } })) }));
    await s.step('time-to-live 7401', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7401, keys: true }), ttl);
    await s.step('time-to-live 7402', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7402, keys: true }), ttl);
    s.note('keep-alive 7401', await keepAliveOnce(s.c, 7401));
    const w = s.watch();
    w.create({ key: s.k(), range_end: s.end(), prev_kv: true });
    await s.next('created', w);
    await s.step('revoke 7401', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7401 }));
    await s.next('revoke: the delete of a', w);
    await s.step('range after revoke', (c) => c.range({ key: s.k(), range_end: s.end() }));
    // expiry: within a few seconds, x and y go in one revision, in key order
    await s.next('expiry of 7403', w, 8000);
    await s.step('range after expiry', (c) => c.range({ key: s.k(), range_end: s.end() }));
    await s.step('time-to-live 7403 after expiry', (c) => c.call('Lease', 'LeaseTimeToLive', { ID: 7403 }));
    await s.step('revoke 7402', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7402 }));
    await s.next('revoke: the delete of b', w);
  });

  // ------------------------------------------------------------------ Errors, limits, maintenance

  diff('errors: empty keys, request size limits', async (s) => {
    await s.step('range, empty key', (c) => c.range({ key: B('') }));
    await s.step('range, empty key with a range end', (c) => c.range({ key: B(''), range_end: s.end() }));
    await s.step('put, empty key', (c) => c.put({ key: B(''), value: B('x') }));
    await s.step('put, empty key and ignore_value with a value', (c) => c.put({ key: B(''), value: B('x'), ignore_value: true }));
    await s.step('delete, empty key', (c) => c.del({ key: B('') }));
    await s.step('delete, empty key with a range end', (c) => c.del({ key: B(''), range_end: ZERO }));
    const big = Buffer.alloc(1_600_000, 0x61);
    await s.step('put 1.6 MB (over --max-request-bytes)', (c) => c.put({ key: s.k('big'), value: big }));
    await s.step('txn with a 1.6 MB put', (c) => c.txn({ success: [{ request_put: { key: s.k('big'), value: big } }] }));
    await s.step('delete with a 1.6 MB key', (c) => c.del({ key: Buffer.concat([s.k(), big]) }));
    await s.step('range with a 1.6 MB key (reads are not size-checked)', (c) => c.range({ key: Buffer.concat([s.k(), big]) }));
    await s.step('read-only txn with a 1.6 MB key', (c) => c.txn({ success: [{ request_range: { key: Buffer.concat([s.k(), big]) } }] }));
    await s.step('put 1.5 MB (under the limit)', (c) => c.put({ key: s.k('ok'), value: Buffer.alloc(1_500_000, 0x62) }), (m) => ({ header: m.header }));
    // etcd's limit applies to the raft entry: the request plus its field header and a request
    // header whose id has the member id's low 16 bits on top (so it depends on the member)
    const member = BigInt((await s.c.call('Maintenance', 'Status', {})).header.member_id as string) & 0xffffn;
    const idLen = member === 0n ? 7 : Math.ceil((48 + member.toString(2).length) / 7);
    const putMax = 1572864 - 7 - 1 - 3 - 4 - idLen; // key "k": the put is 7 bytes + the value
    const key = s.k('edge');
    const kl = key.length - 1;
    const pick = (m: Msg) => ({ header: m.header });
    const edge = [
      await s.step('put at the size limit', (c) => c.put({ key, value: Buffer.alloc(putMax - kl, 0x64) }), pick),
      await s.step('put one byte over the size limit', (c) => c.put({ key, value: Buffer.alloc(putMax - kl + 1, 0x64) }), pick),
      await s.step('txn at the size limit', (c) => c.txn({ success: [{ request_put: { key, value: Buffer.alloc(putMax - kl - 8, 0x65) } }] }), pick),
      await s.step('txn one byte over the size limit', (c) => c.txn({ success: [{ request_put: { key, value: Buffer.alloc(putMax - kl - 7, 0x65) } }] }), pick),
      await s.step('delete at the size limit', (c) => c.del({ key: Buffer.alloc(putMax + 3, 0x66) }), pick),
      await s.step('delete one byte over the size limit', (c) => c.del({ key: Buffer.alloc(putMax + 4, 0x66) }), pick),
    ];
    assert.deepEqual(edge.map((r) => r !== null), [true, false, true, false, true, false], `${s.kind}: the limit is where it was computed`);
    // gRPC's own limit: --max-request-bytes + 512 KiB for the whole message
    const grpcMax = 1572864 + 512 * 1024;
    await s.step('put message at the gRPC limit', (c) => c.put({ key, value: Buffer.alloc(grpcMax - key.length - 6, 0x67) }));
    await s.step('put message one byte over the gRPC limit', (c) => c.put({ key, value: Buffer.alloc(grpcMax - key.length - 5, 0x67) }));
    await s.step('put 2.1 MB (over the gRPC limit)', (c) => c.put({ key: s.k('huge'), value: Buffer.alloc(2_100_000, 0x63) }));
    await s.step('range big keys', (c) => c.range({ key: s.k(), range_end: s.end(), keys_only: true }));
  });

  diff('malformed protobuf requests: wire types, truncation, tags, unknown fields', async (s) => {
    const bodies: [string, string, number[]][] = [
      ['KV/Range', 'key sent as a varint (tag only)', [0x08]],
      ['KV/Range', 'key sent as a varint', [0x08, 0x01]],
      ['KV/Range', 'key length past the end', [0x0a, 0x05, 0x61]],
      ['KV/Range', 'wire type 7 on the key', [0x0f]],
      ['KV/Range', 'limit as bytes', [0x0a, 0x01, 0x61, 0x1a, 0x01, 0x00]],
      ['KV/Range', 'tag 0', [0x00]],
      ['KV/Range', 'end group', [0x0c]],
      ['KV/Range', 'unknown varint field, then a key', [0x98, 0x06, 0x01, 0x0a, 0x01, 0x61]],
      ['KV/Range', 'unknown field with wire type 7', [0xa7, 0x06]],
      ['KV/Range', 'unknown field, 11-byte varint', [0x98, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ['KV/Range', 'truncated limit', [0x0a, 0x01, 0x61, 0x18, 0xff]],
      ['KV/Range', 'empty', []],
      ['KV/Put', 'group start on the key', [0x0b]],
      ['KV/Put', 'value length past the end', [0x0a, 0x01, 0x61, 0x12, 0x09, 0x61]],
      ['KV/Put', 'prev_kv as bytes', [0x0a, 0x01, 0x61, 0x22, 0x00]],
      ['KV/DeleteRange', 'range_end as a varint', [0x0a, 0x01, 0x61, 0x10, 0x00]],
      ['KV/Txn', 'truncated op', [0x12, 0x02, 0x0a, 0x05]],
      ['KV/Txn', 'op as a varint', [0x12, 0x02, 0x08, 0x00]],
      ['KV/Txn', 'compare with the value as a varint', [0x0a, 0x05, 0x1a, 0x01, 0x61, 0x38, 0x01]],
      ['KV/Txn', 'success as a varint', [0x10, 0x01]],
      ['KV/Compact', 'physical truncated', [0x10]],
      ['KV/Compact', 'revision as bytes', [0x0a, 0x00]],
      ['Lease/LeaseGrant', 'TTL truncated', [0x08]],
      ['Lease/LeaseGrant', 'wire type 7 on TTL', [0x0f]],
      ['Lease/LeaseGrant', 'ID as bytes', [0x08, 0x05, 0x12, 0x00]],
      ['Lease/LeaseRevoke', 'ID as bytes', [0x0a, 0x00]],
      ['Lease/LeaseTimeToLive', 'keys truncated', [0x08, 0x01, 0x10]],
      ['Maintenance/Alarm', 'action truncated', [0x08]],
      ['Maintenance/Status', 'an unknown field', [0x08, 0x01]],
      ['Maintenance/Status', 'a truncated unknown field', [0x0a, 0x04]],
      ['Cluster/MemberList', 'linearizable (3.5) is an unknown field in 3.4', [0x08, 0x01]],
    ];
    bodies.push(['KV/Foo', 'unknown method', [0x0a, 0x01, 0x61]], ['Foo', 'unknown service', []]);
    for (const [method, label, body] of bodies) {
      const path = method === 'Foo' ? '/foo.Bar/Baz' : `/etcdserverpb.${method}`;
      s.note(`${method}: ${label}`, await rawUnary(s.c.endpoint, path, Buffer.from(body)));
    }
  });

  diff('maintenance and cluster: status, alarms, member list, unimplemented methods', async (s) => {
    await s.step('status', (c) => c.call('Maintenance', 'Status', {}), (m) => ({
      header: m.header,
      version: m.version,
      dbSizePositive: Number(m.dbSize) > 0,
      dbSizeInUsePositive: Number(m.dbSizeInUse) > 0,
      inUseAtMostSize: Number(m.dbSizeInUse) <= Number(m.dbSize),
      leaderIsMember: m.leader === m.header.member_id,
      raftTerm: m.raftTerm,
      raftIndexPositive: Number(m.raftIndex) > 0,
      appliedEqualsIndex: m.raftAppliedIndex === m.raftIndex,
      errors: m.errors,
      isLearner: m.isLearner,
    }));
    await s.step('alarm list', (c) => c.call('Maintenance', 'Alarm', { action: 0 }));
    await s.step('alarm deactivate (nothing active)', (c) => c.call('Maintenance', 'Alarm', { action: 2, alarm: 1 }));
    await s.step('member list', (c) => c.call('Cluster', 'MemberList', {}), (m) => ({
      header: m.header,
      n: m.members.length,
      idIsMember: m.members[0].ID === m.header.member_id,
      name: m.members[0].name,
      isLearner: m.members[0].isLearner,
    }));
    await s.step('auth status (not in etcd 3.4)', (c) => c.call('Auth', 'AuthStatus', {}));
    await s.step('downgrade (not in etcd 3.4)', (c) => c.call('Maintenance', 'Downgrade', { action: 0, version: '3.4.0' }));
    await s.step('auth disable', (c) => c.call('Auth', 'AuthDisable', {}));
    await s.step('defragment', (c) => c.call('Maintenance', 'Defragment', {}));
    const self = (await s.c.call('Maintenance', 'Status', {})).header.member_id as string;
    await s.step('move leader to itself', (c) => c.call('Maintenance', 'MoveLeader', { targetID: self }));
    await s.step('move leader to member 0', (c) => c.call('Maintenance', 'MoveLeader', { targetID: 0 }));
    await s.step('move leader to an unknown member', (c) => c.call('Maintenance', 'MoveLeader', { targetID: 4242 }));
  });

  diff('alarms: NOSPACE and CORRUPT raised by a client, what they refuse, status errors, disarm', async (s) => {
    const st = await s.c.call('Maintenance', 'Status', {});
    const self = st.header.member_id as string;
    s.aliases.set(self, 'self');
    await s.step('put a', (c) => c.put({ key: s.k('a'), value: B('1') }));
    await s.step('grant lease 7301', (c) => c.call('Lease', 'LeaseGrant', { ID: 7301, TTL: 600 }));
    const alarm = (label: string, action: number, alarm: number, memberID: string | number = self) =>
      // etcd lists alarms from Go maps: in no particular order
      s.step(label, (c) => c.call('Maintenance', 'Alarm', { action, alarm, memberID }), (m) => ({
        ...m,
        alarms: (m.alarms as Msg[])
          .map((x): Msg => ({ ...x, memberID: s.aliases.get(x.memberID as string) ?? x.memberID }))
          .sort((x, y) => `${x.alarm}:${x.memberID}`.localeCompare(`${y.alarm}:${y.memberID}`)),
      }));
    await alarm('activate NOSPACE', 1, 1);
    await alarm('activate NOSPACE again', 1, 1);
    await alarm('activate NOSPACE for another member', 1, 1, 12345);
    await alarm('list NOSPACE', 0, 1);
    await alarm('list CORRUPT', 0, 2);
    await s.step('status errors', (c) => c.call('Maintenance', 'Status', {}), (m) => ({ errors: [...(m.errors as string[])].map((e) => e.replace(self, 'self')).sort() }));
    await s.step('put while NOSPACE', (c) => c.put({ key: s.k('b'), value: B('2') }));
    await s.step('txn with a put while NOSPACE', (c) => c.txn({ success: [{ request_put: { key: s.k('b'), value: B('2') } }] }));
    await s.step('txn with a delete while NOSPACE', (c) => c.txn({ success: [{ request_delete_range: { key: s.k('zz') } }] }));
    await s.step('delete while NOSPACE', (c) => c.del({ key: s.k('zz') }));
    await s.step('range while NOSPACE', (c) => c.range({ key: s.k('a') }));
    await s.step('lease grant while NOSPACE', (c) => c.call('Lease', 'LeaseGrant', { ID: 7302, TTL: 600 }));
    await s.step('compact while NOSPACE', async (c) => c.compact({ revision: await c.rev() }));
    await alarm('deactivate NOSPACE for a member without it', 2, 1, 999);
    await alarm('deactivate NOSPACE (self)', 2, 1);
    await s.step('put with the other member still NOSPACE', (c) => c.put({ key: s.k('b'), value: B('2') }));
    await alarm('deactivate NOSPACE (other member)', 2, 1, 12345);
    await s.step('put after disarming', (c) => c.put({ key: s.k('b'), value: B('3') }));
    await alarm('activate CORRUPT', 1, 2);
    await alarm('list all', 0, 0);
    await s.step('range while CORRUPT', (c) => c.range({ key: s.k('a') }));
    await s.step('read-only txn while CORRUPT', (c) => c.txn({ success: [{ request_range: { key: s.k('a') } }] }));
    await s.step('put while CORRUPT', (c) => c.put({ key: s.k('c'), value: B('3') }));
    await s.step('delete while CORRUPT', (c) => c.del({ key: s.k('a') }));
    await s.step('txn with a put while CORRUPT', (c) => c.txn({ success: [{ request_put: { key: s.k('b'), value: B('2') } }] }));
    await s.step('lease grant while CORRUPT', (c) => c.call('Lease', 'LeaseGrant', { ID: 7303, TTL: 600 }));
    await s.step('lease revoke while CORRUPT', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7301 }));
    await s.step('compact while CORRUPT', async (c) => c.compact({ revision: await c.rev() }));
    await alarm('deactivate CORRUPT', 2, 2);
    await alarm('activate NONE', 1, 0);
    await alarm('list all after activating NONE', 0, 0);
    await alarm('deactivate NONE', 2, 0);
    await alarm('list all at the end', 0, 0);
    await s.step('put at the end', (c) => c.put({ key: s.k('d'), value: B('4') }));
    await s.step('revoke lease 7301', (c) => c.call('Lease', 'LeaseRevoke', { ID: 7301 }));
  });
});

// etcdctl 3.4 (Debian's etcd-client, a real etcd v3 client) runs the same commands against
// both servers, each fresh, and prints the same: output, errors and exit codes compared
// after replacing each server's cluster, member and lease ids with names.
void describe('etcdctl against calico-datastore and etcd 3.4: same commands, same output', () => {
  let ours: Proc;
  let etcd: Proc;
  const ids = new Map<Proc, Map<string, string>>();
  before(async () => {
    [ours, etcd] = await Promise.all([startDatastore(), startEtcd()]);
    for (const p of [ours, etcd]) {
      const c = new RawEtcd(p.endpoint);
      const h = (await c.call('Maintenance', 'Status', {})).header;
      c.close();
      ids.set(p, new Map([[h.cluster_id as string, 'CLUSTER'], [h.member_id as string, 'MEMBER']]));
    }
  });
  after(async () => {
    await Promise.all([ours?.cleanup(), etcd?.cleanup()]);
  });

  const run = async (p: Proc, args: string[], input?: string) => {
    // a watch runs until stopped: what it printed in 1.5 s (history) is compared
    const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn('/usr/bin/etcdctl', ['--endpoints', p.endpoint, '--dial-timeout', '3s', '--command-timeout', '5s', ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(input ?? '');
      const timer = setTimeout(() => child.kill('SIGTERM'), args[0] === 'watch' ? 1000 : 20000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ status: code, out: stdout + stderr });
      });
    });
    let out = `exit ${r.status}\n${r.out}`;
    // lease ids appear in hex; learn them from grants
    for (const m of out.matchAll(/lease ([0-9a-f]+) granted/g)) {
      const names = ids.get(p)!;
      const dec = BigInt('0x' + m[1]!).toString();
      if (!names.has(dec)) names.set(dec, `LEASE${[...names.values()].filter((v) => v.startsWith('LEASE')).length}`);
    }
    out = out.split(p.endpoint).join('ENDPOINT');
    for (const [dec, name] of ids.get(p)!) {
      const hex = BigInt(dec).toString(16);
      out = out.split(dec).join(name).split(hex.padStart(16, '0')).join(name).split(hex).join(name);
    }
    // timestamps etcdctl adds to its error lines
    return out.replace(/^\{"level".*$/gm, '').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g, 'TIME');
  };
  const lease = (p: Proc, n: number) => BigInt([...ids.get(p)!].find(([, v]) => v === `LEASE${n}`)![0]).toString(16);

  void it('put, get (prefix, from-key, sort, limit, count, revisions, json), del, txn, leases, compaction, watch, alarms', async () => {
    const cmds: (string[] | ((p: Proc) => string[]) | [string[], string])[] = [
      ['put', '/c/a', '1'],
      ['put', '/c/b', '2'],
      ['put', '/c/b', '3', '--prev-kv'],
      ['put', '/c/c', '4'],
      ['get', '/c/', '--prefix'],
      ['get', '/c/', '--prefix', '-w', 'json'],
      ['get', '/c/b', '-w', 'fields'],
      ['get', '--from-key', '/c/b', '--keys-only'],
      ['get', '/c/', '--prefix', '--sort-by=VERSION', '--order=DESCEND'],
      ['get', '/c/', '--prefix', '--sort-by=MODIFY', '--order=ASCEND', '--limit=2', '-w', 'json'],
      ['get', '/c/', '--prefix', '--count-only', '-w', 'json'],
      ['get', '/c/', '--prefix', '--print-value-only', '--consistency=s'],
      ['get', '/c/b', '--rev=3'],
      ['get', '/c/b', '--rev=100'],
      ['get', ''],
      ['put', '', 'x'],
      ['put', '/c/a', '--ignore-value'],
      ['put', '/c/zz', '--ignore-value'],
      ['del', '/c/zz'],
      ['del', '/c/a', '--prev-kv'],
      [['txn', '-w', 'json'], 'value("/c/b") = "3"\n\nput /c/t yes\nget /c/b\n\nput /c/t no\n\n'],
      [['txn'], 'mod("/c/b") > "100"\nversion("/c/nope") = "0"\n\nput /c/u yes\n\ndel /c/b\nget /c/ --prefix\n\n'],
      [['txn'], 'create("/c/c") = "5"\n\n\n\n'],
      ['lease', 'grant', '100'],
      (p) => ['put', '/c/l', 'x', `--lease=${lease(p, 0)}`],
      (p) => ['lease', 'timetolive', lease(p, 0), '--keys'],
      ['lease', 'list'],
      (p) => ['lease', 'keep-alive', '--once', lease(p, 0)],
      (p) => ['lease', 'revoke', lease(p, 0)],
      (p) => ['lease', 'revoke', lease(p, 0)],
      (p) => ['lease', 'timetolive', lease(p, 0)],
      ['put', '/c/l', 'x', '--lease=abcdef'],
      ['lease', 'grant', '0'],
      (p) => ['lease', 'revoke', lease(p, 1)],
      ['compaction', '3'],
      ['compaction', '3'],
      ['compaction', '--physical', '4'],
      ['compaction', '1000'],
      ['get', '/c/b', '--rev=2'],
      ['get', '/c/', '--prefix', '--rev=4', '-w', 'json'],
      ['watch', '/c/', '--prefix', '--rev=1'],
      ['watch', '/c/', '--prefix', '--rev=4', '--prev-kv'],
      ['watch', '/c/b', '--rev=5', '-w', 'json'],
      ['alarm', 'list'],
      ['alarm', 'disarm'],
      ['defrag'],
      ['lock', '/c-lock', 'echo', 'held'],
      ['get', '--from-key', '', '--keys-only'],
      ['get', '', '--prefix', '--count-only', '-w', 'json'],
      ['get', '/c/', '--prefix', '--keys-only', '--limit=1', '-w', 'json'],
      ['get', '/c/', '--prefix', '--rev=0', '--sort-by=CREATE', '--order=DESCEND', '--print-value-only'],
      ['put', '/c/x', 'y', '--lease=0'],
      ['del', '--from-key', '/c/u', '--prev-kv'],
      ['del', '/c/', '--prefix'],
      ['get', '/c/', '--prefix', '-w', 'json'],
      ['del', '', '--prefix'],
      ['get', '', '--prefix', '-w', 'json'],
    ];
    const diffs: string[] = [];
    for (const cmd of cmds) {
      const [a, b] = await Promise.all(
        [ours, etcd].map(async (p) => {
          const [args, input] = typeof cmd === 'function' ? [cmd(p), undefined] : Array.isArray(cmd[0]) ? (cmd as [string[], string]) : [cmd as string[], undefined];
          return { args: args.join(' '), out: await run(p, args, input) };
        }),
      );
      if (a!.out !== b!.out) diffs.push(`etcdctl ${b!.args}\n  calico-datastore: ${JSON.stringify(a!.out)}\n  etcd:             ${JSON.stringify(b!.out)}`);
    }
    assert.equal(diffs.length, 0, diffs.join('\n'));
  });
});

// HashKV hashes the whole key-value history as etcd's backend stores it, so two servers agree
// only if every version, revision and lease id is the same: fresh servers, explicit lease ids.
void describe('HashKV: the same history hashes the same on calico-datastore and etcd 3.4', () => {
  let ours: Proc;
  let etcd: Proc;
  let cs: RawEtcd[];
  before(async () => {
    [ours, etcd] = await Promise.all([startDatastore(), startEtcd()]);
    cs = [new RawEtcd(ours.endpoint), new RawEtcd(etcd.endpoint)];
  });
  after(async () => {
    for (const c of cs ?? []) c.close();
    await Promise.all([ours?.cleanup(), etcd?.cleanup()]);
  });

  void it('hashes at every revision, across deletes, leases, txns and compactions, and errors alike', async () => {
    const both = async (f: (c: RawEtcd) => Promise<Msg>) => {
      const out: unknown[] = [];
      for (const c of cs) {
        try {
          const r = await f(c);
          out.push({ revision: r.header?.revision, hash: r.hash, compact_revision: r.compact_revision });
        } catch (e) {
          out.push({ error: (e as { code: number }).code, details: (e as { details: string }).details });
        }
      }
      return out;
    };
    const hashes: [string, unknown[]][] = [];
    const hash = async (label: string, revision = 0) => hashes.push([label, await both((c) => c.call('Maintenance', 'HashKV', { revision }))]);
    await hash('empty store');
    for (const c of cs) {
      await c.call('Lease', 'LeaseGrant', { ID: 9001, TTL: 600 });
      await c.put({ key: B('/h/a'), value: B('1') });
      await c.put({ key: B('/h/b'), value: B('2'), lease: 9001 });
      await c.put({ key: B('/h/a'), value: B('') });
      await c.txn({ success: [{ request_put: { key: B('/h/c'), value: B('3') } }, { request_delete_range: { key: B('/h/b') } }] });
      await c.del({ key: B('/h/a') });
      await c.put({ key: B('/h/a'), value: Buffer.from([0, 255]) });
    }
    for (let r = 1; r <= 7; r++) await hash(`at revision ${r}`, r);
    await hash('at the current revision');
    await hash('in the future', 8);
    await hash('negative revision', -1);
    for (const c of cs) await c.compact({ revision: 4, physical: true });
    await hash('after compacting at 4');
    for (const r of [3, 4, 5, 6, 7]) await hash(`after compacting at 4, at revision ${r}`, r);
    for (const c of cs) {
      await c.put({ key: B('/h/c'), value: B('4') });
      await c.call('Lease', 'LeaseRevoke', { ID: 9001 });
      await c.compact({ revision: 6, physical: true });
    }
    await hash('after compacting at 6');
    await hash('after compacting at 6, at revision 7', 7);
    const diffs = hashes.filter(([, [a, b]]) => !isDeepStrictEqual(a, b));
    assert.equal(diffs.length, 0, diffs.map(([l, [a, b]]) => `${l}:\n  calico-datastore: ${JSON.stringify(a)}\n  etcd:             ${JSON.stringify(b)}`).join('\n'));
    // and etcdctl prints the same
    const ctl = (p: Proc) =>
      new Promise<string>((resolve) => {
        const child = spawn('/usr/bin/etcdctl', ['--endpoints', p.endpoint, 'endpoint', 'hashkv', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out.split(p.endpoint).join('ENDPOINT').replace(/"(cluster|member)_id":\d+/g, '"$1_id":ID')));
      });
    const [a, b] = await Promise.all([ctl(ours), ctl(etcd)]);
    assert.equal(a, b);
    assert.match(b, /"hash":\d+/);
  });
});

// Where calico-datastore deliberately differs from etcd 3.4 (docs/datastore.md lists these):
// each side's behaviour asserted on its own, so a change on either shows here.
void describe('deliberate differences from etcd 3.4', () => {
  let ours: Proc;
  let etcd: Proc;
  let co: RawEtcd;
  let ce: RawEtcd;
  before(async () => {
    [ours, etcd] = await Promise.all([startDatastore(), startEtcd()]);
    co = new RawEtcd(ours.endpoint);
    ce = new RawEtcd(etcd.endpoint);
    for (const c of [co, ce]) await c.put({ key: B('/dev/a'), value: B('1') });
  });
  after(async () => {
    co?.close();
    ce?.close();
    await Promise.all([ours?.cleanup(), etcd?.cleanup()]);
  });

  void it('an unknown sort order: etcd 3.4 does not sort, calico-datastore refuses it as etcd 3.5 does', async () => {
    const req = { key: B('/dev/'), range_end: prefixEnd('/dev/'), sort_order: 7 };
    assert.equal((await ce.range(req)).kvs.length, 1);
    assert.deepEqual(await co.callErr('KV', 'Range', req), { code: 3, details: 'etcdserver: invalid sort option' });
    // (an unknown sort_target crashes etcd 3.4; not sent to it)
    assert.deepEqual(await co.callErr('KV', 'Range', { key: B('/dev/a'), sort_target: 9 }), { code: 3, details: 'etcdserver: invalid sort option' });
  });

  void it('an alarm request with an unknown action: calico-datastore refuses it (it crashes etcd 3.4, not sent there)', async () => {
    assert.deepEqual(await co.callErr('Maintenance', 'Alarm', { action: 7, alarm: 1 }), {
      code: 3,
      details: 'calico-datastore: unknown alarm action 7 (expected 0 GET, 1 ACTIVATE or 2 DEACTIVATE)',
    });
  });

  void it('alarm member id 0 means this member in calico-datastore; etcd keeps an alarm for member 0', async () => {
    for (const c of [co, ce]) await c.call('Maintenance', 'Alarm', { action: 1, alarm: 1, memberID: 0 });
    const member = async (c: RawEtcd) => String((await c.call('Maintenance', 'Alarm', { action: 0 })).alarms[0].memberID);
    assert.equal(await member(ce), '0');
    assert.equal(await member(co), (await co.call('Maintenance', 'Status', {})).header.member_id);
    for (const c of [co, ce]) await c.call('Maintenance', 'Alarm', { action: 2, alarm: 1, memberID: 0 });
    for (const c of [co, ce]) assert.deepEqual((await c.call('Maintenance', 'Alarm', { action: 0 })).alarms, []);
  });

  void it('auth: etcd 3.4 manages users while auth is off; calico-datastore has none', async () => {
    assert.deepEqual((await ce.call('Auth', 'UserList', {})).users, []);
    assert.deepEqual(await co.callErr('Auth', 'UserList', {}), { code: 9, details: 'etcdserver: authentication is not enabled' });
  });
});

/** One LeaseKeepAlive round trip on a new stream: the response (header: revision only), or null. */
async function keepAliveOnce(c: RawEtcd, id: number): Promise<Msg | null> {
  const ka = c.keepAlive();
  ka.on('error', () => {}); // 'Cancelled on client' after cancel()
  try {
    return await new Promise<Msg | null>((resolve) => {
      const t = setTimeout(() => resolve(null), 3000);
      ka.once('data', (m: Msg) => {
        clearTimeout(t);
        resolve(wmsg(m));
      });
      ka.write({ ID: id });
    });
  } finally {
    ka.end();
    ka.cancel();
  }
}

/** Sends raw bytes as a unary request; answers 'ok' or the error's code and message. */
async function rawUnary(endpoint: string, path: string, body: Buffer): Promise<unknown> {
  const ch = new grpc.Client(endpoint.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve) => {
      ch.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err) => resolve(err ? { error: err.code, details: err.details } : 'ok'),
      );
    });
  } finally {
    ch.close();
  }
}

/** LeaseTimeToLive: the remaining TTL depends on timing; keys are in no particular order in etcd. */
function ttl(m: Msg): unknown {
  const granted = Number(m.grantedTTL);
  const left = Number(m.TTL);
  return {
    ...m,
    TTL: left > 0 && left <= granted && left >= granted - 2 ? 'near-granted' : m.TTL,
    keys: (m.keys as Buffer[]).map((k) => Buffer.from(k).toString('latin1')).sort(),
  };
}
