// Network namespaces and veth pairs for e2e tests, named with a per-run prefix so parallel runs
// never collide, and torn down (with every process started in them) by `cleanup()`, which is
// safe to call more than once and from a failing test's `after` hook.
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class CommandError extends Error {
  readonly code = 'e2e-command-failed';
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs a command synchronously; throws with its stderr on failure. */
export function sh(argv: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: opts.input, encoding: 'utf8' });
  if (r.error) throw new CommandError(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) throw new CommandError(`${argv.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Async variant (does not block the event loop, so in-process servers keep running). */
export function run(argv: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : null;
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', (e) => reject(new CommandError(`${argv.join(' ')}: ${e.message}`)));
    p.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (code !== 0 && !opts.allowFail) reject(new CommandError(`${argv.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve({ code: code ?? -1, stdout: out, stderr: err });
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
  });
}

export interface Daemon {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process exited. */
  exited: Promise<number | string>;
  log(): string;
}

/** A test lab: namespaces, links, processes and a temp dir, all removed by cleanup(). */
export class Lab {
  readonly prefix: string;
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly daemons: Daemon[] = [];
  private readonly pidFiles: string[] = [];
  private cleaned = false;
  private links = 0;

  constructor(tag = 't') {
    // Short: interface names are max 15 chars and include this prefix.
    this.prefix = `ct${process.pid % 10000}${tag}`.slice(0, 8);
    this.dir = mkdtempSync(path.join(os.tmpdir(), `${this.prefix}-`));
  }

  /** Creates a namespace named `<prefix><name>` with loopback up; returns its full name. */
  netns(name: string): string {
    const ns = `${this.prefix}${name}`;
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * A veth pair between two namespaces with addresses (CIDR form, e.g. 198.18.1.1/24 and
   * fd00:198:18:1::1/64; IPv6 DAD is disabled so addresses are usable at once).
   */
  veth(a: { ns: string; ifname: string; addrs: string[] }, b: { ns: string; ifname: string; addrs: string[] }): void {
    const n = this.links++;
    const tmpA = `${this.prefix}a${n}`.slice(0, 15);
    const tmpB = `${this.prefix}b${n}`.slice(0, 15);
    sh(['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    sh(['ip', 'link', 'set', tmpA, 'netns', a.ns]);
    sh(['ip', 'link', 'set', tmpB, 'netns', b.ns]);
    for (const [end, tmp] of [[a, tmpA], [b, tmpB]] as const) {
      sh(['ip', '-n', end.ns, 'link', 'set', tmp, 'name', end.ifname]);
      sh(['ip', 'netns', 'exec', end.ns, 'sysctl', '-qw', `net.ipv6.conf.${end.ifname}.accept_dad=0`], { allowFail: true });
      for (const addr of end.addrs) sh(['ip', '-n', end.ns, 'addr', 'add', addr, 'dev', end.ifname, ...(addr.includes(':') ? ['nodad'] : [])]);
      sh(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
  }

  /**
   * One L2 segment: a bridge in its own namespace (`<prefix>sw<n>`) and a veth from each host
   * to it, like hosts on one subnet of a data centre fabric.
   */
  lan(hosts: Array<{ ns: string; ifname: string; addrs: string[] }>): string {
    const sw = this.netns(`sw${this.namespaces.length}`);
    sh(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    hosts.forEach((h, i) => {
      this.veth(h, { ns: sw, ifname: `p${i}`, addrs: [] });
      sh(['ip', '-n', sw, 'link', 'set', `p${i}`, 'master', 'br0']);
    });
    return sw;
  }

  /** Enables IPv4/IPv6 forwarding in a namespace. */
  forwarding(ns: string): void {
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  }

  /**
   * Starts a long-running process inside `ns` (or in the current namespace when ns is null),
   * output to a log file in the lab dir. It is killed by PID in cleanup().
   */
  spawn(name: string, ns: string | null, argv: string[], env: NodeJS.ProcessEnv = {}): Daemon {
    const logFile = path.join(this.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    closeSync(fd);
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
    const d: Daemon = { name, pid: child.pid ?? -1, child, logFile, exited, log: () => readFileSync(logFile, 'utf8') };
    this.daemons.push(d);
    return d;
  }

  /** Registers a pid file written by a self-daemonizing process (e.g. BIRD) for cleanup. */
  trackPidFile(file: string): void {
    this.pidFiles.push(file);
  }

  /** Stops a daemon: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(d: Daemon, graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return d.exited;
    try {
      process.kill(d.pid, signal);
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    const r = await d.exited;
    clearTimeout(t);
    return r;
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await Promise.all(this.daemons.map((d) => this.stop(d, 2000)));
    for (const f of this.pidFiles) {
      try {
        const pid = Number(readFileSync(f, 'utf8').trim());
        if (pid > 1) process.kill(pid, 'SIGKILL');
      } catch {
        /* no file or already gone */
      }
    }
    for (const ns of this.namespaces.reverse()) {
      // Anything else still running in the namespace was started by this lab: kill it by PID.
      const pids = sh(['ip', 'netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      sh(['ip', 'netns', 'del', ns], { allowFail: true });
    }
    if (!process.env.E2E_KEEP_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Skip reason when the e2e environment is unusable (not root, or a tool missing). */
export function e2eSkipReason(tools: string[] = []): string | false {
  if (process.getuid?.() !== 0) return 'e2e tests need root (network namespaces)';
  for (const t of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${t}`]);
    if (r.status !== 0) return `${t} is not installed`;
  }
  return false;
}

let pingArgv: string[] | null = null;
/** `ping` (iputils) if installed, else busybox's (busybox-static is a CI package). */
export function pingCommand(): string[] {
  if (pingArgv) return pingArgv;
  pingArgv = spawnSync('sh', ['-c', 'command -v ping']).status === 0 ? ['ping'] : ['busybox', 'ping'];
  return pingArgv;
}

/** ICMP echo from `src` (an address in ns) to `dst`; throws unless all replies arrive. */
export function ping(ns: string, src: string, dst: string, count = 2): string {
  return sh(['ip', 'netns', 'exec', ns, ...pingCommand(), ...(dst.includes(':') ? ['-6'] : []), '-c', String(count), '-W', '2', '-I', src, dst]);
}
