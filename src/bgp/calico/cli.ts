// `calico-bgp --datastore`: the speaker configured from the datastore. Settings as Calico names
// them: NODENAME (this node's Node resource), CALICO_ROUTER_ID (IPv4 or "hash"), the datastore
// from ETCD_ENDPOINTS etc. (src/datastore config), passwords from secret files under
// CALICO_BGP_SECRETS_DIR (default /etc/calico/secrets/<secret>/<key>).
import { readFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatastore, datastoreConfigFrom, settingsFromEnv, type DatastoreClient } from '../../datastore/index.ts';
import { readStatus, type Logger } from '../server/index.ts';
import { exitOnStopSignals, makeLogger } from '../server/process-cli.ts';
import { fileSecrets } from './peering.ts';
import { DatastoreBgp } from './watcher.ts';
import { formatNodeStatus } from './status.ts';

export const DEFAULT_SECRETS_DIR = '/etc/calico/secrets';
/** Where datastore mode serves its status (and `calicoctl node status` looks) by default. */
export const DEFAULT_STATUS_SOCKET = '/var/run/calico/calico-bgp.sock';

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
  const statusSocket = o.statusSocket || env.CALICO_BGP_STATUS_SOCKET || DEFAULT_STATUS_SOCKET;
  mkdirSync(path.dirname(statusSocket), { recursive: true });
  const bgp = new DatastoreBgp(
    { client, logger: log },
    {
      nodeName,
      local: { statusSocket, statusFile: o.statusFile, ...(o.logLevel ? { logLevel: o.logLevel } : {}) },
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
  exitOnStopSignals(log, (graceful) => run.stop(graceful));
  return run;
}

/** `calicoctl node status` for the speaker serving `socket` (Calico's text, also when it is not running). */
export async function nodeStatus(socket = process.env.CALICO_BGP_STATUS_SOCKET || DEFAULT_STATUS_SOCKET): Promise<string> {
  try {
    return formatNodeStatus(await readStatus(socket, 2000));
  } catch {
    return formatNodeStatus(null);
  }
}

const USAGE = `usage: calico-bgp --datastore [--node-name N] [--endpoints URLS] [--status-socket PATH]
       [--log-level debug|info|warn|error] [--router-id IPv4|hash] [--secrets-dir DIR] [--prefix CIDR]...`;

/** Datastore mode's command line (after `--datastore`); exits the process on bad arguments. */
export function datastoreMain(args: string[]): DatastoreRun {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'node-name': { type: 'string' },
        endpoints: { type: 'string' },
        'status-socket': { type: 'string' },
        'status-file': { type: 'string' },
        'log-level': { type: 'string' },
        'router-id': { type: 'string' },
        'secrets-dir': { type: 'string' },
        prefix: { type: 'string', multiple: true },
      },
    }));
  } catch (err) {
    process.stderr.write(`calico-bgp --datastore: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const level = values['log-level'];
  if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`calico-bgp --datastore: --log-level: expected debug, info, warn or error, got ${JSON.stringify(level)}\n`);
    process.exit(2);
  }
  try {
    return runFromDatastore({
      nodeName: values['node-name'],
      endpoints: values.endpoints,
      statusSocket: values['status-socket'],
      statusFile: values['status-file'],
      logLevel: level as DatastoreRunOptions['logLevel'],
      routerId: values['router-id'],
      secretsDir: values['secrets-dir'],
      prefixes: values.prefix ?? [],
    });
  } catch (err) {
    process.stderr.write(`calico-bgp --datastore: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

export { formatNodeStatus };
