// The datastore view the peering computation reads, kept up to date from syncer updates
// (resource keys and Calico's IPAM keys). Pure: no I/O.
import { parseKey, RESOURCE_PREFIX, IPAM_PREFIX, type AnyResource, type BGPConfiguration, type BGPFilter, type BGPPeer, type CalicoNodeStatus, type IPPool, type Node } from '../../model/index.ts';
import type { CalicoBgpState } from './peering.ts';

/** The key prefixes the BGP side watches. */
export const BGP_WATCH_PREFIXES: readonly string[] = [
  `${RESOURCE_PREFIX}bgpconfigurations/`,
  `${RESOURCE_PREFIX}nodes/`,
  `${RESOURCE_PREFIX}bgppeers/`,
  `${RESOURCE_PREFIX}bgpfilters/`,
  `${RESOURCE_PREFIX}ippools/`,
  `${RESOURCE_PREFIX}caliconodestatuses/`,
  `${IPAM_PREFIX}assignment/`,
  `${IPAM_PREFIX}host/`,
];

export class BgpStateStore implements CalicoBgpState {
  readonly bgpConfigurations = new Map<string, BGPConfiguration>();
  readonly nodes = new Map<string, Node>();
  readonly bgpPeers = new Map<string, BGPPeer>();
  readonly bgpFilters = new Map<string, BGPFilter>();
  readonly ipPools = new Map<string, IPPool>();
  /** CalicoNodeStatus requests (we fill in the status of those for our node). */
  readonly nodeStatuses = new Map<string, CalicoNodeStatus>();
  /** Merged view of the two sources below. */
  readonly blockAffinities = new Map<string, string>();
  private readonly fromAffinityKeys = new Map<string, string>();
  private readonly fromBlocks = new Map<string, string>();

  /** Sets (resource given) or deletes a v3 resource. Returns false for kinds we ignore. */
  setResource(kind: string, name: string, resource: AnyResource | undefined): boolean {
    const m = this.mapFor(kind);
    if (!m) return false;
    if (resource) m.set(name, resource as never);
    else m.delete(name);
    return true;
  }

  /** Applies one resource document (e.g. from a manifest). */
  add(resource: AnyResource): boolean {
    return this.setResource(resource.kind, resource.metadata.name ?? '', resource);
  }

  /**
   * Applies an IPAM key: block affinities `/calico/ipam/v2/host/<node>/ipv4/block/<cidr>` (value
   * `{"state":"confirmed",...}`) and blocks `/calico/ipam/v2/assignment/.../block/<cidr>` (value
   * with `affinity: "host:<node>"`). Returns false for keys it ignores.
   */
  setIpamKey(key: string, value: string | undefined): boolean {
    let parsed;
    try {
      parsed = parseKey(key);
    } catch {
      return false;
    }
    if (!parsed.cidr) return false;
    let v: Record<string, unknown> | undefined;
    if (value !== undefined) {
      try {
        v = JSON.parse(value) as Record<string, unknown>;
      } catch {
        v = undefined;
      }
    }
    if (parsed.kind === 'BlockAffinity') {
      if (parsed.affinityType !== 'host') return false;
      const dead = !v || v.state === 'pendingDeletion' || v.deleted === true || v.deleted === 'true';
      if (dead) this.fromAffinityKeys.delete(parsed.cidr);
      else this.fromAffinityKeys.set(parsed.cidr, parsed.node!);
    } else if (parsed.kind === 'IPAMBlock') {
      const aff = typeof v?.affinity === 'string' ? v.affinity : '';
      if (v && aff.startsWith('host:') && v.deleted !== true) this.fromBlocks.set(parsed.cidr, aff.slice(5));
      else this.fromBlocks.delete(parsed.cidr);
    } else return false;
    this.blockAffinities.clear();
    for (const [c, n] of this.fromBlocks) this.blockAffinities.set(c, n);
    for (const [c, n] of this.fromAffinityKeys) this.blockAffinities.set(c, n);
    return true;
  }

  private mapFor(kind: string): Map<string, unknown> | undefined {
    switch (kind) {
      case 'BGPConfiguration':
        return this.bgpConfigurations;
      case 'Node':
        return this.nodes;
      case 'BGPPeer':
        return this.bgpPeers;
      case 'BGPFilter':
        return this.bgpFilters;
      case 'IPPool':
        return this.ipPools;
      case 'CalicoNodeStatus':
        return this.nodeStatuses;
      default:
        return undefined;
    }
  }
}
