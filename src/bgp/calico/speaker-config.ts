// A Calico BGP plan (peering.ts) → the speaker's configuration. Pure. What the speaker cannot
// express yet is reported as a warning, never silently changed.
import { isIP } from 'node:net';
import { parseConfig, type SpeakerConfig, type SpeakerConfigInput } from '../server/index.ts';
import { compileBGPFilter, type BGPFilterInput } from '../rib/index.ts';
import { PEER_TYPE_DISPLAY, type CalicoBgpPlan, type CalicoPeer } from './peering.ts';

/** Node-local settings that do not come from the datastore. */
export interface LocalSettings {
  statusSocket?: string;
  statusFile?: string;
  kernel?: SpeakerConfigInput['kernel'];
  gracefulRestart?: SpeakerConfigInput['gracefulRestart'];
  holdTime?: number;
  connectRetryTime?: number;
  idleHoldTime?: number;
  /** Overrides BGPConfiguration logSeverityScreen. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Overrides the listen port from BGPConfiguration (tests). */
  listenPort?: number;
}

/** Calico's logSeverityScreen → our levels. */
export function logLevelOf(sev: string): 'debug' | 'info' | 'warn' | 'error' {
  const s = sev.toLowerCase();
  if (s === 'debug') return 'debug';
  if (s === 'warning' || s === 'warn') return 'warn';
  if (s === 'error' || s === 'fatal' || s === 'panic' || s === 'none') return 'error';
  return 'info';
}

/** A setting the speaker would refuse (the whole configuration would fail), said in Calico's words. */
function badPeerSetting(p: CalicoPeer): string | undefined {
  const asn = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
  if (!asn(p.asNumber)) return `asNumber ${p.asNumber} is not an AS number`;
  if (p.localAsNumber !== undefined && !asn(p.localAsNumber)) return `localASNumber ${p.localAsNumber} is not an AS number`;
  if (p.ttlSecurity !== undefined && !(Number.isInteger(p.ttlSecurity) && p.ttlSecurity >= 1 && p.ttlSecurity <= 255)) return `ttlSecurity ${p.ttlSecurity} is not a hop count 1-255`;
  if (p.numAllowedLocalAs !== undefined && !(Number.isInteger(p.numAllowedLocalAs) && p.numAllowedLocalAs >= 0)) return `numAllowedLocalASNumbers ${p.numAllowedLocalAs} is not a count`;
  return undefined;
}

const PRIORITY: Record<CalicoPeer['kind'], number> = { node: 0, global: 1, mesh: 2, local_workload: 3 };

export function toSpeakerConfig(plan: CalicoBgpPlan, local: LocalSettings = {}): { config: SpeakerConfig; warnings: string[]; peerNames: Map<string, string> } {
  const warnings: string[] = [];
  // BGPFilters the speaker can compile; a bad one is left out with a warning (Calico's confd
  // would render it anyway and BIRD would refuse the whole configuration).
  const bgpFilters: Array<{ name: string; spec: Record<string, unknown> }> = [];
  for (const [name, spec] of Object.entries(plan.filters)) {
    try {
      compileBGPFilter({ name, spec } as BGPFilterInput);
      bgpFilters.push({ name, spec });
    } catch (err) {
      warnings.push(`BGPFilter ${name}: ${(err as Error).message} (not applied)`);
    }
  }
  const usable = new Set(bgpFilters.map((f) => f.name));
  const byAddress = new Map<string, CalicoPeer>();
  // One session per address: explicit peerings win over the mesh (BIRD would run both).
  for (const p of [...plan.peers].sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind])) {
    const prev = byAddress.get(p.ip);
    if (prev) {
      warnings.push(`peer ${p.name}: ${p.ip} is already peered as ${prev.name}; one session per address (kept ${prev.name})`);
      continue;
    }
    if (p.reachableBy && isIP(p.reachableBy) !== isIP(p.ip)) warnings.push(`peer ${p.name}: reachableBy ${p.reachableBy} is not an address of the peer's family (no route via it)`);
    const bad = badPeerSetting(p);
    if (bad) {
      warnings.push(`peer ${p.name}: ${bad} (peer skipped)`);
      continue;
    }
    byAddress.set(p.ip, p);
  }
  const peerNames = new Map<string, string>();
  const peers: NonNullable<SpeakerConfigInput['peers']> = [];
  for (const p of [...byAddress.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    peerNames.set(p.ip, p.name);
    // Between two Calico nodes, only the lower address connects (Calico does this for the mesh;
    // we do it for every node-to-node session, since both sides compute the same rule and a
    // session needs both sides configured anyway). It avoids connection collisions.
    const myIP = p.family === 6 ? plan.ipv6 : plan.ipv4;
    const passive = p.passive || (p.calicoNode && myIP !== undefined && p.ip > myIP);
    peers.push({
      address: p.ip,
      asNumber: p.asNumber,
      ...(p.port ? { port: p.port } : {}),
      ...(p.password ? { password: p.password } : {}),
      passive,
      ...(p.sourceAddress ? { sourceAddress: p.sourceAddress } : {}),
      ...(p.keepaliveTime ? { keepaliveTime: p.keepaliveTime } : {}),
      routeReflectorClient: p.routeReflectorClient,
      ...(p.nextHopSelf ? { nextHopSelf: true } : {}),
      keepOriginalNextHop: p.nextHopKeep,
      description: PEER_TYPE_DISPLAY[p.kind],
      ...(p.filters.some((f) => usable.has(f)) ? { filters: p.filters.filter((f) => usable.has(f)) } : {}),
      ...(p.localAsNumber !== undefined && p.localAsNumber !== plan.asNumber ? { localAsNumber: p.localAsNumber } : {}),
      ...(p.ttlSecurity ? { ttlSecurity: p.ttlSecurity } : {}),
      ...(p.numAllowedLocalAs ? { numAllowedLocalAs: p.numAllowedLocalAs } : {}),
      ...(p.reachableBy && isIP(p.reachableBy) === isIP(p.ip) ? { reachableBy: p.reachableBy } : {}),
    });
  }
  const input: SpeakerConfigInput = {
    asNumber: plan.asNumber,
    routerId: plan.routerId,
    ...(plan.listenAddress ? { listenAddress: plan.listenAddress } : {}),
    listenPort: local.listenPort ?? plan.listenPort,
    ...(plan.routeReflectorClusterId ? { routeReflectorClusterId: plan.routeReflectorClusterId } : {}),
    prefixes: plan.originated,
    ipPools: plan.exportPools,
    logLevel: local.logLevel ?? logLevelOf(plan.logSeverity),
    ...(local.statusSocket ? { statusSocket: local.statusSocket } : {}),
    ...(local.statusFile ? { statusFile: local.statusFile } : {}),
    ...(local.kernel ? { kernel: local.kernel } : {}),
    ...(local.gracefulRestart ? { gracefulRestart: local.gracefulRestart } : {}),
    ...(local.holdTime !== undefined ? { holdTime: local.holdTime } : {}),
    ...(local.connectRetryTime !== undefined ? { connectRetryTime: local.connectRetryTime } : {}),
    ...(local.idleHoldTime !== undefined ? { idleHoldTime: local.idleHoldTime } : {}),
    ...(bgpFilters.length ? { bgpFilters } : {}),
    ...(plan.communities.length ? { prefixAdvertisements: plan.communities.map((r) => ({ cidr: r.cidr, communities: r.communities })) } : {}),
    kernelPolicy: {
      pools: plan.kernelPools,
      ...(plan.programClusterRoutes ? { programClusterRoutes: plan.programClusterRoutes } : {}),
      ...(plan.localSubnet ? { localSubnet: plan.localSubnet } : {}),
    },
    peers,
  };
  return { config: parseConfig(input, `datastore (node ${plan.nodeName})`), warnings, peerNames };
}
