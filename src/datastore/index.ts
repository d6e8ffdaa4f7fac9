// calico-ts/datastore: the one client layer every component uses to reach the datastore
// (the etcd v3 API, served by etcd or calico-datastore). See docs/design/datastore-client.md.
export type {
  Compare,
  CompareOp,
  CompareTarget,
  DeleteResult,
  KeyValue,
  Kv,
  KvEvent,
  KvWatch,
  Lease,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WatchHandlers,
  WatchOptions,
} from './kv.ts';
export { prefixRangeEnd } from './kv.ts';
export {
  DatastoreConfigError,
  DatastoreEntryCorrupt,
  DatastoreError,
  DatastoreErrorCode,
  DatastoreRequestError,
  DatastoreUnavailable,
  OperationNotSupported,
  ResourceAlreadyExists,
  ResourceNotFound,
  ResourceUpdateConflict,
  RevisionCompacted,
  isDatastoreError,
  resourceId,
} from './errors.ts';
export type { DatastoreConfig, DatastoreSettings } from './config.ts';
export { DEFAULT_ETCD_ENDPOINT, datastoreConfigFrom, datastoreConfigFromEnv, settingsFromEnv } from './config.ts';
export { EtcdKv, normaliseEndpoints, type EtcdKvOptions } from './etcd-kv.ts';
export { MemoryKv } from './memory-kv.ts';
export {
  DEFAULT_ALLOW_PROFILE,
  POLICY_METADATA_ANNOTATION,
  PROTECTED_TIERS,
  ResourceClient,
  cidrsOverlap,
  decodeStored,
  decodeSyncUpdate,
  encodeStored,
  formatGoDuration,
  parseGoDuration,
  rfc3339,
  type ListOptions,
  type ResourceClientOptions,
  type ResourceList,
  type ResourceUpdate,
  type ResourceWatchEvent,
  type ResourceWatchHandlers,
} from './resource-client.ts';
export { Syncer, type SyncStatus, type SyncUpdate, type SyncerCallbacks, type SyncerOptions, type SyncerStats } from './syncer.ts';
export { connectDatastore, memoryDatastore, type DatastoreClient } from './client.ts';

/**
 * The embedded server (calico-datastore), loaded on demand: clients importing this module do
 * not pay for the server's code. `const { runCli } = await loadServer();`
 */
export async function loadServer(): Promise<typeof import('./server/index.ts')> {
  return import('./server/index.ts');
}
