// Public surface of the BGP RIB (src/bgp/rib). Pure and synchronous: no sockets, no timers.
// See docs/design/bgp-rib.md.
export { Rib } from './rib.ts';
export type {
  RibOptions,
  PeerConfig,
  SessionInfo,
  GracefulRestartInfo,
  RouteKey,
  PeerUpdate,
  OriginateOptions,
  OutboundUpdate,
  ReachInfo,
  KernelChange,
  KernelRoute,
  KernelNextHop,
  BestRouteInfo,
  PeerStats,
  NextHopMode,
} from './rib.ts';
export type { RouteAttrs, AttrSet, ParsedCommunity } from './attrs.ts';
export {
  AttrTable,
  BIRD_INT_MAX,
  NO_EXPORT,
  NO_ADVERTISE,
  NO_EXPORT_SUBCONFED,
  asPathLength,
  parseCommunity,
  formatCommunity,
  prependAs,
} from './attrs.ts';
export { decide, DEFAULT_DECISION } from './decision.ts';
export type { CandidatePath, PathSource, Decision, DecisionOptions, DecisionStep } from './decision.ts';
export {
  ACCEPT,
  REJECT,
  NEXT,
  runPolicies,
  calicoExportPolicy,
  calicoKernelPolicy,
  priorityOf,
  globMatch,
  CALICO_IBGP_REJECT_INTERFACES,
  KERNEL_INSTALL,
  KERNEL_SKIP,
} from './policy.ts';
export type {
  RoutePolicy,
  PolicyRoute,
  PolicyPeer,
  PolicyVerdict,
  DefaultAction,
  RouteSource,
  CalicoExportConfig,
  CalicoPool,
  KernelPolicy,
  KernelPolicyRoute,
  KernelVerdict,
  CalicoKernelConfig,
  CalicoKernelPool,
  ProgramClusterRoutes,
  EncapMode,
} from './policy.ts';
export { compileBGPFilter, bgpFilterPolicy } from './bgp-filter.ts';
export type { BGPFilterInput, BGPFilterSpec, BGPFilterRule, BGPFilterOperation, CompiledBGPFilter } from './bgp-filter.ts';
export { familyOf, familyAfi, familyFromAfi, canonicalPrefix, FAMILIES } from './prefix.ts';
export type { Family, NumPrefix } from './prefix.ts';
export { ribInputsFromUpdate } from './wire.ts';
export { PrefixIndex, ipv4PrefixText, canonicalV4 } from './prefix-index.ts';
export type { RibInput } from './wire.ts';
export { RibError, RIB_ERROR } from './errors.ts';
export type { RibErrorCode } from './errors.ts';
