// EtcdKv: the Kv interface over the `etcd3` package's raw gRPC clients (KV, Watch, Lease,
// Maintenance). This is the only file in calico-ts that imports etcd3. It serves real etcd and
// our calico-datastore alike (same protocol): endpoints http://, https:// (TLS, optionally with
// a client certificate) and unix:// (grpc-js dials `unix:///path` targets itself).
//
// Decisions:
// - etcd3's retry and circuit-breaker policies are replaced with pass-through ones: callers
//   decide about retries (the syncer reconnects with its own backoff), and a down datastore
//   must fail fast rather than be retried invisibly.
// - Every unary call carries a deadline (callTimeoutMs), so an unreachable or blackholed
//   endpoint becomes DatastoreUnavailable within that time instead of hanging.
// - Watches use one gRPC stream each, driven directly (not etcd3's Watcher, which resumes by
//   itself from a header revision and can skip events): our caller sees every event or an
//   explicit error and resumes itself.

import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Etcd3, IKeyValue, IRequestOp, IResponseOp, ICompare, IWatchResponse, IOptions } from 'etcd3';
import {
  DatastoreConfigError,
  DatastoreRequestError,
  DatastoreUnavailable,
  RevisionCompacted,
} from './errors.ts';
import {
  prefixRangeEnd,
  type Compare,
  type DeleteResult,
  type KeyValue,
  type Kv,
  type KvEvent,
  type KvWatch,
  type Lease,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type TxnOp,
  type TxnOpResult,
  type TxnRequest,
  type TxnResult,
  type WatchHandlers,
  type WatchOptions,
} from './kv.ts';

export interface EtcdKvOptions {
  /** http://host:port, https://host:port or unix:///path (all of one security kind). */
  readonly endpoints: readonly string[];
  readonly caCertFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** PEM contents instead of files (Calico's etcdCACert/etcdCert/etcdKey). */
  readonly caCert?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly username?: string;
  readonly password?: string;
  /** Deadline for every unary call. Default 10 s (Calico's etcd client timeout). */
  readonly callTimeoutMs?: number;
}

/**
 * An error from one call, wrapped so that etcd3 does not treat it as "recoverable" and close
 * every client on the connection (which would also kill unrelated watches and calls in
 * flight); grpc-js reconnects channels by itself. mapError unwraps it.
 */
class ShieldedError extends Error {
  readonly inner: unknown;
  constructor(inner: unknown) {
    super((inner as Error)?.message ?? String(inner));
    this.inner = inner;
  }
}

const passThroughPolicy = {
  execute<T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => T | Promise<T>): Promise<T> {
    return Promise.resolve()
      .then(() => fn({ signal: new AbortController().signal, attempt: 0 }))
      .catch((err: unknown) => {
        throw err instanceof ShieldedError ? err : new ShieldedError(err);
      });
  },
};

type Etcd3Lib = typeof import('etcd3');
type GrpcLib = typeof import('@grpc/grpc-js');
let libs: Promise<{ etcd3: Etcd3Lib; grpc: GrpcLib }> | undefined;

/**
 * etcd3 (and grpc-js under it) are loaded on first use: parsing etcd's .proto files costs
 * ~0.2 s of CPU, which commands that never reach the datastore (calicoctl validate, --help,
 * a bad file) should not pay.
 */
function loadLibs(): Promise<{ etcd3: Etcd3Lib; grpc: GrpcLib }> {
  libs ??= Promise.all([import('etcd3'), import('@grpc/grpc-js')]).then(([e, g]) => ({
    // CommonJS packages: the namespace's default is module.exports, the object etcd3 itself uses
    etcd3: ((e as { default?: Etcd3Lib }).default ?? e) as Etcd3Lib,
    grpc: ((g as { default?: GrpcLib }).default ?? g) as GrpcLib,
  }));
  return libs;
}

function num(s: string | number | undefined | null): number {
  return s === undefined || s === null || s === '' ? 0 : Number(s);
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value ? kv.value.toString('utf8') : '',
    modRevision: num(kv.mod_revision),
    createRevision: num(kv.create_revision),
    version: num(kv.version),
    lease: kv.lease ? String(kv.lease) : '0',
  };
}

/** Reads a PEM file for TLS, with an error naming the setting. */
function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DatastoreConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Validates endpoint URLs; returns the etcd3 host strings. */
export function normaliseEndpoints(endpoints: readonly string[]): string[] {
  if (endpoints.length === 0) throw new DatastoreConfigError('no etcd endpoints specified');
  const out: string[] = [];
  for (const raw of endpoints) {
    const e = raw.trim();
    if (e.startsWith('unix:')) {
      const path = e.replace(/^unix:(\/\/)?/, '');
      if (!path) throw new DatastoreConfigError(`invalid etcd endpoint '${raw}': expected unix:///path/to/socket`);
      out.push(path.startsWith('/') ? `unix://${path}` : `unix:${path}`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new DatastoreConfigError(`invalid etcd endpoint '${raw}': expected http://host:port, https://host:port or unix:///path`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DatastoreConfigError(`invalid etcd endpoint '${raw}': scheme must be http, https or unix`);
    }
    if (!url.port) url.port = '2379';
    out.push(`${url.protocol}//${url.host}`);
  }
  return out;
}

export class EtcdKv implements Kv {
  readonly description: string;
  private readonly client: Promise<Etcd3>;
  private lib: Etcd3Lib | undefined;
  private readonly endpoints: readonly string[];
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(options: EtcdKvOptions) {
    const hosts = normaliseEndpoints(options.endpoints);
    this.endpoints = options.endpoints;
    this.description = options.endpoints.join(',');
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    const inline = options.caCert || options.cert || options.key;
    const files = options.caCertFile || options.certFile || options.keyFile;
    if (inline && files) throw new DatastoreConfigError('cannot mix inline certificate/key and certificate/key files');
    if ((options.certFile && !options.keyFile) || (!options.certFile && options.keyFile)) {
      throw new DatastoreConfigError('etcd client certificate and key must be given together (ETCD_CERT_FILE and ETCD_KEY_FILE)');
    }
    let credentials: IOptions['credentials'];
    if (files || inline) {
      const ca = options.caCertFile ? readPem(options.caCertFile, 'etcd CA certificate') : options.caCert ? Buffer.from(options.caCert) : undefined;
      const cert = options.certFile ? readPem(options.certFile, 'etcd client certificate') : options.cert ? Buffer.from(options.cert) : undefined;
      const key = options.keyFile ? readPem(options.keyFile, 'etcd client key') : options.key ? Buffer.from(options.key) : undefined;
      // grpc-js needs a root certificate argument; undefined means the system roots.
      credentials = { rootCertificate: ca as Buffer, ...(key ? { privateKey: key } : {}), ...(cert ? { certChain: cert } : {}) };
      if (hosts.some((h) => h.startsWith('http://'))) {
        // TLS material given with http:// endpoints: speak TLS anyway, as Calico's client does.
        for (let i = 0; i < hosts.length; i++) hosts[i] = hosts[i]!.replace(/^http:/, 'https:');
      }
    }
    const timeout = this.callTimeoutMs;
    // Node refuses an IP address as TLS server name (SNI), which grpc-js would send for
    // https://127.0.0.1:2379. For IP endpoints we send a neutral SNI name and verify the
    // server certificate against the configured endpoint addresses ourselves.
    const hostnames = hosts.filter((h) => h.startsWith('https://')).map((h) => new URL(h).hostname.replace(/^\[|\]$/g, ''));
    const ipTls = credentials !== undefined && hostnames.some((h) => isIP(h) !== 0);
    const verify = (_servername: string, cert: PeerCertificate): Error | undefined => {
      let first: Error | undefined;
      for (const h of hostnames) {
        const err = checkServerIdentity(h, cert);
        if (!err) return undefined;
        first ??= err;
      }
      return first;
    };
    const sni = ipTls ? (hostnames.find((h) => isIP(h) === 0) ?? 'localhost') : undefined;
    this.client = loadLibs().then(({ etcd3, grpc }) => {
      this.lib = etcd3;
      // etcd3 builds its channel credentials in its constructor: hand it our verifier there.
      const origCreateSsl = grpc.credentials.createSsl;
      if (ipTls) grpc.credentials.createSsl = (root, key, chain) => origCreateSsl(root, key, chain, { checkServerIdentity: verify });
      try {
        return this.makeClient(etcd3, hosts, credentials, options, timeout, sni);
      } finally {
        grpc.credentials.createSsl = origCreateSsl;
      }
    });
    this.client.catch(() => {}); // reported by the first call that needs it
  }

  private makeClient(
    lib: Etcd3Lib,
    hosts: string[],
    credentials: IOptions['credentials'],
    options: EtcdKvOptions,
    timeout: number,
    sniOverride: string | undefined,
  ): Etcd3 {
    return new lib.Etcd3({
      hosts,
      ...(credentials ? { credentials } : {}),
      ...(options.username && options.password ? { auth: { username: options.username, password: options.password } } : {}),
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: {
        host: () => passThroughPolicy as never,
        global: passThroughPolicy as never,
      },
      grpcOptions: {
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
        'grpc.max_receive_message_length': -1,
        ...(sniOverride ? { 'grpc.ssl_target_name_override': sniOverride } : {}),
      },
    });
  }

  /** Maps etcd3/grpc errors to ours. */
  private mapError(err: unknown, requestedRevision?: number): Error {
    if (err instanceof ShieldedError) return this.mapError(err.inner, requestedRevision);
    if (err instanceof DatastoreUnavailable || err instanceof RevisionCompacted || err instanceof DatastoreRequestError) return err;
    const e = err as Error;
    const msg = String(e?.message ?? err);
    if (/required revision has been compacted/.test(msg)) {
      return new RevisionCompacted(requestedRevision ?? 0, 0);
    }
    const L = this.lib;
    if (
      (L && (e instanceof L.GRPCUnavailableError || e instanceof L.GRPCDeadlineExceededError || e instanceof L.GRPCCancelledError || e instanceof L.ClientClosedError)) ||
      /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|ENOENT|No connection established/.test(msg)
    ) {
      return new DatastoreUnavailable(this.endpoints, cleanGrpcMessage(msg), err);
    }
    if (L && e instanceof L.EtcdLeaseInvalidError) return new DatastoreRequestError('etcdserver: requested lease not found', err);
    return new DatastoreRequestError(cleanGrpcMessage(msg), err);
  }

  private async call<T>(fn: (client: Etcd3) => Promise<T>, requestedRevision?: number): Promise<T> {
    if (this.closed) throw new DatastoreUnavailable(this.endpoints, 'client closed');
    try {
      return await fn(await this.client);
    } catch (err) {
      throw this.mapError(err, requestedRevision);
    }
  }

  async get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined> {
    const res = await this.call(
      (c) => c.kv.range({ key: Buffer.from(key), ...(options?.revision ? { revision: options.revision } : {}) }),
      options?.revision,
    );
    return res.kvs[0] ? toKv(res.kvs[0]) : undefined;
  }

  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    const key = Buffer.from(prefix);
    const res = await this.call(
      (c) =>
        c.kv.range({
          key: options?.fromKey !== undefined ? Buffer.from(options.fromKey) : key.length ? key : Buffer.from([0]),
          range_end: prefixRangeEnd(key),
          ...(options?.revision ? { revision: options.revision } : {}),
          ...(options?.limit ? { limit: options.limit } : {}),
          ...(options?.keysOnly ? { keys_only: true } : {}),
        }),
      options?.revision,
    );
    return { kvs: res.kvs.map(toKv), revision: num(res.header.revision), more: res.more, count: num(res.count) };
  }

  async put(key: string, value: string, options?: { lease?: string; prevKv?: boolean }): Promise<PutResult> {
    const res = await this.call((c) =>
      c.kv.put({
        key: Buffer.from(key),
        value: Buffer.from(value),
        ...(options?.lease && options.lease !== '0' ? { lease: options.lease } : {}),
        ...(options?.prevKv ? { prev_kv: true } : {}),
      }),
    );
    return { revision: num(res.header.revision), ...(res.prev_kv ? { prev: toKv(res.prev_kv) } : {}) };
  }

  async delete(key: string, options?: { prefix?: boolean; prevKv?: boolean }): Promise<DeleteResult> {
    const k = Buffer.from(key);
    const res = await this.call((c) =>
      c.kv.deleteRange({
        key: k.length ? k : Buffer.from([0]),
        ...(options?.prefix ? { range_end: prefixRangeEnd(k) } : {}),
        ...(options?.prevKv ? { prev_kv: true } : {}),
      }),
    );
    return { revision: num(res.header.revision), deleted: num(res.deleted), prev: (res.prev_kvs ?? []).map(toKv) };
  }

  async txn(req: TxnRequest): Promise<TxnResult> {
    const res = await this.call((c) =>
      c.kv.txn({
        compare: req.compare.map(toCompare),
        success: req.success.map(toRequestOp),
        failure: (req.failure ?? []).map(toRequestOp),
      }),
    );
    const ops = res.succeeded ? req.success : (req.failure ?? []);
    return {
      succeeded: res.succeeded,
      revision: num(res.header.revision),
      results: res.responses.map((r, i) => fromResponseOp(r, ops[i]!)),
    };
  }

  watch(prefix: string, options: WatchOptions, handlers: WatchHandlers): KvWatch {
    let finished = false;
    let cancelled = false;
    let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
    let resolveReady!: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    const fail = (err: Error): void => {
      if (finished) return;
      finished = true;
      resolveReady();
      try {
        stream?.cancel();
      } catch {
        /* already gone */
      }
      if (!cancelled) handlers.onError(err);
    };
    const key = Buffer.from(prefix);
    const start = async (): Promise<void> => {
      if (this.closed) throw new DatastoreUnavailable(this.endpoints, 'client closed');
      const s = await (await this.client).watchClient.watch();
      // etcd3 marks the whole connection failed (closing every client on it) when a stream
      // errors, even for the CANCELLED status our own cancel() causes; we handle errors here.
      (s as unknown as EventEmitter).removeAllListeners('error');
      stream = s;
      if (cancelled) {
        s.cancel();
        return;
      }
      s.on('data', (res: IWatchResponse) => {
        if (finished) return;
        if (res.canceled) {
          const compactRev = num(res.compact_revision);
          if (compactRev > 0) fail(new RevisionCompacted(options.fromRevision ?? 0, compactRev));
          else fail(new DatastoreRequestError(`watch canceled by the server: ${res.cancel_reason || 'no reason given'}`));
          return;
        }
        if (res.created) resolveReady();
        const events = (res.events ?? []).map((ev): KvEvent => ({
          type: ev.type === 'Delete' ? 'delete' : 'put',
          kv: toKv(ev.kv),
          ...(ev.prev_kv ? { prev: toKv(ev.prev_kv) } : {}),
        }));
        if (events.length || !res.created) handlers.onEvents(events, num(res.header?.revision));
      });
      s.on('error', (err: Error) => fail(this.mapError(err)));
      s.on('end', () => fail(new DatastoreUnavailable(this.endpoints, 'watch stream ended')));
      s.write({
        create_request: {
          key: key.length ? key : Buffer.from([0]),
          range_end: prefixRangeEnd(key),
          ...(options.fromRevision && options.fromRevision > 0 ? { start_revision: options.fromRevision } : {}),
          ...(options.prevKv ? { prev_kv: true } : {}),
          ...(options.progressNotify ? { progress_notify: true } : {}),
        },
      });
    };
    start().catch((err: unknown) => fail(this.mapError(err)));
    return {
      ready,
      cancel: async () => {
        cancelled = true;
        finished = true;
        resolveReady();
        try {
          stream?.cancel();
        } catch {
          /* already gone */
        }
      },
    };
  }

  async leaseGrant(ttlSeconds: number): Promise<Lease> {
    const res = await this.call((c) => c.leaseClient.leaseGrant({ TTL: ttlSeconds }));
    if (res.error) throw new DatastoreRequestError(`lease grant failed: ${res.error}`);
    return { id: String(res.ID), ttl: num(res.TTL) };
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.call((c) => c.leaseClient.leaseRevoke({ ID: id }));
  }

  async leaseKeepAliveOnce(id: string): Promise<number> {
    return this.call(async (c) => {
      const stream = await c.leaseClient.leaseKeepAlive();
      (stream as unknown as EventEmitter).removeAllListeners('error'); // see watch(): our cancel must not reset the channel
      stream.on('error', () => {});
      try {
        return await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new DatastoreUnavailable(this.endpoints, 'lease keep-alive timed out')), this.callTimeoutMs);
          stream.on('data', (res) => {
            clearTimeout(timer);
            const ttl = num(res.TTL);
            if (ttl <= 0) reject(new DatastoreRequestError('etcdserver: requested lease not found'));
            else resolve(ttl);
          });
          stream.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          stream.write({ ID: id });
        });
      } finally {
        stream.cancel();
      }
    });
  }

  async compact(revision: number): Promise<void> {
    await this.call((c) => c.kv.compact({ revision, physical: true }), revision);
  }

  async currentRevision(): Promise<number> {
    const res = await this.call((c) => c.kv.range({ key: Buffer.from([0]), limit: 1, keys_only: true, count_only: true }));
    return num(res.header.revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = await this.client.catch(() => undefined);
    c?.close();
  }
}

function cleanGrpcMessage(msg: string): string {
  // "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED
  // 127.0.0.1:1. Resolution note: ..." → "connect ECONNREFUSED 127.0.0.1:1"
  const sys = /\b(connect )?(E[A-Z]{3,})( \S+?)?\.?(\s|$)/.exec(msg);
  if (sys) return `${sys[1] ?? ''}${sys[2]}${sys[3] ?? ''}`;
  return msg.replace(/^\d+ [A-Z_]+: /, '').replace(/\s+/g, ' ').trim();
}

function toCompare(c: Compare): ICompare {
  const result = ({ '=': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const)[c.op];
  const base = { key: Buffer.from(c.key), result } as const;
  switch (c.target) {
    case 'version': return { ...base, target: 'Version', version: Number(c.value) };
    case 'create': return { ...base, target: 'Create', create_revision: Number(c.value) };
    case 'mod': return { ...base, target: 'Mod', mod_revision: Number(c.value) };
    case 'value': return { ...base, target: 'Value', value: Buffer.from(String(c.value)) };
  }
}

function toRequestOp(op: TxnOp): IRequestOp {
  const key = Buffer.from(op.key);
  switch (op.type) {
    case 'get':
      return { request_range: { key, ...(op.prefix ? { range_end: prefixRangeEnd(key) } : {}) } };
    case 'put':
      return { request_put: { key, value: Buffer.from(op.value), ...(op.lease && op.lease !== '0' ? { lease: op.lease } : {}) } };
    case 'delete':
      return { request_delete_range: { key, prev_kv: true, ...(op.prefix ? { range_end: prefixRangeEnd(key) } : {}) } };
  }
}

function fromResponseOp(r: IResponseOp, op: TxnOp): TxnOpResult {
  switch (op.type) {
    case 'get':
      return { type: 'get', kvs: (r.response_range?.kvs ?? []).map(toKv) };
    case 'put':
      return { type: 'put' };
    case 'delete':
      return {
        type: 'delete',
        deleted: num(r.response_delete_range?.deleted),
        prev: (r.response_delete_range?.prev_kvs ?? []).map(toKv),
      };
  }
}
