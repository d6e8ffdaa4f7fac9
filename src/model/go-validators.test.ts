// Calico's Go field validators (the `validate:"..."` tags on the v3 and internal API types,
// libcalico-go/lib/validator/v3): for each tagged field, a valid base resource with a bad value
// put in that field must be rejected with an error at that field's path, and the base is valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from './validate.ts';
import type { AnyResource } from './types.ts';
import type { KindName } from './kinds.ts';

type Obj = Record<string, unknown>;
const BASE: Partial<Record<KindName, { name?: string; ns?: string; spec: Obj; status?: Obj }>> = {
  BGPConfiguration: { name: 'default', spec: { communities: [{ name: 'c1', value: '1:1' }], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c1'] }], serviceLoadBalancerIPs: [{ cidr: '10.1.0.0/16' }] } },
  BGPFilter: { spec: { exportV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { min: 16, max: 24 } }], exportV6: [{ action: 'Accept', cidr: 'fd00::/64', matchOperator: 'In', prefixLength: { min: 64, max: 96 } }] } },
  BGPPeer: { spec: { peerIP: '10.0.0.1', asNumber: 65000, filters: ['f1'] } },
  GlobalNetworkPolicy: { spec: { ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 }, source: { nets: ['10.0.0.0/8'] } }], egress: [{ action: 'Allow', destination: { services: { name: 's', namespace: 'n' } } }] } },
  NetworkPolicy: { ns: 'default', spec: { ingress: [{ action: 'Allow', source: { serviceAccounts: { selector: 'a == "b"' } } }] } },
  GlobalNetworkSet: { spec: { nets: ['10.0.0.0/8'] } },
  NetworkSet: { ns: 'default', spec: { nets: ['10.0.0.0/8'] } },
  HostEndpoint: { spec: { node: 'n1', interfaceName: 'eth0', expectedIPs: ['10.0.0.1'], profiles: ['p1'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  IPPool: { spec: { cidr: '10.0.0.0/16' } },
  IPReservation: { spec: { reservedCIDRs: ['10.0.0.0/24'] } },
  KubeControllersConfiguration: { name: 'default', spec: { controllers: { node: { hostEndpoint: { templates: [{ generateName: 't1', interfaceCIDRs: ['10.0.0.0/8'] }] } } } } },
  CalicoNodeStatus: { spec: { node: 'n1', classes: ['Agent'], updatePeriodSeconds: 10 } },
  Profile: { spec: { labelsToApply: { a: 'b' } } },
  Tier: { spec: { order: 10 } },
  Node: { spec: { bgp: { ipv4Address: '10.0.0.1/24' }, addresses: [{ address: '10.0.0.1', type: 'InternalIP' }], interfaces: [{ name: 'eth0' }], wireguard: { interfaceIPv4Address: '10.1.0.1' } } },
  WorkloadEndpoint: { ns: 'default', spec: { node: 'n1', interfaceName: 'cali1', ipNetworks: ['10.0.0.1/32'], ipNATs: [{ internalIP: '10.0.0.1', externalIP: '172.16.0.1' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
};

/** [kind, field path (dot, numeric = index), bad value, Go tag (for the report)] */
const FIELDS: [KindName, string, unknown, string][] = [
  ['BGPConfiguration', 'spec.ignoredInterfaces.0', '*', 'ignoredInterface'],
  ['BGPConfiguration', 'spec.localWorkloadPeeringIPV4', 'fd00::1', 'ipv4'],
  ['BGPConfiguration', 'spec.localWorkloadPeeringIPV6', '10.0.0.1', 'ipv6'],
  ['BGPConfiguration', 'spec.ipv4NormalRoutePriority', 2147483647, 'gte=1,lte=2147483646'],
  ['BGPConfiguration', 'spec.ipv6NormalRoutePriority', -1, 'gte=1,lte=2147483646'],
  ['BGPConfiguration', 'spec.serviceLoadBalancerIPs.0.cidr', '10.1.0.1/16', 'net'],
  ['BGPConfiguration', 'spec.serviceExternalIPs.0.cidr', 'x', 'net'],
  ['BGPConfiguration', 'spec.serviceClusterIPs.0.cidr', '10.96.0.0/33', 'net'],
  ['BGPConfiguration', 'spec.communities.0.name', 'Bad_Name', 'name'],
  ['BGPConfiguration', 'spec.communities.0.value', '', 'required'],
  ['BGPConfiguration', 'spec.prefixAdvertisements.0.cidr', '10.0.0.1/8', 'net'],
  ['BGPFilter', 'spec.exportV4.0.cidr', 'fd00::/64', 'netv4'],
  ['BGPFilter', 'spec.exportV4.0.source', 'LocalPeers', 'oneof=RemotePeers'],
  ['BGPFilter', 'spec.exportV4.0.interface', 'a b', 'bgpFilterInterface'],
  ['BGPFilter', 'spec.exportV4.0.peerType', 'ebgp', 'oneof=eBGP iBGP'],
  ['BGPFilter', 'spec.exportV4.0.priority', 0, 'gte=1,lte=2147483646'],
  ['BGPFilter', 'spec.exportV4.0.prefixLength.max', 33, 'bgpFilterPrefixLengthV4'],
  ['BGPFilter', 'spec.exportV6.0.cidr', '10.0.0.0/8', 'netv6'],
  ['BGPFilter', 'spec.exportV6.0.prefixLength.min', 129, 'bgpFilterPrefixLengthV6'],
  ['BGPPeer', 'spec.node', 'Node_1', 'name'],
  ['BGPPeer', 'spec.nodeSelector', 'a ==', 'selector'],
  ['BGPPeer', 'spec.peerIP', '10.0.0.1:0', 'IP:port'],
  ['BGPPeer', 'spec.reachableBy', 'gateway', 'reachableBy'],
  ['BGPPeer', 'spec.filters.0', 'F1', 'name'],
  ['BGPPeer', 'spec.localWorkloadSelector', '!', 'selector'],
  ['GlobalNetworkPolicy', 'spec.tier', 'T', 'name'],
  ['GlobalNetworkPolicy', 'spec.selector', 'a in', 'selector'],
  ['GlobalNetworkPolicy', 'spec.serviceAccountSelector', 'x ==', 'selector'],
  ['GlobalNetworkPolicy', 'spec.namespaceSelector', 'has(', 'selector'],
  ['GlobalNetworkPolicy', 'spec.performanceHints.0', 'Fast', 'oneof=AssumeNeededOnEveryNode'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.icmp.type', 255, 'gte=0,lte=254'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.icmp.code', 256, 'gte=0,lte=255'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.source.nets.0', '10.0.0.1/8', 'net'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.source.notNets.0', 'x', 'net'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.source.selector', 'a ==', 'selector'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.source.notSelector', 'a ==', 'selector'],
  ['GlobalNetworkPolicy', 'spec.ingress.0.source.namespaceSelector', 'a ==', 'selector'],
  ['GlobalNetworkPolicy', 'spec.egress.0.destination.services.name', 'S', 'name'],
  ['GlobalNetworkPolicy', 'spec.egress.0.destination.services.namespace', 'N', 'name'],
  ['NetworkPolicy', 'spec.tier', 'Tier-A', 'name'],
  ['NetworkPolicy', 'spec.selector', '(', 'selector'],
  ['NetworkPolicy', 'spec.ingress.0.source.serviceAccounts.selector', 'a ==', 'selector'],
  ['GlobalNetworkSet', 'spec.nets.0', '10.0.0.0/33', 'cidr'],
  ['NetworkSet', 'spec.nets.0', 'net', 'cidr'],
  ['HostEndpoint', 'spec.node', 'N', 'name'],
  ['HostEndpoint', 'spec.interfaceName', 'an-interface-name-too-long', 'interface'],
  ['HostEndpoint', 'spec.expectedIPs.0', '10.0.0.0/8', 'ip'],
  ['HostEndpoint', 'spec.profiles.0', 'P', 'name'],
  ['HostEndpoint', 'spec.ports.0.name', 'HTTP', 'portName'],
  ['HostEndpoint', 'spec.ports.0.port', 0, 'gt=0'],
  ['IPPool', 'spec.cidr', '10.0.0.1/16', 'net'],
  ['IPPool', 'spec.nodeSelector', 'a ==', 'selector'],
  ['IPPool', 'spec.namespaceSelector', 'a ==', 'selector'],
  ['IPReservation', 'spec.reservedCIDRs.0', '10.0.0.0/40', 'cidrs'],
  ['KubeControllersConfiguration', 'spec.healthChecks', 'On', 'oneof=Enabled Disabled'],
  ['KubeControllersConfiguration', 'spec.controllers.migration.policyNameMigrator', 'On', 'oneof=Enabled Disabled'],
  ['KubeControllersConfiguration', 'spec.controllers.node.syncLabels', 'yes', 'oneof=Enabled Disabled'],
  ['KubeControllersConfiguration', 'spec.controllers.node.hostEndpoint.autoCreate', 'On', 'oneof=Enabled Disabled'],
  ['KubeControllersConfiguration', 'spec.controllers.node.hostEndpoint.templates.0.generateName', 'T_1', 'name'],
  ['KubeControllersConfiguration', 'spec.controllers.node.hostEndpoint.templates.0.interfaceCIDRs.0', 'x', 'cidrs'],
  ['KubeControllersConfiguration', 'spec.controllers.node.hostEndpoint.templates.0.interfacePattern', '(', 'regexp'],
  ['KubeControllersConfiguration', 'spec.controllers.node.hostEndpoint.templates.0.nodeSelector', 'a ==', 'selector'],
  ['CalicoNodeStatus', 'spec.node', 'N', 'name'],
  ['CalicoNodeStatus', 'spec.classes', ['Agent', 'Agent'], 'unique'],
  ['CalicoNodeStatus', 'spec.updatePeriodSeconds', 86401, 'gte=0,lte=86400'],
  ['Profile', 'spec.labelsToApply', { 'a b': 'c' }, 'labels'],
  ['Tier', 'spec.defaultAction', 'Allow', 'oneof=Deny Pass'],
  ['Node', 'spec.bgp.ipv4Address', 'fd00::1/64', 'cidrv4'],
  ['Node', 'spec.bgp.ipv6Address', '10.0.0.1/24', 'cidrv6'],
  ['Node', 'spec.bgp.ipv4IPIPTunnelAddr', '10.0.0.1/32', 'ipv4'],
  ['Node', 'spec.bgp.routeReflectorClusterID', 'fd00::1', 'ipv4'],
  ['Node', 'spec.ipv4VXLANTunnelAddr', 'x', 'ipv4'],
  ['Node', 'spec.vxlanTunnelMACAddr', '66:cf:23', 'mac'],
  ['Node', 'spec.ipv6VXLANTunnelAddr', '10.0.0.1', 'ipv6'],
  ['Node', 'spec.vxlanTunnelMACAddrV6', 'zz:zz:zz:zz:zz:zz', 'mac'],
  ['Node', 'spec.addresses.0.address', '10.0.0.1/8', 'net'],
  ['Node', 'spec.addresses.0.type', 'PodIP', 'ipType'],
  ['Node', 'spec.interfaces.0.name', 'Eth_0', 'name'],
  ['Node', 'spec.wireguard.interfaceIPv4Address', 'fd00::1', 'ipv4'],
  ['Node', 'spec.wireguard.interfaceIPv6Address', '10.0.0.1', 'ipv6'],
  ['Node', 'status.wireguardPublicKey', 'not-a-key', 'wireguardPublicKey'],
  ['WorkloadEndpoint', 'spec.orchestrator', 'K8S', 'name'],
  ['WorkloadEndpoint', 'spec.workload', 'W_1', 'name'],
  ['WorkloadEndpoint', 'spec.node', 'N', 'name'],
  ['WorkloadEndpoint', 'spec.pod', 'P_1', 'name'],
  ['WorkloadEndpoint', 'spec.endpoint', 'E_1', 'name'],
  ['WorkloadEndpoint', 'spec.serviceAccountName', 'S_1', 'name'],
  ['WorkloadEndpoint', 'spec.containerID', '-abc', 'containerID'],
  ['WorkloadEndpoint', 'spec.ipNetworks.0', '10.0.0.1/24', 'net'],
  ['WorkloadEndpoint', 'spec.ipNATs.0.externalIP', 'x', 'ip'],
  ['WorkloadEndpoint', 'spec.ipv4Gateway', 'fd00::1', 'ipv4'],
  ['WorkloadEndpoint', 'spec.ipv6Gateway', '10.0.0.1', 'ipv6'],
  ['WorkloadEndpoint', 'spec.profiles.0', 'P', 'name'],
  ['WorkloadEndpoint', 'spec.interfaceName', 'cali 1', 'interface'],
  ['WorkloadEndpoint', 'spec.mac', 'ca:fe', 'mac'],
  ['WorkloadEndpoint', 'spec.ports.0.name', 'Http', 'portName'],
  ['WorkloadEndpoint', 'spec.ports.0.hostIP', '10.0.0.1/8', 'net'],
  ['WorkloadEndpoint', 'spec.allowSpoofedSourcePrefixes.0', 'x', 'cidr'],
];

function build(kind: KindName): AnyResource {
  const b = BASE[kind]!;
  return structuredClone({
    apiVersion: 'projectcalico.org/v3', kind,
    metadata: { name: b.name ?? 'r1', ...(b.ns ? { namespace: b.ns } : {}) },
    spec: b.spec,
    ...(b.status ? { status: b.status } : {}),
  }) as AnyResource;
}

function setPath(root: Obj, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Obj | unknown[] = root;
  parts.forEach((p, i) => {
    const key: string | number = /^\d+$/.test(p) ? Number(p) : p;
    const last = i === parts.length - 1;
    const c = cur as Record<string | number, unknown>;
    if (last) {
      c[key] = value;
      return;
    }
    if (c[key] === undefined || c[key] === null) c[key] = /^\d+$/.test(parts[i + 1]!) ? [] : {};
    cur = c[key] as Obj;
  });
}

const toErrorPath = (p: string) => p.replace(/\.(\d+)(?=\.|$)/g, '[$1]');

for (const kind of Object.keys(BASE) as KindName[]) {
  void test(`Go validators: base ${kind} is valid`, () => {
    assert.deepEqual(validate(build(kind)), []);
  });
}

for (const [kind, path, bad, tag] of FIELDS) {
  void test(`Go validators: ${kind} ${path} (${tag}) rejects ${JSON.stringify(bad)}`, () => {
    const res = build(kind);
    setPath(res as unknown as Obj, path, bad);
    const errors = validate(res);
    const want = toErrorPath(path);
    const parent = want.replace(/\[\d+\]$/, '');
    assert.ok(
      errors.some((e) => e.path === want || e.path === parent || e.path.startsWith(`${want}[`) || e.path.startsWith(`${want}.`)),
      `expected an error at ${want}; got ${JSON.stringify(errors.map((e) => `${e.path}: ${e.message}`))}`,
    );
  });
}
