// gRPC handlers for etcd's KV, Watch, Lease, Maintenance, Cluster and Auth services: thin
// shells that validate, then hand reads and writes to the committer and store.
import {
  decodeHealthCheckRequest,
  decodeWatchRequest,
  encodeWatchResponse,
  frameEncoders,
  HEALTH_SERVING,
  requestDecoders,
  responseEncoders,
  tableDecoders,
  vlen,
} from './codec.ts';
import { Committer, toEtcdError } from './committer.ts';
import { EtcdError, Errors, GrpcCode } from './errors.ts';
import type { Lessor } from './lessor.ts';
import type { MethodDef, StatusLike, StreamCall, UnaryCall } from './h2/grpc-server.ts';
import { serviceDefinition } from './proto.ts';
import type { DeleteRangeRequest, Header, PutRequest, RangeRequest, RequestOp, TxnRequest } from './proto.ts';
import { MAX_LEASE_TTL, MIN_LEASE_TTL, MvccStore } from './store.ts';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnIntervals, checkTxnRequest } from './validate.ts';
import { WatchSession, type WatchHub, type WatchRequest } from './watch-hub.ts';

/** The API version reported by Maintenance.Status: the etcd release whose API we follow. */
export const ETCD_API_VERSION = '3.4.23';
const SIZE = Symbol('requestBytes');
const NOSPACE = 1;
const CORRUPT = 2;
/** etcd's AlarmType names. */
const ALARM_NAMES: Record<number, string> = { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' };
const KV_OVERHEAD = 256;
const LEASE_OVERHEAD = 64;

export interface ServiceEnv {
  store: MvccStore;
  committer: Committer;
  hub: WatchHub;
  lessor: Lessor;
  name: string;
  clientUrls: () => string[];
  maxRequestBytes: number;
  quotaBackendBytes: number;
  maxTxnOps: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;
}

type Cb = (err: StatusLike | null, res?: unknown) => void;
/** A unary call whose request has the given shape. */
type Call<T> = UnaryCall & { request: T };
type ServiceDef = Record<string, MethodDef>;
/** Where services are registered (the gRPC server). */
export interface ServiceHost {
  addService(def: ServiceDef, impl: Record<string, unknown>): void;
}

function statusOf(e: unknown): StatusLike {
  const err = e instanceof EtcdError ? e : toEtcdError(e);
  return { code: err.code, details: err.details };
}

export function makeHeader(store: MvccStore, rev: number): Header {
  return { cluster_id: store.clusterId, member_id: store.memberId, revision: rev, raft_term: '2' };
}

/**
 * Service definition whose request decoder records each request's wire size. The KV
 * methods use the hand-written codecs (codec.ts) instead of protobufjs, and carry
 * `serializeFrame` (the response with its gRPC message prefix) for the direct unary path.
 */
function sizedDefinition(name: string): ServiceDef {
  const def = serviceDefinition(name);
  const out: ServiceDef = {};
  for (const [m, d] of Object.entries(def)) {
    const md = d as unknown as MethodDef;
    // requests are decoded as etcd's generated code does (codec.ts), so malformed ones get
    // its errors; methods without such a decoder (auth, unimplemented ones) use protobufjs
    const hot = name === 'KV' && m in requestDecoders ? (m as keyof typeof requestDecoders) : null;
    const own = name === 'Watch' && m === 'Watch' ? decodeWatchRequest : tableDecoders[name]?.[m];
    const orig = hot ? (requestDecoders[hot] as (buf: Buffer) => object) : (own ?? md.requestDeserialize);
    out[m] = {
      ...md,
      requestDeserialize: (buf: Buffer) => {
        const o = orig(buf) as Record<symbol, number>;
        o[SIZE] = buf.length;
        return o;
      },
    };
    if (hot) {
      out[m].responseSerialize = responseEncoders[hot] as (v: object) => Buffer;
      out[m].serializeFrame = frameEncoders[hot] as (v: unknown) => Buffer;
    }
    if (name === 'Watch' && m === 'Watch') out[m].responseSerialize = encodeWatchResponse as (v: object) => Buffer;
  }
  return out;
}

const sizeOf = (req: object): number => (req as Record<symbol, number>)[SIZE] ?? 0;

function costTxn(t: TxnRequest): number {
  let c = 0;
  const op = (u: RequestOp) => {
    if (u.request_put) c += KV_OVERHEAD + u.request_put.key.length + u.request_put.value.length;
    else if (u.request_txn) c += costTxn(u.request_txn);
  };
  t.success.forEach(op);
  t.failure.forEach(op);
  return c;
}

export function addServices(server: ServiceHost, env: ServiceEnv): void {
  const { store, committer, hub, lessor } = env;
  const header = (rev: number = store.rev) => makeHeader(store, rev);

  // etcd measures the raft entry that carries a write: the request as a field (tag, length)
  // of an InternalRaftRequest whose header holds a request id — the member id's low 16 bits
  // above a 48-bit counter, so its varint length is fixed per member.
  const member16 = BigInt(store.memberId) & 0xffffn;
  const headerBytes = 4 + vlen(member16 === 0n ? 1n << 47n : (member16 << 48n) | ((1n << 48n) - 1n));
  const checkSize = (req: object) => {
    const n = sizeOf(req);
    if (n + 1 + vlen(n) + headerBytes > env.maxRequestBytes) throw Errors.requestTooLarge();
  };
  // The database size (PRAGMA page_count) is re-read only every min(1 MiB, quota/64) of
  // request cost, and on every write once the estimate is within 10% of the quota; in
  // between, the last size plus the cost since is the estimate (etcd's check is also
  // approximate: its backend size is that of the last batch commit).
  let sizeAt = -1;
  let costSince = 0;
  const refreshEvery = Math.min(1 << 20, Math.floor(env.quotaBackendBytes / 64));
  const dbSizeEstimate = (cost: number): number => {
    costSince += cost;
    if (sizeAt < 0 || costSince >= refreshEvery || sizeAt + costSince >= env.quotaBackendBytes * 0.9) {
      sizeAt = store.dbSize();
      costSince = 0;
    }
    return sizeAt + costSince;
  };
  const checkQuota = (cost: number) => {
    if (cost === 0) return;
    if (store.hasAlarm(NOSPACE)) throw Errors.noSpace();
    if (env.quotaBackendBytes > 0 && dbSizeEstimate(cost) + cost >= env.quotaBackendBytes) {
      env.log('warn', 'backend quota exceeded: raising NOSPACE alarm', { dbSize: store.dbSize(), quota: env.quotaBackendBytes });
      committer.write(
        () => {
          store.activateAlarm(store.memberId, NOSPACE);
        },
        () => {},
      );
      throw Errors.noSpace();
    }
  };

  /**
   * Runs a write through the committer and answers with the full header. While a CORRUPT
   * alarm is active every write is refused, as etcd's corrupt applier does (reads go on).
   */
  const write = <T extends { header: Header }>(cb: Cb, fn: (ctx: Parameters<Parameters<Committer['write']>[0]>[0]) => T) => {
    const guarded = (ctx: Parameters<typeof fn>[0]) => {
      if (store.alarms.size > 0 && store.hasAlarm(CORRUPT)) throw Errors.corrupt();
      return fn(ctx);
    };
    committer.write(guarded, (err, res) => {
      if (err) cb(statusOf(err));
      else {
        res!.header = header(res!.header.revision);
        cb(null, res);
      }
    });
  };
  const read = (cb: Cb, fn: () => unknown) => {
    committer.read(() => {
      let res: unknown;
      try {
        res = fn();
      } catch (e) {
        cb(statusOf(e));
        return;
      }
      cb(null, res);
    });
  };
  const guard = (cb: Cb, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      cb(statusOf(e));
    }
  };

  // ---------------------------------------------------------------- KV
  server.addService(sizedDefinition('KV'), {
    Range: (call: Call<RangeRequest>, cb: Cb) =>
      guard(cb, () => {
        checkRangeRequest(call.request);
        read(cb, () => {
          const r = store.range(call.request);
          r.header = header(r.header.revision);
          return r;
        });
      }),
    Put: (call: Call<PutRequest>, cb: Cb) =>
      guard(cb, () => {
        const p = call.request;
        checkPutRequest(p);
        checkSize(p);
        checkQuota(KV_OVERHEAD + p.key.length + p.value.length);
        write(cb, (ctx) => {
          store.checkPut(p);
          return store.put(ctx, p);
        });
      }),
    DeleteRange: (call: Call<DeleteRangeRequest>, cb: Cb) =>
      guard(cb, () => {
        checkDeleteRequest(call.request);
        checkSize(call.request);
        write(cb, (ctx) => store.deleteRange(ctx, call.request));
      }),
    Txn: (call: Call<TxnRequest>, cb: Cb) =>
      guard(cb, () => {
        const t = call.request;
        checkTxnRequest(t, env.maxTxnOps);
        checkTxnIntervals(t);
        if (!MvccStore.txnWrites(t)) {
          read(cb, () => {
            const r = store.txn(store.beginWrite(), t);
            r.header = header(r.header.revision);
            return r;
          });
          return;
        }
        checkSize(t);
        checkQuota(costTxn(t));
        write(cb, (ctx) => store.txn(ctx, t));
      }),
    Compact: (call: Call<{ revision: string; physical: boolean }>, cb: Cb) =>
      guard(cb, () => {
        const rev = Number(call.request.revision);
        write(cb, () => {
          store.compact(rev);
          return { header: { revision: store.rev } };
        });
      }),
  });

  // ---------------------------------------------------------------- Watch
  server.addService(sizedDefinition('Watch'), {
    Watch: (call: StreamCall) => {
      const session = new WatchSession(hub, call);
      call.on('data', (req: WatchRequest) => session.handle(req));
      const end = () => {
        session.close();
      };
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('error', end);
      call.on('cancelled', end);
      call.on('close', end);
    },
  });

  // ---------------------------------------------------------------- Lease
  server.addService(sizedDefinition('Lease'), {
    LeaseGrant: (call: Call<{ TTL: string; ID: string }>, cb: Cb) =>
      guard(cb, () => {
        checkQuota(LEASE_OVERHEAD);
        const reqId = BigInt(call.request.ID);
        const ttlReq = Number(call.request.TTL);
        write(cb, () => {
          if (ttlReq > MAX_LEASE_TTL) throw Errors.leaseTTLTooLarge();
          let id: string;
          if (reqId === 0n) id = lessor.newId();
          else {
            id = reqId.toString();
            if (store.leases.has(id)) throw Errors.leaseExist();
          }
          const ttl = Math.max(ttlReq, MIN_LEASE_TTL);
          store.grantLease(id, ttl);
          lessor.track(id, ttl);
          return { header: { revision: store.rev }, ID: id, TTL: ttl, error: '' };
        });
      }),
    LeaseRevoke: (call: Call<{ ID: string }>, cb: Cb) =>
      guard(cb, () => {
        const id = BigInt(call.request.ID).toString();
        write(cb, (ctx) => {
          if (!store.leases.has(id)) throw Errors.leaseNotFound();
          store.revokeLease(ctx, id);
          lessor.forget(id);
          return { header: { revision: store.viewRev(ctx) } };
        });
      }),
    LeaseKeepAlive: (call: StreamCall) => {
      let open = true;
      call.on('data', (req: { ID: string }) => {
        const id = BigInt(req.ID).toString();
        committer.read(() => {
          if (!open) return;
          const ttl = lessor.renew(id);
          call.write({ header: header(), ID: id, TTL: ttl });
        });
      });
      const end = () => {
        open = false;
      };
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('error', end);
      call.on('cancelled', end);
    },
    LeaseTimeToLive: (call: Call<{ ID: string; keys: boolean }>, cb: Cb) =>
      read(cb, () => {
        const id = BigInt(call.request.ID).toString();
        const granted = store.leases.get(id);
        if (granted === undefined) return { header: header(), ID: id, TTL: -1, grantedTTL: 0, keys: [] };
        return {
          header: header(),
          ID: id,
          TTL: lessor.remaining(id),
          grantedTTL: granted,
          keys: call.request.keys ? store.leaseKeys(id) : [],
        };
      }),
    // soonest expiry first, as etcd's lessor lists them
    LeaseLeases: (_call: Call<object>, cb: Cb) => read(cb, () => ({ header: header(), leases: lessor.byExpiry().map((ID) => ({ ID })) })),
  });

  // ---------------------------------------------------------------- Cluster
  const unimpl = (what: string) => (_call: unknown, cb: Cb) => cb(statusOf(Errors.unimplemented(what)));
  const members = () => [{ ID: store.memberId, name: env.name, peerURLs: [], clientURLs: env.clientUrls(), isLearner: false }];
  server.addService(sizedDefinition('Cluster'), {
    // etcd's cluster responses carry cluster, member and term, but no revision
    MemberList: (_call: unknown, cb: Cb) => read(cb, () => ({ header: header(0), members: members() })),
    MemberAdd: unimpl('MemberAdd (calico-datastore is a single member; use etcd for clusters)'),
    MemberRemove: unimpl('MemberRemove (single member)'),
    MemberUpdate: unimpl('MemberUpdate (single member)'),
    MemberPromote: unimpl('MemberPromote (single member)'),
  });

  // ---------------------------------------------------------------- Maintenance
  const alarmName = (a: number) => ALARM_NAMES[a] ?? String(a);
  server.addService(sizedDefinition('Maintenance'), {
    Status: (_call: unknown, cb: Cb) =>
      read(cb, () => ({
        header: header(),
        version: ETCD_API_VERSION,
        dbSize: store.dbSize(),
        leader: store.memberId,
        raftIndex: store.rev,
        raftTerm: 2,
        raftAppliedIndex: store.rev,
        // each alarm as etcd prints an AlarmMember (protobuf compact text)
        errors: store.alarmList(0).map((a) => `memberID:${a.memberID} alarm:${alarmName(a.alarm)} `),
        dbSizeInUse: store.dbSizeInUse(),
        isLearner: false,
      })),
    // etcd's AlarmStore: GET lists the alarms of a type (all for NONE); ACTIVATE and
    // DEACTIVATE act on the (member, type) given and answer with that alarm (none if
    // deactivating one that is not active). Alarm responses have no header.
    Alarm: (call: Call<{ action: number; memberID: string; alarm: number }>, cb: Cb) =>
      guard(cb, () => {
        const { action, alarm } = call.request;
        // memberID 0 means this member (etcd would record, or look for, an alarm of member 0)
        const member = BigInt(call.request.memberID) === 0n ? store.memberId : BigInt(call.request.memberID).toString();
        if (action === 0) {
          read(cb, () => ({ alarms: store.alarmList(alarm) }));
          return;
        }
        if (action !== 1 && action !== 2) {
          // etcd 3.4 crashes on this (its applier returns neither a response nor an error)
          cb(statusOf(Errors.invalid(`unknown alarm action ${action} (expected 0 GET, 1 ACTIVATE or 2 DEACTIVATE)`)));
          return;
        }
        committer.write(
          () => {
            const a = action === 1 ? store.activateAlarm(member, alarm) : store.deactivateAlarm(member, alarm);
            return { alarms: a ? [a] : [] };
          },
          (err, res) => (err ? cb(statusOf(err)) : cb(null, res)),
        );
      }),
    // etcd answers Defragment and MoveLeader with no header
    Defragment: (_call: unknown, cb: Cb) =>
      read(cb, () => {
        store.db.exec('VACUUM');
        return {};
      }),
    Hash: unimpl('Hash'),
    HashKV: (call: Call<{ revision: string }>, cb: Cb) =>
      read(cb, () => {
        const h = store.hashKv(Number(call.request.revision));
        return { header: header(h.current), hash: h.hash, compact_revision: h.compact };
      }),
    Snapshot: (call: StreamCall) => {
      call.end({ code: GrpcCode.UNIMPLEMENTED, details: 'calico-datastore: Snapshot is not implemented (copy the data directory while stopped)' });
    },
    // the only member leads already: moving to itself is done, any other id is no member
    MoveLeader: (call: Call<{ targetID: string }>, cb: Cb) =>
      guard(cb, () => {
        if (BigInt(call.request.targetID).toString() !== store.memberId) throw Errors.badLeaderTransferee();
        cb(null, {});
      }),
    // Downgrade (etcd 3.5) is left unregistered: grpc-go's "unknown method", as etcd 3.4 answers
  });

  // ---------------------------------------------------------------- gRPC health (grpc.health.v1)
  // etcd registers the standard health service with the whole server ("") SERVING; any
  // other service name is NOT_FOUND. Messages: HealthCheckRequest { string service = 1 },
  // HealthCheckResponse { ServingStatus status = 1 } with SERVING = 1.
  const healthMethod = (name: string, stream: boolean): MethodDef => ({
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream: stream,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: () => HEALTH_SERVING,
  });
  const healthCheck = (service: string): StatusLike | null => (service === '' ? null : { code: GrpcCode.NOT_FOUND, details: 'unknown service' });
  server.addService(
    { Check: healthMethod('Check', false), Watch: healthMethod('Watch', true) },
    {
      Check: (call: Call<{ service: string }>, cb: Cb) => {
        const err = healthCheck(call.request.service);
        cb(err, err ? undefined : {});
      },
      // one SERVING, then the stream stays open (the status never changes while we serve)
      Watch: (call: StreamCall) => {
        const err = healthCheck((call.request as { service: string }).service);
        if (err) call.end(err);
        else call.write({});
      },
    },
  );

  // ---------------------------------------------------------------- Auth (not supported: disabled)
  const authDef = serviceDefinition('Auth');
  const authImpl: Record<string, unknown> = {};
  // AuthStatus (etcd 3.5) stays unregistered: "unknown method", as etcd 3.4 answers
  for (const m of Object.keys(authDef)) if (m !== 'AuthStatus') authImpl[m] = (_call: unknown, cb: Cb) => cb(statusOf(Errors.authNotEnabled()));
  authImpl['AuthDisable'] = (_call: unknown, cb: Cb) => cb(null, { header: header() });
  authImpl['AuthEnable'] = (_call: unknown, cb: Cb) =>
    cb({ code: GrpcCode.UNIMPLEMENTED, details: 'calico-datastore: authentication is not supported; use TLS client certificates (--client-cert-auth)' });
  server.addService(authDef as unknown as ServiceDef, authImpl);
}
