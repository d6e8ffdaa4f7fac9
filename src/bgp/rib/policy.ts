// Import/export policy hooks: pure functions of (route, peer) -> accept / reject / next, chained
// like BIRD filter functions (the first terminal verdict wins; `next` passes the possibly
// modified route on). Calico's own export rules (calico_export_to_bgp_peers) and kernel rules
// (calico_kernel_programming) are implemented here as policies; BGPFilter is in bgp-filter.ts.

import type { RouteAttrs, ParsedCommunity } from './attrs.ts';
import { BIRD_INT_MAX, parseCommunity, withCommunity } from './attrs.ts';
import type { Family, NumPrefix } from './prefix.ts';
import { addressWithin, parseNumPrefix, prefixEquals, prefixWithin, tryParseNumPrefix } from './prefix.ts';

/** Where the route in the Loc-RIB came from. */
export type RouteSource = 'local' | 'ibgp' | 'ebgp';

export interface PolicyRoute {
  /** Canonical prefix key. */
  readonly prefix: string;
  readonly family: Family;
  readonly attrs: RouteAttrs;
  readonly source: RouteSource;
  /** Outgoing interface, when known (locally originated routes may carry one). */
  readonly iface?: string;
  /** The prefix parsed, when the caller has it cached (policies parse `prefix` otherwise). */
  readonly net?: NumPrefix;
}

export interface PolicyPeer {
  readonly id: string;
  readonly address: string;
  readonly peerAs: number;
  /** The local AS used on this session. */
  readonly localAs: number;
  /** peerAs === localAs. */
  readonly ibgp: boolean;
  readonly rrClient: boolean;
}

export type PolicyVerdict =
  | { readonly kind: 'accept'; readonly attrs?: RouteAttrs }
  | { readonly kind: 'reject'; readonly reason?: string }
  | { readonly kind: 'next'; readonly attrs?: RouteAttrs };

export const ACCEPT: PolicyVerdict = Object.freeze({ kind: 'accept' });
export const REJECT: PolicyVerdict = Object.freeze({ kind: 'reject' });
export const NEXT: PolicyVerdict = Object.freeze({ kind: 'next' });

export interface RoutePolicy {
  readonly name: string;
  evaluate(route: PolicyRoute, peer: PolicyPeer): PolicyVerdict;
}

export type DefaultAction = 'accept' | 'reject';

/**
 * Run a chain. Returns the resulting attributes (the input object itself when nothing changed,
 * so callers can skip re-interning) or null when rejected.
 */
export function runPolicies(chain: readonly RoutePolicy[], route: PolicyRoute, peer: PolicyPeer, dflt: DefaultAction): RouteAttrs | null {
  let r = route;
  for (const p of chain) {
    const v = p.evaluate(r, peer);
    if (v.kind === 'reject') return null;
    if (v.kind === 'accept') return v.attrs ?? r.attrs;
    if (v.attrs && v.attrs !== r.attrs) r = { ...r, attrs: v.attrs };
  }
  return dflt === 'accept' ? r.attrs : null;
}

// ---------------------------------------------------------------------------------------------
// Calico's export rules (the BIRD function calico_export_to_bgp_peers and what it calls)
// ---------------------------------------------------------------------------------------------

export interface CalicoPool {
  readonly cidr: string;
  /** IPPool spec.disableBGPExport. */
  readonly disableBGPExport?: boolean;
}

export interface CalicoExportConfig {
  /** All IP pools of the route's family (enabled or not; disableBGPExport rejects). */
  readonly pools: readonly CalicoPool[];
  /** This node's affine blocks (confirmed or without state): export the block, not its pieces. */
  readonly localBlocks?: readonly string[];
  /** /calico/staticroutes: exported as they are. */
  readonly staticRoutes?: readonly string[];
  /** Service LoadBalancer / external IP ranges: accepted only when this node is a route reflector. */
  readonly serviceLoadBalancerIPs?: readonly string[];
  readonly serviceExternalIPs?: readonly string[];
  readonly isRouteReflector?: boolean;
  /** BGPConfiguration prefixAdvertisements with community names already resolved to values. */
  readonly prefixAdvertisements?: readonly PrefixAdvertisement[];
  /** Interfaces whose routes are never exported over iBGP (Felix tunnel routes). Globs. */
  readonly ibgpRejectInterfaces?: readonly string[];
  /** Route priority (metric) of normal workload routes; /32s under a block with a lower one escape aggregation. Default 1024. */
  readonly normalRoutePriority?: number;
  /**
   * Accept every route this node originates (source `local`: its blocks and static prefixes) where
   * Calico accepts its blocks (after the rejections and the communities), without listing them in
   * localBlocks, which are matched by scanning (quadratic with 100k originated prefixes).
   */
  readonly acceptLocal?: boolean;
}

/** Calico's default tunnel-interface patterns rejected towards iBGP peers (Felix programs those routes). */
export const CALICO_IBGP_REJECT_INTERFACES: readonly string[] = ['*.cali', '*.calico', 'tunl0'];

/** Glob match as BIRD's `ifname ~ "pattern"` (`*` any run, `?` one character). */
export function globMatch(pattern: string, text: string): boolean {
  let re = '^';
  for (const ch of pattern) re += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(re + '$').test(text);
}

function parseList(list: readonly string[] | undefined, where: string): NumPrefix[] {
  return (list ?? []).map((c, i) => parseNumPrefix(c, `${where}[${i}]`));
}

/** Route priority (metric) carried by attributes, in Calico's conversion; undefined if no LOCAL_PREF. */
export function priorityOf(attrs: RouteAttrs): number | undefined {
  return attrs.localPref === undefined ? undefined : BIRD_INT_MAX - attrs.localPref;
}

export interface PrefixAdvertisement {
  readonly cidr: string;
  /** `aa:nn` (RFC 1997) or `aa:nn:mm` (RFC 8092) values. */
  readonly communities: readonly string[];
}

type CompiledAdvertisement = { readonly net: NumPrefix; readonly communities: readonly ParsedCommunity[] };

function compileAdvertisements(list: readonly PrefixAdvertisement[]): CompiledAdvertisement[] {
  return list.map((a, i) => ({
    net: parseNumPrefix(a.cidr, `prefixAdvertisements[${i}].cidr`),
    communities: a.communities.map((c, j) => parseCommunity(c, `prefixAdvertisements[${i}].communities[${j}]`)),
  }));
}

/** BIRD's `apply_communities()`: every rule whose CIDR holds (or equals) the prefix adds its communities, as sets. */
function addCommunities(adverts: readonly CompiledAdvertisement[], net: NumPrefix, attrs: RouteAttrs): RouteAttrs {
  let out = attrs;
  for (const a of adverts) if (prefixWithin(net, a.net)) for (const c of a.communities) out = withCommunity(out, c);
  return out;
}

/**
 * Calico's export policy towards BGP peers. Its terminal default is reject: only routes inside
 * enabled pools, this node's blocks, static routes and (for route reflectors) service ranges leave.
 */
export function calicoExportPolicy(cfg: CalicoExportConfig): RoutePolicy {
  const pools = cfg.pools.map((p, i) => ({ net: parseNumPrefix(p.cidr, `pools[${i}].cidr`), disabled: p.disableBGPExport === true }));
  const blocks = parseList(cfg.localBlocks, 'localBlocks');
  const statics = parseList(cfg.staticRoutes, 'staticRoutes');
  const services = cfg.isRouteReflector ? [...parseList(cfg.serviceLoadBalancerIPs, 'serviceLoadBalancerIPs'), ...parseList(cfg.serviceExternalIPs, 'serviceExternalIPs')] : [];
  const adverts = compileAdvertisements(cfg.prefixAdvertisements ?? []);
  const tunnelIfaces = cfg.ibgpRejectInterfaces ?? CALICO_IBGP_REJECT_INTERFACES;
  const normal = cfg.normalRoutePriority ?? 1024;
  const acceptLocal = cfg.acceptLocal === true;
  return {
    name: 'calico-export',
    evaluate(route, peer) {
      const net = route.net ?? tryParseNumPrefix(route.prefix);
      if (!net) return REJECT;
      for (const p of pools) if (p.disabled && prefixWithin(net, p.net)) return REJECT;
      if (peer.ibgp && route.iface !== undefined) for (const g of tunnelIfaces) if (globMatch(g, route.iface)) return REJECT;
      if (route.iface !== undefined && globMatch('bpf*.cali', route.iface)) return REJECT;
      const attrs = addCommunities(adverts, net, route.attrs);
      const accept: PolicyVerdict = attrs === route.attrs ? ACCEPT : { kind: 'accept', attrs };
      const reject: PolicyVerdict = REJECT;
      if (acceptLocal && route.source === 'local') return accept;
      for (const b of blocks) {
        if (prefixEquals(net, b)) return accept;
        if (prefixWithin(net, b)) {
          // A route under our block escapes aggregation only with a better-than-normal priority.
          return (priorityOf(route.attrs) ?? normal) < normal ? accept : reject;
        }
      }
      for (const s of statics) if (prefixWithin(net, s)) return accept;
      for (const s of services) if (prefixWithin(net, s)) return accept;
      for (const p of pools) if (!p.disabled && prefixWithin(net, p.net)) return accept;
      return reject;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Calico's kernel rules (calico_kernel_programming)
// ---------------------------------------------------------------------------------------------

export interface KernelPolicyRoute {
  readonly prefix: string;
  readonly family: Family;
  readonly source: RouteSource;
  /** Next hop (learned routes), undefined for local ones. */
  readonly nextHop?: string;
  /** The prefix parsed, when cached. */
  readonly net?: NumPrefix;
}

export type KernelVerdict = { readonly install: false } | { readonly install: true; readonly tunnel?: string };

/** Decides whether (and how) a Loc-RIB best route goes into the kernel. */
export type KernelPolicy = (route: KernelPolicyRoute) => KernelVerdict;

export const KERNEL_INSTALL: KernelVerdict = Object.freeze({ install: true });
export const KERNEL_SKIP: KernelVerdict = Object.freeze({ install: false });

export type ProgramClusterRoutes = 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface CalicoKernelPool {
  readonly cidr: string;
  readonly ipipMode?: EncapMode;
  readonly vxlanMode?: EncapMode;
}

export interface CalicoKernelConfig {
  readonly pools: readonly CalicoKernelPool[];
  /** BGPConfiguration.programClusterRoutes. Default EnabledNoEncapOnly. */
  readonly programClusterRoutes?: ProgramClusterRoutes;
  /** This node's subnet (for IPIP CrossSubnet: next hops inside it need no tunnel). */
  readonly localSubnet?: string;
  /** /calico/rejectcidrs: never programmed. */
  readonly rejectCidrs?: readonly string[];
  /** Next hops of WireGuard peers (Felix routes those): learned routes via them are skipped. */
  readonly wireguardPeerNextHops?: readonly string[];
  /** IPIP tunnel device. Default tunl0. */
  readonly tunnelDevice?: string;
}

/** Calico's kernel programming rules for the Loc-RIB (which cluster routes BGP programs). */
export function calicoKernelPolicy(cfg: CalicoKernelConfig): KernelPolicy {
  const mode = cfg.programClusterRoutes ?? 'EnabledNoEncapOnly';
  const birdIpip = mode === 'Enabled' || mode === 'EnabledIPIPOnly';
  const birdNoEncap = mode === 'Enabled' || mode === 'EnabledNoEncapOnly';
  const rejects = parseList(cfg.rejectCidrs, 'rejectCidrs');
  const wg = new Set(cfg.wireguardPeerNextHops ?? []);
  const local = cfg.localSubnet ? parseNumPrefix(cfg.localSubnet, 'localSubnet') : undefined;
  const dev = cfg.tunnelDevice ?? 'tunl0';
  const pools = cfg.pools.map((p, i) => {
    const vxlan = p.vxlanMode === 'Always' || p.vxlanMode === 'CrossSubnet';
    const ipip = p.ipipMode === 'Always' || p.ipipMode === 'CrossSubnet';
    return { net: parseNumPrefix(p.cidr, `pools[${i}].cidr`), vxlan, ipip, ipipMode: p.ipipMode ?? 'Never', programs: !vxlan && (ipip ? birdIpip : birdNoEncap) };
  });
  const viaTunnel: KernelVerdict = Object.freeze({ install: true, tunnel: dev });
  return (route) => {
    const net = route.net ?? tryParseNumPrefix(route.prefix);
    if (!net) return KERNEL_SKIP;
    for (const r of rejects) if (prefixWithin(net, r)) return KERNEL_SKIP;
    if (route.nextHop !== undefined && wg.has(route.nextHop)) return KERNEL_SKIP;
    for (const p of pools) {
      if (!prefixWithin(net, p.net)) continue;
      if (!p.programs) return KERNEL_SKIP;
      if (p.ipip && route.family === 'ipv4') {
        if (p.ipipMode === 'Always') return viaTunnel;
        // CrossSubnet: tunnel unless the next hop is on our subnet.
        if (route.nextHop !== undefined && local && addressWithin(route.nextHop, local)) return KERNEL_INSTALL;
        return viaTunnel;
      }
      return KERNEL_INSTALL;
    }
    return KERNEL_INSTALL;
  };
}
