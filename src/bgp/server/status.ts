// Speaker status: per-peer state, uptime, prefix counts, last error. Served in-process, over a
// unix socket (one JSON document per connection) and optionally as a JSON file, and rendered as
// Calico's `calicoctl node status` table (PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO).
import net from 'node:net';
import { rmSync, writeFileSync, renameSync } from 'node:fs';

export interface PeerStatus {
  address: string;
  peerAs: number;
  /** Calico's wording: "node-to-node mesh", "node specific", "global"; ours adds "route reflector client". */
  type: string;
  /** FSM state (Idle, Connect, Active, OpenSent, OpenConfirm, Established). */
  state: string;
  /** ISO time of the last state change. */
  since: string;
  /** Seconds in the current state. */
  uptimeSeconds: number;
  /** Established, or the reason it is not. */
  info: string;
  lastError: string | null;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  routerId?: string;
  holdTime?: number;
  gracefulRestart?: 'none' | 'helper-stale' | 'restarting';
}

/** One route of the speaker's table (CalicoNodeStatus `routes`). */
export interface RouteStatus {
  /** FIB: the route used for forwarding (the best path); RIB: another candidate. */
  type: 'FIB' | 'RIB';
  destination: string;
  /** Next hop, or `N/A` (blackhole). */
  gateway: string;
  /** Interface towards the gateway (empty when unknown), `blackhole`, or the connected interface. */
  interface: string;
  /** bgp: learned; static: originated blocks and reachableBy routes; direct: connected subnets; kernel: other routes in our table. */
  source: 'bgp' | 'static' | 'direct' | 'kernel';
  /** The BGP peer it was learned from. */
  peer?: string;
}

export interface SpeakerStatus {
  routerId: string;
  asNumber: number;
  startedAt: string;
  /** True until the first End-of-RIB from every GR peer after our own graceful restart. */
  restarting: boolean;
  locRibRoutes: number;
  kernelRoutes: number;
  kernelLastError: string | null;
  peers: PeerStatus[];
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line, fmt(rows[0]!), line, ...rows.slice(1).map(fmt), line].join('\n');
}

/** Calico's "IPv4 BGP status" table. SINCE is HH:MM:SS of today or the date, like BIRD. */
export function formatStatusTable(s: SpeakerStatus, now = new Date()): string {
  const fam = (p: PeerStatus): 4 | 6 => (p.address.includes(':') ? 6 : 4);
  const out: string[] = [];
  for (const f of [4, 6] as const) {
    const peers = s.peers.filter((p) => fam(p) === f);
    out.push(`IPv${f} BGP status`);
    if (!peers.length) {
      out.push(`No IPv${f} peers found.\n`);
      continue;
    }
    const rows = [['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO']];
    for (const p of peers) {
      const d = new Date(p.since);
      const since = d.toDateString() === now.toDateString() ? d.toTimeString().slice(0, 8) : d.toISOString().slice(0, 10);
      rows.push([p.address, p.type, p.state === 'Established' ? 'up' : 'start', since, p.info]);
    }
    out.push(pad(rows) + '\n');
  }
  return out.join('\n');
}

/** Serves `get()` as JSON to every client that connects to the unix socket. */
export class StatusServer {
  private readonly server: net.Server;
  private readonly path: string;
  constructor(path: string, get: () => SpeakerStatus) {
    this.path = path;
    rmSync(path, { force: true });
    this.server = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end(JSON.stringify(get()) + '\n');
    });
    this.server.listen(path);
  }
  close(): void {
    this.server.close();
    rmSync(this.path, { force: true });
  }
}

/** Reads status from a running speaker's unix socket. */
export function readStatus(path: string, timeoutMs = 3000): Promise<SpeakerStatus> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path);
    let buf = '';
    const t = setTimeout(() => {
      c.destroy();
      reject(new Error(`no status from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('data', (b: Buffer) => (buf += b.toString()));
    c.on('error', (e) => {
      clearTimeout(t);
      reject(new Error(`cannot read status from ${path}: ${e.message} (is calico-bgp running with statusSocket set?)`));
    });
    c.on('end', () => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(buf) as SpeakerStatus);
      } catch (e) {
        reject(new Error(`bad status document from ${path}: ${(e as Error).message}`));
      }
    });
  });
}

/** Writes the status atomically (temp file + rename). */
export function writeStatusFile(path: string, s: SpeakerStatus): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, path);
}
