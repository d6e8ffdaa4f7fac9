// Datastore errors: classes with stable string codes. Messages follow Calico's
// (libcalico-go/lib/errors) so that users see the same words: "resource already exists:
// GlobalNetworkPolicy(allow-dns)", "resource does not exist: ...", "update conflict: ...".

export const DatastoreErrorCode = {
  AlreadyExists: 'CALICO_ERR_RESOURCE_ALREADY_EXISTS',
  NotFound: 'CALICO_ERR_RESOURCE_NOT_FOUND',
  UpdateConflict: 'CALICO_ERR_RESOURCE_UPDATE_CONFLICT',
  Unavailable: 'CALICO_ERR_DATASTORE_UNAVAILABLE',
  Compacted: 'CALICO_ERR_DATASTORE_COMPACTED',
  Invalid: 'CALICO_ERR_DATASTORE_INVALID_REQUEST',
  Config: 'CALICO_ERR_DATASTORE_CONFIG',
  Corrupt: 'CALICO_ERR_DATASTORE_ENTRY_CORRUPT',
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
  constructor(identifier: string) {
    super(DatastoreErrorCode.AlreadyExists, `resource already exists: ${identifier}`);
    this.identifier = identifier;
  }
}

export class ResourceNotFound extends DatastoreError {
  readonly identifier: string;
  constructor(identifier: string) {
    super(DatastoreErrorCode.NotFound, `resource does not exist: ${identifier}`);
    this.identifier = identifier;
  }
}

export class ResourceUpdateConflict extends DatastoreError {
  readonly identifier: string;
  constructor(identifier: string, detail?: string) {
    super(DatastoreErrorCode.UpdateConflict, `update conflict: ${identifier}${detail ? `: ${detail}` : ''}`);
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
