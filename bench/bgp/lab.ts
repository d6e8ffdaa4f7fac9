// Bench plumbing: namespaces, veths, child processes, polling. Everything created here is named
// with a per-run prefix and torn down by Lab.cleanup() (also on failure / Ctrl-C).
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ').slice(0, 200)} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** stdout lines so far */
  lines: string[];
  stderr: string[];
  exited: boolean;
  waitLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

const live = new Set<Lab>();
let handlersInstalled = false;
function installSignalCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}: cleaning up namespaces and processes\n`);
      void Promise.all([...live].map(async (l) => { await l.cleanup(); l.removeDir(); })).finally(() => process.exit(130));
    });
  }
}

export class Lab {
  readonly id: string;
  readonly dir: string;
  private netns: string[] = [];
  private procs: Proc[] = [];

  constructor(prefix = 'cb') {
    this.id = `${prefix}${process.pid % 10000}`;
    this.dir = mkdtempSync(path.join(tmpdir(), `${this.id}-`));
    live.add(this);
    installSignalCleanup();
  }

  addNetns(name: string): string {
    sh('ip', ['netns', 'add', name]);
    this.netns.push(name);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** veth a (in nsA, address addrA) <-> b (in nsB, address addrB). */
  link(nsA: string, a: string, addrA: string, nsB: string, b: string, addrB: string): void {
    sh('ip', ['-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    sh('ip', ['-n', nsA, 'addr', 'add', addrA, 'dev', a]);
    sh('ip', ['-n', nsB, 'addr', 'add', addrB, 'dev', b]);
    sh('ip', ['-n', nsA, 'link', 'set', a, 'up']);
    sh('ip', ['-n', nsB, 'link', 'set', b, 'up']);
  }

  /** Starts argv inside netns (ip netns exec execs in place: the pid is the program's). */
  start(netns: string | null, argv: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Proc {
    const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const p: Proc = {
      child, pid: child.pid ?? -1, lines: [], stderr: [], exited: false,
      waitLine: (re, timeoutMs) => new Promise((resolve, reject) => {
        const check = () => {
          for (const l of p.lines) { const m = re.exec(l); if (m) return m; }
          return null;
        };
        const hit = check();
        if (hit) { resolve(hit); return; }
        const t = setTimeout(() => { cleanup(); reject(new Error(`timeout waiting for ${re} from ${argv[0]} (stderr: ${p.stderr.join('').slice(-400)})`)); }, timeoutMs);
        const onLine = () => { const m = check(); if (m) { cleanup(); resolve(m); } };
        const onExit = () => { cleanup(); reject(new Error(`${argv[0]} exited before ${re} (stderr: ${p.stderr.join('').slice(-400)})`)); };
        const cleanup = () => { clearTimeout(t); child.stdout?.off('data', onLine); child.off('exit', onExit); };
        child.stdout?.on('data', onLine);
        child.once('exit', onExit);
      }),
    };
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      partial += d;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      p.lines.push(...parts);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => { p.stderr.push(d); if (p.stderr.length > 200) p.stderr.splice(0, 100); });
    child.on('exit', () => { p.exited = true; });
    child.on('error', (e) => { p.exited = true; p.stderr.push(String(e)); });
    this.procs.push(p);
    return p;
  }

  async stop(p: Proc): Promise<void> {
    if (p.exited) return;
    const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
    try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
    const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }, 2000);
    await gone;
    clearTimeout(t);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.stop(p)));
    this.procs = [];
    for (const ns of this.netns.reverse()) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    }
    this.netns = [];
  }

  removeDir(): void {
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function ipv4ToInt(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}
export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
