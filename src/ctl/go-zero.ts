// Go's zero values for the spec fields of Calico's API types (api/pkg/apis/projectcalico/v3):
// calicoctl runs go-templates over typed structs, so a field a resource does not set still
// prints — `false`, `0`, `` for plain fields, `<nil>` for pointers, `[]` / `map[]` for slices and
// maps — where a lookup in our JSON would find nothing. The template engine consults this
// table when a spec field is missing.

type Zero = boolean | number | string | null | readonly never[] | Readonly<Record<string, never>>;

const SPEC_ZEROS: Readonly<Record<string, Readonly<Record<string, Zero>>>> = {
  IPPool: { cidr: '', vxlanMode: '', ipipMode: '', natOutgoing: false, disabled: false, disableBGPExport: false, blockSize: 0, nodeSelector: '', namespaceSelector: '', allowedUses: [], assignmentMode: null },
  GlobalNetworkPolicy: { tier: '', order: null, ingress: [], egress: [], selector: '', types: [], doNotTrack: false, preDNAT: false, applyOnForward: false, serviceAccountSelector: '', namespaceSelector: '', performanceHints: [] },
  NetworkPolicy: { tier: '', order: null, ingress: [], egress: [], selector: '', types: [], serviceAccountSelector: '', performanceHints: [] },
  StagedNetworkPolicy: { stagedAction: '', tier: '', order: null, ingress: [], egress: [], selector: '', types: [], serviceAccountSelector: '', performanceHints: [] },
  StagedGlobalNetworkPolicy: { stagedAction: '', tier: '', order: null, ingress: [], egress: [], selector: '', types: [], doNotTrack: false, preDNAT: false, applyOnForward: false, serviceAccountSelector: '', namespaceSelector: '', performanceHints: [] },
  BGPPeer: { node: '', nodeSelector: '', peerIP: '', localASNumber: null, peerSelector: '', keepOriginalNextHop: false, nextHopMode: null, password: null, sourceAddress: '', maxRestartTime: null, keepaliveTime: null, numAllowedLocalASNumbers: null, ttlSecurity: null, reachableBy: '', filters: [], localWorkloadSelector: '', reversePeering: null, asNumber: 0 },
  HostEndpoint: { node: '', interfaceName: '', expectedIPs: [], profiles: [], ports: [] },
  Tier: { order: null, defaultAction: null },
  Profile: { ingress: [], egress: [], labelsToApply: {} },
  GlobalNetworkSet: { nets: [] },
  NetworkSet: { nets: [] },
  IPReservation: { reservedCIDRs: [] },
  BGPConfiguration: { logSeverityScreen: '', nodeToNodeMeshEnabled: null, asNumber: null, serviceLoadBalancerIPs: [], serviceExternalIPs: [], serviceClusterIPs: [], serviceLoadBalancerAggregation: null, communities: [], prefixAdvertisements: [], listenPort: 0, nodeMeshPassword: null, nodeMeshMaxRestartTime: null, bindMode: null, ignoredInterfaces: [], localWorkloadPeeringIPV4: '', localWorkloadPeeringIPV6: '', programClusterRoutes: null, ipv4NormalRoutePriority: null, ipv6NormalRoutePriority: null },
  ClusterInformation: { clusterGUID: '', clusterType: '', calicoVersion: '', datastoreReady: null, variant: '' },
  IPAMConfiguration: { strictAffinity: false, maxBlocksPerHost: 0, autoAllocateBlocks: false, kubeVirtVMAddressPersistence: null, ipCooldownSeconds: 0 },
  BGPFilter: { exportV4: [], importV4: [], exportV6: [], importV6: [] },
  KubeControllersConfiguration: { logSeverityScreen: '', healthChecks: '', etcdV3CompactionPeriod: null, prometheusMetricsPort: null, debugProfilePort: null },
  CalicoNodeStatus: { node: '', classes: [], updatePeriodSeconds: null },
  StagedKubernetesNetworkPolicy: { stagedAction: '', ingress: [], egress: [], policyTypes: [] },
};

/** The Go zero value of `kind`'s spec field `field` (JSON name), or undefined if unknown. */
export function goSpecZero(kind: string, field: string): { found: boolean; value: unknown } {
  const table = SPEC_ZEROS[kind];
  if (!table) return { found: false, value: undefined };
  if (field in table) return { found: true, value: table[field] };
  const lower = field.toLowerCase();
  for (const [k, v] of Object.entries(table)) if (k.toLowerCase() === lower) return { found: true, value: v };
  return { found: false, value: undefined };
}
