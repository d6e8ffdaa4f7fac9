// GoBGP in a test namespace: gobgpd with a TOML config and its gRPC API on the namespace's
// loopback; queried with the gobgp CLI's JSON output.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, type Lab, type Daemon } from './netns.ts';
import { waitFor, WaitAbort } from './wait.ts';

export interface Gobgp {
  ns: string;
  apiPort: number;
  daemon: Daemon;
  cli(args: string[]): Promise<string>;
  json<T = unknown>(args: string[]): Promise<T>;
  /** Neighbor address → session state as GoBGP reports it (e.g. "established"). */
  neighborStates(): Promise<Map<string, string>>;
  /** Prefixes in GoBGP's global RIB for a family. */
  rib(family?: 4 | 6): Promise<Set<string>>;
}

export async function startGobgp(lab: Lab, name: string, ns: string, toml: string, apiPort = 50051): Promise<Gobgp> {
  const file = path.join(lab.dir, `${name}.toml`);
  writeFileSync(file, toml);
  const daemon = lab.spawn(name, ns, ['gobgpd', '-f', file, '-t', 'toml', '--api-hosts', `127.0.0.1:${apiPort}`, '--log-level', 'info']);
  const cli = async (args: string[]): Promise<string> =>
    (await run(['ip', 'netns', 'exec', ns, 'gobgp', '-u', '127.0.0.1', '-p', String(apiPort), ...args], { timeoutMs: 10_000 })).stdout;
  const g: Gobgp = {
    ns,
    apiPort,
    daemon,
    cli,
    async json<T>(args: string[]) {
      return JSON.parse(await cli([...args, '-j'])) as T;
    },
    async neighborStates() {
      const rows = await g.json<Array<{ state?: { neighbor_address?: string; session_state?: number | string }; conf?: { neighbor_address?: string } }>>(['neighbor']);
      const m = new Map<string, string>();
      const names: Record<number, string> = { 1: 'idle', 2: 'connect', 3: 'active', 4: 'opensent', 5: 'openconfirm', 6: 'established' };
      for (const r of rows ?? []) {
        const addr = r.conf?.neighbor_address ?? r.state?.neighbor_address ?? '';
        const st = r.state?.session_state;
        m.set(addr, typeof st === 'number' ? (names[st] ?? String(st)) : String(st ?? 'unknown').toLowerCase());
      }
      return m;
    },
    async rib(family = 4) {
      const out = await g.json<Record<string, unknown>>(['global', 'rib', '-a', family === 4 ? 'ipv4' : 'ipv6']);
      return new Set(Object.keys(out ?? {}));
    },
  };
  await waitFor(`${name} API`, async () => {
    if (daemon.child.exitCode !== null) throw new WaitAbort(`gobgpd exited: ${daemon.log()}`);
    await cli(['global']);
    return true;
  });
  return g;
}
