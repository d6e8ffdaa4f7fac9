// The MVCC key-value store over node:sqlite. Synchronous and single-threaded: the committer
// (committer.ts) opens one SQLite transaction per event-loop turn and calls the write methods
// here inside it; nothing in this file commits.
//
// Every table is WITHOUT ROWID, so node:sqlite's run() never reports a rowid above 2^53
// (lease ids are 63-bit). Tables (schema 2):
//   history(rev, sub, key, create_rev, version, value, lease, tomb) — every change, the MVCC log;
//           (rev, sub) orders events; tomb=1 rows are deletions. Range-at-revision and
//           watch-from-revision read it; index history_key (key, rev) serves per-key lookups.
//   leases(id, ttl), meta(k, v) — lease grants; compact revision, ids, alarms.
// A put or delete writes one history row and nothing else (two B-trees: the table, appended
// at its end, and history_key), so a commit dirties as few pages as the MVCC log allows. The
// latest state of every key (the LiveIndex) and the current revision, max(history.rev), are
// derived from history when the store opens. Schema 1 (a `live` table and a `rev` meta row
// written with every batch) is migrated in place, in one transaction, on first open.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DataDirError, Errors } from './errors.ts';
import { encodeKeyValue } from './codec.ts';
import { goSort } from './go-sort.ts';
import { LiveIndex, type LiveEntry } from './live-index.ts';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './proto.ts';

const APPLICATION_ID = 0x43445331; // 'CDS1': marks the file as a calico-datastore database
const SCHEMA_VERSION = 2;
const EMPTY = Buffer.alloc(0);
/**
 * Pages in the WAL before a commit checkpoints them into the database (SQLite's default is
 * 1000). A checkpoint copies each page once however often it changed, and ends with an fsync
 * of the database file: fewer, larger checkpoints cost less in total (measured: 4,000 puts,
 * 2 pages each, spent 216–287 ms in SQLite at 4000 against 280–469 ms at 1000, and the
 * slowest commit 2–11 ms against 5–32 ms).
 */
const WAL_AUTOCHECKPOINT_PAGES = 4000;
/** WAL size written ahead of use: above the checkpoint threshold (4000 frames of 4 KiB + 24 B), so the WAL never grows in normal use. */
const WAL_PREALLOC_BYTES = 32 * 1024 * 1024;

/** etcd's minimum lease TTL with default election settings: ceil(1.5 s). */
export const MIN_LEASE_TTL = 2;
export const MAX_LEASE_TTL = 9_000_000_000;

export interface WriteCtx {
  /** The revision this write will get if it changes anything (current + 1). */
  readonly rev: number;
  /** Next sub-revision; > 0 means something changed. */
  sub: number;
  readonly events: Event[];
}

interface LiveRow {
  key: Uint8Array;
  rev: number;
  create_rev: number;
  version: number;
  lease: string;
  value?: Uint8Array | null;
}

interface HistRow extends LiveRow {
  sub: number;
  tomb: number;
}

const asBuf = (u: Uint8Array | null | undefined): Buffer =>
  u == null ? EMPTY : Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function toKv(r: LiveRow, withValue: boolean): KeyValue {
  return {
    key: asBuf(r.key),
    create_revision: r.create_rev,
    mod_revision: r.rev,
    version: r.version,
    value: withValue ? asBuf(r.value) : EMPTY,
    lease: r.lease,
  };
}

/** One active alarm (etcd's AlarmMember). */
export interface AlarmMember {
  /** Member id, decimal. */
  memberID: string;
  /** AlarmType: 0 NONE, 1 NOSPACE, 2 CORRUPT. */
  alarm: number;
}

/** How a [key, range_end) pair selects keys (etcd's conventions). */
export type KeySel = { kind: 'one'; key: Buffer } | { kind: 'from'; key: Buffer } | { kind: 'range'; key: Buffer; end: Buffer };

export function keySel(key: Buffer, rangeEnd: Buffer | undefined | null): KeySel {
  if (!rangeEnd || rangeEnd.length === 0) return { kind: 'one', key };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { kind: 'from', key };
  return { kind: 'range', key, end: rangeEnd };
}

function selSql(sel: KeySel, col: string): string {
  switch (sel.kind) {
    case 'one':
      return `${col} = ?`;
    case 'from':
      return `${col} >= ?`;
    case 'range':
      return `${col} >= ? AND ${col} < ?`;
  }
}
function selParams(sel: KeySel): Buffer[] {
  return sel.kind === 'range' ? [sel.key, sel.end] : [sel.key];
}

/** True if `key` falls in the selection. */
export function selContains(sel: KeySel, key: Buffer): boolean {
  switch (sel.kind) {
    case 'one':
      return key.equals(sel.key);
    case 'from':
      return Buffer.compare(key, sel.key) >= 0;
    case 'range':
      return Buffer.compare(key, sel.key) >= 0 && Buffer.compare(key, sel.end) < 0;
  }
}

const num = (v: string | number | undefined | null): number => (v == null ? 0 : Number(v));
const leaseStr = (v: string | number | undefined | null): string => (v == null ? '0' : BigInt(v).toString());

export interface StoreOptions {
  /** Path of the SQLite file. */
  file: string;
}

export class MvccStore {
  readonly db: DatabaseSync;
  readonly file: string;
  /** Current (committed or being-written) revision. */
  rev = 1;
  /** Revision of the last compaction; -1 before the first (etcd's compactMainRev, so compacting at 0 works once). */
  compactRev = -1;
  clusterId = '0';
  memberId = '0';
  /** Persisted lease grants: id (decimal string) → granted TTL in seconds. */
  readonly leases = new Map<string, number>();
  /**
   * Active alarms, as etcd's AlarmStore keeps them: one per (member id, AlarmType number),
   * keyed `member:type`; 1 = NOSPACE, 2 = CORRUPT. Persisted as that list.
   */
  alarms = new Map<string, AlarmMember>();
  /** The latest state, in memory (mirrors the live table). */
  readonly live = new LiveIndex();
  private readonly cache = new Map<string, StatementSync>();
  private readonly s: Record<string, StatementSync>;
  private pageSize = 4096;

  constructor(opts: StoreOptions) {
    this.file = opts.file;
    try {
      this.db = new DatabaseSync(opts.file, { timeout: 0 });
    } catch (e) {
      throw new DataDirError('open', `cannot open database ${opts.file}: ${(e as Error).message}`);
    }
    try {
      this.init();
    } catch (e) {
      try {
        this.db.close();
      } catch {
        /* already failing */
      }
      if (e instanceof DataDirError) throw e;
      const msg = (e as Error).message;
      if (/disk is full|SQLITE_FULL|ENOSPC/i.test(msg)) {
        throw new DataDirError('full', `database ${opts.file}: no space left on the device (${msg}); free space and restart — nothing was changed`);
      }
      if (/locked|busy/i.test(msg)) {
        throw new DataDirError('locked', `database ${opts.file} is in use by another process (${msg}); stop the other calico-datastore first`);
      }
      throw new DataDirError(
        'corrupt',
        `database ${opts.file} is not a usable calico-datastore database (${msg}); restore it from a backup, or move it away to start empty`,
      );
    }
    const q = (sql: string) => this.db.prepare(sql);
    this.s = {
      histIns: q('INSERT INTO history (rev, sub, key, create_rev, version, value, lease, tomb) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      prevOf: q(
        'SELECT key, rev, create_rev, version, CAST(lease AS TEXT) AS lease, value, tomb FROM history WHERE key = ? AND rev < ? ORDER BY rev DESC, sub DESC LIMIT 1',
      ),
      leaseIns: q('INSERT INTO leases (id, ttl) VALUES (?, ?)'),
      leaseDel: q('DELETE FROM leases WHERE id = ?'),
      metaSet: q('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)'),
      pageCount: q('PRAGMA page_count'),
      freeCount: q('PRAGMA freelist_count'),
    };
    this.loadLive();

  }

  private init(): void {
    const db = this.db;
    // Exclusive locking before WAL: no shared-memory index, and a second process is refused.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const jm = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
    if (jm.journal_mode !== 'wal') throw new Error(`cannot enable WAL (journal_mode=${jm.journal_mode})`);
    // Durability: SQLite's own commit-time fsync is replaced by syncWal() — an fdatasync of the
    // WAL after every COMMIT and before any acknowledgement (the same guarantee as FULL).
    // NORMAL keeps SQLite's syncs around checkpoints. fsync of a file whose mtime changed
    // forces a filesystem journal commit; fdatasync of the (reused, not growing) WAL does not.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.exec('PRAGMA foreign_keys = OFF');
    // Take the write lock now: fails at once if another process holds the file.
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
    const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    if (tables.length === 0) {
      this.createSchema();
    } else if (appId !== APPLICATION_ID) {
      throw new DataDirError(
        'foreign',
        `database ${this.file} is an SQLite file but not a calico-datastore database (application_id ${appId}); point --data-dir at an empty or calico-datastore directory`,
      );
    }
    const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    if (check.length !== 1 || check[0]!.quick_check !== 'ok') {
      throw new Error(`integrity check failed: ${check.map((r) => r.quick_check).slice(0, 5).join('; ')}`);
    }
    let meta = this.readMeta();
    if (meta.get('schema') === '1') {
      this.migrateFrom1(meta);
      meta = this.readMeta();
    }
    const schema = Number(meta.get('schema'));
    if (schema !== SCHEMA_VERSION) {
      throw new DataDirError(
        'schema',
        `database ${this.file} has schema version ${meta.get('schema')}, this calico-datastore understands ${SCHEMA_VERSION} (and migrates 1); use the calico-datastore that wrote it`,
      );
    }
    this.loadState(meta);
    this.pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  }

  private readMeta(): Map<string, string> {
    const meta = new Map<string, string>();
    for (const r of this.db.prepare('SELECT k, CAST(v AS TEXT) AS v FROM meta').all() as { k: string; v: string }[]) meta.set(r.k, r.v);
    return meta;
  }

  /**
   * Schema 1 → 2, in one transaction: the `live` table and the per-batch `rev` meta row go
   * (both are now derived from history). Refused, changing nothing, if the recorded revision
   * and history disagree (every revision a schema-1 store recorded has a history row).
   */
  private migrateFrom1(meta: Map<string, string>): void {
    const db = this.db;
    const recorded = Number(meta.get('rev'));
    const compact = Number(meta.get('compact_rev') ?? 0);
    const maxHist = (db.prepare('SELECT max(rev) AS m FROM history').get() as { m: number | null }).m ?? 0;
    if (!Number.isSafeInteger(recorded) || recorded !== Math.max(maxHist, compact, 1)) {
      throw new Error(`schema 1 database records revision ${meta.get('rev')} but its history ends at ${maxHist}; not migrating`);
    }
    db.exec('BEGIN');
    try {
      db.exec('DROP TABLE IF EXISTS live');
      db.exec("DELETE FROM meta WHERE k = 'rev'");
      db.exec(`UPDATE meta SET v = '${SCHEMA_VERSION}' WHERE k = 'schema'`);
      db.exec('COMMIT');
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
    // Durable before anything is served from the new layout.
    db.exec('PRAGMA wal_checkpoint(FULL)');
  }

  private createSchema(): void {
    const db = this.db;
    db.exec('BEGIN');
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec(`
      CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
      CREATE TABLE history (
        rev INTEGER NOT NULL, sub INTEGER NOT NULL, key BLOB NOT NULL,
        create_rev INTEGER NOT NULL, version INTEGER NOT NULL, value BLOB,
        lease INTEGER NOT NULL, tomb INTEGER NOT NULL,
        PRIMARY KEY (rev, sub)) WITHOUT ROWID;
      CREATE INDEX history_key ON history (key, rev);
      CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL) WITHOUT ROWID;
    `);
    const ins = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
    const id = () => (randomBytes(8).readBigUInt64BE() >> 1n).toString();
    ins.run('schema', String(SCHEMA_VERSION));
    ins.run('compact_rev', '-1');
    ins.run('cluster_id', id());
    ins.run('member_id', id());
    ins.run('alarms', '');
    db.exec('COMMIT');
  }

  private loadState(meta: Map<string, string>): void {
    this.compactRev = Number(meta.get('compact_rev'));
    // Every revision has at least one history row, and compaction keeps every row at or
    // above the compaction revision, so the newest row is the current revision.
    const maxHist = (this.db.prepare('SELECT max(rev) AS m FROM history').get() as { m: number | null }).m ?? 0;
    this.rev = Math.max(maxHist, this.compactRev, 1);
    if (!Number.isSafeInteger(this.compactRev) || this.compactRev < -1) throw new Error(`bad recorded compact revision ${meta.get('compact_rev')}`);
    this.clusterId = meta.get('cluster_id') ?? '0';
    this.memberId = meta.get('member_id') ?? '0';
    this.alarms = new Map();
    for (const entry of (meta.get('alarms') ?? '').split(',').filter(Boolean)) {
      // "member:type"; a bare type (written before alarms had members) is this member's
      const [member, type] = entry.includes(':') ? entry.split(':') : [this.memberId, entry];
      const a = { memberID: BigInt(member!).toString(), alarm: Number(type) };
      this.alarms.set(`${a.memberID}:${a.alarm}`, a);
    }
    if (!Number.isSafeInteger(this.rev)) throw new Error(`bad revision ${this.rev} in history`);
    this.leases.clear();
    for (const r of this.db.prepare('SELECT CAST(id AS TEXT) AS id, ttl FROM leases').all() as { id: string; ttl: number }[]) {
      this.leases.set(r.id, r.ttl);
    }
  }

  /** The latest row of every key (SQLite's max() takes the other columns from that row). */
  private loadLive(): void {
    const rows = this.db
      .prepare(
        'SELECT key, max(rev) AS rev, sub, create_rev, version, CAST(lease AS TEXT) AS lease, value, tomb FROM history INDEXED BY history_key GROUP BY key',
      )
      .all() as unknown as (LiveEntry & { tomb: number })[];
    const live: LiveEntry[] = [];
    for (const r of rows) {
      if (r.tomb) continue;
      live.push({ key: asBuf(r.key), rev: r.rev, sub: r.sub, create_rev: r.create_rev, version: r.version, lease: r.lease, value: asBuf(r.value) });
    }
    this.live.load(live);
  }

  /** Re-read in-memory state from disk after a rolled-back batch. */
  reload(): void {
    this.live.rollbackTo(0);
    this.loadState(this.readMeta());
  }

  private walFd: number | null = null;

  /**
   * Makes every committed transaction durable: fdatasync of the WAL file, off the event loop
   * (or `inline`, blocking, when that is cheaper than two thread hand-offs), opened on first
   * use; the directory is synced once so the WAL's own entry is durable.
   */
  syncWal(cb: (err: Error | null) => void, inline = false): void {
    try {
      if (this.walFd === null) {
        const wal = this.file + '-wal';
        if (!existsSync(wal)) throw new Error(`WAL file ${wal} is missing after a commit`);
        const fd = openSync(wal, 'r+');
        this.walFd = fd;
        // Preallocate (real zero blocks, not a sparse hole) so that appending frames does not
        // change the file's size: fdatasync then needs no filesystem journal commit (etcd
        // preallocates its WAL segments for the same reason). SQLite reads frames only up to
        // the last valid checksum, so trailing zeros are ignored.
        const size = fstatSync(fd).size;
        if (size < WAL_PREALLOC_BYTES) {
          const zeros = Buffer.alloc(1 << 20);
          try {
            for (let off = size; off < WAL_PREALLOC_BYTES; off += zeros.length) {
              writeSync(fd, zeros, 0, Math.min(zeros.length, WAL_PREALLOC_BYTES - off), off);
            }
          } catch {
            // best effort (a nearly full disk): give the space back, appends still work
            ftruncateSync(fd, size);
          }
        }
        fsyncSync(fd);
        const dfd = openSync(path.dirname(this.file), 'r');
        try {
          fsyncSync(dfd);
        } finally {
          closeSync(dfd);
        }
      }
    } catch (e) {
      setImmediate(() => cb(e as Error));
      return;
    }
    if (!inline) {
      fdatasync(this.walFd, cb);
      return;
    }
    let err: Error | null = null;
    try {
      fdatasyncSync(this.walFd);
    } catch (e) {
      err = e as Error;
    }
    cb(err);
  }

  close(): void {
    if (this.walFd !== null) {
      closeSync(this.walFd);
      this.walFd = null;
    }
    this.db.close();
  }

  // ---------------------------------------------------------------- size / meta

  dbSize(): number {
    return (this.s.pageCount!.get() as { page_count: number }).page_count * this.pageSize;
  }
  dbSizeInUse(): number {
    const free = (this.s.freeCount!.get() as { freelist_count: number }).freelist_count;
    return this.dbSize() - free * this.pageSize;
  }

  persistAlarms(): void {
    this.s.metaSet!.run('alarms', [...this.alarms.keys()].join(','));
  }

  /** True if an alarm of this type is active for any member. */
  hasAlarm(type: number): boolean {
    for (const a of this.alarms.values()) if (a.alarm === type) return true;
    return false;
  }

  /** Active alarms of one type, or all of them for type 0 (etcd's AlarmStore.Get). */
  alarmList(type: number): AlarmMember[] {
    return [...this.alarms.values()].filter((a) => type === 0 || a.alarm === type);
  }

  /** Raises an alarm (persisted); returns it, or the same one already active. */
  activateAlarm(memberID: string, type: number): AlarmMember {
    const key = `${memberID}:${type}`;
    let a = this.alarms.get(key);
    if (!a) {
      a = { memberID, alarm: type };
      this.alarms.set(key, a);
      this.persistAlarms();
    }
    return a;
  }

  /** Clears an alarm (persisted); returns it, or null if it was not active. */
  deactivateAlarm(memberID: string, type: number): AlarmMember | null {
    const key = `${memberID}:${type}`;
    const a = this.alarms.get(key);
    if (!a) return null;
    this.alarms.delete(key);
    this.persistAlarms();
    return a;
  }

  private stmt(sql: string): StatementSync {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.cache.set(sql, st);
    }
    return st;
  }

  // ---------------------------------------------------------------- reads

  /** Rows of the latest state (or the state at `atRev`) in a selection, ordered by key. */
  private select(sel: KeySel, atRev: number | null, withValue: boolean, limit: number): LiveRow[] {
    if (atRev == null) return this.live.scan(sel, limit);
    const sql = `SELECT * FROM (SELECT key, max(rev) AS rev, create_rev, version, CAST(lease AS TEXT) AS lease${withValue ? ', value' : ''}, tomb FROM history WHERE ${selSql(sel, 'key')} AND rev <= ? GROUP BY key) WHERE tomb = 0 ORDER BY key LIMIT ?`;
    return this.stmt(sql).all(...selParams(sel), atRev, limit) as unknown as LiveRow[];
  }

  private count(sel: KeySel, atRev: number | null): number {
    if (atRev == null) return this.live.count(sel);
    const sql = `SELECT count(*) AS n FROM (SELECT max(rev), tomb FROM history WHERE ${selSql(sel, 'key')} AND rev <= ? GROUP BY key) WHERE tomb = 0`;
    return (this.stmt(sql).get(...selParams(sel), atRev) as { n: number }).n;
  }

  /** The revision reads see: the pending write's revision if it changed anything. */
  viewRev(ctx: WriteCtx | null): number {
    return ctx && ctx.sub > 0 ? ctx.rev : this.rev;
  }

  /**
   * Validates a txn range's revision against the state before the txn (etcd's
   * checkRequestRange): unlike a plain range, a negative revision is not "current" here but
   * compared with the compaction revision (-1 before any compaction).
   */
  checkRangeRev(r: RangeRequest, view: number): void {
    const rev = num(r.revision);
    if (rev === 0) return;
    if (rev > view) throw Errors.futureRev();
    if (rev < this.compactRev) throw Errors.compacted();
  }

  range(r: RangeRequest, ctx: WriteCtx | null = null): RangeResponse {
    const view = this.viewRev(ctx);
    let rev = num(r.revision);
    if (rev > view) throw Errors.futureRev();
    if (rev <= 0) rev = view;
    if (rev < this.compactRev) throw Errors.compacted();
    const atRev = rev === view ? null : rev;
    const sel = keySel(r.key, r.range_end);
    const header = { revision: view };
    if (r.count_only) return { header, kvs: [], more: false, count: this.count(sel, atRev) };

    const limit = num(r.limit);
    const sortOrder = r.sort_order;
    const sortTarget = r.sort_target;
    const defaultOrder = sortOrder === 0 || (sortTarget === 0 && sortOrder === 1);
    const minMod = num(r.min_mod_revision);
    const maxMod = num(r.max_mod_revision);
    const minCreate = num(r.min_create_revision);
    const maxCreate = num(r.max_create_revision);
    const filters = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
    const sqlLimit = !defaultOrder || filters || limit <= 0 ? -1 : limit + 1;
    const withValue = !r.keys_only || sortTarget === 4;
    let rows = this.select(sel, atRev, withValue, sqlLimit);
    const count = sqlLimit === -1 || rows.length < sqlLimit ? rows.length : this.count(sel, atRev);
    if (filters) {
      rows = rows.filter(
        (x) =>
          !(maxMod !== 0 && x.rev > maxMod) &&
          !(minMod !== 0 && x.rev < minMod) &&
          !(maxCreate !== 0 && x.create_rev > maxCreate) &&
          !(minCreate !== 0 && x.create_rev < minCreate),
      );
    }
    let order = sortOrder;
    if (sortTarget !== 0 && order === 0) order = 1;
    if (sortTarget === 0 && order === 2) rows.reverse();
    else if (sortTarget !== 0 && (order === 1 || order === 2)) {
      // Go's unstable sort, as etcd sorts: equal elements end up where etcd puts them
      const cmp = comparator(sortTarget);
      goSort(rows, order === 2 ? (a, b) => cmp(b, a) < 0 : (a, b) => cmp(a, b) < 0);
    }
    let more = false;
    if (limit > 0 && rows.length > limit) {
      rows = rows.slice(0, limit);
      more = true;
    }
    const kvs = rows.map((x) => toKv(x, !r.keys_only));
    return { header, kvs, more, count };
  }

  /** The latest live version of one key, or null. */
  get(key: Buffer, withValue: boolean): KeyValue | null {
    const row = this.live.get(key);
    return row ? toKv(row, withValue) : null;
  }

  /** The version of `key` just before revision `rev` (for watch prev_kv), or null. */
  prevKv(key: Buffer, rev: number): KeyValue | null {
    const row = this.s.prevOf!.get(key, rev) as HistRow | undefined;
    if (!row || row.tomb) return null;
    return toKv(row, true);
  }

  /**
   * History events for keys in `sel` from position (rev, sub) inclusive up to revision `to`,
   * at most `max`, in order; `next` is the position to continue from (null when done).
   */
  historyChunk(sel: KeySel, rev: number, sub: number, to: number, max: number): { events: Event[]; next: [number, number] | null } {
    const sql = `SELECT key, rev, sub, create_rev, version, CAST(lease AS TEXT) AS lease, value, tomb FROM history WHERE (rev, sub) >= (?, ?) AND rev <= ? AND ${selSql(sel, 'key')} ORDER BY rev, sub LIMIT ?`;
    const rows = this.stmt(sql).all(rev, sub, to, ...selParams(sel), max) as unknown as HistRow[];
    const last = rows[rows.length - 1];
    return { events: rows.map(rowToEvent), next: rows.length === max && last ? [last.rev, last.sub + 1] : null };
  }

  /** Keys attached to a lease, in key order. */
  leaseKeys(id: string): Buffer[] {
    return this.live.withLease(id).map((e) => e.key);
  }

  // ---------------------------------------------------------------- writes

  beginWrite(): WriteCtx {
    return { rev: this.rev + 1, sub: 0, events: [] };
  }

  /** Ends a successful write: the revision advances if it changed anything. */
  endWrite(ctx: WriteCtx): void {
    if (ctx.sub > 0) this.rev = ctx.rev;
  }

  /**
   * etcd's put checks: the lease exists and ignore_value/ignore_lease have a key to keep
   * from. A plain Put checks the lease first; inside a txn (checkRequestPut) the key first.
   */
  checkPut(p: PutRequest, inTxn = false): void {
    const lease = leaseStr(p.lease);
    const missingKey = (p.ignore_value || p.ignore_lease) && !this.live.get(p.key);
    if (inTxn && missingKey) throw Errors.keyNotFound();
    if (lease !== '0' && !this.leases.has(lease)) throw Errors.leaseNotFound();
    if (missingKey) throw Errors.keyNotFound();
  }

  put(ctx: WriteCtx, p: PutRequest): PutResponse {
    const prev = this.live.get(p.key);
    // copies: the request's buffers are views into the whole gRPC message
    const value = p.ignore_value ? (prev?.value ?? EMPTY) : Buffer.from(p.value);
    const key = Buffer.from(p.key);
    const lease = p.ignore_lease ? (prev?.lease ?? '0') : leaseStr(p.lease);
    const rev = ctx.rev;
    const sub = ctx.sub++;
    const create = prev ? prev.create_rev : rev;
    const version = prev ? prev.version + 1 : 1;
    this.s.histIns!.run(rev, sub, key, create, version, value, lease === '0' ? 0 : BigInt(lease), 0);
    this.live.set({ key, rev, sub, create_rev: create, version, lease, value });
    ctx.events.push({ type: 0, kv: { key, create_revision: create, mod_revision: rev, version, value, lease } });
    return { header: { revision: rev }, prev_kv: p.prev_kv && prev ? toKv(prev, true) : null };
  }

  deleteRange(ctx: WriteCtx, d: DeleteRangeRequest): DeleteRangeResponse {
    const sel = keySel(d.key, d.range_end);
    const rows = this.select(sel, null, d.prev_kv, -1);
    this.deleteRows(ctx, rows);
    return {
      header: { revision: this.viewRev(ctx) },
      deleted: rows.length,
      prev_kvs: d.prev_kv ? rows.map((x) => toKv(x, true)) : [],
    };
  }

  private deleteRows(ctx: WriteCtx, rows: { key: Uint8Array }[]): void {
    const rev = ctx.rev;
    for (const row of rows) {
      const key = asBuf(row.key);
      this.s.histIns!.run(rev, ctx.sub++, key, 0, 0, null, 0, 1);
      this.live.delete(key);
      ctx.events.push({ type: 1, kv: { key, create_revision: 0, mod_revision: rev, version: 0, value: EMPTY, lease: '0' } });
    }
  }

  // ---- txn

  /** Evaluates all compares (including nested txns on the taken path) against the current state. */
  private comparePath(t: TxnRequest): boolean[] {
    const ok = t.compare.every((c) => this.applyCompare(c));
    const path = [ok];
    for (const op of ok ? t.success : t.failure) {
      if (op.request_txn) path.push(...this.comparePath(op.request_txn));
    }
    return path;
  }

  private applyCompare(c: Compare): boolean {
    const sel = keySel(c.key, c.range_end);
    const rows = this.select(sel, null, c.target === 3, -1);
    if (rows.length === 0) {
      if (c.target === 3) return false;
      return compareKv(c, null);
    }
    return rows.every((r) => compareKv(c, r));
  }

  /**
   * etcd's checkRequests over the taken path (nested txns included), one kind of op per
   * pass: `f` is called for every non-txn op in order.
   */
  private checkTxn(t: TxnRequest, path: boolean[], i: number, f: (op: RequestOp) => void): number {
    const ops = path[i] ? t.success : t.failure;
    let next = i + 1;
    for (const op of ops) {
      if (op.request_txn) next = this.checkTxn(op.request_txn, path, next, f);
      else f(op);
    }
    return next;
  }

  /** Runs a txn; read-only txns should pass ctx with no intent to change (they will not). */
  txn(ctx: WriteCtx, t: TxnRequest): TxnResponse {
    const path = this.comparePath(t);
    // etcd checks every put on the path first (write txns only), then every range
    if (MvccStore.txnWrites(t)) this.checkTxn(t, path, 0, (op) => op.request_put && this.checkPut(op.request_put, true));
    this.checkTxn(t, path, 0, (op) => op.request_range && this.checkRangeRev(op.request_range, this.rev));
    const resp = this.execTxn(ctx, t, path, { i: 0 });
    resp.header = { revision: this.viewRev(ctx) };
    return resp;
  }

  /** Runs the taken branch; a nested txn's response has an empty header, as in etcd. */
  private execTxn(ctx: WriteCtx, t: TxnRequest, path: boolean[], pos: { i: number }): TxnResponse {
    const succeeded = path[pos.i++]!;
    const ops = succeeded ? t.success : t.failure;
    const responses: ResponseOp[] = [];
    for (const op of ops) responses.push(this.execOp(ctx, op, path, pos));
    return { header: { revision: 0 }, succeeded, responses };
  }

  private execOp(ctx: WriteCtx, op: RequestOp, path: boolean[], pos: { i: number }): ResponseOp {
    if (op.request_range) return { response_range: this.range(op.request_range, ctx) };
    if (op.request_put) return { response_put: this.put(ctx, op.request_put) };
    if (op.request_delete_range) return { response_delete_range: this.deleteRange(ctx, op.request_delete_range) };
    if (op.request_txn) return { response_txn: this.execTxn(ctx, op.request_txn, path, pos) };
    return {};
  }

  /** True if the txn has any put/delete on any branch (etcd's !IsTxnReadonly). */
  static txnWrites(t: TxnRequest): boolean {
    const w = (op: RequestOp): boolean => op.request_range == null || !!op.request_txn;
    return t.success.some(w) || t.failure.some(w);
  }

  // ---- compaction

  compact(revision: number): void {
    if (revision <= this.compactRev) throw Errors.compacted();
    if (revision > this.rev) throw Errors.futureRev();
    // Keep, per key, the newest row at or below the compaction revision unless it is a
    // deletion (at the revision itself too, as etcd's keyIndex.keep drops it); everything
    // older goes. Puts at `revision` stay (watchable from there).
    this.stmt(
      `DELETE FROM history WHERE rev <= ?1 AND (tomb = 1 OR (rev < ?1 AND EXISTS (SELECT 1 FROM history h2 WHERE h2.key = history.key AND h2.rev > history.rev AND h2.rev <= ?1)))`,
    ).run(revision);
    this.compactRev = revision;
    this.s.metaSet!.run('compact_rev', String(revision));
  }

  // ---- HashKV

  /**
   * etcd's HashKV: CRC-32C (Castagnoli) of "key" and then, in revision order, every stored
   * version up to `rev` as etcd's backend holds it — the 17-byte revision (8-byte main, '_',
   * 8-byte sub; a deletion adds 't') and the KeyValue (a deletion: the key alone). Versions at
   * or below the compaction revision count only if visible at `rev` (unless none is).
   */
  hashKv(rev: number): { hash: number; current: number; compact: number } {
    if (rev > 0 && rev <= this.compactRev) throw Errors.compacted();
    if (rev > this.rev) throw Errors.futureRev();
    const at = rev === 0 ? this.rev : rev; // a negative revision hashes nothing (etcd)
    const rows = this.stmt(
      `SELECT key, rev, sub, create_rev, version, CAST(lease AS TEXT) AS lease, value, tomb,
         (tomb = 0 AND NOT EXISTS (SELECT 1 FROM history h2 WHERE h2.key = history.key AND h2.rev > history.rev AND h2.rev <= ?1)) AS visible
       FROM history WHERE rev <= ?1 ORDER BY rev, sub`,
    ).all(at) as unknown as (HistRow & { visible: number })[];
    const anyVisible = rows.some((r) => r.visible);
    let crc = crc32c(0, Buffer.from('key'));
    const k = Buffer.alloc(18);
    for (const r of rows) {
      if (r.rev <= this.compactRev && anyVisible && !r.visible) continue;
      k.writeBigUInt64BE(BigInt(r.rev), 0);
      k[8] = 0x5f;
      k.writeBigUInt64BE(BigInt(r.sub), 9);
      k[17] = 0x74;
      crc = crc32c(crc, r.tomb ? k : k.subarray(0, 17));
      const kv = r.tomb ? { key: asBuf(r.key), create_revision: 0, mod_revision: 0, version: 0, value: EMPTY, lease: '0' } : toKv(r, true);
      crc = crc32c(crc, encodeKeyValue(kv));
    }
    return { hash: crc, current: this.rev, compact: this.compactRev };
  }

  // ---- leases

  grantLease(id: string, ttl: number): void {
    this.s.leaseIns!.run(BigInt(id), ttl);
    this.leases.set(id, ttl);
  }

  /** Deletes the lease and every key attached to it, as one revision. */
  revokeLease(ctx: WriteCtx, id: string): void {
    this.deleteRows(ctx, this.live.withLease(id));
    this.s.leaseDel!.run(BigInt(id));
    this.leases.delete(id);
  }
}

let CRC32C_TABLE: Uint32Array | null = null;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continued from `crc`. */
export function crc32c(crc: number, data: Uint8Array): number {
  let t = CRC32C_TABLE;
  if (!t) {
    t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      t[n] = c >>> 0;
    }
    CRC32C_TABLE = t;
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
  return ~c >>> 0;
}

function rowToEvent(r: HistRow): Event {
  if (r.tomb) {
    return { type: 1, kv: { key: asBuf(r.key), create_revision: 0, mod_revision: r.rev, version: 0, value: EMPTY, lease: '0' } };
  }
  return { type: 0, kv: toKv(r, true) };
}

function comparator(target: number): (a: LiveRow, b: LiveRow) => number {
  switch (target) {
    case 1:
      return (a, b) => a.version - b.version;
    case 2:
      return (a, b) => a.create_rev - b.create_rev;
    case 3:
      return (a, b) => a.rev - b.rev;
    case 4:
      return (a, b) => Buffer.compare(asBuf(a.value), asBuf(b.value));
    default:
      return (a, b) => Buffer.compare(asBuf(a.key), asBuf(b.key));
  }
}

function compareKv(c: Compare, r: LiveRow | null): boolean {
  let result: number;
  switch (c.target) {
    case 3: {
      const v = c.value ?? EMPTY;
      result = Buffer.compare(asBuf(r?.value), v);
      break;
    }
    case 1:
      result = Math.sign((r?.create_rev ?? 0) - num(c.create_revision));
      break;
    case 2:
      result = Math.sign((r?.rev ?? 0) - num(c.mod_revision));
      break;
    case 4: {
      const a = BigInt(r?.lease ?? '0');
      const b = BigInt(c.lease ?? 0);
      result = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    case 0:
      result = Math.sign((r?.version ?? 0) - num(c.version));
      break;
    default:
      result = 0; // an unknown target compares equal (etcd)
  }
  switch (c.result) {
    case 0:
      return result === 0;
    case 3:
      return result !== 0;
    case 1:
      return result > 0;
    case 2:
      return result < 0;
    default:
      return true;
  }
}
