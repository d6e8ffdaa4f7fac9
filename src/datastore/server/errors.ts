// Errors the server returns, with the gRPC status codes and messages etcd v3 uses
// (api/v3rpc/rpctypes/error.go), so that clients that match on them behave the same.

/** gRPC status codes (the numeric values are fixed by the gRPC spec). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** An error carried to the client as a gRPC status: `code` and `details` are what it sees. */
export class EtcdError extends Error {
  readonly code: GrpcCode;
  readonly details: string;
  /** Stable identifier for logs and tests, e.g. 'compacted'. */
  readonly id: string;
  constructor(id: string, code: GrpcCode, details: string) {
    super(details);
    this.name = 'EtcdError';
    this.id = id;
    this.code = code;
    this.details = details;
  }
}

const mk = (id: string, code: GrpcCode, msg: string) => () => new EtcdError(id, code, msg);

export const Errors = {
  emptyKey: mk('empty-key', GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: mk('key-not-found', GrpcCode.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: mk('value-provided', GrpcCode.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: mk('lease-provided', GrpcCode.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: mk('too-many-ops', GrpcCode.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: mk('duplicate-key', GrpcCode.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  invalidSortOption: mk('invalid-sort-option', GrpcCode.INVALID_ARGUMENT, 'etcdserver: invalid sort option'),
  compacted: mk('compacted', GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: mk('future-rev', GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: mk('no-space', GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  corrupt: mk('corrupt', GrpcCode.DATA_LOSS, 'etcdserver: corrupt cluster'),
  leaseNotFound: mk('lease-not-found', GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExist: mk('lease-exist', GrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: mk('lease-ttl-too-large', GrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  requestTooLarge: mk('request-too-large', GrpcCode.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  authNotEnabled: mk('auth-not-enabled', GrpcCode.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  stopped: mk('stopped', GrpcCode.UNAVAILABLE, 'etcdserver: server stopped'),
  badLeaderTransferee: mk('bad-leader-transferee', GrpcCode.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  memberNotFound: mk('member-not-found', GrpcCode.NOT_FOUND, 'etcdserver: member not found'),
  /** Not an etcd message: etcd cannot report a failed disk write (it panics); we do, and keep serving reads. */
  storage: (detail: string) => new EtcdError('storage', GrpcCode.UNAVAILABLE, `calico-datastore: write not persisted: ${detail}`),
  unimplemented: (what: string) => new EtcdError('unimplemented', GrpcCode.UNIMPLEMENTED, `calico-datastore: ${what} is not implemented`),
  invalid: (detail: string) => new EtcdError('invalid-argument', GrpcCode.INVALID_ARGUMENT, `calico-datastore: ${detail}`),
} as const;

/** Error strings used inside watch responses (cancel_reason), without the gRPC prefix. */
export const WatchReasons = {
  compacted: 'mvcc: required revision has been compacted',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;

/** Raised when the data directory cannot be used (corrupt, locked, unwritable). */
export class DataDirError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DataDirError';
    this.code = code;
  }
}

/** Raised for invalid server configuration (flags). */
export class ConfigError extends Error {
  readonly code = 'config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
