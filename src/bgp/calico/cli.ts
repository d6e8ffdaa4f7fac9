// `calico-bgp --datastore`: the speaker configured from the datastore. Settings as Calico names
// them: NODENAME (this node's Node resource), CALICO_ROUTER_ID (IPv4 or "hash"), the datastore
// from ETCD_ENDPOINTS etc. (src/datastore config), passwords from secret files under
// CALICO_BGP_SECRETS_DIR (default /etc/calico/secrets/<secret>/<key>).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import { connectDatastore, datastoreConfigFrom, settingsFromEnv, type DatastoreClient } from '../../datastore/index.ts';
import type { Logger } from '../server/index.ts';
import { fileSecrets } from './peering.ts';
import { DatastoreBgp } from './watcher.ts';
import { formatNodeStatus } from './status.ts';

export const DEFAULT_SECRETS_DIR = '/etc/calico/secrets';

export interface DatastoreRunOptions {
  nodeName?: string;
  /** Comma-separated etcd v3 endpoints (http://, https://, unix:///path); default from the environment. */
  endpoints?: string;
  statusSocket?: string;
  statusFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  routerId?: string;
  secretsDir?: string;
  /** Prefixes to originate besides the node's IPAM blocks (until IPAM runs). */
  prefixes?: string[];
  env?: Record<string, string | undefined>;
}

export function makeLogger(level: string): Logger {
  const p = pino({ level, base: { component: 'bgp' } }, pino.destination({ fd: 2, sync: false }));
  return { debug: (m) => p.debug(m), info: (m) => p.info(m), warn: (m) => p.warn(m), error: (m) => p.error(m) };
}

export interface DatastoreRun {
  bgp: DatastoreBgp;
  client: DatastoreClient;
  stop(graceful: boolean): Promise<void>;
}

/** Connects to the datastore and starts watching; the speaker starts once this node's plan is complete. */
export function startFromDatastore(o: DatastoreRunOptions, logger?: Logger): DatastoreRun {
  const env = o.env ?? process.env;
  const nodeName = o.nodeName || env.NODENAME || env.HOSTNAME || os.hostname();
  const settings = settingsFromEnv(env);
  if (o.endpoints) settings.etcdEndpoints = o.endpoints;
  const client = connectDatastore(datastoreConfigFrom(settings, o.endpoints ? '--endpoints' : 'environment'));
  const log = logger ?? makeLogger(o.logLevel ?? 'info');
  const secretsDir = o.secretsDir || env.CALICO_BGP_SECRETS_DIR || DEFAULT_SECRETS_DIR;
  const bgp = new DatastoreBgp(
    { client, logger: log },
    {
      nodeName,
      local: { statusSocket: o.statusSocket, statusFile: o.statusFile, ...(o.logLevel ? { logLevel: o.logLevel } : {}) },
      peering: { routerId: o.routerId || env.CALICO_ROUTER_ID || undefined, secrets: fileSecrets(secretsDir, (p) => readFileSync(p, 'utf8')), staticPrefixes: o.prefixes ?? [] },
    },
  );
  bgp.start();
  log.info(`BGP from the datastore: node ${nodeName}, endpoints ${settings.etcdEndpoints ?? 'default'}, secrets ${secretsDir}`);
  return {
    bgp,
    client,
    async stop(graceful) {
      await bgp.stop({ graceful });
      await client.close();
    },
  };
}

/** Runs until SIGTERM (graceful restart stop: routes kept) or SIGINT (full stop). */
export function runFromDatastore(o: DatastoreRunOptions): DatastoreRun {
  const log = makeLogger(o.logLevel ?? 'info');
  const run = startFromDatastore(o, log);
  let stopping = false;
  const stop = (graceful: boolean, sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping${graceful ? ' for a graceful restart (routes kept)' : ''}`);
    run.stop(graceful).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop(true, 'SIGTERM'));
  process.on('SIGINT', () => stop(false, 'SIGINT'));
  return run;
}

export { formatNodeStatus };
