// Networking, endpoint, BGP, IPAM and configuration semantics (validator.go + CEL rules).
import { tryParseCIDR, tryParseIP, splitHostPort, parseCIDR, cidrsOverlap, isMasked, familyBits } from '../lib/index.ts';
import type { ErrorCollector } from './errors.ts';
import {
  checkASNumber, checkContainerID, checkIP, checkIPPort, checkInterfaceName, checkLabels, checkMAC, checkName, checkNet,
  checkProtocol, checkSelector, portNameProblem, protocolSupportsPorts, asNumberValue,
} from './checks.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nonEmpty = (v: unknown): boolean => (typeof v === 'string' ? v.length > 0 : Array.isArray(v) ? v.length > 0 : v !== undefined);

const LINK_LOCAL_V4 = parseCIDR('169.254.0.0/16');
const LINK_LOCAL_V6 = parseCIDR('fe80::/10');

/** IPPool (validateIPPoolSpec, clientv3 ippool checks and CEL rules). Run after defaults. */
export function checkIPPool(errs: ErrorCollector, spec: Obj): void {
  if (typeof spec.cidr !== 'string' || spec.cidr === '') return; // schema reports "required"
  const c = tryParseCIDR(spec.cidr);
  if (!c) {
    errs.add('spec.cidr', 'format', `IPPool CIDR must be a valid subnet like 10.244.0.0/16 or fd00:10:244::/64, got ${JSON.stringify(spec.cidr)}`);
    return;
  }
  if (!isMasked(c)) errs.add('spec.cidr', 'invalid', 'IP pool CIDR is not strictly masked');
  const ll = c.family === 4 ? LINK_LOCAL_V4 : LINK_LOCAL_V6;
  if (cidrsOverlap(c, ll)) errs.add('spec.cidr', 'invalid', `IPPool CIDR overlaps with IPv${c.family} link local range ${c.family === 4 ? '169.254.0.0/16' : 'fe80::/10'}`);
  const bs = typeof spec.blockSize === 'number' && spec.blockSize !== 0 ? spec.blockSize : c.family === 4 ? 26 : 122;
  const [lo, hi] = c.family === 4 ? [20, 32] : [116, 128];
  if (bs < lo || bs > hi) errs.add('spec.blockSize', 'range', `blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools (got ${bs})`);
  else if (spec.disabled !== true && c.prefix > bs) {
    errs.add('spec.cidr', 'invalid', `IP pool size is too small for use with Calico IPAM: the prefix length /${c.prefix} must be equal to or smaller than the block size ${bs}`);
  }
  const ipip = spec.ipipMode;
  const vxlan = spec.vxlanMode;
  const on = (m: unknown) => typeof m === 'string' && m !== '' && m !== 'Never';
  if (c.family === 6 && on(ipip)) errs.add('spec.ipipMode', 'forbidden', 'IPIP is not supported on IPv6 pools');
  if (on(ipip) && on(vxlan)) errs.add('spec', 'forbidden', 'ipipMode and vxlanMode cannot both be enabled');
  for (const f of ['nodeSelector', 'namespaceSelector'] as const) {
    if (typeof spec[f] === 'string' && (spec[f] as string).includes('global(')) errs.add(`spec.${f}`, 'forbidden', `global() selector is not valid for IPPool ${f}`);
    else checkSelector(errs, `spec.${f}`, spec[f]);
  }
  const uses = arr(spec.allowedUses);
  if (uses.includes('LoadBalancer')) {
    if (on(ipip) || on(vxlan)) errs.add('spec', 'forbidden', 'LoadBalancer IP pool cannot have IPIP or VXLAN enabled');
    if (uses.includes('Workload') || uses.includes('Tunnel')) errs.add('spec.allowedUses', 'forbidden', 'LoadBalancer cannot be combined with Workload or Tunnel allowed uses');
    if (spec.disableBGPExport === true) errs.add('spec.disableBGPExport', 'forbidden', 'LoadBalancer IP pools cannot disable BGP export');
    if (spec.nodeSelector !== undefined && spec.nodeSelector !== 'all()') errs.add('spec.nodeSelector', 'invalid', 'IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()');
  }
  if (uses.includes('Tunnel') && nonEmpty(spec.namespaceSelector)) errs.add('spec.namespaceSelector', 'forbidden', 'IP Pool with AllowedUse Tunnel cannot have namespaceSelector');
}

/** Pools that overlap `pool` (Calico rejects creating a pool that overlaps another). */
export function overlappingPools(pool: { metadata: { name?: string }; spec?: { cidr?: string } }, others: readonly { metadata: { name?: string }; spec?: { cidr?: string } }[]): string[] {
  const c = tryParseCIDR(pool.spec?.cidr ?? '');
  if (!c) return [];
  return others
    .filter((o) => o.metadata.name !== pool.metadata.name)
    .filter((o) => {
      const oc = tryParseCIDR(o.spec?.cidr ?? '');
      return oc !== null && cidrsOverlap(c, oc);
    })
    .map((o) => o.metadata.name ?? '');
}

export function checkIPReservation(errs: ErrorCollector, spec: Obj): void {
  arr(spec.reservedCIDRs).forEach((v, i) => checkNet(errs, `spec.reservedCIDRs[${i}]`, v, { requirePrefix: true }));
}

export function checkNetworkSet(errs: ErrorCollector, spec: Obj, labels: unknown): void {
  arr(spec.nets).forEach((v, i) => checkNet(errs, `spec.nets[${i}]`, v));
  if (isObj(labels) && 'projectcalico.org/namespace' in labels) {
    errs.add('metadata.labels["projectcalico.org/namespace"]', 'forbidden', 'projectcalico.org/namespace is not a valid label name');
  }
}

export function checkBGPPeer(errs: ErrorCollector, spec: Obj): void {
  checkName(errs, 'spec.node', spec.node);
  checkSelector(errs, 'spec.nodeSelector', spec.nodeSelector);
  checkSelector(errs, 'spec.peerSelector', spec.peerSelector);
  checkSelector(errs, 'spec.localWorkloadSelector', spec.localWorkloadSelector);
  checkIPPort(errs, 'spec.peerIP', spec.peerIP);
  checkASNumber(errs, 'spec.asNumber', spec.asNumber);
  checkASNumber(errs, 'spec.localASNumber', spec.localASNumber);
  arr(spec.filters).forEach((f, i) => checkName(errs, `spec.filters[${i}]`, f));
  if (nonEmpty(spec.reachableBy)) {
    checkIP(errs, 'spec.reachableBy', spec.reachableBy);
    const r = tryParseIP(String(spec.reachableBy));
    const peer = typeof spec.peerIP === 'string' ? splitHostPort(spec.peerIP) : null;
    if (r && peer && r.family !== peer.ip.family) errs.add('spec.reachableBy', 'invalid', 'reachableBy and peerIP address family mismatched');
    if (!nonEmpty(spec.peerIP)) errs.add('spec.reachableBy', 'invalid', 'reachableBy must be empty when peerIP is empty');
  }
  const asSet = spec.asNumber !== undefined && asNumberValue(spec.asNumber as number | string) !== 0;
  if (nonEmpty(spec.node) && nonEmpty(spec.nodeSelector)) errs.add('spec', 'forbidden', 'node and nodeSelector cannot both be set');
  if (nonEmpty(spec.peerIP) && nonEmpty(spec.peerSelector)) errs.add('spec', 'forbidden', 'peerIP and peerSelector cannot both be set');
  if (nonEmpty(spec.peerSelector) && asSet) errs.add('spec.asNumber', 'forbidden', 'asNumber must be empty when peerSelector is set');
  if (nonEmpty(spec.localWorkloadSelector)) {
    if (nonEmpty(spec.peerIP)) errs.add('spec.peerIP', 'forbidden', 'peerIP must be empty when localWorkloadSelector is set');
    if (nonEmpty(spec.peerSelector)) errs.add('spec.peerSelector', 'forbidden', 'peerSelector must be empty when localWorkloadSelector is set');
    if (!asSet) errs.add('spec.asNumber', 'required', 'asNumber is required when localWorkloadSelector is set');
  }
  if (spec.keepOriginalNextHop === true && spec.nextHopMode !== undefined) {
    errs.add('spec', 'forbidden', 'keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is deprecated, use nextHopMode instead');
  }
}

const RE_STD_COMMUNITY = /^(\d+):(\d+)$/;
const RE_LARGE_COMMUNITY = /^(\d+):(\d+):(\d+)$/;
const RE_IGNORED_IFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;
function communityProblem(v: string): string | undefined | null {
  const std = RE_STD_COMMUNITY.exec(v);
  const large = RE_LARGE_COMMUNITY.exec(v);
  if (!std && !large) return null; // not a community literal
  const bits = large ? 32 : 16;
  const parts = (large ?? std)!.slice(1);
  if (parts.some((x) => BigInt(x) >= 1n << BigInt(bits))) return `invalid community value, expected ${bits} bit values`;
  return undefined;
}

export function checkBGPConfiguration(errs: ErrorCollector, name: string, spec: Obj): void {
  checkASNumber(errs, 'spec.asNumber', spec.asNumber);
  if (typeof spec.listenPort === 'number' && spec.listenPort !== 0 && (spec.listenPort < 1 || spec.listenPort > 65535)) errs.add('spec.listenPort', 'range', `listenPort must be between 1 and 65535, got ${spec.listenPort}`);
  arr(spec.ignoredInterfaces).forEach((v, i) => {
    if (typeof v === 'string' && (v === '*' || !RE_IGNORED_IFACE.test(v))) errs.add(`spec.ignoredInterfaces[${i}]`, 'format', `invalid interface pattern ${JSON.stringify(v)}: expected 1-15 characters from [a-zA-Z0-9_.*-], not "*" alone`);
  });
  checkIP(errs, 'spec.localWorkloadPeeringIPV4', spec.localWorkloadPeeringIPV4, 4);
  checkIP(errs, 'spec.localWorkloadPeeringIPV6', spec.localWorkloadPeeringIPV6, 6);
  for (const f of ['ipv4NormalRoutePriority', 'ipv6NormalRoutePriority'] as const) {
    const v = spec[f];
    if (typeof v === 'number' && (v < 1 || v > 2147483646)) errs.add(`spec.${f}`, 'range', `must be between 1 and 2147483646, got ${v}`);
  }
  for (const f of ['serviceLoadBalancerIPs', 'serviceExternalIPs', 'serviceClusterIPs'] as const) {
    arr(spec[f]).forEach((b, i) => {
      if (isObj(b)) checkNet(errs, `spec.${f}[${i}].cidr`, b.cidr, { masked: true });
    });
  }
  const communities = arr(spec.communities).filter(isObj);
  communities.forEach((c, i) => {
    checkName(errs, `spec.communities[${i}].name`, c.name);
    if (!nonEmpty(c.name)) errs.add(`spec.communities[${i}].name`, 'required', 'required field is missing');
    if (typeof c.value !== 'string' || c.value === '') return errs.add(`spec.communities[${i}].value`, 'required', 'required field is missing');
    const prob = communityProblem(c.value);
    if (prob === null) errs.add(`spec.communities[${i}].value`, 'format', `invalid community value ${JSON.stringify(c.value)}: expected "aa:nn" or "aa:nn:mm"`);
    else if (prob) errs.add(`spec.communities[${i}].value`, 'range', prob);
  });
  const names = new Set(communities.map((c) => c.name));
  arr(spec.prefixAdvertisements).forEach((pa, i) => {
    if (!isObj(pa)) return;
    if (!nonEmpty(pa.cidr)) errs.add(`spec.prefixAdvertisements[${i}].cidr`, 'required', 'required field is missing');
    checkNet(errs, `spec.prefixAdvertisements[${i}].cidr`, pa.cidr, { masked: true });
    arr(pa.communities).forEach((v, j) => {
      if (typeof v !== 'string') return;
      const prob = communityProblem(v);
      if (prob) errs.add(`spec.prefixAdvertisements[${i}].communities[${j}]`, 'range', prob);
      else if (prob === null && !names.has(v)) errs.add(`spec.prefixAdvertisements[${i}].communities[${j}]`, 'invalid', `community ${JSON.stringify(v)} is invalid or not defined in spec.communities`);
    });
  });
  if (spec.nodeToNodeMeshEnabled === false) {
    if (spec.nodeMeshPassword !== undefined) errs.add('spec.nodeMeshPassword', 'forbidden', 'nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false');
    if (spec.nodeMeshMaxRestartTime !== undefined) errs.add('spec.nodeMeshMaxRestartTime', 'forbidden', 'nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false');
  }
  if (communities.length > 0 && arr(spec.prefixAdvertisements).length === 0) errs.add('spec.communities', 'invalid', 'communities are defined but not used in prefixAdvertisements');
  if (name && name !== 'default') {
    for (const f of ['nodeToNodeMeshEnabled', 'asNumber', 'serviceLoadBalancerIPs', 'serviceExternalIPs', 'serviceClusterIPs', 'nodeMeshPassword', 'nodeMeshMaxRestartTime'] as const) {
      if (spec[f] !== undefined && !(Array.isArray(spec[f]) && spec[f].length === 0)) {
        errs.add(`spec.${f}`, 'forbidden', `cannot set ${f} on a non default BGP Configuration`);
      }
    }
  }
}

const RE_FILTER_IFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;
export function checkBGPFilter(errs: ErrorCollector, spec: Obj): void {
  for (const list of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    const family = list.endsWith('V4') ? 4 : 6;
    arr(spec[list]).forEach((r, i) => {
      if (!isObj(r)) return;
      const p = `spec.${list}[${i}]`;
      checkNet(errs, `${p}.cidr`, r.cidr, { family, masked: true });
      if (nonEmpty(r.cidr) !== nonEmpty(r.matchOperator)) errs.add(p, 'invalid', 'cidr and matchOperator must both be set or both be empty');
      if (r.prefixLength !== undefined && !nonEmpty(r.cidr)) errs.add(`${p}.prefixLength`, 'invalid', 'cidr is required when prefixLength is set');
      if (isObj(r.prefixLength)) {
        const max = familyBits(family);
        for (const k of ['min', 'max'] as const) {
          const v = r.prefixLength[k];
          if (typeof v === 'number' && (v < 0 || v > max)) errs.add(`${p}.prefixLength.${k}`, 'range', `must be between 0 and ${max} for IPv${family}, got ${v}`);
        }
      }
      if (typeof r.interface === 'string' && r.interface !== '' && r.interface !== '*' && !RE_FILTER_IFACE.test(r.interface)) {
        errs.add(`${p}.interface`, 'format', `invalid interface pattern ${JSON.stringify(r.interface)}: expected 1-15 characters from [a-zA-Z0-9_.*-]`);
      }
      if (typeof r.priority === 'number' && (r.priority < 1 || r.priority > 2147483646)) errs.add(`${p}.priority`, 'range', `must be between 1 and 2147483646, got ${r.priority}`);
      if (arr(r.operations).length > 0 && r.action !== 'Accept') errs.add(`${p}.operations`, 'forbidden', 'operations may only be used with action Accept');
    });
  }
}

const RE_WG_KEY = /^[A-Za-z0-9+/]{43}=$/;
export function checkNode(errs: ErrorCollector, spec: Obj, status: unknown): void {
  if (spec.bgp !== undefined) {
    const bgp = isObj(spec.bgp) ? spec.bgp : {};
    if (Object.keys(bgp).length === 0) errs.add('spec.bgp', 'invalid', 'spec.bgp should not be empty');
    checkASNumber(errs, 'spec.bgp.asNumber', bgp.asNumber);
    checkNet(errs, 'spec.bgp.ipv4Address', bgp.ipv4Address, { family: 4 });
    checkNet(errs, 'spec.bgp.ipv6Address', bgp.ipv6Address, { family: 6 });
    checkIP(errs, 'spec.bgp.ipv4IPIPTunnelAddr', bgp.ipv4IPIPTunnelAddr, 4);
    checkIP(errs, 'spec.bgp.routeReflectorClusterID', bgp.routeReflectorClusterID, 4);
  }
  checkIP(errs, 'spec.ipv4VXLANTunnelAddr', spec.ipv4VXLANTunnelAddr, 4);
  checkIP(errs, 'spec.ipv6VXLANTunnelAddr', spec.ipv6VXLANTunnelAddr, 6);
  checkMAC(errs, 'spec.vxlanTunnelMACAddr', spec.vxlanTunnelMACAddr);
  checkMAC(errs, 'spec.vxlanTunnelMACAddrV6', spec.vxlanTunnelMACAddrV6);
  if (isObj(spec.wireguard)) {
    checkIP(errs, 'spec.wireguard.interfaceIPv4Address', spec.wireguard.interfaceIPv4Address, 4);
    checkIP(errs, 'spec.wireguard.interfaceIPv6Address', spec.wireguard.interfaceIPv6Address, 6);
  }
  arr(spec.addresses).forEach((a, i) => {
    if (isObj(a)) checkNet(errs, `spec.addresses[${i}].address`, a.address, { masked: true });
  });
  arr(spec.interfaces).forEach((a, i) => {
    if (isObj(a)) checkName(errs, `spec.interfaces[${i}].name`, a.name);
  });
  if (isObj(status)) {
    for (const f of ['wireguardPublicKey', 'wireguardPublicKeyV6'] as const) {
      const v = status[f];
      if (typeof v === 'string' && v !== '' && !RE_WG_KEY.test(v)) errs.add(`status.${f}`, 'format', 'expected a base64 WireGuard public key (32 bytes)');
    }
  }
}

function checkEndpointPort(errs: ErrorCollector, p: string, port: Obj, wep: boolean): void {
  if (typeof port.name === 'string' && port.name !== '') {
    const prob = portNameProblem(port.name);
    if (prob) errs.add(`${p}.name`, 'format', `invalid port name ${JSON.stringify(port.name)}: ${prob}`);
  } else if (!wep || !port.hostPort) {
    errs.add(`${p}.name`, 'required', wep ? 'port name must not be empty if no hostPort is specified' : 'a port name is required');
  }
  checkProtocol(errs, `${p}.protocol`, port.protocol);
  if (port.protocol !== undefined && !protocolSupportsPorts(port.protocol)) errs.add(`${p}.protocol`, 'invalid', 'protocol does not support ports: expected TCP, UDP or SCTP');
  if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535)) errs.add(`${p}.port`, 'range', `port must be between 1 and 65535, got ${port.port}`);
  else if (wep && port.port === undefined) errs.add(`${p}.port`, 'required', 'port must be between 1 and 65535');
  if (wep) checkNet(errs, `${p}.hostIP`, port.hostIP, { masked: true });
}

export function checkHostEndpoint(errs: ErrorCollector, spec: Obj): void {
  if (!nonEmpty(spec.node)) errs.add('spec.node', 'required', 'node must be specified');
  checkName(errs, 'spec.node', spec.node);
  if (!nonEmpty(spec.interfaceName) && !nonEmpty(spec.expectedIPs)) errs.add('spec', 'required', 'at least one of interfaceName or expectedIPs must be specified');
  checkInterfaceName(errs, 'spec.interfaceName', spec.interfaceName, true);
  arr(spec.expectedIPs).forEach((v, i) => checkIP(errs, `spec.expectedIPs[${i}]`, v));
  arr(spec.profiles).forEach((v, i) => checkName(errs, `spec.profiles[${i}]`, v));
  arr(spec.ports).forEach((v, i) => {
    if (isObj(v)) checkEndpointPort(errs, `spec.ports[${i}]`, v, false);
  });
}

export function checkWorkloadEndpoint(errs: ErrorCollector, spec: Obj): void {
  for (const f of ['orchestrator', 'workload', 'node', 'pod', 'endpoint', 'serviceAccountName'] as const) checkName(errs, `spec.${f}`, spec[f]);
  checkContainerID(errs, 'spec.containerID', spec.containerID);
  const nets: ReturnType<typeof tryParseCIDR>[] = [];
  arr(spec.ipNetworks).forEach((v, i) => {
    const p = `spec.ipNetworks[${i}]`;
    if (checkNet(errs, p, v, { masked: true }) === undefined) return;
    const c = tryParseCIDR(String(v), { allowBareIP: true })!;
    nets.push(c);
    if (c.prefix !== familyBits(c.family)) errs.add(p, 'invalid', 'IP network contains multiple addresses: expected a /32 or /128');
  });
  checkIP(errs, 'spec.ipv4Gateway', spec.ipv4Gateway, 4);
  checkIP(errs, 'spec.ipv6Gateway', spec.ipv6Gateway, 6);
  arr(spec.ipNATs).forEach((n, i) => {
    if (!isObj(n)) return;
    checkIP(errs, `spec.ipNATs[${i}].internalIP`, n.internalIP);
    checkIP(errs, `spec.ipNATs[${i}].externalIP`, n.externalIP);
    const a = tryParseIP(String(n.internalIP ?? ''));
    const b = tryParseIP(String(n.externalIP ?? ''));
    if (a && b && a.family !== b.family) errs.add(`spec.ipNATs[${i}].externalIP`, 'invalid', 'mismatched IP versions');
    if (a && !nets.some((c) => c && c.family === a.family && c.ip === a.value)) errs.add(`spec.ipNATs[${i}].internalIP`, 'invalid', 'NAT is not in the endpoint networks');
  });
  arr(spec.profiles).forEach((v, i) => checkName(errs, `spec.profiles[${i}]`, v));
  checkInterfaceName(errs, 'spec.interfaceName', spec.interfaceName, false);
  checkMAC(errs, 'spec.mac', spec.mac);
  arr(spec.ports).forEach((v, i) => {
    if (isObj(v)) checkEndpointPort(errs, `spec.ports[${i}]`, v, true);
  });
  arr(spec.allowSpoofedSourcePrefixes).forEach((v, i) => checkNet(errs, `spec.allowSpoofedSourcePrefixes[${i}]`, v));
}

export function checkFelixConfiguration(errs: ErrorCollector, name: string, spec: Obj): void {
  checkFelixFields(errs, spec);
  if ((name === 'default' || name.startsWith('node.')) && spec.nodeSelector !== undefined) {
    errs.add('spec.nodeSelector', 'forbidden', "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration");
  }
  checkSelector(errs, 'spec.nodeSelector', spec.nodeSelector);
  if (spec.routeTableRange !== undefined && spec.routeTableRanges !== undefined) errs.add('spec', 'forbidden', 'routeTableRange and routeTableRanges cannot both be set');
  for (const [f, fam] of [['natOutgoingAddress', 4], ['deviceRouteSourceAddress', 4], ['deviceRouteSourceAddressIPv6', 6]] as const) {
    const v = spec[f];
    if (typeof v === 'string' && v !== '' && tryParseIP(v)?.family !== fam) errs.add(`spec.${f}`, 'format', `${f} must be a valid IPv${fam} address, got ${JSON.stringify(v)}`);
  }
  if (isObj(spec.routeTableRange)) {
    const { min, max } = spec.routeTableRange as { min?: number; max?: number };
    if (!(typeof min === 'number' && typeof max === 'number' && min >= 1 && max >= min && max <= 250)) {
      errs.add('spec.routeTableRange', 'range', 'must be a range of route table indices within 1..250');
    }
  }
  let tables = 0;
  arr(spec.routeTableRanges).forEach((r, i) => {
    if (!isObj(r)) return;
    const { min, max } = r as { min?: number; max?: number };
    if (typeof min === 'number' && min < 1) errs.add(`spec.routeTableRanges[${i}].min`, 'range', 'min must be >= 1');
    if (typeof min === 'number' && typeof max === 'number') {
      if (min > max) errs.add(`spec.routeTableRanges[${i}]`, 'range', 'min must not be greater than max');
      else tables += max - min + 1;
      if (max > 0xffffffff) errs.add(`spec.routeTableRanges[${i}].max`, 'range', 'max index too high');
    }
  });
  if (tables > 0xffff) errs.add('spec.routeTableRanges', 'range', 'targets too many tables (at most 65535)');
  const npr = arr(spec.kubeNodePortRanges);
  if (npr.length > 7) errs.add('spec.kubeNodePortRanges', 'range', 'node port ranges list is too long (max 7)');
  npr.forEach((p, i) => {
    if (typeof p === 'string' && !/^\d+(:\d+)?$/.test(p)) errs.add(`spec.kubeNodePortRanges[${i}]`, 'invalid', 'node port ranges should not contain named ports');
  });
  arr(spec.externalNodesCIDRList).forEach((v, i) => checkNet(errs, `spec.externalNodesCIDRList[${i}]`, v, { family: 4 }));
  if (typeof spec.openstackRegion === 'string' && spec.openstackRegion !== '') {
    const r = spec.openstackRegion;
    if (r.length > 63 - 'openstack-region-'.length) errs.add('spec.openstackRegion', 'range', 'is too long');
    else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(r)) errs.add('spec.openstackRegion', 'format', 'must be a valid DNS label');
  }
}

const FELIX_REGEXP = ['logDebugFilenameRegex', 'nftablesFlowTableDataIfacePattern', 'bpfDataIfacePattern', 'bpfL3IfacePattern', 'bpfDisableGROForIfaces', 'mtuIfacePattern'] as const;
const FELIX_RANGES: readonly [string, number, number][] = [
  ['ipv4NormalRoutePriority', 1, 2147483646], ['ipv4ElevatedRoutePriority', 1, 2147483646],
  ['ipv6NormalRoutePriority', 1, 2147483646], ['ipv6ElevatedRoutePriority', 1, 2147483646],
  ['wireguardListeningPort', 1, 65535], ['wireguardListeningPortV6', 1, 65535], ['wireguardRoutingRulePriority', 1, 32765],
  ['debugPort', 0, 65535], ['bpfKubeProxyHealthzPort', 0, 65535], ['bpfExtToServiceConnmark', 0, 4294967295],
  ['bpfMapSizeConntrackCleanupQueue', 1, Number.MAX_SAFE_INTEGER], ['goGCThreshold', -1, Number.MAX_SAFE_INTEGER],
  ['goMemoryLimitMB', -1, Number.MAX_SAFE_INTEGER], ['goMaxProcs', -1, Number.MAX_SAFE_INTEGER],
  ['bpfMaglevMaxEndpointsPerService', 1, 3000], ['bpfMaglevMaxServices', 1, 3000],
];
const RE_IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;
const RE_PROM_HOST = /^[a-zA-Z0-9:._+-]{1,64}$/;
const RE_KV = /^\s*(\w+)=(.*)$/;
const RE_HTO_NAME = /^[a-zA-Z0-9_ -]+$/;

/** Felix's Go field validators (regexp, interface names, key=value lists, bounds). */
function checkFelixFields(errs: ErrorCollector, spec: Obj): void {
  for (const f of FELIX_REGEXP) {
    const v = spec[f];
    if (typeof v !== 'string' || v === '') continue;
    try {
      new RegExp(v);
    } catch {
      errs.add(`spec.${f}`, 'format', `invalid regular expression ${JSON.stringify(v)}`);
    }
  }
  for (const [f, lo, hi] of FELIX_RANGES) {
    const v = spec[f];
    if (typeof v === 'number' && v !== 0 && (v < lo || v > hi)) errs.add(`spec.${f}`, 'range', `must be between ${lo} and ${hi}, got ${v}`);
  }
  for (const f of ['wireguardInterfaceName', 'wireguardInterfaceNameV6'] as const) checkInterfaceName(errs, `spec.${f}`, spec[f] ?? '', true);
  const nat = spec.iptablesNATOutgoingInterfaceFilter;
  if (typeof nat === 'string' && nat !== '' && !RE_IFACE_FILTER.test(nat)) errs.add('spec.iptablesNATOutgoingInterfaceFilter', 'format', 'expected 1-15 characters from [a-zA-Z0-9:._+-]');
  arr(spec.bpfForceTrackPacketsFromIfaces).forEach((v, i) => {
    if (typeof v === 'string' && !RE_IFACE_FILTER.test(v)) errs.add(`spec.bpfForceTrackPacketsFromIfaces[${i}]`, 'format', 'expected 1-15 characters from [a-zA-Z0-9:._+-]');
  });
  const host = spec.prometheusMetricsHost;
  if (typeof host === 'string' && host !== '' && !RE_PROM_HOST.test(host)) errs.add('spec.prometheusMetricsHost', 'format', 'expected an IP address or host name of at most 64 characters');
  for (const f of ['featureDetectOverride', 'featureGates'] as const) {
    const v = spec[f];
    if (typeof v !== 'string' || v.trim() === '') continue;
    if (v.split(',').some((item) => item !== '' && !RE_KV.test(item))) errs.add(`spec.${f}`, 'format', 'expected a comma-separated list of key=value');
  }
  for (const f of ['bpfDSROptoutCIDRs', 'bpfExcludeCIDRsFromNAT'] as const) arr(spec[f]).forEach((v, i) => checkNet(errs, `spec.${f}[${i}]`, v));
  if (isObj(spec.bpfLogFilters)) {
    for (const k of Object.keys(spec.bpfLogFilters)) {
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(k)) errs.add(`spec.bpfLogFilters[${JSON.stringify(k)}]`, 'format', 'keys must be interface names (1-15 characters from [a-zA-Z0-9_.-])');
    }
  }
  arr(spec.healthTimeoutOverrides).forEach((h, i) => {
    if (isObj(h) && typeof h.name === 'string' && !RE_HTO_NAME.test(h.name)) errs.add(`spec.healthTimeoutOverrides[${i}].name`, 'format', 'name should match ^[a-zA-Z0-9_ -]+$');
    if (isObj(h) && typeof h.timeout === 'string' && h.timeout.startsWith('-')) errs.add(`spec.healthTimeoutOverrides[${i}].timeout`, 'range', 'timeout should not be negative');
  });
}

export function checkIPAMConfiguration(errs: ErrorCollector, spec: Obj): void {
  if (typeof spec.maxBlocksPerHost === 'number' && spec.maxBlocksPerHost < 0) errs.add('spec.maxBlocksPerHost', 'range', 'must be greater than or equal to 0');
}

export function checkBlockAffinity(errs: ErrorCollector, spec: Obj): void {
  if (spec.deleted === true) errs.add('spec.deleted', 'forbidden', 'spec.deleted cannot be set to "true"');
  checkNet(errs, 'spec.cidr', spec.cidr, { requirePrefix: true, masked: true });
}

export function checkIPAMBlock(errs: ErrorCollector, spec: Obj): void {
  const c = typeof spec.cidr === 'string' ? tryParseCIDR(spec.cidr) : null;
  if (c && !isMasked(c)) errs.add('spec.cidr', 'invalid', 'block CIDR is not strictly masked');
}

export function checkCalicoNodeStatus(errs: ErrorCollector, spec: Obj): void {
  checkName(errs, 'spec.node', spec.node);
  const classes = arr(spec.classes);
  if (new Set(classes).size !== classes.length) errs.add('spec.classes', 'duplicate', 'classes must be unique');
  if (typeof spec.updatePeriodSeconds === 'number' && (spec.updatePeriodSeconds < 0 || spec.updatePeriodSeconds > 86400)) {
    errs.add('spec.updatePeriodSeconds', 'range', 'must be between 0 and 86400');
  }
}

export function checkKubeControllers(errs: ErrorCollector, spec: Obj): void {
  const ctl = isObj(spec.controllers) ? spec.controllers : {};
  const node = isObj(ctl.node) ? ctl.node : {};
  const hep = isObj(node.hostEndpoint) ? node.hostEndpoint : {};
  const seen = new Set<unknown>();
  arr(hep.templates).forEach((t, i) => {
    if (!isObj(t)) return;
    const p = `spec.controllers.node.hostEndpoint.templates[${i}]`;
    if (!nonEmpty(t.generateName)) errs.add(`${p}.generateName`, 'required', 'template name must be specified');
    else if (seen.has(t.generateName)) errs.add(`${p}.generateName`, 'duplicate', 'template name must be unique');
    seen.add(t.generateName);
    if (!nonEmpty(t.interfaceCIDRs) && !nonEmpty(t.interfacePattern)) errs.add(p, 'required', 'interfaceCIDRs or interfacePattern must be specified');
    checkName(errs, `${p}.generateName`, t.generateName);
    checkSelector(errs, `${p}.nodeSelector`, t.nodeSelector);
    checkLabels(errs, `${p}.labels`, t.labels);
    arr(t.interfaceCIDRs).forEach((v, j) => checkNet(errs, `${p}.interfaceCIDRs[${j}]`, v));
    if (typeof t.interfacePattern === 'string') {
      try {
        new RegExp(t.interfacePattern);
      } catch {
        errs.add(`${p}.interfacePattern`, 'format', 'invalid regular expression');
      }
    }
  });
}
