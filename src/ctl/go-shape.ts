// The shape calicoctl's -o yaml / -o json output takes from Calico's Go types: calicoctl
// decodes each resource into its typed struct and marshals that with encoding/json, so
// - JSON fields come out in struct order (spec, rules, entity rules), not in input order;
// - fields tagged `omitempty` that hold their zero value (false, 0, "", empty list) are left out;
// - a struct-typed field without `omitzero` is always printed, `{}` when empty: the status of
//   Node, Tier and KubeControllersConfiguration, KubeControllersConfiguration's
//   spec.controllers, StagedKubernetesNetworkPolicy's spec.podSelector. (Rule source and
//   destination are `omitzero`: absent when empty.)
// goShape returns a reshaped copy for printing; stored resources are not changed.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// api/pkg/apis/projectcalico/v3/policy_common.go: Rule, EntityRule, ICMPFields field order.
const RULE_ORDER = ['action', 'ipVersion', 'protocol', 'icmp', 'notProtocol', 'notICMP', 'source', 'destination', 'http', 'metadata'];
const ENTITY_ORDER = ['nets', 'selector', 'namespaceSelector', 'services', 'ports', 'notNets', 'notSelector', 'notPorts', 'serviceAccounts'];
const ICMP_ORDER = ['type', 'code'];
const RULE_KINDS = new Set(['GlobalNetworkPolicy', 'NetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedNetworkPolicy', 'Profile']);
// Each kind's spec fields in Go struct order (api/pkg/apis/projectcalico/v3/*Spec, internalapi
// Node and WorkloadEndpoint; NodeBGP for a Node's spec.bgp), space-separated JSON names.
const SPEC_FIELDS: Readonly<Record<string, string>> = {
  BGPConfiguration:
    'logSeverityScreen nodeToNodeMeshEnabled asNumber serviceLoadBalancerIPs serviceExternalIPs ' +
    'serviceClusterIPs serviceLoadBalancerAggregation communities prefixAdvertisements listenPort ' +
    'nodeMeshPassword nodeMeshMaxRestartTime bindMode ignoredInterfaces localWorkloadPeeringIPV4 ' +
    'localWorkloadPeeringIPV6 programClusterRoutes ipv4NormalRoutePriority ipv6NormalRoutePriority',
  BGPFilter: 'exportV4 importV4 exportV6 importV6',
  BGPPeer:
    'node nodeSelector peerIP asNumber localASNumber peerSelector keepOriginalNextHop nextHopMode ' +
    'password sourceAddress maxRestartTime keepaliveTime numAllowedLocalASNumbers ttlSecurity ' +
    'reachableBy filters localWorkloadSelector reversePeering',
  ClusterInformation: 'clusterGUID clusterType calicoVersion datastoreReady variant',
  FelixConfiguration:
    'nodeSelector useInternalDataplaneDriver dataplaneDriver dataplaneWatchdogTimeout ipv6Support ' +
    'routeRefreshInterval interfaceRefreshInterval iptablesRefreshInterval ' +
    'iptablesPostWriteCheckInterval iptablesLockProbeInterval featureDetectOverride featureGates ' +
    'ipsetsRefreshInterval maxIpsetSize iptablesBackend xdpRefreshInterval netlinkTimeout ' +
    'metadataAddr metadataPort openstackRegion interfacePrefix interfaceExclude chainInsertMode ' +
    'defaultEndpointToHostAction iptablesFilterAllowAction iptablesMangleAllowAction ' +
    'iptablesFilterDenyAction logPrefix logActionRateLimit logActionRateLimitBurst logFilePath ' +
    'logSeverityFile logSeverityScreen logSeveritySys logDebugFilenameRegex ipipEnabled ipipMTU ' +
    'vxlanEnabled vxlanMTU vxlanMTUV6 vxlanPort vxlanVNI allowVXLANPacketsFromWorkloads ' +
    'allowIPIPPacketsFromWorkloads reportingInterval reportingTTL endpointReportingEnabled ' +
    'endpointReportingDelay endpointStatusPathPrefix iptablesMarkMask disableConntrackInvalidCheck ' +
    'healthEnabled healthHost healthPort healthTimeoutOverrides prometheusMetricsEnabled ' +
    'prometheusMetricsHost prometheusMetricsPort prometheusGoMetricsEnabled ' +
    'prometheusProcessMetricsEnabled prometheusWireGuardMetricsEnabled prometheusMetricsCAFile ' +
    'prometheusMetricsCertFile prometheusMetricsKeyFile prometheusMetricsClientAuth ' +
    'failsafeInboundHostPorts failsafeOutboundHostPorts kubeNodePortRanges policySyncPathPrefix ' +
    'usageReportingEnabled usageReportingInitialDelay usageReportingInterval natPortRange ' +
    'natOutgoingAddress natOutgoingExclusions deviceRouteSourceAddress deviceRouteSourceAddressIPv6 ' +
    'deviceRouteProtocol removeExternalRoutes programClusterRoutes ipForwarding externalNodesList ' +
    'debugMemoryProfilePath debugDisableLogDropping debugSimulateCalcGraphHangAfter ' +
    'debugSimulateDataplaneHangAfter debugSimulateDataplaneApplyDelay debugHost debugPort ' +
    'iptablesNATOutgoingInterfaceFilter sidecarAccelerationEnabled xdpEnabled genericXDPEnabled ' +
    'nftablesMode nftablesFlowTableOffload nftablesFlowTableDataIfacePattern nftablesRefreshInterval ' +
    'nftablesFilterAllowAction nftablesMangleAllowAction nftablesFilterDenyAction nftablesMarkMask ' +
    'bpfEnabled bpfOverlayHostSourceIP bpfDisableUnprivileged bpfJITHardening bpfLogLevel ' +
    'bpfConntrackLogLevel bpfConntrackMode bpfConntrackTimeouts bpfIPFragTimeout bpfLogFilters ' +
    'bpfCTLBLogFilter bpfDataIfacePattern bpfL3IfacePattern bpfConnectTimeLoadBalancingEnabled ' +
    'bpfConnectTimeLoadBalancing bpfHostNetworkedNATWithoutCTLB bpfExternalServiceMode ' +
    'bpfDSROptoutCIDRs bpfExtToServiceConnmark bpfKubeProxyIptablesCleanupEnabled ' +
    'bpfKubeProxyMinSyncPeriod bpfKubeProxyHealthzPort bpfPSNATPorts bpfMapSizeNATFrontend ' +
    'bpfMapSizeNATBackend bpfMapSizeNATAffinity bpfMapSizeRoute bpfMapSizeConntrack ' +
    'bpfMapSizePerCpuConntrack bpfMapSizeConntrackScaling bpfMapSizeConntrackCleanupQueue ' +
    'bpfMapSizeIPSets bpfMapSizeIfState bpfHostConntrackBypass bpfIPFragmentReassemblyEnabled ' +
    'bpfEnforceRPF bpfPolicyDebugEnabled bpfForceTrackPacketsFromIfaces bpfDisableGROForIfaces ' +
    'bpfExcludeCIDRsFromNAT bpfExportBufferSizeMB istioAmbientMode istioDSCPMark cgroupV2Path ' +
    'flowLogsPolicyEvaluationMode bpfRedirectToPeer bpfAttachType flowLogsFlushInterval ' +
    'flowLogsCollectorDebugTrace flowLogsGoldmaneServer flowLogsLocalReporter bpfProfiling ' +
    'routeSource routeTableRanges routeTableRange routeSyncDisabled ipv4NormalRoutePriority ' +
    'ipv4ElevatedRoutePriority ipv6NormalRoutePriority ipv6ElevatedRoutePriority ' +
    'liveMigrationRouteConvergenceTime wireguardEnabled wireguardEnabledV6 wireguardThreadingEnabled ' +
    'wireguardListeningPort wireguardListeningPortV6 wireguardRoutingRulePriority ' +
    'wireguardInterfaceName wireguardInterfaceNameV6 wireguardMTU wireguardMTUV6 ' +
    'wireguardHostEncryptionEnabled wireguardKeepAlive awsSrcDstCheck serviceLoopPrevention ' +
    'workloadSourceSpoofing mtuIfacePattern floatingIPs localSubnetL2Reachability ' +
    'localSubnetL2ReachabilityRefreshInterval windowsManageFirewallRules goGCThreshold ' +
    'goMemoryLimitMB goMaxProcs requireMTUFile bpfMaglevMaxEndpointsPerService bpfMaglevMaxServices',
  GlobalNetworkPolicy:
    'tier order ingress egress selector types doNotTrack preDNAT applyOnForward ' +
    'serviceAccountSelector namespaceSelector performanceHints',
  GlobalNetworkSet: 'nets',
  HostEndpoint: 'node interfaceName expectedIPs profiles ports',
  IPAMConfiguration:
    'strictAffinity maxBlocksPerHost autoAllocateBlocks kubeVirtVMAddressPersistence ' +
    'ipCooldownSeconds',
  IPPool:
    'cidr vxlanMode ipipMode natOutgoing disabled disableBGPExport blockSize nodeSelector ' +
    'namespaceSelector allowedUses assignmentMode',
  IPReservation: 'reservedCIDRs',
  KubeControllersConfiguration:
    'logSeverityScreen healthChecks etcdV3CompactionPeriod prometheusMetricsPort controllers ' +
    'debugProfilePort',
  NetworkPolicy: 'tier order ingress egress selector types serviceAccountSelector performanceHints',
  NetworkSet: 'nets',
  CalicoNodeStatus: 'node classes updatePeriodSeconds',
  Profile: 'ingress egress labelsToApply',
  StagedGlobalNetworkPolicy:
    'stagedAction tier order ingress egress selector types doNotTrack preDNAT applyOnForward ' +
    'serviceAccountSelector namespaceSelector performanceHints',
  StagedKubernetesNetworkPolicy: 'stagedAction podSelector ingress egress policyTypes',
  StagedNetworkPolicy: 'stagedAction tier order ingress egress selector types serviceAccountSelector performanceHints',
  Tier: 'order defaultAction',
  Node:
    'bgp ipv4VXLANTunnelAddr vxlanTunnelMACAddr ipv6VXLANTunnelAddr vxlanTunnelMACAddrV6 orchRefs ' +
    'wireguard addresses interfaces',
  NodeBGP: 'asNumber ipv4Address ipv6Address ipv4IPIPTunnelAddr routeReflectorClusterID',
  NodeWireguard: 'interfaceIPv4Address interfaceIPv6Address',
  WorkloadEndpoint:
    'orchestrator workload node containerID pod endpoint serviceAccountName ipNetworks ipNATs ' +
    'ipv4Gateway ipv6Gateway profiles interfaceName mac ports allowSpoofedSourcePrefixes qosControls',
};
const SPEC_ORDER: Readonly<Record<string, readonly string[]>> = Object.fromEntries(Object.entries(SPEC_FIELDS).map(([k, v]) => [k, v.split(' ')]));
// Each kind's spec fields that Go leaves out when they hold their zero value (`omitempty` on a
// plain bool, number, string, slice or map: false, 0, "", empty), from the same structs.
const OMIT_EMPTY_FIELDS: Readonly<Record<string, string>> = {
  BGPConfiguration:
    'logSeverityScreen serviceLoadBalancerIPs serviceExternalIPs serviceClusterIPs communities ' +
    'prefixAdvertisements listenPort ignoredInterfaces localWorkloadPeeringIPV4 ' +
    'localWorkloadPeeringIPV6',
  BGPFilter: 'exportV4 importV4 exportV6 importV6',
  BGPPeer:
    'node nodeSelector peerIP asNumber peerSelector keepOriginalNextHop sourceAddress reachableBy ' +
    'filters localWorkloadSelector',
  ClusterInformation: 'clusterGUID clusterType calicoVersion variant',
  FelixConfiguration:
    'dataplaneDriver featureDetectOverride featureGates metadataAddr openstackRegion interfacePrefix ' +
    'interfaceExclude chainInsertMode defaultEndpointToHostAction iptablesFilterAllowAction ' +
    'iptablesMangleAllowAction iptablesFilterDenyAction logPrefix logFilePath logSeverityFile ' +
    'logSeverityScreen logSeveritySys logDebugFilenameRegex endpointStatusPathPrefix ' +
    'healthTimeoutOverrides prometheusMetricsHost policySyncPathPrefix natOutgoingAddress ' +
    'deviceRouteSourceAddress deviceRouteSourceAddressIPv6 ipForwarding debugMemoryProfilePath ' +
    'iptablesNATOutgoingInterfaceFilter nftablesFlowTableDataIfacePattern nftablesFilterAllowAction ' +
    'nftablesMangleAllowAction nftablesFilterDenyAction bpfConntrackLogLevel bpfCTLBLogFilter ' +
    'bpfDataIfacePattern bpfL3IfacePattern bpfExternalServiceMode bpfMapSizeConntrackScaling ' +
    'bpfEnforceRPF bpfDisableGROForIfaces cgroupV2Path bpfRedirectToPeer bpfProfiling routeSource ' +
    'wireguardInterfaceName wireguardInterfaceNameV6 serviceLoopPrevention workloadSourceSpoofing ' +
    'mtuIfacePattern',
  GlobalNetworkPolicy:
    'tier ingress egress selector types doNotTrack preDNAT applyOnForward serviceAccountSelector ' +
    'namespaceSelector performanceHints',
  GlobalNetworkSet: 'nets',
  HostEndpoint: 'node interfaceName expectedIPs profiles ports',
  IPAMConfiguration: 'maxBlocksPerHost ipCooldownSeconds',
  IPPool:
    'vxlanMode ipipMode natOutgoing disabled disableBGPExport blockSize nodeSelector ' +
    'namespaceSelector allowedUses',
  IPReservation: 'reservedCIDRs',
  KubeControllersConfiguration: 'logSeverityScreen healthChecks',
  NetworkPolicy: 'tier ingress egress selector types serviceAccountSelector performanceHints',
  NetworkSet: 'nets',
  CalicoNodeStatus: 'node classes',
  Profile: 'ingress egress labelsToApply',
  StagedGlobalNetworkPolicy:
    'stagedAction tier ingress egress selector types doNotTrack preDNAT applyOnForward ' +
    'serviceAccountSelector namespaceSelector performanceHints',
  StagedKubernetesNetworkPolicy: 'stagedAction ingress egress policyTypes',
  StagedNetworkPolicy: 'stagedAction tier ingress egress selector types serviceAccountSelector performanceHints',
  Node:
    'ipv4VXLANTunnelAddr vxlanTunnelMACAddr ipv6VXLANTunnelAddr vxlanTunnelMACAddrV6 orchRefs ' +
    'addresses interfaces',
  NodeBGP: 'ipv4Address ipv6Address ipv4IPIPTunnelAddr routeReflectorClusterID',
  NodeWireguard: 'interfaceIPv4Address interfaceIPv6Address',
  WorkloadEndpoint:
    'orchestrator workload node containerID pod endpoint serviceAccountName ipNetworks ipNATs ' +
    'ipv4Gateway ipv6Gateway profiles interfaceName mac ports allowSpoofedSourcePrefixes',
};
const OMIT_EMPTY: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(Object.entries(OMIT_EMPTY_FIELDS).map(([k, v]) => [k, new Set(v.split(' '))]));
// EntityRule's omitempty fields (services and serviceAccounts are pointers).
const ENTITY_OMIT_EMPTY = new Set(['nets', 'selector', 'namespaceSelector', 'ports', 'notNets', 'notSelector', 'notPorts']);

function isZero(v: unknown): boolean {
  return v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);
}

/** `o` without the fields in `omit` that hold Go's zero value. */
function omitEmpty(o: Obj, omit: ReadonlySet<string> | undefined): Obj {
  if (!omit) return o;
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!(omit.has(k) && isZero(v))) out[k] = v;
  return out;
}

/** Kinds whose status is a struct (not a pointer) without omitzero. */
const STATUS_STRUCT = new Set(['Node', 'Tier', 'KubeControllersConfiguration']);

function ordered(o: Obj, order: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out) && o[k] !== undefined) out[k] = o[k];
  return out;
}

function shapeRule(r: unknown): unknown {
  if (!isObj(r)) return r;
  const out = ordered(r, RULE_ORDER);
  for (const k of ['source', 'destination']) {
    if (!isObj(out[k])) continue;
    // omitzero: an entity rule with nothing set is left out
    const e = ordered(omitEmpty(out[k] as Obj, ENTITY_OMIT_EMPTY), ENTITY_ORDER);
    if (Object.keys(e).length) out[k] = e;
    else delete out[k];
  }
  for (const k of ['icmp', 'notICMP']) if (isObj(out[k])) out[k] = ordered(out[k] as Obj, ICMP_ORDER);
  return out;
}

function shapeResource(res: Obj): Obj {
  const kind = typeof res.kind === 'string' ? res.kind : '';
  if (kind.endsWith('List') && Array.isArray(res.items)) return { ...res, items: res.items.map((i) => (isObj(i) ? shapeResource(i) : i)) };
  const out: Obj = { ...res };
  if (isObj(res.spec)) {
    const order = SPEC_ORDER[kind];
    let spec: Obj = omitEmpty(order ? ordered(res.spec, order) : { ...res.spec }, OMIT_EMPTY[kind]);
    if (RULE_KINDS.has(kind)) {
      for (const k of ['ingress', 'egress']) if (Array.isArray(spec[k])) spec = { ...spec, [k]: (spec[k] as unknown[]).map(shapeRule) };
    }
    if (kind === 'KubeControllersConfiguration' && spec.controllers === undefined) spec = ordered({ ...spec, controllers: {} }, order ?? []);
    if (kind === 'StagedKubernetesNetworkPolicy' && spec.podSelector === undefined) spec = ordered({ ...spec, podSelector: {} }, order ?? []);
    if (kind === 'Node' && isObj(spec.bgp)) spec = { ...spec, bgp: omitEmpty(ordered(spec.bgp, SPEC_ORDER.NodeBGP ?? []), OMIT_EMPTY.NodeBGP) };
    out.spec = spec;
  }
  if (STATUS_STRUCT.has(kind) && out.status === undefined) out.status = {};
  return out;
}

/** A copy of what calicoctl prints (one resource, a List, or an array of them) in the shape Go gives it. */
export function goShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goShape);
  return isObj(value) ? shapeResource(value) : value;
}
