// Datastore connection settings, named as Calico names them (libcalico-go/lib/apiconfig):
// DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE,
// ETCD_USERNAME, ETCD_PASSWORD — each also accepted with a CALICO_ prefix, which wins, as
// Calico's envconfig does. With nothing set: the embedded calico-datastore's default address.

import { DatastoreConfigError } from './errors.ts';
import type { EtcdKvOptions } from './etcd-kv.ts';

export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';

/** Connection settings: the etcd client's options plus the datastore type. */
export interface DatastoreConfig extends EtcdKvOptions {
  /** Only etcdv3 (the etcd v3 API, served by etcd or calico-datastore). */
  readonly datastoreType: 'etcdv3';
}

export interface DatastoreSettings {
  datastoreType?: string;
  etcdEndpoints?: string;
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdCACert?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUsername?: string;
  etcdPassword?: string;
}

const ENV_NAMES: ReadonlyArray<[keyof DatastoreSettings, string]> = [
  ['datastoreType', 'DATASTORE_TYPE'],
  ['etcdEndpoints', 'ETCD_ENDPOINTS'],
  ['etcdCACertFile', 'ETCD_CA_CERT_FILE'],
  ['etcdCertFile', 'ETCD_CERT_FILE'],
  ['etcdKeyFile', 'ETCD_KEY_FILE'],
  ['etcdUsername', 'ETCD_USERNAME'],
  ['etcdPassword', 'ETCD_PASSWORD'],
];

/** The datastore settings present in an environment (CALICO_X, else X). */
export function settingsFromEnv(env: Record<string, string | undefined> = process.env): DatastoreSettings {
  const out: DatastoreSettings = {};
  for (const [field, name] of ENV_NAMES) {
    const v = env[`CALICO_${name}`] || env[name];
    if (v) out[field] = v;
  }
  return out;
}

/** Turns Calico-style settings into a validated DatastoreConfig. */
export function datastoreConfigFrom(s: DatastoreSettings, where = 'environment'): DatastoreConfig {
  const type = (s.datastoreType ?? '').trim();
  if (type && type !== 'etcdv3') {
    throw new DatastoreConfigError(
      `unsupported datastoreType '${type}' in ${where}: calico-ts speaks the etcd v3 API only (expected 'etcdv3')`,
    );
  }
  const endpoints = (s.etcdEndpoints ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) {
    if (!/^(https?:\/\/[^/\s]+\/?|unix:.+)$/.test(e)) {
      throw new DatastoreConfigError(
        `invalid etcd endpoint '${e}' in ${where}: expected http://host:port, https://host:port or unix:///path`,
      );
    }
  }
  if ((s.etcdCertFile && !s.etcdKeyFile) || (!s.etcdCertFile && s.etcdKeyFile)) {
    throw new DatastoreConfigError(`${where}: the etcd client certificate and key must be given together (etcdCertFile/ETCD_CERT_FILE and etcdKeyFile/ETCD_KEY_FILE)`);
  }
  const cfg: DatastoreConfig = {
    datastoreType: 'etcdv3',
    endpoints: endpoints.length ? endpoints : [DEFAULT_ETCD_ENDPOINT],
    ...(s.etcdCACertFile ? { caCertFile: s.etcdCACertFile } : {}),
    ...(s.etcdCertFile ? { certFile: s.etcdCertFile } : {}),
    ...(s.etcdKeyFile ? { keyFile: s.etcdKeyFile } : {}),
    ...(s.etcdCACert ? { caCert: s.etcdCACert } : {}),
    ...(s.etcdCert ? { cert: s.etcdCert } : {}),
    ...(s.etcdKey ? { key: s.etcdKey } : {}),
    ...(s.etcdUsername ? { username: s.etcdUsername } : {}),
    ...(s.etcdPassword ? { password: s.etcdPassword } : {}),
  };
  return cfg;
}

/** DatastoreConfig from environment variables (the default address when none are set). */
export function datastoreConfigFromEnv(env: Record<string, string | undefined> = process.env): DatastoreConfig {
  return datastoreConfigFrom(settingsFromEnv(env));
}
