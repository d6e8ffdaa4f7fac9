// A tiny raw etcd v3 gRPC client for tests: exact requests, exact responses and exact gRPC
// status codes/messages (the etcd3 package rewrites errors). Uses the etcd3 package's protos.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const PROTO_DIR = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto');
const def = protoLoader.loadSync(path.join(PROTO_DIR, 'rpc.proto'), {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});
const pkg = grpc.loadPackageDefinition(def)['etcdserverpb'] as grpc.GrpcObject;

export type Msg = Record<string, any>;

export interface RpcError {
  code: number;
  details: string;
}

export interface TlsFiles {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

type UnaryFn = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Msg) => void) => void;

/** Converts an endpoint (http://h:p, https://h:p, unix:///path) into a gRPC target. */
function target(endpoint: string): string {
  if (endpoint.startsWith('unix://') || endpoint.startsWith('unixs://')) return `unix:${endpoint.replace(/^unixs?:\/\//, '')}`;
  return endpoint.replace(/^https?:\/\//, '');
}

export class RawEtcd {
  private readonly clients: Record<string, grpc.Client> = {};
  readonly endpoint: string;

  constructor(endpoint: string, tls?: TlsFiles) {
    this.endpoint = endpoint;
    const creds = tls ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure();
    const opts: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 };
    // test certificates name 127.0.0.1 and localhost; Node refuses an IP as TLS server name
    if (tls) opts['grpc.ssl_target_name_override'] = 'localhost';
    for (const svc of ['KV', 'Watch', 'Lease', 'Maintenance', 'Cluster', 'Auth']) {
      const Ctor = pkg[svc] as grpc.ServiceClientConstructor;
      this.clients[svc] = new Ctor(target(endpoint), creds, opts);
    }
  }

  call(svc: string, method: string, req: Msg = {}, timeoutMs = 10000): Promise<Msg> {
    const c = this.clients[svc] as unknown as Record<string, UnaryFn>;
    return new Promise((resolve, reject) => {
      c[method]!.call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r)));
    });
  }

  /** Calls and returns the error (code, details); throws if the call succeeded. */
  async callErr(svc: string, method: string, req: Msg = {}): Promise<RpcError> {
    try {
      const r = await this.call(svc, method, req);
      throw new Error(`expected ${svc}.${method} to fail, got ${JSON.stringify(r)}`);
    } catch (e) {
      const se = e as grpc.ServiceError;
      if (typeof se.code !== 'number') throw e;
      return { code: se.code, details: se.details };
    }
  }

  range = (req: Msg) => this.call('KV', 'Range', req);
  put = (req: Msg) => this.call('KV', 'Put', req);
  del = (req: Msg) => this.call('KV', 'DeleteRange', req);
  txn = (req: Msg) => this.call('KV', 'Txn', req);
  compact = (req: Msg) => this.call('KV', 'Compact', req);

  async rev(): Promise<number> {
    const r = await this.range({ key: Buffer.from('\0') , range_end: Buffer.from('\0'), count_only: true });
    return Number(r.header.revision);
  }

  watch(): RawWatch {
    const c = this.clients['Watch'] as unknown as { Watch: () => grpc.ClientDuplexStream<Msg, Msg> };
    return new RawWatch(c.Watch());
  }

  keepAlive(): grpc.ClientDuplexStream<Msg, Msg> {
    const c = this.clients['Lease'] as unknown as { LeaseKeepAlive: () => grpc.ClientDuplexStream<Msg, Msg> };
    return c.LeaseKeepAlive();
  }

  close(): void {
    for (const c of Object.values(this.clients)) c.close();
  }
}

/** A watch stream with a queue of responses to await one by one. */
export class RawWatch {
  readonly stream: grpc.ClientDuplexStream<Msg, Msg>;
  private readonly queue: Msg[] = [];
  private waiters: ((m: Msg) => void)[] = [];
  error: Error | null = null;

  constructor(stream: grpc.ClientDuplexStream<Msg, Msg>) {
    this.stream = stream;
    stream.on('data', (m: Msg) => {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
    stream.on('error', (e: Error) => {
      this.error = e;
    });
  }

  create(req: Msg): void {
    this.stream.write({ create_request: req });
  }
  cancel(id: number | string): void {
    this.stream.write({ cancel_request: { watch_id: id } });
  }
  progress(): void {
    this.stream.write({ progress_request: {} });
  }

  next(timeoutMs = 5000): Promise<Msg> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== fn);
        reject(new Error(`no watch response within ${timeoutMs} ms`));
      }, timeoutMs);
      const fn = (x: Msg) => {
        clearTimeout(t);
        resolve(x);
      };
      this.waiters.push(fn);
    });
  }

  /** Collects events until `n` have arrived. */
  async events(n: number, timeoutMs = 5000): Promise<Msg[]> {
    const out: Msg[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      out.push(...(m.events as Msg[]));
    }
    return out;
  }

  /** Resolves with nothing if no response arrives within ms (asserting silence). */
  async quiet(ms: number): Promise<Msg | null> {
    try {
      return await this.next(ms);
    } catch {
      return null;
    }
  }

  close(): void {
    this.stream.end();
    this.stream.cancel();
  }
}

export const B = (s: string) => Buffer.from(s);
/** etcd's prefix range end: the key with its last byte incremented. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = out[i]! + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

/** The Watch method's message codecs, for tests that drive the stream with raw HTTP/2. */
export const watchCodec = (() => {
  const m = (def['etcdserverpb.Watch'] as Record<string, protoLoader.MethodDefinition<Msg, Msg>>)['Watch']!;
  return { request: (msg: Msg): Buffer => m.requestSerialize(msg), response: (buf: Buffer): Msg => m.responseDeserialize(buf) };
})();
