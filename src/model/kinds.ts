// Kind metadata: plural (Calico's datastore spelling, lowercase), scope, and the names and
// aliases calicoctl accepts on its command line (calicoctl/resourcemgr).

export const API_GROUP = 'projectcalico.org';
export const API_VERSION = 'projectcalico.org/v3';

export const KIND_NAMES = [
  'BGPConfiguration', 'BGPFilter', 'BGPPeer', 'BlockAffinity', 'CalicoNodeStatus', 'ClusterInformation',
  'FelixConfiguration', 'GlobalNetworkPolicy', 'GlobalNetworkSet', 'HostEndpoint', 'IPAMBlock',
  'IPAMConfiguration', 'IPAMHandle', 'IPPool', 'IPReservation', 'KubeControllersConfiguration',
  'NetworkPolicy', 'NetworkSet', 'Node', 'Profile', 'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy', 'StagedNetworkPolicy', 'Tier', 'WorkloadEndpoint',
] as const;
export type KindName = (typeof KIND_NAMES)[number];

export interface KindInfo {
  readonly kind: KindName;
  readonly listKind: string;
  /** Lowercase plural as used in datastore keys, e.g. `globalnetworkpolicies`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Names calicoctl accepts for this kind (lowercase), including singular and plural. */
  readonly aliases: readonly string[];
  /** Whether calicoctl manages this kind (create/apply/get...). IPAM internals are not. */
  readonly calicoctl: boolean;
  /** IPAM kinds stored under /calico/ipam/v2 in etcd mode. */
  readonly ipam: boolean;
}

function k(kind: KindName, plural: string, namespaced: boolean, aliases: string[], calicoctl = true, ipam = false): KindInfo {
  const all = new Set([kind.toLowerCase(), plural, ...aliases]);
  return { kind, listKind: `${kind}List`, plural, namespaced, aliases: [...all], calicoctl, ipam };
}

export const KINDS: Readonly<Record<KindName, KindInfo>> = {
  BGPConfiguration: k('BGPConfiguration', 'bgpconfigurations', false, ['bgpconfig', 'bgpconfigs']),
  BGPFilter: k('BGPFilter', 'bgpfilters', false, ['bgpf', 'bgpfs', 'bf', 'bfs']),
  BGPPeer: k('BGPPeer', 'bgppeers', false, ['bgpp', 'bgpps', 'bp', 'bps']),
  BlockAffinity: k('BlockAffinity', 'blockaffinities', false, ['blockaffinity'], false, true),
  CalicoNodeStatus: k('CalicoNodeStatus', 'caliconodestatuses', false, ['nodestatus', 'nodestatuses']),
  ClusterInformation: k('ClusterInformation', 'clusterinformations', false, ['clusterinfo', 'clusterinfos']),
  FelixConfiguration: k('FelixConfiguration', 'felixconfigurations', false, ['felixconfig', 'felixconfigs']),
  GlobalNetworkPolicy: k('GlobalNetworkPolicy', 'globalnetworkpolicies', false, ['gnp', 'gnps']),
  GlobalNetworkSet: k('GlobalNetworkSet', 'globalnetworksets', false, ['gnetsets']),
  HostEndpoint: k('HostEndpoint', 'hostendpoints', false, ['hep', 'heps']),
  IPAMBlock: k('IPAMBlock', 'ipamblocks', false, [], false, true),
  IPAMConfiguration: k('IPAMConfiguration', 'ipamconfigurations', false, ['ipamconfig', 'ipamconfigs']),
  IPAMHandle: k('IPAMHandle', 'ipamhandles', false, [], false, true),
  IPPool: k('IPPool', 'ippools', false, ['ipp', 'ipps', 'pool', 'pools']),
  IPReservation: k('IPReservation', 'ipreservations', false, ['reservation', 'reservations']),
  KubeControllersConfiguration: k('KubeControllersConfiguration', 'kubecontrollersconfigurations', false, ['kubecontrollersconfig', 'kubecontrollersconfigs']),
  NetworkPolicy: k('NetworkPolicy', 'networkpolicies', true, ['policy', 'np', 'policies', 'pol', 'pols']),
  NetworkSet: k('NetworkSet', 'networksets', true, ['netsets']),
  Node: k('Node', 'nodes', false, ['no', 'nos']),
  Profile: k('Profile', 'profiles', false, ['pro', 'pros']),
  StagedGlobalNetworkPolicy: k('StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', false, ['sgnp', 'sgnps']),
  StagedKubernetesNetworkPolicy: k('StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies', true, [
    'stagedkubernetespolicy', 'sknp', 'stagedkubernetespolicies', 'skpol', 'skpols',
  ]),
  StagedNetworkPolicy: k('StagedNetworkPolicy', 'stagednetworkpolicies', true, ['stagedpolicy', 'snp', 'stagedpolicies', 'spol', 'spols']),
  Tier: k('Tier', 'tiers', false, []),
  WorkloadEndpoint: k('WorkloadEndpoint', 'workloadendpoints', true, ['wep', 'weps']),
};

const byAlias = new Map<string, KindInfo>();
const byPlural = new Map<string, KindInfo>();
for (const info of Object.values(KINDS)) {
  for (const a of info.aliases) byAlias.set(a, info);
  byPlural.set(info.plural, info);
}

/**
 * Find a kind by its Kind (`GlobalNetworkPolicy`), plural or any calicoctl alias (`gnp`),
 * case-insensitively, optionally qualified with the group (`ippools.projectcalico.org`).
 */
export function lookupKind(nameOrAlias: string): KindInfo | undefined {
  let s = nameOrAlias.trim().toLowerCase();
  if (s.endsWith('.' + API_GROUP)) s = s.slice(0, -(API_GROUP.length + 1));
  return byAlias.get(s);
}

export function kindByPlural(plural: string): KindInfo | undefined {
  return byPlural.get(plural);
}

export function isKindName(s: string): s is KindName {
  return Object.hasOwn(KINDS, s);
}

/** The kind for a List kind name (`IPPoolList` → IPPool). */
export function kindForList(listKind: string): KindInfo | undefined {
  if (!listKind.endsWith('List')) return undefined;
  const base = listKind.slice(0, -4);
  return isKindName(base) ? KINDS[base] : undefined;
}

export const POLICY_KINDS: ReadonlySet<KindName> = new Set([
  'GlobalNetworkPolicy', 'NetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedNetworkPolicy',
]);
