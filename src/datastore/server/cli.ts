// Command line for calico-datastore, with etcd's flag names.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { parseGoDuration } from '../../lib/index.ts';
import { defaultOptions, DEFAULT_LISTEN, SOCKET_NAME, type ServerOptions } from './config.ts';
import { ConfigError, DataDirError } from './errors.ts';
import { startDatastoreServer } from './server.ts';

export const DEFAULT_DATA_DIR = '/var/lib/calico-datastore';

const int = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${flag}: expected a non-negative integer, got '${v}'`);
  return Number(v);
};
/** A Go duration as etcd's flags take it ("10m", "500ms"), in milliseconds. */
const duration = (flag: string) => (v: string) => {
  const ns = parseGoDuration(v.trim());
  if (ns === undefined || ns < 0n) throw new InvalidArgumentError(`${flag}: expected a duration such as 10m or 500ms, got '${v}'`);
  return Number(ns / 1_000_000n);
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Runs the server until SIGINT/SIGTERM. Returns the process exit code on failure to start. */
export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('calico-datastore')
    .description("calico-ts's embedded etcd v3 API server (single member, persisted with SQLite)")
    .option('--name <name>', 'member name reported by MemberList', 'default')
    .option('--data-dir <dir>', 'directory for the database', DEFAULT_DATA_DIR)
    .option(
      '--listen-client-urls <urls>',
      `comma-separated client URLs: http://host:port, https://host:port, unix://path, unixs://path (default ${DEFAULT_LISTEN} and unix://<data-dir>/${SOCKET_NAME})`,
    )
    .option('--advertise-client-urls <urls>', 'client URLs reported to clients (default: the listen URLs)')
    .option('--cert-file <file>', 'TLS certificate for https:// and unixs:// listeners')
    .option('--key-file <file>', 'TLS private key for --cert-file')
    .option('--trusted-ca-file <file>', 'CA bundle that verifies client certificates')
    .option('--client-cert-auth', 'require a client certificate signed by --trusted-ca-file', false)
    .option('--max-request-bytes <n>', 'largest write request accepted, in bytes', int('--max-request-bytes'), 1572864)
    .option('--quota-backend-bytes <n>', 'database size that raises the NOSPACE alarm (0 = default 2 GiB)', int('--quota-backend-bytes'), 0)
    .option('--max-txn-ops <n>', 'most operations in one txn', int('--max-txn-ops'), 128)
    .option('--insecure-listen-non-loopback', 'allow plain-text http:// on non-loopback addresses (unsafe)', false)
    .option('--experimental-watch-progress-notify-interval <duration>', 'progress notification interval, a Go duration as etcd takes it (10m, 500ms)', duration('--experimental-watch-progress-notify-interval'), 600000)
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    // help and version exit 0; any bad flag or value exits 2, as Go's flag package does
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<Record<string, unknown>>();
  const logger = pino({ name: 'calico-datastore', level: String(o['logLevel']) }, pino.destination({ fd: 2, sync: true }));
  const dataDir = path.resolve(String(o['dataDir']));
  const opts: ServerOptions = {
    ...defaultOptions(dataDir),
    name: String(o['name']),
    listenClientUrls: o['listenClientUrls'] ? list(String(o['listenClientUrls'])) : [DEFAULT_LISTEN, `unix://${path.join(dataDir, SOCKET_NAME)}`],
    advertiseClientUrls: o['advertiseClientUrls'] ? list(String(o['advertiseClientUrls'])) : [],
    certFile: o['certFile'] as string | undefined,
    keyFile: o['keyFile'] as string | undefined,
    trustedCaFile: o['trustedCaFile'] as string | undefined,
    clientCertAuth: Boolean(o['clientCertAuth']),
    maxRequestBytes: o['maxRequestBytes'] as number,
    quotaBackendBytes: (o['quotaBackendBytes'] as number) || defaultOptions(dataDir).quotaBackendBytes,
    maxTxnOps: o['maxTxnOps'] as number,
    insecureListenNonLoopback: Boolean(o['insecureListenNonLoopback']),
    progressNotifyIntervalMs: o['experimentalWatchProgressNotifyInterval'] as number,
  };
  let srv;
  try {
    srv = await startDatastoreServer(
      opts,
      (level, msg, extra) => logger[level](extra ?? {}, msg),
      (err) => {
        process.stderr.write(`calico-datastore: ${err.message}\n`);
        process.exit(1);
      },
    );
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DataDirError) {
      process.stderr.write(`calico-datastore: ${e.message}\n`);
      return e instanceof ConfigError ? 2 : 1;
    }
    throw e;
  }
  // The one line scripts and tests wait for (stdout, plain): the bound URLs.
  process.stdout.write(`calico-datastore ready ${srv.urls.join(',')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      logger.info({ signal: sig }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await srv.close();
  return 0;
}
