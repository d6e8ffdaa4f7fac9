// Hand-written protobuf codecs for the hot messages (Range, Put, DeleteRange, Txn requests
// and responses, WatchResponse, ResponseHeader, KeyValue, Event), used instead of protobufjs.
// They produce and accept the same shapes as @grpc/proto-loader with LOADER_OPTIONS
// (snake_case fields, bytes as Buffer, enums as numbers, defaults filled in, oneof members
// only when set), except that int64 fields decode to a number when it is a safe integer and
// to a decimal string otherwise (Int64 = string | number; consumers use Number()/BigInt()).
// Encoders omit default values, as proto3 encoders do. Responses are written once into an
// exact-size buffer that already holds the 5-byte gRPC message prefix (`encodeFrame`).
import type {
  Compare,
  Event,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Header,
  Int64,
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

const EMPTY = Buffer.alloc(0);

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoDecodeError';
  }
}

// ---------------------------------------------------------------- reading
// Decoding follows etcd's generated (gogo/protobuf) Unmarshal methods: a known field with the
// wrong wire type, a truncated message, a bad length or an illegal tag is refused with their
// words (grpc-go adds "grpc: error unmarshalling request: "); unknown fields are skipped.

const eof = () => new ProtoDecodeError('unexpected EOF');
const overflow = () => new ProtoDecodeError('proto: integer overflow');
const badLength = () => new ProtoDecodeError('proto: negative length found during unmarshaling');

class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** A varint's low 32 bits, unsigned (tags). */
  u32(): number {
    const b = this.buf;
    let v = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw eof();
      const c = b[this.pos++]!;
      if (shift < 32) v |= (c & 0x7f) << shift;
      shift += 7;
      if (c < 0x80) return v >>> 0;
    }
    throw overflow();
  }

  /**
   * A field's tag, checked as etcd's Unmarshal checks it (`msg` names the message): an end
   * group or field number 0 is refused. Returns the tag; field = tag >>> 3, wire = tag & 7.
   */
  tag(msg: string): number {
    const t = this.u32();
    if ((t & 7) === 4) throw new ProtoDecodeError(`proto: ${msg}: wiretype end group for non-group`);
    if (t >>> 3 === 0) throw new ProtoDecodeError(`proto: ${msg}: illegal tag 0 (wire type ${t})`);
    return t;
  }

  /** An int64 varint: a number if it is a safe integer, else its decimal string. */
  i64(): Int64 {
    const b = this.buf;
    const start = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw eof();
      const c = b[this.pos++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
    }
    // 8 to 10 bytes: exact through BigInt, as a signed 64-bit value
    this.pos = start;
    const s = BigInt.asIntN(64, this.big());
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s.toString();
  }

  /** A uint64 varint as a decimal string (member ids). */
  u64(): string {
    return BigInt.asUintN(64, this.big()).toString();
  }

  private big(): bigint {
    const b = this.buf;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw eof();
      const c = b[this.pos++]!;
      big |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if (c < 0x80) return big;
    }
    throw overflow();
  }

  /** A bool: any non-zero varint. */
  bool(): boolean {
    const v = this.i64();
    return v !== 0;
  }

  /** An enum (int32): the low 32 bits, signed. */
  enum(): number {
    const v = this.i64();
    return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, BigInt(v)));
  }

  len(): number {
    const n = this.i64();
    if (typeof n === 'string') throw n.startsWith('-') ? badLength() : eof();
    if (n < 0) throw badLength();
    if (n > this.end - this.pos) throw eof();
    return n;
  }

  /** A view of the bytes (no copy; the store copies what it keeps). */
  bytes(): Buffer {
    const n = this.len();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  sub(): Reader {
    const n = this.len();
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Skips an unknown field whose tag started at `from` (etcd's skipRpc, groups included). */
  skip(from: number): void {
    this.pos = from;
    this.skipOne();
    if (this.pos > this.end) throw eof();
  }

  private skipOne(): void {
    const wire = this.u32() & 7;
    switch (wire) {
      case 0:
        for (let i = 0; ; i++) {
          if (i === 10) throw overflow();
          if (this.pos >= this.end) throw eof();
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case 1:
        this.pos += 8;
        return;
      case 2: {
        const n = this.i64();
        if (typeof n === 'string' ? n.startsWith('-') : n < 0) throw badLength();
        this.pos += Number(n);
        return;
      }
      case 3:
        // a group: fields until its end-group tag
        for (;;) {
          const at = this.pos;
          if ((this.u32() & 7) === 4) return;
          this.pos = at;
          this.skipOne();
        }
      case 4:
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new ProtoDecodeError(`proto: illegal wireType ${wire}`);
    }
  }
}

/** Refuses a known field sent with another wire type (etcd names the Go field). */
function want(w: number, expected: number, field: string): void {
  if (w !== expected) throw new ProtoDecodeError(`proto: wrong wireType = ${w} for field ${field}`);
}

function readRange(r: Reader): RangeRequest {
  const m: RangeRequest = {
    key: EMPTY,
    range_end: EMPTY,
    limit: 0,
    revision: 0,
    sort_order: 0,
    sort_target: 0,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0,
    max_mod_revision: 0,
    min_create_revision: 0,
    max_create_revision: 0,
  };
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('RangeRequest');
    const w = tag & 7;
    switch (tag >>> 3) {
      case 1:
        want(w, 2, 'Key');
        m.key = r.bytes();
        break;
      case 2:
        want(w, 2, 'RangeEnd');
        m.range_end = r.bytes();
        break;
      case 3:
        want(w, 0, 'Limit');
        m.limit = r.i64();
        break;
      case 4:
        want(w, 0, 'Revision');
        m.revision = r.i64();
        break;
      case 5:
        want(w, 0, 'SortOrder');
        m.sort_order = r.enum();
        break;
      case 6:
        want(w, 0, 'SortTarget');
        m.sort_target = r.enum();
        break;
      case 7:
        want(w, 0, 'Serializable');
        m.serializable = r.bool();
        break;
      case 8:
        want(w, 0, 'KeysOnly');
        m.keys_only = r.bool();
        break;
      case 9:
        want(w, 0, 'CountOnly');
        m.count_only = r.bool();
        break;
      case 10:
        want(w, 0, 'MinModRevision');
        m.min_mod_revision = r.i64();
        break;
      case 11:
        want(w, 0, 'MaxModRevision');
        m.max_mod_revision = r.i64();
        break;
      case 12:
        want(w, 0, 'MinCreateRevision');
        m.min_create_revision = r.i64();
        break;
      case 13:
        want(w, 0, 'MaxCreateRevision');
        m.max_create_revision = r.i64();
        break;
      default:
        r.skip(at);
    }
  }
  return m;
}

function readPut(r: Reader): PutRequest {
  const m: PutRequest = { key: EMPTY, value: EMPTY, lease: 0, prev_kv: false, ignore_value: false, ignore_lease: false };
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('PutRequest');
    const w = tag & 7;
    switch (tag >>> 3) {
      case 1:
        want(w, 2, 'Key');
        m.key = r.bytes();
        break;
      case 2:
        want(w, 2, 'Value');
        m.value = r.bytes();
        break;
      case 3:
        want(w, 0, 'Lease');
        m.lease = r.i64();
        break;
      case 4:
        want(w, 0, 'PrevKv');
        m.prev_kv = r.bool();
        break;
      case 5:
        want(w, 0, 'IgnoreValue');
        m.ignore_value = r.bool();
        break;
      case 6:
        want(w, 0, 'IgnoreLease');
        m.ignore_lease = r.bool();
        break;
      default:
        r.skip(at);
    }
  }
  return m;
}

function readDelete(r: Reader): DeleteRangeRequest {
  const m: DeleteRangeRequest = { key: EMPTY, range_end: EMPTY, prev_kv: false };
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('DeleteRangeRequest');
    const w = tag & 7;
    switch (tag >>> 3) {
      case 1:
        want(w, 2, 'Key');
        m.key = r.bytes();
        break;
      case 2:
        want(w, 2, 'RangeEnd');
        m.range_end = r.bytes();
        break;
      case 3:
        want(w, 0, 'PrevKv');
        m.prev_kv = r.bool();
        break;
      default:
        r.skip(at);
    }
  }
  return m;
}

const COMPARE_UNION = { 4: 'version', 5: 'create_revision', 6: 'mod_revision', 7: 'value', 8: 'lease' } as const;
const COMPARE_UNION_GO = { 4: 'Version', 5: 'CreateRevision', 6: 'ModRevision', 7: 'Value', 8: 'Lease' } as const;

function readCompare(r: Reader): Compare {
  const m: Compare = { result: 0, target: 0, key: EMPTY, range_end: EMPTY };
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('Compare');
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 1) {
      want(w, 0, 'Result');
      m.result = r.enum();
    } else if (f === 2) {
      want(w, 0, 'Target');
      m.target = r.enum();
    } else if (f === 3) {
      want(w, 2, 'Key');
      m.key = r.bytes();
    } else if (f === 64) {
      want(w, 2, 'RangeEnd');
      m.range_end = r.bytes();
    } else if (f >= 4 && f <= 8) {
      const u = f as 4 | 5 | 6 | 7 | 8;
      want(w, u === 7 ? 2 : 0, COMPARE_UNION_GO[u]);
      // oneof target_union: the last one on the wire wins
      delete m.version;
      delete m.create_revision;
      delete m.mod_revision;
      delete m.value;
      delete m.lease;
      m.target_union = COMPARE_UNION[u];
      if (u === 7) m.value = r.bytes();
      else m[COMPARE_UNION[u]] = r.i64();
    } else r.skip(at);
  }
  return m;
}

const OP_UNION = { 1: 'request_range', 2: 'request_put', 3: 'request_delete_range', 4: 'request_txn' } as const;
const OP_UNION_GO = { 1: 'RequestRange', 2: 'RequestPut', 3: 'RequestDeleteRange', 4: 'RequestTxn' } as const;

function readOp(r: Reader, depth: number): RequestOp {
  const m: RequestOp = {};
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('RequestOp');
    const f = tag >>> 3;
    if (f >= 1 && f <= 4) {
      const u = f as 1 | 2 | 3 | 4;
      want(tag & 7, 2, OP_UNION_GO[u]);
      const s = r.sub();
      delete m.request_range;
      delete m.request_put;
      delete m.request_delete_range;
      delete m.request_txn;
      m.request = OP_UNION[u];
      if (u === 1) m.request_range = readRange(s);
      else if (u === 2) m.request_put = readPut(s);
      else if (u === 3) m.request_delete_range = readDelete(s);
      else m.request_txn = readTxn(s, depth + 1);
    } else r.skip(at);
  }
  return m;
}

function readTxn(r: Reader, depth = 0): TxnRequest {
  // etcd has no such limit, but its op budget (--max-txn-ops) ends nesting near 128 levels;
  // this only keeps absurd input from exhausting the stack
  if (depth > 1000) throw new ProtoDecodeError('txn nested too deeply');
  const m: TxnRequest = { compare: [], success: [], failure: [] };
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('TxnRequest');
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 1) {
      want(w, 2, 'Compare');
      m.compare.push(readCompare(r.sub()));
    } else if (f === 2) {
      want(w, 2, 'Success');
      m.success.push(readOp(r.sub(), depth));
    } else if (f === 3) {
      want(w, 2, 'Failure');
      m.failure.push(readOp(r.sub(), depth));
    } else r.skip(at);
  }
  return m;
}

// Small messages of the other services, by a field table: [number, our field, Go field, kind].
// Integers come out as decimal strings, bytes as views, a repeated enum (packed or not) as numbers.
type Kind = 'i64' | 'u64' | 'bool' | 'enum' | 'bytes' | 'enums';
type FieldSpec = readonly [number, string, string, Kind];

function tableDecoder(msg: string, fields: readonly FieldSpec[]): (buf: Buffer) => Record<string, unknown> {
  const byNum = new Map(fields.map((f) => [f[0], f] as const));
  const zero = (kind: Kind): unknown => (kind === 'bool' ? false : kind === 'enum' ? 0 : kind === 'bytes' ? EMPTY : kind === 'enums' ? [] : '0');
  return (buf: Buffer) => {
    const m: Record<string, unknown> = {};
    for (const [, name, , kind] of fields) m[name] = zero(kind);
    const r = new Reader(buf);
    while (r.pos < r.end) {
      const at = r.pos;
      const tag = r.tag(msg);
      const spec = byNum.get(tag >>> 3);
      if (!spec) {
        r.skip(at);
        continue;
      }
      const [, name, goName, kind] = spec;
      const w = tag & 7;
      if (kind === 'enums' && w === 2) {
        const s = r.sub();
        while (s.pos < s.end) (m[name] as number[]).push(s.enum());
        continue;
      }
      want(w, kind === 'bytes' ? 2 : 0, goName);
      if (kind === 'enums') (m[name] as number[]).push(r.enum());
      else m[name] = kind === 'i64' ? String(r.i64()) : kind === 'u64' ? r.u64() : kind === 'bool' ? r.bool() : kind === 'bytes' ? r.bytes() : r.enum();
    }
    return m;
  };
}

/** Request decoders of the Lease, Maintenance and Cluster methods we serve (ints as decimal strings). */
export const tableDecoders: Record<string, Record<string, (buf: Buffer) => Record<string, unknown>>> = {
  KV: {
    Compact: tableDecoder('CompactionRequest', [
      [1, 'revision', 'Revision', 'i64'],
      [2, 'physical', 'Physical', 'bool'],
    ]),
  },
  Lease: {
    LeaseGrant: tableDecoder('LeaseGrantRequest', [
      [1, 'TTL', 'TTL', 'i64'],
      [2, 'ID', 'ID', 'i64'],
    ]),
    LeaseRevoke: tableDecoder('LeaseRevokeRequest', [[1, 'ID', 'ID', 'i64']]),
    LeaseKeepAlive: tableDecoder('LeaseKeepAliveRequest', [[1, 'ID', 'ID', 'i64']]),
    LeaseTimeToLive: tableDecoder('LeaseTimeToLiveRequest', [
      [1, 'ID', 'ID', 'i64'],
      [2, 'keys', 'Keys', 'bool'],
    ]),
    LeaseLeases: tableDecoder('LeaseLeasesRequest', []),
  },
  Maintenance: {
    Alarm: tableDecoder('AlarmRequest', [
      [1, 'action', 'Action', 'enum'],
      [2, 'memberID', 'MemberID', 'u64'],
      [3, 'alarm', 'Alarm', 'enum'],
    ]),
    Status: tableDecoder('StatusRequest', []),
    MoveLeader: tableDecoder('MoveLeaderRequest', [[1, 'targetID', 'TargetID', 'u64']]),
    HashKV: tableDecoder('HashKVRequest', [[1, 'revision', 'Revision', 'i64']]),
    Defragment: tableDecoder('DefragmentRequest', []),
  },
  Cluster: {
    // etcd 3.4's MemberListRequest has no fields (3.5 added linearizable = 1)
    MemberList: tableDecoder('MemberListRequest', []),
  },
};

/** WatchCreateRequest (field 1 of WatchRequest), as watch-hub.ts reads it. */
const decodeWatchCreate = tableDecoder('WatchCreateRequest', [
  [1, 'key', 'Key', 'bytes'],
  [2, 'range_end', 'RangeEnd', 'bytes'],
  [3, 'start_revision', 'StartRevision', 'i64'],
  [4, 'progress_notify', 'ProgressNotify', 'bool'],
  [5, 'filters', 'Filters', 'enums'],
  [6, 'prev_kv', 'PrevKv', 'bool'],
  [7, 'watch_id', 'WatchId', 'i64'],
  [8, 'fragment', 'Fragment', 'bool'],
]);
const decodeWatchCancel = tableDecoder('WatchCancelRequest', [[1, 'watch_id', 'WatchId', 'i64']]);
const decodeWatchProgress = tableDecoder('WatchProgressRequest', []);

/** WatchRequest: one of create_request (1), cancel_request (2), progress_request (3). */
export function decodeWatchRequest(buf: Buffer): Record<string, unknown> {
  const r = new Reader(buf);
  const m: Record<string, unknown> = {};
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.tag('WatchRequest');
    const f = tag >>> 3;
    if (f >= 1 && f <= 3) {
      want(tag & 7, 2, f === 1 ? 'CreateRequest' : f === 2 ? 'CancelRequest' : 'ProgressRequest');
      const s = r.sub();
      delete m.create_request;
      delete m.cancel_request;
      delete m.progress_request;
      if (f === 1) m.create_request = decodeWatchCreate(s.buf.subarray(s.pos, s.end));
      else if (f === 2) m.cancel_request = decodeWatchCancel(s.buf.subarray(s.pos, s.end));
      else m.progress_request = decodeWatchProgress(s.buf.subarray(s.pos, s.end));
      m.request_union = f === 1 ? 'create_request' : f === 2 ? 'cancel_request' : 'progress_request';
    } else r.skip(at);
  }
  return m;
}

/** grpc.health.v1.HealthCheckRequest { string service = 1 }. */
export function decodeHealthCheckRequest(buf: Buffer): { service: string } {
  const r = new Reader(buf);
  let service = '';
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.u32();
    if (tag === 0x0a) service = r.bytes().toString('utf8');
    else r.skip(at);
  }
  return { service };
}
/** grpc.health.v1.HealthCheckResponse { status: SERVING (1) }. */
export const HEALTH_SERVING = Buffer.from([0x08, 0x01]);
export const decodeRangeRequest = (buf: Buffer): RangeRequest => readRange(new Reader(buf));
export const decodePutRequest = (buf: Buffer): PutRequest => readPut(new Reader(buf));
export const decodeDeleteRangeRequest = (buf: Buffer): DeleteRangeRequest => readDelete(new Reader(buf));
export const decodeTxnRequest = (buf: Buffer): TxnRequest => readTxn(new Reader(buf));

// ---------------------------------------------------------------- writing (size, then write)

const TWO_64 = 1n << 64n;

/** An int64/uint64 value as a non-negative varint value: a number when exact, else a bigint. */
function vint(v: Int64 | bigint | null | undefined): number | bigint {
  if (v == null) return 0;
  if (typeof v === 'number') {
    if (v >= 0 && Number.isSafeInteger(v)) return v;
    v = BigInt(Math.trunc(v));
  } else if (typeof v === 'string') {
    if (v.length < 16 && /^\d+$/.test(v)) return Number(v);
    v = BigInt(v);
  }
  return v < 0n ? v + TWO_64 : v;
}

/** Bytes of a protobuf varint holding `v` (non-negative). */
export function vlen(v: number | bigint): number {
  if (typeof v === 'number') {
    let n = 1;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }
  let n = 1;
  while (v >= 128n) {
    v >>= 7n;
    n++;
  }
  return n;
}

class Writer {
  readonly buf: Buffer;
  pos: number;
  constructor(buf: Buffer, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }
  varint(v: number | bigint): void {
    const b = this.buf;
    if (typeof v === 'number') {
      while (v >= 128) {
        b[this.pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      b[this.pos++] = v;
      return;
    }
    while (v >= 128n) {
      b[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    b[this.pos++] = Number(v);
  }
  raw(src: Buffer): void {
    src.copy(this.buf, this.pos);
    this.pos += src.length;
  }
  bytesField(tagByte: number, v: Buffer): void {
    this.buf[this.pos++] = tagByte;
    this.varint(v.length);
    this.raw(v);
  }
}

// Field sizes: tag (1 byte for fields < 16) + payload.
const sizeBytes = (v: Buffer | null | undefined): number => (v && v.length ? 1 + vlen(v.length) + v.length : 0);
const sizeInt = (v: number | bigint): number => (v === 0 || v === 0n ? 0 : 1 + vlen(v));
const sizeMsg = (n: number): number => 1 + vlen(n) + n;
/** Records a nested message's size (for the write pass) and returns its size as a field. */
const nested = (sz: number[], n: number): number => {
  sz.push(n);
  return sizeMsg(n);
};

/** ResponseHeader: cluster_id and member_id (fields 1, 2) and raft_term (4) encoded once per value. */
let headerCache: { cluster: string | undefined; member: string | undefined; term: string | undefined; pre: Buffer; post: Buffer } | null = null;

/** The parts of a header without identity or term (the headers inside a txn's responses). */
const NO_IDENTITY = { pre: EMPTY, post: EMPTY };

function headerParts(h: Header): { pre: Buffer; post: Buffer } {
  if (h.cluster_id === undefined && h.member_id === undefined && h.raft_term === undefined) return NO_IDENTITY;
  const c = headerCache;
  if (c && c.cluster === h.cluster_id && c.member === h.member_id && c.term === h.raft_term) return c;
  const field = (tag: number, v: number | bigint): Buffer => {
    if (v === 0 || v === 0n) return EMPTY;
    const b = Buffer.alloc(1 + vlen(v));
    const w = new Writer(b, 0);
    b[w.pos++] = tag;
    w.varint(v);
    return b;
  };
  const pre = Buffer.concat([field(0x08, vint(h.cluster_id)), field(0x10, vint(h.member_id))]);
  const post = field(0x20, vint(h.raft_term));
  headerCache = { cluster: h.cluster_id, member: h.member_id, term: h.raft_term, pre, post };
  return headerCache;
}

function sizeHeader(h: Header): number {
  const p = headerParts(h);
  return p.pre.length + sizeInt(vint(h.revision)) + p.post.length;
}
function writeHeader(w: Writer, h: Header, size: number): void {
  const p = headerParts(h);
  w.buf[w.pos++] = 0x0a;
  w.varint(size);
  w.raw(p.pre);
  const rev = vint(h.revision);
  if (rev !== 0) {
    w.buf[w.pos++] = 0x18;
    w.varint(rev);
  }
  w.raw(p.post);
}

function sizeKv(kv: KeyValue): number {
  return (
    sizeBytes(kv.key) +
    sizeInt(vint(kv.create_revision)) +
    sizeInt(vint(kv.mod_revision)) +
    sizeInt(vint(kv.version)) +
    sizeBytes(kv.value) +
    sizeInt(vint(kv.lease))
  );
}
function writeInt(w: Writer, tagByte: number, v: number | bigint): void {
  if (v === 0 || v === 0n) return;
  w.buf[w.pos++] = tagByte;
  w.varint(v);
}
function writeKv(w: Writer, tagByte: number, kv: KeyValue, size: number): void {
  w.buf[w.pos++] = tagByte;
  w.varint(size);
  if (kv.key && kv.key.length) w.bytesField(0x0a, kv.key);
  writeInt(w, 0x10, vint(kv.create_revision));
  writeInt(w, 0x18, vint(kv.mod_revision));
  writeInt(w, 0x20, vint(kv.version));
  if (kv.value && kv.value.length) w.bytesField(0x2a, kv.value);
  writeInt(w, 0x30, vint(kv.lease));
}

// Each message is sized in one pass (sizes of nested messages kept in `sz`, in write order)
// and written in a second pass that consumes them.
type Sizes = number[];

function sizeRangeResp(m: RangeResponse, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = 0;
  if (m.header) n += nested(sz, sizeHeader(m.header));
  for (const kv of m.kvs) n += nested(sz, sizeKv(kv));
  if (m.more) n += 2;
  n += sizeInt(vint(m.count));
  sz[slot] = n;
  return n;
}
function writeRangeResp(w: Writer, m: RangeResponse, sz: Sizes, i: { i: number }): void {
  i.i++;
  if (m.header) writeHeader(w, m.header, sz[i.i++]!);
  for (const kv of m.kvs) writeKv(w, 0x12, kv, sz[i.i++]!);
  if (m.more) {
    w.buf[w.pos++] = 0x18;
    w.buf[w.pos++] = 1;
  }
  writeInt(w, 0x20, vint(m.count));
}

function sizePutResp(m: PutResponse, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = 0;
  if (m.header) n += nested(sz, sizeHeader(m.header));
  if (m.prev_kv) n += nested(sz, sizeKv(m.prev_kv));
  sz[slot] = n;
  return n;
}
function writePutResp(w: Writer, m: PutResponse, sz: Sizes, i: { i: number }): void {
  i.i++;
  if (m.header) writeHeader(w, m.header, sz[i.i++]!);
  if (m.prev_kv) writeKv(w, 0x12, m.prev_kv, sz[i.i++]!);
}

function sizeDeleteResp(m: DeleteRangeResponse, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = 0;
  if (m.header) n += nested(sz, sizeHeader(m.header));
  n += sizeInt(vint(m.deleted));
  for (const kv of m.prev_kvs ?? []) n += nested(sz, sizeKv(kv));
  sz[slot] = n;
  return n;
}
function writeDeleteResp(w: Writer, m: DeleteRangeResponse, sz: Sizes, i: { i: number }): void {
  i.i++;
  if (m.header) writeHeader(w, m.header, sz[i.i++]!);
  writeInt(w, 0x10, vint(m.deleted));
  for (const kv of m.prev_kvs ?? []) writeKv(w, 0x1a, kv, sz[i.i++]!);
}

function sizeOp(m: ResponseOp, sz: Sizes): number {
  if (m.response_range) return sizeMsg(sizeRangeResp(m.response_range, sz));
  if (m.response_put) return sizeMsg(sizePutResp(m.response_put, sz));
  if (m.response_delete_range) return sizeMsg(sizeDeleteResp(m.response_delete_range, sz));
  if (m.response_txn) return sizeMsg(sizeTxnResp(m.response_txn, sz));
  return 0;
}
function writeOp(w: Writer, m: ResponseOp, sz: Sizes, i: { i: number }): void {
  const tagged = (tagByte: number, write: () => void) => {
    w.buf[w.pos++] = tagByte;
    w.varint(sz[i.i]!);
    write();
  };
  if (m.response_range) tagged(0x0a, () => writeRangeResp(w, m.response_range!, sz, i));
  else if (m.response_put) tagged(0x12, () => writePutResp(w, m.response_put!, sz, i));
  else if (m.response_delete_range) tagged(0x1a, () => writeDeleteResp(w, m.response_delete_range!, sz, i));
  else if (m.response_txn) tagged(0x22, () => writeTxnResp(w, m.response_txn!, sz, i));
}

function sizeTxnResp(m: TxnResponse, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = 0;
  if (m.header) n += nested(sz, sizeHeader(m.header));
  if (m.succeeded) n += 2;
  for (const op of m.responses) {
    const opSlot = sz.length;
    sz.push(0);
    const o = sizeOp(op, sz);
    sz[opSlot] = o;
    n += sizeMsg(o);
  }
  sz[slot] = n;
  return n;
}
function writeTxnResp(w: Writer, m: TxnResponse, sz: Sizes, i: { i: number }): void {
  i.i++;
  if (m.header) writeHeader(w, m.header, sz[i.i++]!);
  if (m.succeeded) {
    w.buf[w.pos++] = 0x10;
    w.buf[w.pos++] = 1;
  }
  for (const op of m.responses) {
    w.buf[w.pos++] = 0x1a;
    w.varint(sz[i.i++]!);
    writeOp(w, op, sz, i);
  }
}

/** WatchResponse (what a watch stream sends: created/canceled notices, progress, events). */
export interface WatchResponseMsg {
  header?: Header | null;
  watch_id?: Int64;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: Int64;
  cancel_reason?: string;
  fragment?: boolean;
  events?: Event[];
}

function sizeEvent(e: Event, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = e.type ? 1 + vlen(e.type) : 0;
  n += nested(sz, sizeKv(e.kv));
  if (e.prev_kv) n += nested(sz, sizeKv(e.prev_kv));
  sz[slot] = n;
  return n;
}
function writeEvent(w: Writer, e: Event, sz: Sizes, i: { i: number }): void {
  w.buf[w.pos++] = 0x5a; // field 11, length-delimited
  w.varint(sz[i.i++]!);
  if (e.type) {
    w.buf[w.pos++] = 0x08;
    w.varint(e.type);
  }
  writeKv(w, 0x12, e.kv, sz[i.i++]!);
  if (e.prev_kv) writeKv(w, 0x1a, e.prev_kv, sz[i.i++]!);
}

function sizeWatchResp(m: WatchResponseMsg, sz: Sizes): number {
  const slot = sz.length;
  sz.push(0);
  let n = 0;
  if (m.header) n += nested(sz, sizeHeader(m.header));
  n += sizeInt(vint(m.watch_id));
  if (m.created) n += 2;
  if (m.canceled) n += 2;
  n += sizeInt(vint(m.compact_revision));
  if (m.cancel_reason) {
    const b = Buffer.byteLength(m.cancel_reason);
    sz.push(b);
    n += 1 + vlen(b) + b;
  }
  if (m.fragment) n += 2;
  for (const e of m.events ?? []) n += sizeMsg(sizeEvent(e, sz));
  sz[slot] = n;
  return n;
}
function writeWatchResp(w: Writer, m: WatchResponseMsg, sz: Sizes, i: { i: number }): void {
  i.i++;
  if (m.header) writeHeader(w, m.header, sz[i.i++]!);
  writeInt(w, 0x10, vint(m.watch_id));
  if (m.created) {
    w.buf[w.pos++] = 0x18;
    w.buf[w.pos++] = 1;
  }
  if (m.canceled) {
    w.buf[w.pos++] = 0x20;
    w.buf[w.pos++] = 1;
  }
  writeInt(w, 0x28, vint(m.compact_revision));
  if (m.cancel_reason) {
    w.buf[w.pos++] = 0x32;
    w.varint(sz[i.i++]!);
    w.pos += w.buf.write(m.cancel_reason, w.pos, 'utf8');
  }
  if (m.fragment) {
    w.buf[w.pos++] = 0x38;
    w.buf[w.pos++] = 1;
  }
  for (const e of m.events ?? []) writeEvent(w, e, sz, i);
}

/** Encoded size of a WatchResponse (what etcd's fragmenting measures as wr.Size()). */
export function watchResponseSize(m: WatchResponseMsg): number {
  return sizeWatchResp(m, []);
}
/** Bytes one event adds to an encoded WatchResponse (its field tag and length included). */
export function watchEventFieldSize(e: Event): number {
  return sizeMsg(sizeEvent(e, []));
}

/** A KeyValue as etcd stores it in its backend (gogo/protobuf field order, zeros left out). */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const n = sizeKv(kv);
  const buf = Buffer.allocUnsafe(1 + vlen(n) + n);
  writeKv(new Writer(buf, 0), 0x0a, kv, n);
  return buf.subarray(1 + vlen(n));
}

type SizeFn<T> = (m: T, sz: Sizes) => number;
type WriteFn<T> = (w: Writer, m: T, sz: Sizes, i: { i: number }) => void;

function encoder<T>(size: SizeFn<T>, write: WriteFn<T>, prefix: number): (m: T) => Buffer {
  return (m: T) => {
    const sz: Sizes = [];
    const n = size(m, sz);
    const buf = Buffer.allocUnsafe(prefix + n);
    if (prefix) {
      buf[0] = 0;
      buf.writeUInt32BE(n, 1);
    }
    const w = new Writer(buf, prefix);
    write(w, m, sz, { i: 0 });
    if (w.pos !== buf.length) throw new Error(`protobuf encoder wrote ${w.pos - prefix} bytes, sized ${n}`);
    return buf;
  };
}

export const encodeRangeResponse = encoder(sizeRangeResp, writeRangeResp, 0);
export const encodePutResponse = encoder(sizePutResp, writePutResp, 0);
export const encodeDeleteRangeResponse = encoder(sizeDeleteResp, writeDeleteResp, 0);
export const encodeTxnResponse = encoder(sizeTxnResp, writeTxnResp, 0);
export const encodeWatchResponse = encoder(sizeWatchResp, writeWatchResp, 0);

/** The same encoders, writing the 5-byte gRPC message prefix (uncompressed, length) first. */
export const frameEncoders = {
  Range: encoder(sizeRangeResp, writeRangeResp, 5),
  Put: encoder(sizePutResp, writePutResp, 5),
  DeleteRange: encoder(sizeDeleteResp, writeDeleteResp, 5),
  Txn: encoder(sizeTxnResp, writeTxnResp, 5),
} as const;

export const requestDecoders = {
  Range: decodeRangeRequest,
  Put: decodePutRequest,
  DeleteRange: decodeDeleteRangeRequest,
  Txn: decodeTxnRequest,
} as const;

export const responseEncoders = {
  Range: encodeRangeResponse,
  Put: encodePutResponse,
  DeleteRange: encodeDeleteRangeResponse,
  Txn: encodeTxnResponse,
} as const;
