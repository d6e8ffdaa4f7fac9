import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FastUnary } from './fast-unary.ts';
import { etcdProto, serviceDefinition } from './proto.ts';

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void;

void describe('FastUnary: unary calls answered on the HTTP/2 stream', () => {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const fast = new FastUnary(1024);
  const seen: string[] = [];
  let client: grpc.Client & Record<string, Unary>;
  let tcp: ReturnType<typeof createServer>;

  before(async () => {
    assert.equal(fast.install(server), true, 'grpc-js hooks missing: the fast path would be silently off');
    server.addService(serviceDefinition('KV'), {
      Range: (call: { request: { key: Buffer }; getPeer?: unknown }, cb: (e: unknown, r?: unknown) => void) => {
        seen.push(typeof call.getPeer === 'function' ? 'grpc-js' : 'fast');
        const key = call.request.key.toString();
        if (key === 'fail') cb({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: 100% wrong, ünïcode' });
        else if (key === 'throw') throw new Error('boom');
        else cb(null, { header: { revision: '7' }, kvs: [{ key: call.request.key, value: Buffer.from('v'), mod_revision: '3' }], count: '1' });
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    tcp = createServer({ noDelay: true }, (s) => injector.injectConnection(s));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const KV = etcdProto()['KV'] as grpc.ServiceClientConstructor;
    client = new KV(`127.0.0.1:${(tcp.address() as AddressInfo).port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
  });
  after(() => {
    client.close();
    tcp.close();
    server.forceShutdown();
  });

  const range = (key: string | Buffer) =>
    new Promise<{ err: grpc.ServiceError | null; res?: Record<string, unknown> }>((resolve) =>
      client['Range']!({ key: typeof key === 'string' ? Buffer.from(key) : key }, (err, res) => resolve({ err, res })),
    );

  void it('registers unary methods only and serves them itself', async () => {
    assert.ok(fast.methods.has('/etcdserverpb.KV/Range'));
    const { err, res } = await range('k1');
    assert.equal(err, null);
    assert.equal((res!['header'] as { revision: string }).revision, '7');
    const kvs = res!['kvs'] as { key: Buffer; value: Buffer; mod_revision: string }[];
    assert.equal(kvs[0]!.key.toString(), 'k1');
    assert.equal(kvs[0]!.value.toString(), 'v');
    assert.equal(kvs[0]!.mod_revision, '3');
    assert.deepEqual(seen, ['fast']);
  });

  void it('returns errors as gRPC status with the details intact', async () => {
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
    assert.match(err!.details, /larger than max \(\d+ vs 1024\)/);
    assert.equal((await range('after')).err, null);
  });

  void it('sends one HEADERS (no date header), the message, and trailers with grpc-status 0', async () => {
    const port = (tcp.address() as AddressInfo).port;
    const h2 = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const req = h2.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', te: 'trailers' });
      const msg = serviceDefinition('KV')['Range']!.requestSerialize({ key: Buffer.from('raw') });
      const frame = Buffer.alloc(5 + msg.length);
      frame.writeUInt32BE(msg.length, 1);
      msg.copy(frame, 5);
      req.end(frame);
      const [headers, trailers, body] = await Promise.all([
        new Promise<http2.IncomingHttpHeaders>((r) => req.once('response', r)),
        new Promise<http2.IncomingHttpHeaders>((r) => req.once('trailers', r)),
        new Promise<Buffer>((r) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.once('end', () => r(Buffer.concat(chunks)));
        }),
      ]);
      assert.equal(headers[':status'], 200);
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(headers['grpc-encoding'], undefined, 'identity is the default');
      assert.equal(headers['date'], undefined, 'no date header');
      assert.equal(trailers['grpc-status'], '0');
      assert.equal(body.readUInt32BE(1), body.length - 5);
    } finally {
      h2.close();
    }
  });

  void it('answers many concurrent calls each with its own response', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `c${i}`);
    const out = await Promise.all(keys.map((k) => range(k)));
    out.forEach((o, i) => assert.equal((o.res!['kvs'] as { key: Buffer }[])[0]!.key.toString(), keys[i]));
  });
});
