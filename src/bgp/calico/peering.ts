// Calico's peering rules as a pure function: the datastore's BGP state (BGPConfiguration,
// Nodes, BGPPeers, BGPFilters, IPPools, block affinities) and this node's name → the peers and
// settings this node's speaker must have. It follows what Calico's confd computes for BIRD
// (confd/pkg/backends/calico: client.go updatePeersV1 + bgp_processor.go), including peer names
// (Mesh_/Node_/Global_<ip>), which `calicoctl node status` turns into the PEER TYPE column.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { tryParseCIDR, maskCIDR, formatCIDR, cidrContains } from '../../lib/index.ts';
import { parseSelector, type Selector } from '../../selector/index.ts';
import type { BGPConfiguration, BGPFilter, BGPPeer, IPPool, Node } from '../../model/index.ts';

export const DEFAULT_AS = 64512;
export const DEFAULT_BGP_PORT = 179;

/** Everything from the datastore the computation needs, keyed by resource name. */
export interface CalicoBgpState {
  bgpConfigurations: ReadonlyMap<string, BGPConfiguration>;
  nodes: ReadonlyMap<string, Node>;
  bgpPeers: ReadonlyMap<string, BGPPeer>;
  bgpFilters: ReadonlyMap<string, BGPFilter>;
  ipPools: ReadonlyMap<string, IPPool>;
  /** Block CIDR → the node it is affine to (block affinities and blocks' `affinity: host:<node>`). */
  blockAffinities: ReadonlyMap<string, string>;
}

export function emptyState(): CalicoBgpState {
  return { bgpConfigurations: new Map(), nodes: new Map(), bgpPeers: new Map(), bgpFilters: new Map(), ipPools: new Map(), blockAffinities: new Map() };
}

/** Resolves a secret reference (Calico reads a Kubernetes Secret in calico-system). */
export type SecretResolver = (name: string, key: string) => string | undefined;

export type PeerKind = 'mesh' | 'global' | 'node' | 'local_workload';

/** Calico's words in `calicoctl node status` for the name prefixes. */
export const PEER_TYPE_DISPLAY: Record<PeerKind, string> = {
  mesh: 'node-to-node mesh',
  global: 'global',
  node: 'node specific',
  local_workload: 'local workload',
};

export interface CalicoPeer {
  /** Calico's protocol name: Mesh_10_0_0_2, Node_10_0_0_3_port_180, Global_fd00__1. */
  name: string;
  kind: PeerKind;
  family: 4 | 6;
  ip: string;
  /** Only when Calico sets one (explicit IP:port or the peer node's listenPort). */
  port?: number;
  asNumber: number;
  localAsNumber?: number;
  sourceAddress?: string;
  /** TTL security hop count; undefined = off. */
  ttlSecurity?: number;
  passive: boolean;
  /** The peer is a Calico node of this cluster (mesh, selected nodes, or a node's address). */
  calicoNode: boolean;
  password?: string;
  /** Seconds (BGPPeer maxRestartTime / BGPConfiguration nodeMeshMaxRestartTime). */
  gracefulRestartTime?: number;
  keepaliveTime?: number;
  routeReflectorClient: boolean;
  routeReflectorClusterId?: string;
  nextHopSelf: boolean;
  nextHopKeep: boolean;
  numAllowedLocalAs?: number;
  /** BGPFilter names that have rules for this family and direction, in the peer's order. */
  importFilters: string[];
  exportFilters: string[];
  /** The peer's BGPFilter names that exist, in its order (any family or direction). */
  filters: string[];
  reachableBy?: string;
  /** The BGPPeer resource it came from (none for mesh peers). */
  source?: string;
}

export interface CommunityRule {
  cidr: string;
  communities: string[];
}

export interface CalicoBgpPlan {
  nodeName: string;
  ipv4?: string;
  ipv6?: string;
  asNumber: number;
  routerId: string;
  listenPort: number;
  /** bindMode NodeIP: listen on the node's address only. */
  listenAddress?: string;
  bindMode: 'None' | 'NodeIP';
  ignoredInterfaces: string[];
  logSeverity: string;
  meshEnabled: boolean;
  routeReflectorClusterId?: string;
  peers: CalicoPeer[];
  /** Block CIDRs affine to this node inside exportable pools (originated). */
  originated: string[];
  /** Pools whose routes may be exported (disableBGPExport false). */
  exportPools: string[];
  /** Pools with disableBGPExport (never exported). */
  noExportPools: string[];
  communities: CommunityRule[];
  /** All pools with their encapsulation (decides which learned routes BGP programs into the kernel). */
  kernelPools: Array<{ cidr: string; ipipMode?: 'Never' | 'Always' | 'CrossSubnet'; vxlanMode?: 'Never' | 'Always' | 'CrossSubnet' }>;
  /** BGPConfiguration programClusterRoutes. */
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
  /** The node's IPv4 subnet (IPIP CrossSubnet). */
  localSubnet?: string;
  /** Specs of the BGPFilters the peers use, by name. */
  filters: Record<string, Record<string, unknown>>;
  /** Things the computation skipped or could not resolve (for logs). */
  warnings: string[];
}

export class PeeringError extends Error {
  readonly code: 'bgp-node-not-found' | 'bgp-bad-router-id';
  constructor(code: PeeringError['code'], message: string) {
    super(message);
    this.name = 'PeeringError';
    this.code = code;
  }
}

export interface PeeringOptions {
  /** CALICO_ROUTER_ID: an IPv4 address, or "hash" (derived from the node name). */
  routerId?: string;
  secrets?: SecretResolver;
  /** Extra prefixes to originate (until IPAM writes block affinities). */
  staticPrefixes?: readonly string[];
}

// ---- helpers ------------------------------------------------------------------------------

/** AS number as Calico writes it: plain, or "high.low" (asdot). */
export function asNumberOf(v: number | string | undefined): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v;
  const d = /^(\d+)\.(\d+)$/.exec(v);
  if (d) return Number(d[1]) * 65536 + Number(d[2]);
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/** Go duration ("90s", "2m", "1h30m", "1.5s") → seconds, rounded as Calico does. */
export function durationSeconds(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length) return undefined;
  return Math.round(total);
}

/** The address part of a Node's `ipv4Address: 10.0.0.1/24`. */
function hostPart(a: string | undefined): string | undefined {
  if (!a) return undefined;
  const ip = a.split('/')[0]!;
  return isIP(ip) ? ip : undefined;
}

function calicoName(prefix: string, ip: string, port?: number): string {
  const base = `${prefix}_${ip.replace(/[.:]/g, '_')}`;
  return port ? `${base}_port_${port}` : base;
}

/** `10.0.0.1`, `10.0.0.1:180`, `[fd00::1]:180`, `fd00::1` → host and port (0 = none). */
export function parseIPPort(s: string): { host: string; port: number } {
  const m6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (m6) return { host: m6[1]!, port: Number(m6[2]) };
  const m4 = /^([^:]+):(\d+)$/.exec(s);
  if (m4) return { host: m4[1]!, port: Number(m4[2]) };
  return { host: s, port: 0 };
}

/** Calico's "hash" router id: the first 4 bytes of SHA-256(node name), first octet kept below 224. */
export function hashRouterId(nodeName: string): string {
  const h = createHash('sha256').update(nodeName).digest();
  const first = h[0]! > 223 ? h[0]! - 32 : h[0]!;
  return [first, h[1]!, h[2]!, h[3]!].join('.');
}

/** A BGPFilter name as it appears in BIRD symbols (`bgp_<name>_importFilterV4`, max 64 chars). */
export function birdFilterName(name: string): string {
  const max = 64 - 'bgp__importFilterV4'.length;
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').toUpperCase().slice(0, 16);
  return `${name.slice(0, max - 17)}_${hash}`;
}

/** Reads `<dir>/<secret>/<key>` (trailing newline trimmed); undefined if absent. */
export function fileSecrets(dir: string, read: (path: string) => string): SecretResolver {
  return (name, key) => {
    if (!name || !key || name.includes('/') || key.includes('/') || name.startsWith('.') || key.startsWith('.')) return undefined;
    try {
      return read(`${dir}/${name}/${key}`).replace(/\r?\n$/, '');
    } catch {
      return undefined;
    }
  };
}

/** Calico's community value syntax: standard `aa:nn` or large `aa:nn:mm` (anything else is a name). */
const COMMUNITY_VALUE = /^(\d+):(\d+)(:\d+)?$/;

/** Standard communities have 16-bit parts, large ones 32-bit parts (BIRD refuses others). */
function communityInRange(v: string): boolean {
  const parts = v.split(':').map(Number);
  const max = parts.length === 2 ? 0xffff : 0xffffffff;
  return parts.every((n) => Number.isSafeInteger(n) && n <= max);
}

/** Labels as strings (a manifest may say `routeReflector: true`; Kubernetes stores "true"). */
function stringLabels(l: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

interface NodeFacts {
  name: string;
  ipv4?: string;
  ipv6?: string;
  /** Node spec.bgp.asNumber as set (undefined = the global AS). */
  asNumber?: number;
  rrClusterId?: string;
  labels: Record<string, string>;
}

/** A v1-style peering (Calico's backends.BGPPeer) before per-node rendering. */
interface RawPeering {
  ip: string;
  port: number;
  asNumber?: number;
  localAsNumber?: number;
  sourceAddr: string;
  keepNextHop: boolean;
  nextHopMode?: string;
  calicoNode: boolean;
  /** Derived from a Node (peerSelector / reverse peering); Calico leaves calicoNode false there. */
  isNode?: boolean;
  ttlSecurity?: number;
  filters: string[];
  numAllowLocalAs?: number;
  reachableBy?: string;
  rrClusterId?: string;
  password?: string;
  restartTime?: number;
  keepaliveTime?: number;
  source: string;
}

// ---- the computation ---------------------------------------------------------------------

export function computePlan(state: CalicoBgpState, nodeName: string, opts: PeeringOptions = {}): CalicoBgpPlan {
  const warnings: string[] = [];
  const global = state.bgpConfigurations.get('default')?.spec ?? {};
  const perNode = state.bgpConfigurations.get(`node.${nodeName}`)?.spec ?? {};
  const globalAs = asNumberOf(global.asNumber) ?? DEFAULT_AS;
  const globalListenPort = global.listenPort || 0;

  const facts = new Map<string, NodeFacts>();
  for (const [name, n] of [...state.nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const b = n.spec?.bgp;
    if (!b) {
      facts.set(name, { name, labels: stringLabels(n.metadata.labels) });
      continue;
    }
    facts.set(name, {
      name,
      ipv4: hostPart(b.ipv4Address),
      ipv6: hostPart(b.ipv6Address),
      asNumber: asNumberOf(b.asNumber),
      rrClusterId: b.routeReflectorClusterID || undefined,
      labels: stringLabels(n.metadata.labels),
    });
  }
  const me = facts.get(nodeName);
  if (!me) throw new PeeringError('bgp-node-not-found', `node ${JSON.stringify(nodeName)} has no Node resource in the datastore (create it, or check NODENAME)`);

  const nodeListenPort = (name: string): number => {
    const c = state.bgpConfigurations.get(`node.${name}`)?.spec;
    return c?.listenPort || 0;
  };
  const asOfNode = (f: NodeFacts): number => f.asNumber ?? globalAs;
  const nodeIPs = new Set<string>();
  for (const f of facts.values()) {
    if (f.ipv4) nodeIPs.add(f.ipv4);
    if (f.ipv6) nodeIPs.add(f.ipv6);
  }

  const selectorCache = new Map<string, Selector | null>();
  const nodesMatching = (sel: string): NodeFacts[] => {
    let s = selectorCache.get(sel);
    if (s === undefined) {
      try {
        s = parseSelector(sel);
      } catch (err) {
        warnings.push(`selector ${JSON.stringify(sel)}: ${(err as Error).message}`);
        s = null;
      }
      selectorCache.set(sel, s);
    }
    if (!s) return [];
    const sel2 = s;
    return [...facts.values()].filter((f) => sel2.matches(f.labels));
  };

  const password = (p: BGPPeer): string | undefined => {
    const ref = p.spec?.password?.secretKeyRef;
    if (!ref) return undefined;
    const v = opts.secrets?.(ref.name ?? '', ref.key);
    if (v === undefined) warnings.push(`BGPPeer ${p.metadata.name}: cannot read password from secret ${ref.name ?? ''} key ${ref.key}`);
    return v;
  };
  const nextHop = (p: BGPPeer): { keep: boolean; mode?: string } =>
    p.spec?.nextHopMode ? { keep: false, mode: p.spec.nextHopMode } : { keep: !!p.spec?.keepOriginalNextHop };
  const common = (p: BGPPeer): Pick<RawPeering, 'password' | 'sourceAddr' | 'restartTime' | 'keepaliveTime'> => ({
    password: password(p),
    sourceAddr: p.spec?.sourceAddress || 'UseNodeIP',
    restartTime: durationSeconds(p.spec?.maxRestartTime),
    keepaliveTime: durationSeconds(p.spec?.keepaliveTime),
  });

  const nodeAsPeers = (f: NodeFacts, v4: boolean, v6: boolean, p: BGPPeer): RawPeering[] => {
    const out: RawPeering[] = [];
    const nh = nextHop(p);
    for (const ip of [v4 ? f.ipv4 : undefined, v6 ? f.ipv6 : undefined]) {
      if (!ip) continue;
      out.push({
        ip,
        port: nodeListenPort(f.name) || globalListenPort,
        asNumber: asOfNode(f),
        keepNextHop: nh.keep,
        nextHopMode: nh.mode,
        calicoNode: false,
        isNode: true,
        ttlSecurity: p.spec?.ttlSecurity || undefined,
        filters: p.spec?.filters ?? [],
        reachableBy: p.spec?.reachableBy || undefined,
        rrClusterId: f.rrClusterId,
        source: p.metadata.name ?? '',
        ...common(p),
      });
    }
    return out;
  };

  const nodesWithIPPortAndAS = (ip: string, asn: number | undefined, port: number): NodeFacts[] => {
    const want = asn ?? globalAs;
    return [...facts.values()].filter((f) => {
      if (f.ipv4 !== ip && f.ipv6 !== ip) return false;
      if (asOfNode(f) !== want) return false;
      if (port !== 0) {
        const np = nodeListenPort(f.name);
        if (np && port !== np) return false;
        if (!np && globalListenPort !== 0 && globalListenPort !== port) return false;
      }
      return true;
    });
  };

  // v1 peerings: key → peering; global keys "g|ip|port", node keys "n|node|ip|port".
  const emitted = new Map<string, RawPeering>();
  const emit = (key: string, p: RawPeering): void => {
    if (emitted.has(key)) return;
    if (key.startsWith('n|')) {
      const [, , ip, port] = key.split('|');
      if (emitted.has(`g|${ip}|${port}`)) return;
    }
    emitted.set(key, p);
  };
  const peersSorted = [...state.bgpPeers.values()].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const globalPass of [true, false]) {
    for (const p of peersSorted) {
      const s = p.spec ?? {};
      if (globalPass !== (!s.nodeSelector && !s.node)) continue;
      const localNodes = s.nodeSelector ? nodesMatching(s.nodeSelector).map((f) => f.name) : s.node ? [s.node] : [];
      let peers: RawPeering[] = [];
      if (s.localWorkloadSelector) {
        // Peering with workloads needs the local-workload watcher (not built): skipped.
        warnings.push(`BGPPeer ${p.metadata.name}: localWorkloadSelector peerings are not supported yet`);
        continue;
      } else if (s.peerSelector) {
        for (const f of nodesMatching(s.peerSelector)) peers.push(...nodeAsPeers(f, true, true, p));
      } else {
        const { host, port: explicitPort } = parseIPPort(s.peerIP ?? '');
        if (!isIP(host)) {
          warnings.push(`BGPPeer ${p.metadata.name}: peerIP ${JSON.stringify(s.peerIP ?? '')} is not an IP address (skipped)`);
          continue;
        }
        let port = explicitPort;
        const asn = asNumberOf(s.asNumber);
        if (port === 0) {
          const ns = nodesWithIPPortAndAS(host, asn, 0);
          if (ns.length) port = nodeListenPort(ns[0]!.name) || globalListenPort;
        }
        let reachableBy: string | undefined;
        if (s.reachableBy) {
          if (!isIP(s.reachableBy) || isIP(s.reachableBy) !== isIP(host)) {
            warnings.push(`BGPPeer ${p.metadata.name}: reachableBy ${s.reachableBy} is not an address of the peer's family (skipped)`);
            continue;
          }
          reachableBy = s.reachableBy;
        }
        const nh = nextHop(p);
        peers = [
          {
            ip: host,
            port,
            asNumber: asn,
            localAsNumber: asNumberOf(s.localASNumber) || undefined,
            keepNextHop: nh.keep,
            nextHopMode: nh.mode,
            calicoNode: nodeIPs.has(host),
            ttlSecurity: s.ttlSecurity || undefined,
            filters: s.filters ?? [],
            numAllowLocalAs: s.numAllowedLocalASNumbers || undefined,
            reachableBy,
            source: p.metadata.name ?? '',
            ...common(p),
          },
        ];
      }
      for (const peer of peers) {
        if (globalPass) emit(`g|${peer.ip}|${peer.port}`, peer);
        else for (const n of localNodes) emit(`n|${n}|${peer.ip}|${peer.port}`, peer);
      }
    }
  }
  // Automatic reverse peerings, so that peerings between Calico nodes are symmetric.
  for (const p of peersSorted) {
    const s = p.spec ?? {};
    if (s.reversePeering === 'Manual' || s.localWorkloadSelector) continue;
    let localNodes: NodeFacts[];
    let v4 = false;
    let v6 = false;
    if (s.peerSelector) {
      localNodes = nodesMatching(s.peerSelector);
      v4 = v6 = true;
    } else {
      const { host, port } = parseIPPort(s.peerIP ?? '');
      localNodes = nodesWithIPPortAndAS(host, asNumberOf(s.asNumber), port);
      if (host.includes(':')) v6 = true;
      else v4 = true;
    }
    if (!localNodes.length) continue;
    const peerNodes = s.nodeSelector ? nodesMatching(s.nodeSelector) : s.node ? (facts.has(s.node) ? [facts.get(s.node)!] : []) : nodesMatching('all()');
    const peers = peerNodes.flatMap((f) => nodeAsPeers(f, v4, v6, p));
    for (const peer of peers) for (const n of localNodes) emit(`n|${n.name}|${peer.ip}|${peer.port}`, peer);
  }

  // Render this node's peers per family, as bgp_processor does.
  const myCluster = me.rrClusterId;
  const myAs = asOfNode(me);
  const meshEnabled = global.nodeToNodeMeshEnabled ?? true;
  const filterHas = (name: string, dir: 'import' | 'export', fam: 4 | 6): boolean => {
    const f = state.bgpFilters.get(name)?.spec;
    if (!f) return false;
    const rules = dir === 'import' ? (fam === 4 ? f.importV4 : f.importV6) : fam === 4 ? f.exportV4 : f.exportV6;
    return !!rules && rules.length > 0;
  };
  const peersOut: CalicoPeer[] = [];
  for (const fam of [4, 6] as const) {
    const myIP = fam === 4 ? me.ipv4 : me.ipv6;
    // Calico only runs BGP for a family when the node has an address of it.
    if (!myIP) continue;
    const famPeers: CalicoPeer[] = [];
    if (!myCluster && meshEnabled) {
      const meshPassword = global.nodeMeshPassword?.secretKeyRef
        ? opts.secrets?.(global.nodeMeshPassword.secretKeyRef.name ?? '', global.nodeMeshPassword.secretKeyRef.key)
        : undefined;
      if (global.nodeMeshPassword?.secretKeyRef && meshPassword === undefined) warnings.push(`BGPConfiguration default: cannot read nodeMeshPassword secret ${global.nodeMeshPassword.secretKeyRef.name ?? ''}`);
      for (const f of facts.values()) {
        const ip = fam === 4 ? f.ipv4 : f.ipv6;
        if (!ip || ip === myIP || f.rrClusterId) continue;
        const port = nodeListenPort(f.name) || globalListenPort;
        famPeers.push({
          name: calicoName('Mesh', ip),
          kind: 'mesh',
          family: fam,
          ip,
          ...(port ? { port } : {}),
          asNumber: asOfNode(f),
          sourceAddress: myIP,
          passive: myIP !== undefined && ip > myIP,
          calicoNode: true,
          ...(meshPassword ? { password: meshPassword } : {}),
          ...(durationSeconds(global.nodeMeshMaxRestartTime) !== undefined ? { gracefulRestartTime: durationSeconds(global.nodeMeshMaxRestartTime) } : {}),
          routeReflectorClient: false,
          nextHopSelf: false,
          nextHopKeep: false,
          importFilters: [],
          exportFilters: [],
          filters: [],
        });
      }
    }
    const fromKeys = (prefix: 'Global' | 'Node', keyPrefix: string): void => {
      for (const [key, raw] of emitted) {
        if (!key.startsWith(keyPrefix)) continue;
        if ((isIP(raw.ip) === 6 ? 6 : 4) !== fam) continue;
        if (raw.ip === myIP) continue;
        const kind: PeerKind = prefix === 'Global' ? 'global' : 'node';
        const asNumber = raw.asNumber ?? 0;
        const effectiveAs = raw.localAsNumber ?? myAs;
        const peer: CalicoPeer = {
          name: calicoName(prefix, raw.ip, raw.port || undefined),
          kind,
          family: fam,
          ip: raw.ip,
          ...(raw.port ? { port: raw.port } : {}),
          asNumber,
          ...(raw.localAsNumber !== undefined ? { localAsNumber: raw.localAsNumber } : {}),
          ...(raw.sourceAddr === 'UseNodeIP' && myIP ? { sourceAddress: myIP } : {}),
          ...(raw.ttlSecurity ? { ttlSecurity: raw.ttlSecurity } : {}),
          passive: false,
          calicoNode: raw.calicoNode || !!raw.isNode,
          ...(raw.password !== undefined ? { password: raw.password } : {}),
          ...(raw.restartTime !== undefined ? { gracefulRestartTime: raw.restartTime } : {}),
          ...(raw.keepaliveTime !== undefined ? { keepaliveTime: raw.keepaliveTime } : {}),
          routeReflectorClient: false,
          nextHopSelf: raw.nextHopMode === 'Self',
          nextHopKeep: raw.nextHopMode === 'Keep' || (raw.keepNextHop && asNumber !== effectiveAs),
          ...(raw.numAllowLocalAs ? { numAllowedLocalAs: raw.numAllowLocalAs } : {}),
          importFilters: raw.filters.filter((n) => filterHas(n, 'import', fam)),
          exportFilters: raw.filters.filter((n) => filterHas(n, 'export', fam)),
          filters: [...new Set(raw.filters.filter((n) => state.bgpFilters.has(n)))],
          ...(raw.reachableBy ? { reachableBy: raw.reachableBy } : {}),
          source: raw.source,
        };
        if (asNumber === effectiveAs && myCluster && raw.rrClusterId !== myCluster) {
          peer.routeReflectorClient = true;
          peer.routeReflectorClusterId = myCluster;
        }
        if (kind === 'global' && raw.calicoNode && myIP !== undefined && raw.ip > myIP) peer.passive = true;
        famPeers.push(peer);
      }
    };
    fromKeys('Global', 'g|');
    fromKeys('Node', `n|${nodeName}|`);
    famPeers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    peersOut.push(...famPeers);
  }

  // Router id, listen settings.
  let routerId: string;
  if (opts.routerId === 'hash') routerId = hashRouterId(nodeName);
  else if (opts.routerId) routerId = opts.routerId;
  else if (me.ipv4) routerId = me.ipv4;
  else throw new PeeringError('bgp-bad-router-id', `Node ${nodeName} has no IPv4 address for the router id: set CALICO_ROUTER_ID (an IPv4 address or "hash")`);
  if (isIP(routerId) !== 4) throw new PeeringError('bgp-bad-router-id', `router id ${JSON.stringify(routerId)} is not an IPv4 address`);
  const bindMode = global.bindMode ?? 'None';

  // Exported routes: this node's blocks inside pools that allow export.
  const exportPools: string[] = [];
  const noExportPools: string[] = [];
  for (const pool of state.ipPools.values()) {
    const c = tryParseCIDR(pool.spec?.cidr ?? '');
    if (!c) continue;
    (pool.spec?.disableBGPExport ? noExportPools : exportPools).push(formatCIDR(maskCIDR(c)));
  }
  exportPools.sort();
  noExportPools.sort();
  const kernelPools: CalicoBgpPlan['kernelPools'] = [];
  for (const pool of [...state.ipPools.values()].sort((a, b) => ((a.spec?.cidr ?? '') < (b.spec?.cidr ?? '') ? -1 : 1))) {
    const c = tryParseCIDR(pool.spec?.cidr ?? '');
    if (!c) continue;
    kernelPools.push({ cidr: formatCIDR(maskCIDR(c)), ...(pool.spec?.ipipMode ? { ipipMode: pool.spec.ipipMode } : {}), ...(pool.spec?.vxlanMode ? { vxlanMode: pool.spec.vxlanMode } : {}) });
  }
  const v4Net = tryParseCIDR(state.nodes.get(nodeName)?.spec?.bgp?.ipv4Address ?? '');
  const poolCidrs = exportPools.map((p) => tryParseCIDR(p)!);
  const originated = new Set<string>();
  for (const [block, node] of state.blockAffinities) {
    if (node !== nodeName) continue;
    const c = tryParseCIDR(block);
    if (!c) continue;
    if (poolCidrs.some((p) => cidrContains(p, c))) originated.add(formatCIDR(maskCIDR(c)));
  }
  for (const s of opts.staticPrefixes ?? []) {
    const c = tryParseCIDR(s);
    if (c) originated.add(formatCIDR(maskCIDR(c)));
    else warnings.push(`static prefix ${JSON.stringify(s)} is not a CIDR (skipped)`);
  }

  // Communities per prefix, as confd renders apply_communities(): the node's own
  // BGPConfiguration wins as a whole when it has prefixAdvertisements; community names resolve
  // only against the `communities` of that same resource; values (aa:nn, aa:nn:mm) are used as
  // they are; each rule's set is de-duplicated and sorted; rules left empty are dropped.
  const cfgForAdverts = perNode.prefixAdvertisements?.length ? perNode : global;
  const advertsFrom = cfgForAdverts === perNode ? `BGPConfiguration node.${nodeName}` : 'BGPConfiguration default';
  const communities: CommunityRule[] = [];
  for (const [i, pa] of (cfgForAdverts.prefixAdvertisements ?? []).entries()) {
    if (!pa.cidr) continue;
    const c = tryParseCIDR(pa.cidr);
    if (!c) {
      warnings.push(`${advertsFrom}: prefixAdvertisements[${i}].cidr ${JSON.stringify(pa.cidr)} is not a CIDR (skipped)`);
      continue;
    }
    const set = new Set<string>();
    for (const name of pa.communities ?? []) {
      const value = COMMUNITY_VALUE.test(name) ? name : (cfgForAdverts.communities ?? []).find((d) => d.name === name)?.value;
      if (value === undefined) {
        warnings.push(`${advertsFrom}: prefixAdvertisements[${i}] (${pa.cidr}): community ${JSON.stringify(name)} is not defined in its communities (ignored)`);
        continue;
      }
      if (!communityInRange(value)) {
        warnings.push(`${advertsFrom}: prefixAdvertisements[${i}] (${pa.cidr}): ${JSON.stringify(value)} is not a community (aa:nn with 16-bit parts, or aa:nn:mm with 32-bit parts) (ignored)`);
        continue;
      }
      set.add(value);
    }
    if (set.size) communities.push({ cidr: formatCIDR(maskCIDR(c)), communities: [...set].sort() });
  }

  return {
    nodeName,
    ...(me.ipv4 ? { ipv4: me.ipv4 } : {}),
    ...(me.ipv6 ? { ipv6: me.ipv6 } : {}),
    asNumber: myAs,
    routerId,
    listenPort: perNode.listenPort || globalListenPort || DEFAULT_BGP_PORT,
    ...(bindMode === 'NodeIP' && (me.ipv4 ?? me.ipv6) ? { listenAddress: me.ipv4 ?? me.ipv6 } : {}),
    bindMode,
    ignoredInterfaces: global.ignoredInterfaces ?? [],
    logSeverity: perNode.logSeverityScreen || global.logSeverityScreen || 'Info',
    meshEnabled,
    ...(myCluster ? { routeReflectorClusterId: myCluster } : {}),
    peers: peersOut,
    originated: [...originated].sort(),
    exportPools,
    noExportPools,
    communities,
    kernelPools,
    ...(global.programClusterRoutes ? { programClusterRoutes: global.programClusterRoutes } : {}),
    ...(v4Net && v4Net.prefix < 32 ? { localSubnet: formatCIDR(maskCIDR(v4Net)) } : {}),
    filters: Object.fromEntries(
      [...new Set(peersOut.flatMap((p) => p.filters))].sort().map((n) => [n, (state.bgpFilters.get(n)?.spec ?? {}) as Record<string, unknown>]),
    ),
    warnings,
  };
}
