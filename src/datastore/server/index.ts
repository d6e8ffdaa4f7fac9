// calico-datastore: an embedded, single-member etcd v3 API server persisted with node:sqlite.
export { startDatastoreServer, DB_FILE, type DatastoreServer, type LogFn } from './server.ts';
export {
  defaultOptions,
  parseListenUrl,
  validateOptions,
  isLoopbackHost,
  DEFAULT_LISTEN,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_QUOTA_BACKEND_BYTES,
  SOCKET_NAME,
  type ServerOptions,
  type ListenUrl,
} from './config.ts';
export { EtcdError, Errors, GrpcCode, DataDirError, ConfigError } from './errors.ts';
export { ETCD_API_VERSION } from './services.ts';
export { runCli } from './cli.ts';
