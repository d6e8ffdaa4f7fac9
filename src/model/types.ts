// TypeScript shapes of projectcalico.org/v3 resources as users write them (all optional
// fields optional; defaults are applied by applyDefaults). Field names are Calico's.
import type { KindName } from './kinds.ts';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  finalizers?: string[];
  managedFields?: Record<string, unknown>[];
  selfLink?: string;
}

export interface Resource<K extends KindName = KindName, S = Record<string, unknown>, St = Record<string, unknown>> {
  apiVersion: 'projectcalico.org/v3';
  kind: K;
  metadata: ObjectMeta;
  spec?: S;
  status?: St;
}

/** Any v3 resource, loosely typed. */
export type AnyResource = Resource<KindName, Record<string, unknown>>;

// ---- policy ---------------------------------------------------------------------------
export type Action = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type PolicyType = 'Ingress' | 'Egress';
/** TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255 (number or numeric string). */
export type Protocol = string | number;
/** A port number, a range "min:max", or a named port. */
export type Port = number | string;

export interface ICMPFields { type?: number; code?: number }
export interface ServiceAccountMatch { names?: string[]; selector?: string }
export interface ServiceMatch { name?: string; namespace?: string }
export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: Port[];
  notPorts?: Port[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
}
export interface HTTPPath { exact?: string; prefix?: string }
export interface HTTPMatch { methods?: string[]; paths?: HTTPPath[] }
export interface Rule {
  action: Action;
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HTTPMatch;
  metadata?: { annotations?: Record<string, string> };
}

interface PolicySpecCommon {
  tier?: string;
  order?: number;
  ingress?: Rule[];
  egress?: Rule[];
  selector?: string;
  types?: PolicyType[];
  serviceAccountSelector?: string;
  performanceHints?: 'AssumeNeededOnEveryNode'[];
}
export interface NetworkPolicySpec extends PolicySpecCommon {}
export interface GlobalNetworkPolicySpec extends PolicySpecCommon {
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}
export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore';
export interface StagedNetworkPolicySpec extends NetworkPolicySpec { stagedAction?: StagedAction }
export interface StagedGlobalNetworkPolicySpec extends GlobalNetworkPolicySpec { stagedAction?: StagedAction }

export type NetworkPolicy = Resource<'NetworkPolicy', NetworkPolicySpec>;
export type GlobalNetworkPolicy = Resource<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;
export type StagedNetworkPolicy = Resource<'StagedNetworkPolicy', StagedNetworkPolicySpec>;
export type StagedGlobalNetworkPolicy = Resource<'StagedGlobalNetworkPolicy', StagedGlobalNetworkPolicySpec>;
export type StagedKubernetesNetworkPolicy = Resource<'StagedKubernetesNetworkPolicy', Record<string, unknown>>;

export interface TierSpec { order?: number; defaultAction?: 'Deny' | 'Pass' }
export type Tier = Resource<'Tier', TierSpec>;

export interface ProfileSpec { ingress?: Rule[]; egress?: Rule[]; labelsToApply?: Record<string, string> }
export type Profile = Resource<'Profile', ProfileSpec>;

export interface NetworkSetSpec { nets?: string[] }
export type NetworkSet = Resource<'NetworkSet', NetworkSetSpec>;
export type GlobalNetworkSet = Resource<'GlobalNetworkSet', NetworkSetSpec>;

// ---- endpoints ------------------------------------------------------------------------
export interface EndpointPort { name: string; protocol: Protocol; port: number }
export interface HostEndpointSpec {
  node?: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}
export type HostEndpoint = Resource<'HostEndpoint', HostEndpointSpec>;

export interface WorkloadEndpointPort { name?: string; protocol?: Protocol; port?: number; hostPort?: number; hostIP?: string }
export interface IPNAT { internalIP: string; externalIP: string }
export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: WorkloadEndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  qosControls?: Record<string, number | string>;
}
export type WorkloadEndpoint = Resource<'WorkloadEndpoint', WorkloadEndpointSpec>;

// ---- networking -------------------------------------------------------------------------
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: ('Workload' | 'Tunnel' | 'LoadBalancer')[];
  assignmentMode?: 'Automatic' | 'Manual';
}
export type IPPool = Resource<'IPPool', IPPoolSpec>;
export type IPReservation = Resource<'IPReservation', { reservedCIDRs?: string[] }>;

/** AS number: 0-4294967295, or dotted "high.low". */
export type ASNumber = number | string;

export interface NodeBGPSpec {
  asNumber?: ASNumber;
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  routeReflectorClusterID?: string;
}
export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: { nodeName?: string; orchestrator: string }[];
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
  addresses?: { address: string; type?: 'InternalIP' | 'ExternalIP' | 'CalicoNodeIP' }[];
  interfaces?: { name?: string; addresses?: string[] }[];
}
export interface NodeStatus { wireguardPublicKey?: string; wireguardPublicKeyV6?: string; podCIDRs?: string[] }
export type Node = Resource<'Node', NodeSpec, NodeStatus & Record<string, unknown>>;

export interface SecretKeyRef { secretKeyRef?: { name?: string; key: string; optional?: boolean } }
export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  peerSelector?: string;
  asNumber?: ASNumber;
  localASNumber?: ASNumber;
  numAllowedLocalASNumbers?: number;
  password?: SecretKeyRef;
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  ttlSecurity?: number;
  filters?: string[];
  reachableBy?: string;
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}
export type BGPPeer = Resource<'BGPPeer', BGPPeerSpec>;

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: ASNumber;
  serviceLoadBalancerIPs?: { cidr?: string }[];
  serviceExternalIPs?: { cidr?: string }[];
  serviceClusterIPs?: { cidr?: string }[];
  listenPort?: number;
  communities?: { name?: string; value?: string }[];
  prefixAdvertisements?: { cidr?: string; communities?: string[] }[];
  nodeMeshPassword?: SecretKeyRef;
  nodeMeshMaxRestartTime?: string;
  bindMode?: 'None' | 'NodeIP';
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
}
export type BGPConfiguration = Resource<'BGPConfiguration', BGPConfigurationSpec>;

export interface BGPFilterRule {
  action: 'Accept' | 'Reject';
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  priority?: number;
  communities?: Record<string, unknown>;
  asPathPrefix?: number[];
  operations?: Record<string, unknown>[];
}
export interface BGPFilterSpec { exportV4?: BGPFilterRule[]; importV4?: BGPFilterRule[]; exportV6?: BGPFilterRule[]; importV6?: BGPFilterRule[] }
export type BGPFilter = Resource<'BGPFilter', BGPFilterSpec>;

// ---- IPAM -------------------------------------------------------------------------------
export interface IPAMBlockSpec {
  cidr: string;
  affinity?: string;
  affinityClaimTime?: string;
  strictAffinity: boolean;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: { handle_id?: string; secondary?: Record<string, string>; alternateOwnerAttrs?: Record<string, string>; releasedAt?: string }[];
  deleted?: boolean;
  sequenceNumber?: number;
  sequenceNumberForAllocation?: Record<string, number>;
}
export type IPAMBlock = Resource<'IPAMBlock', IPAMBlockSpec>;
export interface IPAMHandleSpec { handleID: string; block: Record<string, number>; deleted?: boolean }
export type IPAMHandle = Resource<'IPAMHandle', IPAMHandleSpec>;
export interface BlockAffinitySpec { state: '' | 'confirmed' | 'pending' | 'pendingDeletion'; node: string; type?: string; cidr: string; deleted: boolean }
export type BlockAffinity = Resource<'BlockAffinity', BlockAffinitySpec>;
export interface IPAMConfigurationSpec {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  maxBlocksPerHost?: number;
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
  ipCooldownSeconds?: number;
}
export type IPAMConfiguration = Resource<'IPAMConfiguration', IPAMConfigurationSpec>;

// ---- configuration (loosely typed: many fields) ------------------------------------------
export type FelixConfiguration = Resource<'FelixConfiguration', Record<string, unknown>>;
export type KubeControllersConfiguration = Resource<'KubeControllersConfiguration', Record<string, unknown>>;
export type ClusterInformation = Resource<'ClusterInformation', {
  clusterGUID?: string; clusterType?: string; calicoVersion?: string; datastoreReady?: boolean; variant?: string;
}>;
export type CalicoNodeStatus = Resource<'CalicoNodeStatus', Record<string, unknown>>;

/** Resource type by kind name. */
export interface ResourceByKind {
  BGPConfiguration: BGPConfiguration; BGPFilter: BGPFilter; BGPPeer: BGPPeer; BlockAffinity: BlockAffinity;
  CalicoNodeStatus: CalicoNodeStatus; ClusterInformation: ClusterInformation; FelixConfiguration: FelixConfiguration;
  GlobalNetworkPolicy: GlobalNetworkPolicy; GlobalNetworkSet: GlobalNetworkSet; HostEndpoint: HostEndpoint;
  IPAMBlock: IPAMBlock; IPAMConfiguration: IPAMConfiguration; IPAMHandle: IPAMHandle; IPPool: IPPool;
  IPReservation: IPReservation; KubeControllersConfiguration: KubeControllersConfiguration; NetworkPolicy: NetworkPolicy;
  NetworkSet: NetworkSet; Node: Node; Profile: Profile; StagedGlobalNetworkPolicy: StagedGlobalNetworkPolicy;
  StagedKubernetesNetworkPolicy: StagedKubernetesNetworkPolicy; StagedNetworkPolicy: StagedNetworkPolicy; Tier: Tier;
  WorkloadEndpoint: WorkloadEndpoint;
}
