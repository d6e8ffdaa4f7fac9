// Start real etcd and calico-datastore as child processes on free loopback ports, each with
// its own temporary data directory; stop them by PID (never by name) and remove what they made.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../../..');
export const DATASTORE_BIN = path.join(REPO, 'bin/calico-datastore');
export const ETCD_BIN = '/usr/bin/etcd';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.pid && c.exitCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
});

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Proc {
  readonly kind: 'etcd' | 'calico-datastore';
  /** Client endpoint, e.g. http://127.0.0.1:PORT (https:// with TLS). */
  endpoint: string;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
  /** stop() and remove the data directory (unless keepData). */
  cleanup(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function track(kind: Proc['kind'], child: ChildProcess, dataDir: string, endpoint: string, ownDir: boolean): Proc {
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const proc: Proc = {
    kind,
    endpoint,
    pid: child.pid!,
    dataDir,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await waitExit(child);
      clearTimeout(t);
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await waitExit(child);
    },
    async cleanup() {
      await proc.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return proc;
}

async function waitFor(child: ChildProcess, re: RegExp, what: string, timeoutMs = 20000): Promise<RegExpExecArray> {
  let buf = '';
  return await new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null, sig: string | null) => {
      done();
      reject(new Error(`${what} exited (code ${code}, signal ${sig}) before it was ready:\n${buf.slice(-3000)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${buf.slice(-3000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface EtcdTls {
  certFile: string;
  keyFile: string;
  trustedCaFile?: string;
  clientCertAuth?: boolean;
}

/** Starts /usr/bin/etcd (a single member) on free loopback ports with a temporary data dir. */
export async function startEtcd(opts: { tls?: EtcdTls; extraArgs?: string[] } = {}): Promise<Proc> {
  const dir = tempDir('ct-etcd-');
  const cport = await freePort();
  const pport = await freePort();
  const scheme = opts.tls ? 'https' : 'http';
  const client = `${scheme}://127.0.0.1:${cport}`;
  const peer = `http://127.0.0.1:${pport}`;
  const args = [
    '--name', 'default',
    '--data-dir', dir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
    '--log-level', 'info',
    '--logger', 'zap',
  ];
  if (opts.tls) {
    args.push('--cert-file', opts.tls.certFile, '--key-file', opts.tls.keyFile);
    if (opts.tls.trustedCaFile) args.push('--trusted-ca-file', opts.tls.trustedCaFile);
    if (opts.tls.clientCertAuth) args.push('--client-cert-auth');
  }
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = track('etcd', child, dir, client, true);
  try {
    await waitFor(child, /serving client traffic|serving client requests|serving insecure client requests/, 'etcd');
  } catch (e) {
    await proc.cleanup();
    throw e;
  }
  return proc;
}

export interface DatastoreStart {
  /** Reuse this data dir (not removed by cleanup). */
  dataDir?: string;
  /** Listen URLs (default http://127.0.0.1:0, the real port is read back). */
  listen?: string[];
  args?: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /** Working directory (relative unix:// socket paths resolve against it). */
  cwd?: string;
  /** Command prefix, e.g. ['unshare', '-m', '--', 'sh', '-c', ...] is not supported; use wrapper. */
  wrapper?: (argv: string[]) => [string, string[]];
}

/** Starts bin/calico-datastore and waits for its ready line. */
export async function startDatastore(opts: DatastoreStart = {}): Promise<Proc> {
  const ownDir = !opts.dataDir;
  const dir = opts.dataDir ?? tempDir('ct-cds-');
  const listen = opts.listen ?? ['http://127.0.0.1:0'];
  const argv = [DATASTORE_BIN, '--data-dir', dir, '--listen-client-urls', listen.join(','), '--log-level', 'warn', ...(opts.args ?? [])];
  const [cmd, args] = opts.wrapper ? opts.wrapper(argv) : [argv[0]!, argv.slice(1)];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, cwd: opts.cwd });
  const proc = track('calico-datastore', child, dir, '', ownDir);
  try {
    const m = await waitFor(child, /calico-datastore ready (\S+)/, 'calico-datastore');
    proc.endpoint = m[1]!.split(',')[0]!;
  } catch (e) {
    await proc.cleanup();
    throw e;
  }
  return proc;
}

/** Runs calico-datastore expecting it to fail at start; returns exit code and output. */
export async function runDatastoreExpectingFailure(args: string[], timeoutMs = 15000): Promise<{ code: number | null; output: string }> {
  const child = spawn(DATASTORE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await waitExit(child);
  clearTimeout(timer);
  children.delete(child);
  return { code: child.exitCode, output: out };
}
