// Composition: open the data directory, build store → committer → watch hub → lessor, bind
// the gRPC server on every listen URL, and shut down in order (stop accepting, commit what is
// pending, close the database).
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Committer } from './committer.ts';
import { FastUnary } from './fast-unary.ts';
import { validateOptions, type ListenUrl, type ServerOptions } from './config.ts';
import { ConfigError, DataDirError } from './errors.ts';
import { Lessor } from './lessor.ts';
import { addServices, makeHeader } from './services.ts';
import { MvccStore } from './store.ts';
import { WatchHub } from './watch-hub.ts';

export const DB_FILE = 'calico-datastore.db';
/** Extra room gRPC allows above --max-request-bytes, as etcd does (grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, extra?: object) => void;

export interface DatastoreServer {
  /** The bound client URLs (with real ports when port 0 was asked for). */
  readonly urls: string[];
  readonly store: MvccStore;
  readonly committer: Committer;
  readonly hub: WatchHub;
  close(): Promise<void>;
}

function readFileOpt(flag: string, file: string | undefined): Buffer | null {
  if (!file) return null;
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`${flag} ${file}: cannot read (${(e as Error).message})`);
  }
}

function openDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new DataDirError('mkdir', `data dir ${dir}: cannot create (${(e as Error).message})`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new DataDirError('not-dir', `data dir ${dir}: not a directory`);
  // Prove the directory is writable and syncable before we promise durability.
  const probe = path.join(dir, '.write-probe');
  try {
    const fd = openSync(probe, 'w', 0o600);
    writeSync(fd, Buffer.alloc(64 * 1024));
    fsyncSync(fd);
    closeSync(fd);
    unlinkSync(probe);
  } catch (e) {
    try {
      unlinkSync(probe);
    } catch {
      /* not created */
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new DataDirError('full', `data dir ${dir}: no space left on the device (${(e as Error).message})`);
    throw new DataDirError('unwritable', `data dir ${dir}: not writable (${(e as Error).message})`);
  }
}

/**
 * Starts the server. `onFatal` is called if committed writes cannot be made durable (the
 * server has stopped accepting writes); the CLI exits, embedders decide.
 */
export async function startDatastoreServer(
  opts: ServerOptions,
  log: LogFn = () => {},
  onFatal: (err: Error) => void = (err) => {
    throw err;
  },
): Promise<DatastoreServer> {
  const listen = validateOptions(opts);
  const cert = readFileOpt('--cert-file', opts.certFile);
  const key = readFileOpt('--key-file', opts.keyFile);
  const ca = readFileOpt('--trusted-ca-file', opts.trustedCaFile);

  openDataDir(opts.dataDir);
  const store = new MvccStore({ file: path.join(opts.dataDir, DB_FILE) });
  log('info', 'opened data dir', { dataDir: opts.dataDir, revision: store.rev, compactRevision: store.compactRev, leases: store.leases.size });

  let hub: WatchHub | null = null;
  const committer = new Committer(store, {
    onCommitted: (events, rev) => hub?.dispatch(events, rev),
    onCommitFailed: (err) => log('error', 'commit failed: writes in this batch were rolled back and not acknowledged', { err: err.message }),
    onFatal: (err) => {
      log('error', `stopping: ${err.message}`);
      onFatal(err);
    },
  });
  hub = new WatchHub(
    { store, header: (rev) => makeHeader(store, rev), whenIdle: (fn) => committer.read(fn) },
    opts.progressNotifyIntervalMs,
  );
  const lessor = new Lessor(committer);
  lessor.onRevoked = (id, err) => {
    if (err) log('warn', 'lease expiry not persisted; will retry', { lease: id, err: err.message });
  };
  lessor.start();

  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
    'grpc.enable_channelz': 0,
  });
  // Unary calls answered in one socket write (see fast-unary.ts); streams stay with grpc-js.
  const fast = new FastUnary(opts.maxRequestBytes + GRPC_OVERHEAD_BYTES);
  if (!fast.install(server)) log('warn', 'grpc-js internals changed: unary calls served by grpc-js (two socket writes per response)');
  const bound: string[] = [];
  const advertised = () => (opts.advertiseClientUrls.length ? opts.advertiseClientUrls : bound);
  addServices(server, {
    store,
    committer,
    hub,
    lessor,
    name: opts.name,
    clientUrls: advertised,
    maxRequestBytes: opts.maxRequestBytes,
    quotaBackendBytes: opts.quotaBackendBytes,
    maxTxnOps: opts.maxTxnOps,
    log,
  });

  const creds = (u: ListenUrl): grpc.ServerCredentials => {
    if (!u.tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(ca, [{ private_key: key!, cert_chain: cert! }], opts.clientCertAuth);
  };

  const tcpServers: { tcp: NetServer; injector: ReturnType<grpc.Server['createConnectionInjector']> }[] = [];
  const closeTcp = () => {
    for (const { tcp, injector } of tcpServers) {
      tcp.close();
      injector.destroy();
    }
  };
  const bindOne = (u: ListenUrl): Promise<string> =>
    new Promise((resolve, reject) => {
      let target: string;
      let finish: (port: number) => string;
      if ('path' in u) {
        const sock = u.path;
        if (existsSync(sock)) {
          // A socket left by a previous run; refuse anything else.
          if (!statSync(sock).isSocket()) {
            reject(new ConfigError(`listen URL ${u.url}: ${sock} exists and is not a socket`));
            return;
          }
          unlinkSync(sock);
        }
        target = `unix:${sock}`;
        finish = () => {
          chmodSync(sock, 0o600);
          return u.url;
        };
      } else {
        // TCP: our own listener with TCP_NODELAY (grpc-js leaves Nagle on for accepted
        // sockets, which delays small responses), connections handed to gRPC.
        const host = u.host.includes(':') ? `[${u.host}]` : u.host;
        const scheme = u.scheme;
        const injector = server.createConnectionInjector(creds(u));
        const tcp = createNetServer({ noDelay: true, keepAlive: true }, (sock) => injector.injectConnection(sock));
        tcp.once('error', (err) => reject(new ConfigError(`cannot listen on ${u.url}: ${err.message}`)));
        tcp.listen({ host: u.host, port: u.port }, () => {
          tcpServers.push({ tcp, injector });
          resolve(`${scheme}://${host}:${(tcp.address() as AddressInfo).port}`);
        });
        return;
      }
      server.bindAsync(target, creds(u), (err, port) => {
        if (err) reject(new ConfigError(`cannot listen on ${u.url}: ${err.message}`));
        else resolve(finish(port));
      });
    });

  const oldMask = process.umask(0o177);
  try {
    for (const u of listen) bound.push(await bindOne(u));
  } catch (e) {
    process.umask(oldMask);
    lessor.stop();
    hub.close();
    closeTcp();
    await committer.close();
    server.forceShutdown();
    store.close();
    throw e;
  }
  process.umask(oldMask);
  log('info', 'ready to serve client requests', { urls: bound, revision: store.rev });

  let closing: Promise<void> | null = null;
  const h = hub;
  return {
    urls: bound,
    store,
    committer,
    hub: h,
    close() {
      closing ??= (async () => {
        lessor.stop();
        h.close();
        for (const { tcp } of tcpServers) tcp.close();
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 1000);
          server.tryShutdown(() => {
            clearTimeout(t);
            resolve();
          });
        });
        await committer.close();
        closeTcp();
        server.forceShutdown();
        store.close();
        for (const u of listen) if ((u.scheme === 'unix' || u.scheme === 'unixs') && existsSync(u.path)) unlinkSync(u.path);
      })();
      return closing;
    },
  };
}
