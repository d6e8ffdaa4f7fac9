// Composition: open the data directory, build store → committer → watch hub → lessor, bind
// the gRPC server on every listen URL, and shut down in order (stop accepting, commit what is
// pending, close the database).
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Committer } from './committer.ts';
import { GrpcServer } from './h2/grpc-server.ts';
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
    { store, header: (rev) => makeHeader(store, rev), whenIdle: (fn) => committer.read(fn), maxRequestBytes: opts.maxRequestBytes },
    opts.progressNotifyIntervalMs,
  );
  const lessor = new Lessor(committer);
  lessor.onRevoked = (id, err) => {
    if (err) log('warn', 'lease expiry not persisted; will retry', { lease: id, err: err.message });
  };
  lessor.start();

  const server = new GrpcServer({ maxReceiveBytes: opts.maxRequestBytes + GRPC_OVERHEAD_BYTES });
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

  // Listeners: TCP (with TCP_NODELAY) and unix sockets; TLS on top for https:// and unixs://,
  // offering only HTTP/2 (ALPN h2), verifying client certificates when asked to.
  const listeners: NetServer[] = [];
  const onConnection = (sock: Duplex) => server.handleConnection(sock);
  const tlsOptions = (): TlsOptions => ({
    cert: cert!,
    key: key!,
    ...(ca ? { ca } : {}),
    ALPNProtocols: ['h2'],
    requestCert: opts.clientCertAuth,
    rejectUnauthorized: opts.clientCertAuth,
  });
  const bindOne = (u: ListenUrl): Promise<string> =>
    new Promise((resolve, reject) => {
      let l: NetServer;
      try {
        l = u.tls ? createTlsServer(tlsOptions(), onConnection) : createNetServer({ noDelay: true, keepAlive: true }, onConnection);
      } catch (e) {
        reject(new ConfigError(`cannot listen on ${u.url}: ${(e as Error).message}`));
        return;
      }
      if (u.tls) {
        // TLS sockets: Nagle off once the handshake is done; handshake failures are the client's problem
        l.on('secureConnection', (sock: { setNoDelay(v: boolean): void }) => sock.setNoDelay(true));
        l.on('tlsClientError', () => {});
      }
      l.once('error', (err) => reject(new ConfigError(`cannot listen on ${u.url}: ${err.message}`)));
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
        l.listen({ path: sock }, () => {
          chmodSync(sock, 0o600);
          listeners.push(l);
          resolve(u.url);
        });
      } else {
        const host = u.host.includes(':') ? `[${u.host}]` : u.host;
        l.listen({ host: u.host, port: u.port }, () => {
          listeners.push(l);
          resolve(`${u.scheme}://${host}:${(l.address() as AddressInfo).port}`);
        });
      }
    });
  const closeListeners = () => {
    for (const l of listeners) l.close();
  };

  const oldMask = process.umask(0o177);
  try {
    for (const u of listen) bound.push(await bindOne(u));
  } catch (e) {
    process.umask(oldMask);
    lessor.stop();
    hub.close();
    closeListeners();
    await server.close(0);
    await committer.close();
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
        closeListeners();
        await server.close(1000);
        await committer.close();
        store.close();
        for (const u of listen) if ((u.scheme === 'unix' || u.scheme === 'unixs') && existsSync(u.path)) unlinkSync(u.path);
      })();
      return closing;
    },
  };
}
