// The per-request objects of a served call must die young: a request that is answered leaves
// (almost) nothing that survives a scavenge into the old generation. (Two things once kept every
// request's objects alive until a full GC: a call object whose getters were new closures per
// call, and a WeakMap keyed by the decoder's shared header lists. Each request then cost ~1.7
// KB of promotion and every scavenge ~2 ms; see docs/design/datastore-server.md.)
//
// The server runs in a child process of its own (so the client's heap is not measured) with
// --expose-gc: it answers KV.Range, forces a minor GC every 100 requests, and reports the old
// generation's size when asked. The parent drives it with grpc-js.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import * as grpc from '@grpc/grpc-js';
import { frameEncoders, requestDecoders } from '../codec.ts';
import { etcdProto, serviceDefinition } from '../proto.ts';
import { GrpcServer, type MethodDef, type UnaryCall } from './grpc-server.ts';

const CHILD = process.env.CALICO_GRPC_GC_CHILD === '1';

function oldGenBytes(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'old_space' || s.space_name === 'large_object_space') n += s.space_used_size;
  return n;
}

if (CHILD) {
  const gc = globalThis.gc as (o?: { type: 'minor' | 'major' }) => void;
  const server = new GrpcServer({ maxReceiveBytes: 1 << 20 });
  let served = 0;
  // the KV definition with the server's own codec (codec.ts), as services.ts registers it
  const kvDef: Record<string, MethodDef> = {};
  for (const [m, d] of Object.entries(serviceDefinition('KV') as unknown as Record<string, MethodDef>)) {
    const dec = (requestDecoders as Record<string, ((b: Buffer) => unknown) | undefined>)[m];
    const enc = (frameEncoders as Record<string, ((v: never) => Buffer) | undefined>)[m];
    kvDef[m] = { ...d, ...(dec ? { requestDeserialize: dec } : {}), ...(enc ? { serializeFrame: enc } : {}) };
  }
  server.addService(kvDef, {
    Range: (call: UnaryCall, cb: (e: unknown, r?: unknown) => void) => {
      const key = (call.request as { key: Buffer }).key;
      if (call.cancelled) return cb({ code: grpc.status.CANCELLED, details: 'cancelled' });
      // touches the call's lazily built metadata, as the services do for some requests
      if (call.metadata.size > 100) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'metadata' });
      if (++served % 100 === 0) gc({ type: 'minor' });
      cb(null, { header: { revision: String(served) }, kvs: [{ key, value: Buffer.from('value'), mod_revision: '3' }], count: '1' });
    },
  });
  const tcp = createServer({ noDelay: true }, (s) => server.handleConnection(s));
  tcp.listen(0, '127.0.0.1', () => process.send!({ port: (tcp.address() as AddressInfo).port }));
  process.on('message', (m: string) => {
    if (m === 'measure') {
      gc({ type: 'minor' });
      gc({ type: 'minor' });
      process.send!({ old: oldGenBytes(), served });
    } else if (m === 'exit') process.exit(0);
  });
} else {
  void describe('GrpcServer: a served request leaves nothing in the old generation', () => {
    let child: ChildProcess;
    let kv: grpc.Client & Record<string, (req: object, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void>;
    /** The child's next message (it answers one at a time, each after a request from us). */
    const next = async () => (await once(child, 'message'))[0] as { port?: number; old?: number; served?: number };

    before(async () => {
      child = fork(import.meta.filename, [], { execArgv: ['--expose-gc', '--max-semi-space-size=4'], env: { ...process.env, CALICO_GRPC_GC_CHILD: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const { port } = await next();
      const KV = etcdProto()['KV'] as grpc.ServiceClientConstructor;
      kv = new KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof kv;
    });
    after(() => {
      kv?.close();
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    const ranges = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve, reject) => kv['Range']!({ key: Buffer.from(`/k/${i}`) }, (err) => (err ? reject(err) : resolve())));
      }
    };

    void it('promotes less than 500 bytes per unary call (it was ~1.5 KB; ~150-180 B remain with a trivial HTTP/2 handler too)', async () => {
      await ranges(1000); // warm-up: code, feedback and hidden classes settle
      child.send('measure');
      const before = await next();
      const N = 3000;
      await ranges(N);
      child.send('measure');
      const after = await next();
      assert.equal(after.served! - before.served!, N);
      const perCall = (after.old! - before.old!) / N;
      assert.ok(perCall < 500, `old generation grew ${perCall.toFixed(0)} bytes per call (${after.old! - before.old!} bytes over ${N} calls)`);
      child.send('exit');
    });
  });
}
