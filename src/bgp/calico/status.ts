// The speaker's status as Calico shows it: `calicoctl node status` text and the status block of
// a CalicoNodeStatus resource. Pure.
import type { PeerStatus, SpeakerStatus, Speaker } from '../server/index.ts';

/** One route of the speaker's table (Speaker.routes()). */
export type SpeakerRoute = Awaited<ReturnType<Speaker['routes']>>[number];
import { globMatch } from '../rib/index.ts';
import { PEER_TYPE_DISPLAY } from './peering.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line, fmt(rows[0]!), line, ...rows.slice(1).map(fmt), line].join('\n');
}

const family = (p: PeerStatus): 4 | 6 => (p.address.includes(':') ? 6 : 4);
const DISPLAY = new Set(Object.values(PEER_TYPE_DISPLAY));

/** SINCE as BIRD prints it: time of day when today, else the date. */
function since(iso: string, now: Date): string {
  const d = new Date(iso);
  return d.toDateString() === now.toDateString() ? d.toTimeString().slice(0, 8) : d.toISOString().slice(0, 10);
}

/**
 * `calicoctl node status` output for a running speaker (null: not running), as calicoctl prints
 * it for BIRD: the process line, then per family "IPv4 BGP status" and the peer table
 * (PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO) or "No IPv4 peers found.". STATE is BIRD's
 * protocol state (up/start); INFO is the BGP state plus the last error. Only Calico's peers
 * (node-to-node mesh, node specific, global) are listed, as calicoctl does.
 */
export function formatNodeStatus(s: SpeakerStatus | null, now = new Date()): string {
  if (!s) return 'Calico process is not running.\n';
  const out = ['Calico process is running.\n'];
  for (const f of [4, 6] as const) {
    out.push(`\nIPv${f} BGP status\n`);
    const peers = s.peers.filter((p) => family(p) === f && DISPLAY.has(p.type));
    if (!peers.length) {
      out.push(`No IPv${f} peers found.\n`);
      continue;
    }
    const rows = [['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO']];
    for (const p of peers) {
      const up = p.state === 'Established';
      rows.push([p.address, p.type, up ? 'up' : 'start', since(p.since, now), up ? 'Established' : `${p.state}${p.lastError ? ` ${p.lastError}` : ''}`]);
    }
    out.push(table(rows) + '\n');
  }
  out.push('\n');
  return out.join('');
}

const CNS_TYPE: Record<string, 'NodeMesh' | 'NodePeer' | 'GlobalPeer'> = {
  [PEER_TYPE_DISPLAY.mesh]: 'NodeMesh',
  [PEER_TYPE_DISPLAY.node]: 'NodePeer',
  [PEER_TYPE_DISPLAY.global]: 'GlobalPeer',
};

/** The `status` of a CalicoNodeStatus resource (agent + bgp sections) from the speaker's status. */
export function calicoNodeStatus(s: SpeakerStatus, opts: { version?: string; lastReconfiguration?: Date; now?: Date } = {}): Record<string, unknown> {
  const now = opts.now ?? new Date();
  const agent = {
    lastBootTime: s.startedAt,
    lastReconfigurationTime: (opts.lastReconfiguration ?? new Date(s.startedAt)).toISOString(),
    routerID: s.routerId,
    state: 'Ready',
    version: opts.version ?? 'calico-ts',
  };
  const bgp: Record<string, unknown> = {};
  for (const f of [4, 6] as const) {
    const peers = s.peers.filter((p) => family(p) === f && CNS_TYPE[p.type]);
    bgp[`numberEstablishedV${f}`] = peers.filter((p) => p.state === 'Established').length;
    bgp[`numberNotEstablishedV${f}`] = peers.filter((p) => p.state !== 'Established').length;
    bgp[`peersV${f}`] = peers.map((p) => ({ peerIP: p.address, type: CNS_TYPE[p.type], state: p.state, since: since(p.since, now) }));
  }
  return { agent: { birdV4: agent, birdV6: agent }, bgp, lastUpdated: now.toISOString() };
}

/**
 * The `routes` of a CalicoNodeStatus (class Routes), as calico-node fills it from BIRD's
 * `show route`: per family every route with type FIB (the one used for forwarding) or RIB (another
 * candidate), destination, gateway (`N/A` for blackholes), interface, and where it was learned:
 * `Static` (this node's blocks, reachableBy host routes), `Direct` (connected subnets, except on
 * the interfaces confd's direct protocol leaves out) or, for BGP routes, `NodeMesh` / `BGPPeer`
 * with the peer's IP, or `Kernel` (the table's other routes, as BIRD's kernel protocol learns them).
 * Empty lists are left out (omitempty).
 */
export function calicoNodeRoutes(routes: readonly SpeakerRoute[], peers: readonly PeerStatus[], opts: { ignoredInterfaces?: readonly string[] } = {}): Record<string, unknown> {
  const mesh = new Set(peers.filter((p) => p.type === PEER_TYPE_DISPLAY.mesh).map((p) => p.address));
  // confd's direct protocol: `interface -"<ignored>"..., -"cali*", -"kube-ipvs*", "*"`.
  const notDirect = [...(opts.ignoredInterfaces ?? []), 'cali*', 'kube-ipvs*'];
  const out: Record<string, Array<Record<string, unknown>>> = { routesV4: [], routesV6: [] };
  for (const r of routes) {
    if (r.source === 'direct' && notDirect.some((g) => globMatch(g, r.interface))) continue;
    const learnedFrom =
      r.source === 'static' ? { sourceType: 'Static' } : r.source === 'direct' ? { sourceType: 'Direct' } : r.source === 'kernel' ? { sourceType: 'Kernel' } : { sourceType: r.peer !== undefined && mesh.has(r.peer) ? 'NodeMesh' : 'BGPPeer', ...(r.peer ? { peerIP: r.peer } : {}) };
    out[r.destination.includes(':') ? 'routesV6' : 'routesV4']!.push({
      type: r.type,
      destination: r.destination,
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...(r.interface ? { interface: r.interface } : {}),
      learnedFrom,
    });
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v.length > 0));
}
