import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { H2Connection, PREFACE } from './connection.ts';
import { HpackDecoder } from './hpack.ts';

/** A connection on an in-memory socket: what it writes is parsed into frames. */
function harness() {
  const written: Buffer[] = [];
  const sock = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  const streams: number[] = [];
  const conn = new H2Connection(sock, {
    onRequest(stream) {
      streams.push(stream.id);
    },
  });
  const frames = () => {
    conn.flush();
    const all = Buffer.concat(written.splice(0));
    const out: { type: number; flags: number; id: number; payload: Buffer }[] = [];
    for (let off = 0; off + 9 <= all.length; ) {
      const len = all.readUIntBE(off, 3);
      out.push({ type: all[off + 3]!, flags: all[off + 4]!, id: all.readUInt32BE(off + 5), payload: all.subarray(off + 9, off + 9 + len) });
      off += 9 + len;
    }
    return out;
  };
  const send = (type: number, flags: number, id: number, payload: Buffer) => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(id, 5);
    sock.emit('data', Buffer.concat([h, payload]));
  };
  return { conn, frames, send, sock, streams };
}

void test('success responses index content-type and grpc-status once, then refer to them', () => {
  const { conn, frames } = harness();
  frames(); // SETTINGS + WINDOW_UPDATE
  const dec = new HpackDecoder();
  const blocks: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    conn.headers(4, 1 + 2 * i, conn.okHeaders());
    conn.headers(5, 1 + 2 * i, conn.okTrailers());
  }
  for (const f of frames()) if (f.type === 1) blocks.push(Buffer.from(f.payload));
  const lists = blocks.map((b) => dec.decode(b));
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(lists[2 * i], [
      [':status', '200'],
      ['content-type', 'application/grpc'],
    ]);
    assert.deepEqual(lists[2 * i + 1], [['grpc-status', '0']]);
  }
  assert.ok(blocks[2]!.length <= 2 && blocks[3]!.length === 1, 'later blocks are indexes only');
});

void test('a smaller peer table size is signalled first, and entries that no longer fit are not used', () => {
  const { conn, frames, send } = harness();
  const dec = new HpackDecoder();
  conn.headers(4, 1, conn.okHeaders());
  conn.headers(5, 1, conn.okTrailers());
  // the client's SETTINGS: HEADER_TABLE_SIZE (1) = 64, too small for both entries
  const s = Buffer.alloc(6);
  s.writeUInt16BE(1, 0);
  s.writeUInt32BE(64, 2);
  const sock = conn.socket;
  sock.emit('data', PREFACE);
  send(4, 0, 0, s);
  conn.headers(4, 3, conn.okHeaders());
  conn.headers(5, 3, conn.okTrailers());
  const blocks = frames()
    .filter((f) => f.type === 1)
    .map((f) => Buffer.from(f.payload));
  assert.equal(blocks.length, 4);
  assert.equal(blocks[2]![0]! & 0xe0, 0x20, 'the block after the change starts with a size update');
  const lists = blocks.map((b) => dec.decode(b));
  assert.deepEqual(lists[2], [
    [':status', '200'],
    ['content-type', 'application/grpc'],
  ]);
  assert.deepEqual(lists[3], [['grpc-status', '0']]);
});

void test('trailers queued behind flow-controlled data are encoded when they are written', () => {
  const { conn, frames, send, sock, streams } = harness();
  sock.emit('data', PREFACE);
  send(4, 0, 0, Buffer.alloc(0));
  // two requests (HEADERS with END_STREAM), header block: :method POST (0x83), :path / (0x84)
  send(1, 5, 1, Buffer.from([0x83, 0x84]));
  send(1, 5, 3, Buffer.from([0x83, 0x84]));
  assert.deepEqual(streams, [1, 3]);
  frames();
  const dec = new HpackDecoder();
  const s1 = (conn as unknown as { streams: Map<number, import('./connection.ts').H2Stream> }).streams.get(1)!;
  const s3 = (conn as unknown as { streams: Map<number, import('./connection.ts').H2Stream> }).streams.get(3)!;
  // stream 1: more data than the peer's 65,535-byte window, so its trailers wait
  s1.sendHeaders(conn.okHeaders());
  s1.sendData(Buffer.alloc(70_000));
  s1.sendTrailers(conn.okTrailers);
  // stream 3 completes first: its trailers insert grpc-status
  s3.sendHeaders(conn.okHeaders());
  s3.sendData(Buffer.alloc(10));
  s3.sendTrailers(conn.okTrailers);
  const first = frames();
  // the peer opens the windows: stream 1's rest and trailers go out
  const inc = Buffer.alloc(4);
  inc.writeUInt32BE(100_000, 0);
  send(8, 0, 0, inc);
  send(8, 0, 1, inc);
  const rest = frames();
  const headerLists = [...first, ...rest].filter((f) => f.type === 1).map((f) => ({ id: f.id, list: dec.decode(Buffer.from(f.payload)) }));
  assert.deepEqual(
    headerLists.map((h) => [h.id, h.list.map(([k, v]) => `${k}=${v}`).join(',')]),
    [
      [1, ':status=200,content-type=application/grpc'],
      [3, ':status=200,content-type=application/grpc'],
      [3, 'grpc-status=0'],
      [1, 'grpc-status=0'],
    ],
  );
  const data1 = [...first, ...rest].filter((f) => f.type === 0 && f.id === 1).reduce((n, f) => n + f.payload.length, 0);
  assert.equal(data1, 70_000);
});
