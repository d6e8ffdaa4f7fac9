// calicoctl's connection configuration, as Calico loads it (libcalico-go/lib/apiconfig and
// calicoctl/commands/clientmgr): a CalicoAPIConfig file (default /etc/calico/calicoctl.cfg,
// or --config) in YAML or JSON; if the default file does not exist, the environment
// (DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ...). A file, when present, is the whole
// configuration: the environment is not consulted. With neither, the embedded
// calico-datastore's default address (http://127.0.0.1:2379).
//
//   apiVersion: projectcalico.org/v3
//   kind: CalicoAPIConfig
//   metadata: {}
//   spec:
//     datastoreType: etcdv3
//     etcdEndpoints: https://127.0.0.1:2379
//     etcdCACertFile: /etc/calico/ca.pem
//     etcdCertFile: /etc/calico/client.pem
//     etcdKeyFile: /etc/calico/client-key.pem

import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { datastoreConfigFrom, settingsFromEnv, type DatastoreConfig, type DatastoreSettings } from '../datastore/index.ts';

export const DEFAULT_CONFIG_PATH = '/etc/calico/calicoctl.cfg';

export class CtlConfigError extends Error {
  readonly code = 'CALICOCTL_CONFIG';
}

const SPEC_FIELDS: ReadonlySet<string> = new Set([
  'datastoreType', 'etcdEndpoints', 'etcdDiscoverySrv', 'etcdUsername', 'etcdPassword', 'etcdKeyFile', 'etcdCertFile',
  'etcdCACertFile', 'etcdKey', 'etcdCert', 'etcdCACert',
  // Kubernetes settings Calico accepts; calico-ts has no Kubernetes datastore and ignores them.
  'kubeconfig', 'k8sAPIEndpoint', 'k8sKeyFile', 'k8sCertFile', 'k8sCAFile', 'k8sAPIToken', 'k8sInsecureSkipTLSVerify',
  'k8sDisableNodePoll', 'usePodCIDR', 'kubeconfigInline', 'k8sClientQPS', 'k8sClientBurst', 'k8sCurrentContext', 'calicoAPIGroup',
]);

/** Parses CalicoAPIConfig text; `where` names the file in messages. */
export function parseClientConfig(text: string, where: string): DatastoreConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CtlConfigError(`syntax error in ${where}: failed to parse config as YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CtlConfigError(`syntax error in ${where}: failed to parse config as YAML/JSON: expected a CalicoAPIConfig mapping`);
  }
  // Go's JSON decoder (behind Calico's strict YAML) matches field names case-insensitively.
  const fold = (obj: Record<string, unknown>, known: Iterable<string>): Record<string, unknown> => {
    const names = [...known];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[names.includes(k) ? k : (names.find((n) => n.toLowerCase() === k.toLowerCase()) ?? k)] = v;
    return out;
  };
  const o = fold(doc as Record<string, unknown>, ['apiVersion', 'kind', 'metadata', 'spec']);
  for (const k of Object.keys(o)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) {
      throw new CtlConfigError(`syntax error in ${where}: failed to parse config as YAML/JSON: unknown field "${k}"`);
    }
  }
  if (o.apiVersion !== 'projectcalico.org/v3') {
    throw new CtlConfigError(`syntax error in ${where}: invalid config file: unknown APIVersion '${String(o.apiVersion ?? '')}'`);
  }
  if (o.kind !== 'CalicoAPIConfig') {
    throw new CtlConfigError(`syntax error in ${where}: invalid config file: expected kind 'CalicoAPIConfig', got '${String(o.kind ?? '')}'`);
  }
  const rawSpec = (o.spec ?? {}) as Record<string, unknown>;
  if (typeof rawSpec !== 'object' || Array.isArray(rawSpec)) throw new CtlConfigError(`syntax error in ${where}: spec: expected a mapping`);
  const spec = fold(rawSpec, SPEC_FIELDS);
  const s: DatastoreSettings = {};
  for (const [k, v] of Object.entries(spec)) {
    if (!SPEC_FIELDS.has(k)) {
      throw new CtlConfigError(`syntax error in ${where}: failed to parse config as YAML/JSON: unknown field "spec.${k}"`);
    }
    if (v === null || v === undefined || v === '') continue;
    if (k === 'etcdDiscoverySrv') throw new CtlConfigError(`${where}: spec.etcdDiscoverySrv (DNS SRV discovery) is not supported; list the endpoints in spec.etcdEndpoints`);
    if (k in ({ datastoreType: 1, etcdEndpoints: 1, etcdUsername: 1, etcdPassword: 1, etcdKeyFile: 1, etcdCertFile: 1, etcdCACertFile: 1, etcdKey: 1, etcdCert: 1, etcdCACert: 1 } as const)) {
      (s as Record<string, string>)[k] = String(v);
    }
  }
  try {
    return datastoreConfigFrom(s, where);
  } catch (err) {
    throw new CtlConfigError((err as Error).message);
  }
}

/**
 * Loads the configuration: `path` if given (it must exist: "Error reading config file: <path>"),
 * else the default file if it exists, else the environment.
 */
export function loadClientConfig(
  path: string | undefined,
  env: Record<string, string | undefined> = process.env,
  defaultPath: string = DEFAULT_CONFIG_PATH,
): DatastoreConfig {
  const file = path ?? defaultPath;
  let exists = false;
  try {
    exists = statSync(file).isFile();
  } catch {
    exists = false;
  }
  if (!exists) {
    if (path !== undefined && path !== defaultPath) throw new CtlConfigError(`Error reading config file: ${path}`);
    try {
      return datastoreConfigFrom(settingsFromEnv(env), 'environment');
    } catch (err) {
      throw new CtlConfigError(`failed to load config from env vars: ${(err as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CtlConfigError(`Error reading config file: ${file}: ${(err as Error).message}`);
  }
  return parseClientConfig(text, file);
}
