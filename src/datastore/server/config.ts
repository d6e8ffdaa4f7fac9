// Server options, with etcd's flag names and defaults, validated once at start.
import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from './errors.ts';

export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd's hard ceiling for --quota-backend-bytes. */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;
export const DEFAULT_LISTEN = 'http://127.0.0.1:2379';
export const SOCKET_NAME = 'calico-datastore.sock';

export interface ServerOptions {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  clientCertAuth: boolean;
  maxRequestBytes: number;
  quotaBackendBytes: number;
  maxTxnOps: number;
  insecureListenNonLoopback: boolean;
  /** Interval of progress notifications to watchers that asked for them (etcd: 10 min). */
  progressNotifyIntervalMs: number;
}

export type ListenUrl =
  | { scheme: 'http' | 'https'; host: string; port: number; url: string; tls: boolean }
  | { scheme: 'unix' | 'unixs'; path: string; url: string; tls: boolean };

/** Parses one client URL: http(s)://host:port or unix(s)://path (etcd's schemes). */
export function parseListenUrl(raw: string): ListenUrl {
  const url = raw.trim();
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!m) throw new ConfigError(`listen URL '${url}': expected http://host:port, https://host:port, unix://path or unixs://path`);
  const scheme = m[1]!;
  const rest = m[2]!;
  if (scheme === 'unix' || scheme === 'unixs') {
    if (!rest) throw new ConfigError(`listen URL '${url}': missing socket path`);
    return { scheme, path: path.resolve(rest), url, tls: scheme === 'unixs' };
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ConfigError(`listen URL '${url}': unsupported scheme '${scheme}' (expected http, https, unix or unixs)`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`listen URL '${url}': not a valid URL`);
  }
  if (u.pathname !== '/' && u.pathname !== '') throw new ConfigError(`listen URL '${url}': must not have a path`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new ConfigError(`listen URL '${url}': missing host`);
  const port = u.port === '' ? NaN : Number(u.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`listen URL '${url}': expected an explicit port 0-65535`);
  return { scheme, host, port, url, tls: scheme === 'https' };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const v = isIP(host);
  if (v === 4) return host.startsWith('127.');
  if (v === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Checks option combinations; returns the parsed listen URLs. */
export function validateOptions(o: ServerOptions): ListenUrl[] {
  if (!o.dataDir) throw new ConfigError('--data-dir: required');
  if (o.listenClientUrls.length === 0) throw new ConfigError('--listen-client-urls: at least one URL is required');
  const urls = o.listenClientUrls.map(parseListenUrl);
  const tlsWanted = urls.some((u) => u.tls);
  if (tlsWanted && (!o.certFile || !o.keyFile)) {
    throw new ConfigError('https:// and unixs:// listeners need --cert-file and --key-file');
  }
  if ((o.certFile && !o.keyFile) || (!o.certFile && o.keyFile)) throw new ConfigError('--cert-file and --key-file must be given together');
  if (o.clientCertAuth && !o.trustedCaFile) throw new ConfigError('--client-cert-auth needs --trusted-ca-file (the CA that signs client certificates)');
  if (o.clientCertAuth && !tlsWanted) throw new ConfigError('--client-cert-auth needs an https:// or unixs:// listener');
  for (const u of urls) {
    if ((u.scheme === 'http' || u.scheme === 'https') && !u.tls && !isLoopbackHost(u.host) && !o.insecureListenNonLoopback) {
      throw new ConfigError(
        `refusing to serve plain-text on non-loopback address ${u.url}: use https:// with --cert-file/--key-file (and --client-cert-auth), or pass --insecure-listen-non-loopback`,
      );
    }
    if (u.scheme === 'unix' || u.scheme === 'unixs') {
      if (Buffer.byteLength(u.path) > 107) throw new ConfigError(`unix socket path '${u.path}' is longer than 107 bytes`);
    }
  }
  const intOpt = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got ${v}`);
  };
  intOpt('--max-request-bytes', o.maxRequestBytes, 1, 1 << 30);
  intOpt('--quota-backend-bytes', o.quotaBackendBytes, 0, MAX_QUOTA_BACKEND_BYTES);
  intOpt('--max-txn-ops', o.maxTxnOps, 1, 1 << 20);
  return urls;
}

export function defaultOptions(dataDir: string): ServerOptions {
  return {
    name: 'default',
    dataDir,
    listenClientUrls: [DEFAULT_LISTEN],
    advertiseClientUrls: [],
    clientCertAuth: false,
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    quotaBackendBytes: DEFAULT_QUOTA_BACKEND_BYTES,
    maxTxnOps: 128,
    insecureListenNonLoopback: false,
    progressNotifyIntervalMs: 10 * 60 * 1000,
  };
}
