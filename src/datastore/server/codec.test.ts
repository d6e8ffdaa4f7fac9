import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { decodeWatchRequest, encodeWatchResponse, frameEncoders, ProtoDecodeError, requestDecoders, responseEncoders } from './codec.ts';
import { serviceDefinition } from './proto.ts';

// Reference: protobufjs through @grpc/proto-loader, with etcd's own .proto files.
const kv = serviceDefinition('KV') as unknown as Record<string, grpc.MethodDefinition<object, object>>;
const METHODS = ['Range', 'Put', 'DeleteRange', 'Txn'] as const;

// A small deterministic PRNG so a failure is reproducible.
let seed = 0x2545f491;
const rnd = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const chance = (p: number) => rnd() < p;
const bytes = (max = 40): Buffer => Buffer.from(Array.from({ length: Math.floor(rnd() * max) }, () => Math.floor(rnd() * 256)));
const INT64S = ['0', '1', '127', '128', '300', '16383', '16384', '2097152', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '9223372036854775807', '-1', '-2', '-9223372036854775808'];
const int64 = (): string => (chance(0.5) ? String(Math.floor(rnd() * 2 ** (rnd() * 52))) : pick(INT64S));
const uint64 = (): string => (chance(0.5) ? String(Math.floor(rnd() * 2 ** (rnd() * 52))) : pick(['0', '1', '18446744073709551615', '9223372036854775808', '14841639068965178418']));

function randRange(): object {
  return {
    key: bytes(),
    range_end: chance(0.5) ? bytes() : Buffer.alloc(0),
    limit: int64(),
    revision: int64(),
    sort_order: pick([0, 1, 2, 7, -3]),
    sort_target: pick([0, 1, 2, 3, 4]),
    serializable: chance(0.5),
    keys_only: chance(0.5),
    count_only: chance(0.5),
    min_mod_revision: int64(),
    max_mod_revision: int64(),
    min_create_revision: int64(),
    max_create_revision: int64(),
  };
}
const randPut = (): object => ({ key: bytes(), value: bytes(300), lease: int64(), prev_kv: chance(0.5), ignore_value: chance(0.3), ignore_lease: chance(0.3) });
const randDelete = (): object => ({ key: bytes(), range_end: chance(0.5) ? bytes() : Buffer.alloc(0), prev_kv: chance(0.5) });
function randCompare(): object {
  const c: Record<string, unknown> = { result: pick([0, 1, 2, 3]), target: pick([0, 1, 2, 3, 4]), key: bytes(), range_end: chance(0.3) ? bytes() : Buffer.alloc(0) };
  const u = pick(['version', 'create_revision', 'mod_revision', 'value', 'lease', null]);
  if (u === 'value') c['value'] = bytes();
  else if (u) c[u] = int64();
  return c;
}
function randOp(depth: number): object {
  const k = pick(depth > 2 ? [0, 1, 2] : [0, 1, 2, 3]);
  if (k === 0) return { request_range: randRange() };
  if (k === 1) return { request_put: randPut() };
  if (k === 2) return { request_delete_range: randDelete() };
  return { request_txn: randTxn(depth + 1) };
}
function randTxn(depth = 0): object {
  const n = () => Math.floor(rnd() * 4);
  return {
    compare: Array.from({ length: n() }, randCompare),
    success: Array.from({ length: n() }, () => randOp(depth)),
    failure: Array.from({ length: n() }, () => randOp(depth)),
  };
}

const randHeader = (nested = false): object =>
  nested ? { revision: Number(int64().replace('-', '')) % 2 ** 40 } : { cluster_id: uint64(), member_id: uint64(), revision: Math.floor(rnd() * 2 ** 40), raft_term: pick(['2', '0', '7']) };
const randKv = (): object => ({
  key: bytes(),
  create_revision: Math.floor(rnd() * 2 ** 40),
  mod_revision: Math.floor(rnd() * 2 ** 40),
  version: Math.floor(rnd() * 1000),
  value: bytes(300),
  lease: pick(['0', '7587869023848484', '9223372036854775807', String(Math.floor(rnd() * 1e9))]),
});
const randRangeResp = (nested = false): object => ({
  header: randHeader(nested),
  kvs: Array.from({ length: Math.floor(rnd() * 5) }, randKv),
  more: chance(0.5),
  count: Math.floor(rnd() * 1e6),
});
const randPutResp = (nested = false): object => ({ header: randHeader(nested), prev_kv: chance(0.5) ? randKv() : null });
const randDeleteResp = (nested = false): object => ({
  header: randHeader(nested),
  deleted: Math.floor(rnd() * 100),
  prev_kvs: Array.from({ length: Math.floor(rnd() * 3) }, randKv),
});
function randTxnResp(nested = false, depth = 0): object {
  return {
    header: randHeader(nested),
    succeeded: chance(0.5),
    responses: Array.from({ length: Math.floor(rnd() * 4) }, () => {
      const k = pick(depth > 2 ? [0, 1, 2] : [0, 1, 2, 3]);
      if (k === 0) return { response_range: randRangeResp(true) };
      if (k === 1) return { response_put: randPutResp(true) };
      if (k === 2) return { response_delete_range: randDeleteResp(true) };
      return { response_txn: randTxnResp(true, depth + 1) };
    }),
  };
}

const REQ = { Range: randRange, Put: randPut, DeleteRange: randDelete, Txn: () => randTxn() } as const;
const RESP = { Range: () => randRangeResp(), Put: () => randPutResp(), DeleteRange: () => randDeleteResp(), Txn: () => randTxnResp() } as const;

/** Comparable form: int64 as decimal strings, bytes as hex, no undefined members. */
function norm(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return 'hex:' + v.toString('hex');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = norm(x);
    return out;
  }
  return v;
}

void describe('hand-written KV codecs (against protobufjs with etcd .proto files)', () => {
  for (const m of METHODS) {
    void it(`${m}Request: decodes what protobufjs encodes, like protobufjs (500 random messages)`, () => {
      const md = kv[m]!;
      for (let i = 0; i < 500; i++) {
        const bin = md.requestSerialize(REQ[m]());
        assert.deepEqual(norm(requestDecoders[m](bin)), norm(md.requestDeserialize(bin)), `message ${i}: ${bin.toString('hex')}`);
      }
    });

    void it(`${m}Response: protobufjs decodes what we encode to the same message (500 random messages); framed form has the gRPC prefix`, () => {
      const md = kv[m]!;
      for (let i = 0; i < 500; i++) {
        const msg = RESP[m]();
        const ours = responseEncoders[m](msg as never);
        const theirs = md.responseSerialize(msg);
        assert.deepEqual(norm(md.responseDeserialize(ours)), norm(md.responseDeserialize(theirs)), `message ${i}`);
        const frame = frameEncoders[m](msg as never);
        assert.equal(frame[0], 0);
        assert.equal(frame.readUInt32BE(1), ours.length);
        assert.ok(frame.subarray(5).equals(ours));
      }
    });
  }

  void it('WatchResponse: protobufjs decodes what we encode to the same message (500 random messages)', () => {
    const md = (serviceDefinition('Watch') as unknown as Record<string, grpc.MethodDefinition<object, object>>)['Watch']!;
    for (let i = 0; i < 500; i++) {
      const msg = {
        header: randHeader(),
        watch_id: pick(['0', '1', '-1', '12345', '9223372036854775807']),
        created: chance(0.2),
        canceled: chance(0.2),
        compact_revision: chance(0.2) ? int64() : '0',
        cancel_reason: chance(0.2) ? pick(['mvcc: required revision has been compacted', 'ünï ☃', '']) : '',
        fragment: chance(0.1),
        events: Array.from({ length: Math.floor(rnd() * 4) }, () => ({ type: pick([0, 1]), kv: randKv(), prev_kv: chance(0.3) ? randKv() : null })),
      };
      assert.deepEqual(norm(md.responseDeserialize(encodeWatchResponse(msg as never))), norm(md.responseDeserialize(md.responseSerialize(msg))), `message ${i}`);
    }
  });

  void it('skips unknown fields of every wire type and keeps the last value of a repeated scalar', () => {
    const md = kv['Put']!;
    const base = md.requestSerialize({ key: Buffer.from('/k'), value: Buffer.from('v'), lease: '5' });
    // field 20 varint, field 21 fixed64, field 22 bytes, field 23 fixed32, then lease again (=9)
    const extra = Buffer.from([0xa0, 0x01, 0x96, 0x01, 0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x01, 2, 0xaa, 0xbb, 0xbd, 0x01, 1, 2, 3, 4, 0x18, 9]);
    const got = requestDecoders.Put(Buffer.concat([base, extra]));
    assert.equal(got.key.toString(), '/k');
    assert.equal(String(got.lease), '9');
    assert.equal(String(got.lease), String((md.requestDeserialize(Buffer.concat([base, extra])) as { lease: string }).lease));
  });

  void it('refuses truncated and malformed input with a ProtoDecodeError', () => {
    const bin = kv['Range']!.requestSerialize({ key: Buffer.from('/some/key'), limit: '300' });
    for (let cut = 1; cut < bin.length; cut++) {
      const part = bin.subarray(0, cut);
      try {
        requestDecoders.Range(part);
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, `cut ${cut}: ${String(e)}`);
        continue;
      }
      // a cut between fields is a shorter valid message
      assert.doesNotThrow(() => kv['Range']!.requestDeserialize(part));
    }
    // etcd's (gogo/protobuf) words, as its server answers these (observed against etcd 3.4)
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, String(e));
        return e.message;
      }
      return 'no error';
    };
    const B = (...b: number[]) => Buffer.from(b);
    assert.equal(err(() => requestDecoders.Put(B(0x0a, 0x05, 0x61))), 'unexpected EOF');
    assert.equal(err(() => requestDecoders.Put(B(0x0b))), 'proto: wrong wireType = 3 for field Key');
    assert.equal(err(() => requestDecoders.Range(B(0x08))), 'proto: wrong wireType = 0 for field Key');
    assert.equal(err(() => requestDecoders.Range(B(0x0f))), 'proto: wrong wireType = 7 for field Key');
    assert.equal(err(() => requestDecoders.Range(B(0x0a, 0x01, 0x61, 0x1a, 0x01, 0x00))), 'proto: wrong wireType = 2 for field Limit');
    assert.equal(err(() => requestDecoders.Range(B(0x00))), 'proto: RangeRequest: illegal tag 0 (wire type 0)');
    assert.equal(err(() => requestDecoders.Range(B(0x0c))), 'proto: RangeRequest: wiretype end group for non-group');
    assert.equal(err(() => requestDecoders.Range(B(0xa7, 0x06))), 'proto: illegal wireType 7');
    assert.equal(err(() => requestDecoders.Txn(B(0x12, 0x02, 0x0a, 0x05))), 'unexpected EOF');
    assert.equal(err(() => requestDecoders.Txn(B(0x0a, 0x03, 0x08, 0x00))), 'unexpected EOF');
    assert.equal(err(() => requestDecoders.Txn(B(0x12, 0x02, 0x08, 0x00))), 'proto: wrong wireType = 0 for field RequestRange');
    assert.equal(err(() => requestDecoders.Txn(B(0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))), 'proto: integer overflow');
    assert.equal(err(() => requestDecoders.Txn(B(0x52, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))), 'proto: negative length found during unmarshaling');
    // watch requests: filters packed or one by one; the oneof's last member wins
    const create = (...body: number[]) => decodeWatchRequest(B(0x0a, body.length, ...body));
    assert.deepEqual((create(0x0a, 0x01, 0x61, 0x2a, 0x02, 0x00, 0x01, 0x28, 0x01).create_request as { filters: number[] }).filters, [0, 1, 1]);
    assert.equal(err(() => create(0x2d, 0, 0, 0, 0)), 'proto: wrong wireType = 5 for field Filters');
    assert.deepEqual(decodeWatchRequest(B(0x0a, 0x00, 0x12, 0x02, 0x08, 0x07)), { cancel_request: { watch_id: '7' }, request_union: 'cancel_request' });
    // unknown fields of every wire type are skipped, a group with its contents
    assert.equal(requestDecoders.Range(B(0x98, 0x06, 0x01, 0xa1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xab, 0x06, 0x08, 0x01, 0xac, 0x06, 0x0a, 0x01, 0x61)).key.toString(), 'a');
  });
});
