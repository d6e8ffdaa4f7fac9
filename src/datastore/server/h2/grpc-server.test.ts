// GrpcServer on real sockets, driven by real clients: grpc-js (the etcd3 package's transport)
// and Node's HTTP/2 client for raw frames. grpc-go (etcdctl) is covered by the e2e tests.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { etcdProto, serviceDefinition } from '../proto.ts';
import { GrpcServer, type MethodDef, type StreamCall, type UnaryCall } from './grpc-server.ts';
import { encodeHeaders } from './hpack.ts';

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void;
const def = (name: string) => serviceDefinition(name) as unknown as Record<string, MethodDef>;

void describe('GrpcServer: gRPC over our own HTTP/2', () => {
  const server = new GrpcServer({ maxReceiveBytes: 1024 });
  const events: string[] = [];
  let kv: grpc.Client & Record<string, Unary>;
  let watch: grpc.Client & { Watch(): grpc.ClientDuplexStream<object, Record<string, unknown>> };
  let tcp: Server;
  let port = 0;

  before(async () => {
    server.addService(def('KV'), {
      Range: (call: UnaryCall, cb: (e: unknown, r?: unknown) => void) => {
        const key = (call.request as { key: Buffer }).key.toString();
        if (key === 'fail') cb({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: 100% wrong, ünïcode' });
        else if (key === 'throw') throw new Error('boom');
        else if (key === 'big') cb(null, { header: { revision: '1' }, kvs: [{ key: Buffer.from(key), value: Buffer.alloc(300_000, 7) }], count: '1' });
        else cb(null, { header: { revision: '7' }, kvs: [{ key: Buffer.from(key), value: Buffer.from('v'), mod_revision: '3' }], count: '1' });
      },
    });
    server.addService(def('Watch'), {
      // echoes each request's key in a response; 'end' ends the call
      Watch: (call: StreamCall) => {
        call.on('data', (req: { create_request?: { key: Buffer } }) => {
          const key = req.create_request?.key ?? Buffer.alloc(0);
          const ok = call.write({ header: { revision: '1' }, watch_id: '1', created: true, events: [{ type: 0, kv: { key, value: Buffer.alloc(key.toString() === 'huge' ? 200_000 : 1, 1) } }] });
          if (!ok && !events.includes('full')) events.push('full');
        });
        call.on('end', () => {
          events.push('end');
          call.end();
        });
        call.on('cancelled', () => events.push('cancelled'));
        call.on('close', () => events.push('close'));
        call.on('drain', () => events.push('drain'));
      },
    });
    // server-streaming: counts how often the handler starts
    server.addService(def('Maintenance'), {
      Snapshot: (call: StreamCall) => {
        events.push('snapshot-start');
        call.write({ header: { revision: '1' }, remaining_bytes: '0', blob: Buffer.from('snap') });
        setTimeout(() => call.end(), 30);
      },
    });
    tcp = createServer({ noDelay: true }, (s) => server.handleConnection(s));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as AddressInfo).port;
    const KV = etcdProto()['KV'] as grpc.ServiceClientConstructor;
    kv = new KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof kv;
    const W = etcdProto()['Watch'] as grpc.ServiceClientConstructor;
    watch = new W(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof watch;
  });
  after(async () => {
    kv.close();
    watch.close();
    tcp.close();
    await server.close(200);
  });

  const range = (key: string | Buffer, client = kv) =>
    new Promise<{ err: grpc.ServiceError | null; res?: Record<string, unknown> }>((resolve) =>
      client['Range']!({ key: typeof key === 'string' ? Buffer.from(key) : key }, (err, res) => resolve({ err, res })),
    );

  void it('serves a unary call', async () => {
    const { err, res } = await range('k1');
    assert.equal(err, null);
    assert.equal((res!['header'] as { revision: string }).revision, '7');
    const kvs = res!['kvs'] as { key: Buffer; value: Buffer; mod_revision: string }[];
    assert.equal(kvs[0]!.key.toString(), 'k1');
    assert.equal(kvs[0]!.value.toString(), 'v');
    assert.equal(kvs[0]!.mod_revision, '3');
  });

  void it('returns errors as gRPC status with the details intact (percent-encoded on the wire)', async () => {
    const { err } = await range('fail');
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err?.details, 'etcdserver: 100% wrong, ünïcode');
    const thrown = await range('throw');
    assert.equal(thrown.err?.code, grpc.status.UNKNOWN);
    assert.equal(thrown.err?.details, 'boom');
  });

  void it('refuses a request over the receive limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { err } = await range(Buffer.alloc(4096, 1));
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err!.details, /larger than max \(\d+ vs\. 1024\)/);
    assert.equal((await range('after')).err, null);
  });

  void it('sends a response larger than the client window (flow control) intact', async () => {
    const { err, res } = await range('big');
    assert.equal(err, null);
    const v = (res!['kvs'] as { value: Buffer }[])[0]!.value;
    assert.equal(v.length, 300_000);
    assert.ok(v.every((b) => b === 7));
  });

  void it('refuses compressed requests as etcd does (no decompressor installed): UNIMPLEMENTED, and keeps serving', async () => {
    const KV = etcdProto()['KV'] as grpc.ServiceClientConstructor;
    const gz = new KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 }) as unknown as typeof kv;
    try {
      const { err } = await range('zipped', gz);
      assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
      assert.equal(err?.details, 'grpc: Decompressor is not installed for grpc-encoding "gzip"');
    } finally {
      gz.close();
    }
    // a compressed message under identity encoding: grpc-go's INTERNAL
    const framed = Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), Buffer.from([0])]);
    const { trailers } = await rawCall('/etcdserverpb.KV/Range', framed);
    assert.equal(trailers['grpc-status'], String(grpc.status.INTERNAL));
    assert.equal(trailers['grpc-message'], 'grpc: compressed flag set with identity or empty encoding');
    assert.equal((await range('after')).err, null);
  });

  void it('answers many concurrent calls each with its own response', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `c${i}`);
    const out = await Promise.all(keys.map((k) => range(k)));
    out.forEach((o, i) => assert.equal((o.res!['kvs'] as { key: Buffer }[])[0]!.key.toString(), keys[i]));
  });

  void it('streams both ways, ends on the client half-close, and reports a cancel', async () => {
    const call = watch.Watch();
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: { events: { kv: { key: Buffer; value: Buffer } }[] }) => got.push(`${m.events[0]!.kv.key.toString()}:${m.events[0]!.kv.value.length}`));
      call.on('end', () => resolve());
      call.on('error', reject);
    });
    for (const k of ['a', 'huge', 'b']) call.write({ create_request: { key: Buffer.from(k) } });
    call.end();
    await done;
    assert.deepEqual(got, ['a:1', 'huge:200000', 'b:1']);
    assert.ok(events.includes('end'));

    // A reset of a stream the client never half-closed (grpc-js's cancel() and Node's
    // close() both half-close first): raw frames.
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.resume();
    const block = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/etcdserverpb.Watch/Watch'],
      ['content-type', 'application/grpc'],
    ]);
    const frameHead = (len: number, type: number, flags: number, id: number) => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(len, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(id, 5);
      return h;
    };
    const rst = Buffer.alloc(4);
    rst.writeUInt32BE(8, 0);
    sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frameHead(0, 4, 0, 0), frameHead(block.length, 1, 4, 1), block]));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(Buffer.concat([frameHead(4, 3, 0, 1), rst]));
    for (let i = 0; i < 50 && !events.includes('cancelled'); i++) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    assert.ok(events.includes('cancelled'), 'the server saw the cancel');
  });

  const raw = async (path: string, headers: Record<string, string> = {}) => {
    const h2 = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const req = h2.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
      const msg = serviceDefinition('KV')['Range']!.requestSerialize({ key: Buffer.from('raw') });
      const frame = Buffer.alloc(5 + msg.length);
      frame.writeUInt32BE(msg.length, 1);
      msg.copy(frame, 5);
      req.end(frame);
      let trailers: http2.IncomingHttpHeaders = {};
      req.once('trailers', (t) => (trailers = t));
      const [head, body] = await Promise.all([
        new Promise<http2.IncomingHttpHeaders>((r) => req.once('response', r)),
        new Promise<Buffer>((r) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.once('end', () => r(Buffer.concat(chunks)));
        }),
      ]);
      return { head, trailers, body };
    } finally {
      h2.close();
    }
  };

  void it('sends HEADERS, the message and trailers with grpc-status 0 (no date header)', async () => {
    const { head, trailers, body } = await raw('/etcdserverpb.KV/Range');
    assert.equal(head[':status'], 200);
    assert.equal(head['content-type'], 'application/grpc');
    assert.equal(head['date'], undefined);
    assert.equal(trailers['grpc-status'], '0');
    assert.equal(body.readUInt32BE(1), body.length - 5);
  });

  void it('answers unknown methods and services with UNIMPLEMENTED, as grpc-go words it', async () => {
    const m = await raw('/etcdserverpb.KV/Nope');
    assert.equal(m.head['grpc-status'], String(grpc.status.UNIMPLEMENTED));
    assert.equal(m.head['grpc-message'], 'unknown method Nope for service etcdserverpb.KV');
    const s = await raw('/x.Y/Z');
    assert.equal(s.head['grpc-message'], 'unknown service x.Y');
    const ct = await raw('/etcdserverpb.KV/Range', { 'content-type': 'text/plain' });
    assert.equal(ct.head[':status'], 415);
  });

  void it('closes a connection that does not start with the HTTP/2 preface, and keeps serving others', async () => {
    const sock = connect(port, '127.0.0.1');
    sock.resume();
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const closed = await new Promise<boolean>((r) => {
      sock.on('close', () => r(true));
      sock.on('error', () => {});
      setTimeout(() => r(false), 3000);
    });
    assert.ok(closed);
    assert.equal((await range('still')).err, null);
  });

  void it('answers a broken header block with GOAWAY COMPRESSION_ERROR', async () => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    // HEADERS on stream 1 (END_HEADERS|END_STREAM) with an index far beyond any table
    const headers = Buffer.from([0, 0, 1, 1, 5, 0, 0, 0, 1, 0xfe]);
    sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), settings, headers]));
    await closed;
    const all = Buffer.concat(chunks);
    let off = 0;
    let goaway = -1;
    while (off + 9 <= all.length) {
      const len = all.readUIntBE(off, 3);
      if (all[off + 3] === 7) goaway = all.readUInt32BE(off + 9 + 4);
      off += 9 + len;
    }
    assert.equal(goaway, 9, 'GOAWAY with COMPRESSION_ERROR');
  });
  /** Opens a stream with Node's HTTP/2 client, sends `body` and collects the messages and trailers. */
  const rawCall = async (path: string, body: Buffer) => {
    const h2 = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const req = h2.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      req.end(body);
      let trailers: http2.IncomingHttpHeaders = {};
      req.once('trailers', (t) => (trailers = t));
      // a trailers-only answer carries its status in the response headers
      req.once('response', (h) => {
        if (h['grpc-status'] !== undefined) trailers = h;
      });
      const data = await new Promise<Buffer>((r) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.once('end', () => r(Buffer.concat(chunks)));
      });
      let n = 0;
      for (let off = 0; off + 5 <= data.length; off += 5 + data.readUInt32BE(off + 1)) n++;
      return { messages: n, trailers };
    } finally {
      h2.close();
    }
  };
  const msg = (payload: Buffer) => {
    const f = Buffer.alloc(5 + payload.length);
    f.writeUInt32BE(payload.length, 1);
    payload.copy(f, 5);
    return f;
  };
  const watchReq = (key: string) => serviceDefinition('Watch')['Watch']!.requestSerialize({ create_request: { key: Buffer.from(key) } });

  void it('ends a bidirectional call at a request that does not unmarshal: INTERNAL, nothing after it delivered, the handler closed', async () => {
    events.length = 0;
    const { messages, trailers } = await rawCall('/etcdserverpb.Watch/Watch', Buffer.concat([msg(watchReq('one')), msg(Buffer.from([0x0a, 0xff])), msg(watchReq('three'))]));
    assert.equal(messages, 1, 'only the request before the bad one is answered');
    assert.equal(trailers['grpc-status'], String(grpc.status.INTERNAL));
    assert.match(String(trailers['grpc-message']), /^grpc: error unmarshalling request: /);
    assert.ok(events.includes('close'), 'the handler was told the call is over');
    assert.ok(!events.includes('end'));
  });

  void it('starts a server-streaming handler once, however many request messages arrive', async () => {
    events.length = 0;
    const req = serviceDefinition('Maintenance')['Snapshot']!.requestSerialize({});
    const { messages, trailers } = await rawCall('/etcdserverpb.Maintenance/Snapshot', Buffer.concat([msg(req), msg(req), msg(req)]));
    assert.equal(trailers['grpc-status'], '0');
    assert.equal(messages, 1);
    assert.deepEqual(events, ['snapshot-start']);
  });
  void it('asks a streaming writer to pause while a client is not reading, and says when it may go on', async () => {
    events.length = 0;
    const h2 = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 65535 } });
    try {
      const req = h2.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
      req.pause();
      // 30 responses of ~200 KB: 6 MB against a 64 KiB window and a 4 MiB high-water mark
      for (let i = 0; i < 30; i++) req.write(msg(watchReq('huge')));
      const until = async (what: string) => {
        for (let i = 0; i < 300 && !events.includes(what); i++) await new Promise((r) => setTimeout(r, 10));
        return events.includes(what);
      };
      assert.ok(await until('full'), 'write() returned false once 4 MiB waited for the client');
      assert.ok(!events.includes('drain'));
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.resume();
      assert.ok(await until('drain'), "'drain' once the client took everything");
      for (let i = 0; i < 300 && bytes < 30 * 200_000; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(bytes > 30 * 200_000, `all responses arrived (${bytes} bytes)`);
      req.close();
    } finally {
      h2.close();
    }
  });
});
