// Datastore errors: classes with stable string codes. Messages are Calico's, word for word
// (libcalico-go/lib/errors/errors.go), so that users and scripts see the same text:
// "resource already exists: GlobalNetworkPolicy(allow-dns) with error: <nil>",
// "resource does not exist: NetworkPolicy(ns1/np1) with error: <nil>" (Go's %v of a nil
// error), "update conflict: IPPool(pool-1)".

export const DatastoreErrorCode = {
  AlreadyExists: 'CALICO_ERR_RESOURCE_ALREADY_EXISTS',
  NotFound: 'CALICO_ERR_RESOURCE_NOT_FOUND',
  UpdateConflict: 'CALICO_ERR_RESOURCE_UPDATE_CONFLICT',
  Unavailable: 'CALICO_ERR_DATASTORE_UNAVAILABLE',
  Compacted: 'CALICO_ERR_DATASTORE_COMPACTED',
  Invalid: 'CALICO_ERR_DATASTORE_INVALID_REQUEST',
  Config: 'CALICO_ERR_DATASTORE_CONFIG',
  Corrupt: 'CALICO_ERR_DATASTORE_ENTRY_CORRUPT',
  NotSupported: 'CALICO_ERR_OPERATION_NOT_SUPPORTED',
} as const;
export type DatastoreErrorCode = (typeof DatastoreErrorCode)[keyof typeof DatastoreErrorCode];

export class DatastoreError extends Error {
  readonly code: DatastoreErrorCode;
  /** Whether retrying the same request later may succeed (lost connection, timeout). */
  readonly recoverable: boolean;
  constructor(code: DatastoreErrorCode, message: string, options?: { cause?: unknown; recoverable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.recoverable = options?.recoverable ?? false;
  }
}

/** `Kind(name)` or `Kind(namespace/name)`, as Calico's ResourceKey prints itself. */
export function resourceId(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}(${namespace}/${name})` : `${kind}(${name})`;
}

export class ResourceAlreadyExists extends DatastoreError {
  readonly identifier: string;
  /** Calico's optional inner error text (printed after "with error:"; `<nil>` when absent). */
  readonly detail: string | undefined;
  constructor(identifier: string, detail?: string) {
    super(DatastoreErrorCode.AlreadyExists, `resource already exists: ${identifier} with error: ${detail ?? '<nil>'}`);
    this.identifier = identifier;
    this.detail = detail;
  }
}

export class ResourceNotFound extends DatastoreError {
  readonly identifier: string;
  constructor(identifier: string) {
    super(DatastoreErrorCode.NotFound, `resource does not exist: ${identifier} with error: <nil>`);
    this.identifier = identifier;
  }
}

/**
 * A write lost a compare-and-swap. The message is Calico's (`update conflict: Kind(name)`);
 * `detail` says which resourceVersion was stale and the latest one, for logs and callers.
 */
export class ResourceUpdateConflict extends DatastoreError {
  readonly identifier: string;
  readonly detail: string | undefined;
  constructor(identifier: string, detail?: string) {
    super(DatastoreErrorCode.UpdateConflict, `update conflict: ${identifier}`);
    this.identifier = identifier;
    this.detail = detail;
  }
}

/**
 * Calico's ErrorOperationNotSupported: "operation delete is not supported on default: Cannot
 * delete default tier".
 */
export class OperationNotSupported extends DatastoreError {
  readonly operation: string;
  readonly identifier: string;
  constructor(operation: string, identifier: string, reason?: string) {
    super(DatastoreErrorCode.NotSupported, `operation ${operation} is not supported on ${identifier}${reason ? `: ${reason}` : ''}`);
    this.operation = operation;
    this.identifier = identifier;
  }
}

export class DatastoreUnavailable extends DatastoreError {
  readonly endpoints: readonly string[];
  constructor(endpoints: readonly string[], detail: string, cause?: unknown) {
    super(DatastoreErrorCode.Unavailable, `datastore unavailable at ${endpoints.join(',')}: ${detail}`, { cause, recoverable: true });
    this.endpoints = endpoints;
  }
}

/** A watch or a read asked for a revision older than the datastore's compaction point. */
export class RevisionCompacted extends DatastoreError {
  readonly compactRevision: number;
  constructor(requested: number, compactRevision: number) {
    super(
      DatastoreErrorCode.Compacted,
      `required revision ${requested} has been compacted${compactRevision > 0 ? ` (compacted up to ${compactRevision})` : ''}`,
      { recoverable: true },
    );
    this.compactRevision = compactRevision;
  }
}

/** The request was malformed or refused by the server (too large, quota, bad argument). */
export class DatastoreRequestError extends DatastoreError {
  constructor(message: string, cause?: unknown) {
    super(DatastoreErrorCode.Invalid, message, { cause });
  }
}

export class DatastoreConfigError extends DatastoreError {
  constructor(message: string) {
    super(DatastoreErrorCode.Config, message);
  }
}

/** A stored value could not be decoded (not JSON, or not the kind its key says). */
export class DatastoreEntryCorrupt extends DatastoreError {
  readonly key: string;
  constructor(key: string, detail: string) {
    super(DatastoreErrorCode.Corrupt, `failed to parse datastore entry ${key}: ${detail}`);
    this.key = key;
  }
}

export function isDatastoreError(err: unknown): err is DatastoreError {
  return err instanceof DatastoreError;
}
