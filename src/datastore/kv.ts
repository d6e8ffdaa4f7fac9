// The small key-value interface every calico-ts component uses: the etcd v3 data model
// (revisions, compare-and-swap transactions, watch from a revision, leases) without any
// client library's types. Two implementations: EtcdKv (etcd3 over gRPC, for real etcd and
// calico-datastore) and MemoryKv (an in-process fake with the same semantics, for unit tests).
// Keys and values are UTF-8 strings (Calico stores JSON under /calico/...).

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Revision of the last write to this key (Calico's resourceVersion). */
  readonly modRevision: number;
  /** Revision at which the key was (last) created. */
  readonly createRevision: number;
  /** Number of writes since creation (1 after create). */
  readonly version: number;
  /** Lease id ('0' or '' when none). */
  readonly lease: string;
}

export interface RangeOptions {
  /** Read at this revision (must not be compacted). Default: latest. */
  readonly revision?: number;
  /** At most this many keys (sorted by key). */
  readonly limit?: number;
  /** Start at this key (inclusive, must start with the prefix): paging through a big range. */
  readonly fromKey?: string;
  /** Return keys only (value is ''). */
  readonly keysOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  /** The store revision the read was served at. */
  readonly revision: number;
  /** Whether more keys matched than `limit` allowed. */
  readonly more: boolean;
  /** Total number of matching keys. */
  readonly count: number;
}

export interface PutResult {
  readonly revision: number;
  readonly prev?: KeyValue;
}

export interface DeleteResult {
  readonly revision: number;
  readonly deleted: number;
  readonly prev: readonly KeyValue[];
}

export type CompareTarget = 'version' | 'create' | 'mod' | 'value';
export type CompareOp = '=' | '!=' | '<' | '>';

export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly op: CompareOp;
  /** A number for version/create/mod, a string for value. */
  readonly value: number | string;
}

export type TxnOp =
  | { readonly type: 'get'; readonly key: string; readonly prefix?: boolean }
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly type: 'delete'; readonly key: string; readonly prefix?: boolean };

export type TxnOpResult =
  | { readonly type: 'get'; readonly kvs: readonly KeyValue[] }
  | { readonly type: 'put' }
  | { readonly type: 'delete'; readonly deleted: number; readonly prev: readonly KeyValue[] };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly results: readonly TxnOpResult[];
}

export interface KvEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: key, modRevision = the deleting revision, value ''. */
  readonly kv: KeyValue;
  /** The previous value, when the watch asked for prevKv and the server had it. */
  readonly prev?: KeyValue;
}

export interface WatchOptions {
  /** First revision to deliver (inclusive). Default: the next revision after now. */
  readonly fromRevision?: number;
  readonly prevKv?: boolean;
  /** Ask the server for periodic progress notifications (empty batches with a revision). */
  readonly progressNotify?: boolean;
}

export interface WatchHandlers {
  /** One server response: events in revision order (may be empty for a progress notice). */
  onEvents(events: readonly KvEvent[], headerRevision: number): void;
  /**
   * The watch ended with an error and delivers nothing more: RevisionCompacted when
   * fromRevision is older than the compaction point, DatastoreUnavailable when the
   * connection was lost. Not called after cancel().
   */
  onError(err: Error): void;
}

export interface KvWatch {
  /** Resolves when the server has accepted the watch (events may arrive before). */
  readonly ready: Promise<void>;
  cancel(): Promise<void>;
}

export interface Lease {
  readonly id: string;
  readonly ttl: number;
}

export interface Kv {
  /** Describes the endpoints, for messages. */
  readonly description: string;
  get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined>;
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  put(key: string, value: string, options?: { lease?: string; prevKv?: boolean }): Promise<PutResult>;
  delete(key: string, options?: { prefix?: boolean; prevKv?: boolean }): Promise<DeleteResult>;
  txn(req: TxnRequest): Promise<TxnResult>;
  /** Watch every key starting with `prefix` ('' for all keys). */
  watch(prefix: string, options: WatchOptions, handlers: WatchHandlers): KvWatch;
  leaseGrant(ttlSeconds: number): Promise<Lease>;
  leaseRevoke(id: string): Promise<void>;
  leaseKeepAliveOnce(id: string): Promise<number>;
  /** Discard history before `revision`. */
  compact(revision: number): Promise<void>;
  /** The current store revision. */
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}

/** The exclusive end of a prefix range, as etcd computes it (`''` means "to the end"). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // no upper bound: all keys >= prefix
}
