// The datastore client a component holds: a Kv for raw keys (IPAM, status), a ResourceClient
// for v3 resources, and a Syncer factory — all over one connection.

import type { DatastoreConfig } from './config.ts';
import { EtcdKv } from './etcd-kv.ts';
import type { Kv } from './kv.ts';
import { MemoryKv } from './memory-kv.ts';
import { ResourceClient, type ResourceClientOptions } from './resource-client.ts';
import { Syncer, type SyncerCallbacks, type SyncerOptions } from './syncer.ts';

export interface DatastoreClient {
  readonly kv: Kv;
  readonly resources: ResourceClient;
  syncer(callbacks: SyncerCallbacks, options: SyncerOptions): Syncer;
  close(): Promise<void>;
}

function wrap(kv: Kv, options: ResourceClientOptions): DatastoreClient {
  return {
    kv,
    resources: new ResourceClient({ kv }, options),
    syncer: (callbacks, syncerOptions) => new Syncer({ kv }, callbacks, syncerOptions),
    close: () => kv.close(),
  };
}

/**
 * A client for an etcd v3 API server (etcd or calico-datastore). Connects lazily: the first
 * request fails with DatastoreUnavailable (within config.callTimeoutMs) if it is unreachable.
 */
export function connectDatastore(config: DatastoreConfig, options: ResourceClientOptions = {}): DatastoreClient {
  return wrap(new EtcdKv(config), options);
}

/** A client over an in-memory fake store (unit tests). */
export function memoryDatastore(options: ResourceClientOptions = {}, kv: Kv = new MemoryKv()): DatastoreClient {
  return wrap(kv, options);
}
