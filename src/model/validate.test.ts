// Table tests for Calico's validation rules: each rule has valid and invalid cases, and each
// invalid case names the field path and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, applyDefaults } from './validate.ts';
import type { AnyResource } from './types.ts';
import type { KindName } from './kinds.ts';

function res(kind: KindName, spec: Record<string, unknown>, name = 'r1', extra: Record<string, unknown> = {}): AnyResource {
  const namespaced = kind === 'NetworkPolicy' || kind === 'NetworkSet' || kind === 'WorkloadEndpoint' || kind === 'StagedNetworkPolicy';
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(namespaced ? { namespace: 'default' } : {}) }, spec, ...extra } as AnyResource;
}
const rule = (r: Record<string, unknown>) => res('GlobalNetworkPolicy', { ingress: [{ action: 'Allow', ...r }] });
const egressRule = (r: Record<string, unknown>) => res('GlobalNetworkPolicy', { egress: [{ action: 'Allow', ...r }] });

interface Case {
  name: string;
  r: AnyResource;
  /** undefined: valid. Otherwise [path, message regex] pairs that must all be reported. */
  err?: [string, RegExp][];
}

const cases: Case[] = [
  // --- protocols
  { name: 'protocol names are case-sensitive', r: rule({ protocol: 'TCP' }) },
  { name: 'protocol lower case', r: rule({ protocol: 'tcp' }), err: [['spec.ingress[0].protocol', /^expected TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255/]] },
  { name: 'protocol number', r: rule({ protocol: 132 }) },
  { name: 'protocol numeric string', r: rule({ protocol: '17' }) },
  { name: 'protocol 0', r: rule({ protocol: 0 }), err: [['spec.ingress[0].protocol', /number 1-255/]] },
  { name: 'protocol 256', r: rule({ protocol: 256 }), err: [['spec.ingress[0].protocol', /number 1-255/]] },
  { name: 'notProtocol UDPLite', r: rule({ notProtocol: 'UDPLite' }) },
  { name: 'notProtocol bad', r: rule({ notProtocol: 'Udp' }), err: [['spec.ingress[0].notProtocol', /expected TCP/]] },
  // --- ports
  { name: 'numeric ports with TCP', r: rule({ protocol: 'TCP', destination: { ports: [80, '8000:8080'] } }) },
  { name: 'numeric port without protocol', r: rule({ destination: { ports: [80] } }), err: [['spec.ingress[0].destination.ports', /must set protocol to TCP or UDP or SCTP/]] },
  { name: 'named port without protocol', r: rule({ destination: { ports: ['http'] } }) },
  { name: 'ports with ICMP', r: rule({ protocol: 'ICMP', source: { notPorts: ['http'] } }), err: [['spec.ingress[0].source.notPorts', /rules that specify ports must set protocol/]] },
  { name: 'port 0', r: rule({ protocol: 'UDP', destination: { ports: [0] } }), err: [['spec.ingress[0].destination.ports[0]', /between 1 and 65535/]] },
  { name: 'reversed range', r: rule({ protocol: 'UDP', destination: { ports: ['90:80'] } }), err: [['spec.ingress[0].destination.ports[0]', /minimum port number \(90\) is greater than maximum port number \(80\) in port range/]] },
  { name: 'port 65536', r: rule({ protocol: 'SCTP', destination: { ports: [65536] } }), err: [['spec.ingress[0].destination.ports[0]', /between 1 and 65535/]] },
  // --- ICMP
  { name: 'icmp type/code', r: rule({ protocol: 'ICMP', icmp: { type: 8, code: 0 } }) },
  { name: 'icmp code without type', r: rule({ protocol: 'ICMP', icmp: { code: 1 } }), err: [['spec.ingress[0].icmp.code', /without an ICMP type/]] },
  { name: 'icmp type 255', r: rule({ protocol: 'ICMP', icmp: { type: 255 } }), err: [['spec.ingress[0].icmp.type', /between 0 and 254/]] },
  { name: 'icmp without protocol', r: rule({ icmp: { type: 8 } }), err: [['spec.ingress[0].icmp', /require protocol to be ICMP or ICMPv6/]] },
  { name: 'ICMP with ipVersion 6', r: rule({ protocol: 'ICMP', ipVersion: 6 }), err: [['spec.ingress[0].protocol', /ICMP requires ipVersion 4/]] },
  { name: 'ICMPv6 with ipVersion 4', r: rule({ protocol: 58, ipVersion: 4 }), err: [['spec.ingress[0].protocol', /ICMPv6 requires ipVersion 6/]] },
  { name: 'ICMPv6 with ipVersion 6', r: rule({ protocol: 'ICMPv6', ipVersion: 6, icmp: { type: 128 } }) },
  { name: 'ipVersion 5', r: rule({ ipVersion: 5 }), err: [['spec.ingress[0].ipVersion', /expected 4 or 6/]] },
  // --- nets
  { name: 'nets of one family', r: rule({ source: { nets: ['10.0.0.0/8'] }, destination: { notNets: ['10.1.0.0/16'] } }) },
  { name: 'mixed families', r: rule({ source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/64'] } }), err: [['spec.ingress[0].destination.nets', /both IPv4 and IPv6/]] },
  { name: 'nets vs ipVersion', r: rule({ ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }), err: [['spec.ingress[0].source.nets', /IP version doesn't match/]] },
  { name: 'nets need a prefix', r: rule({ source: { nets: ['10.0.0.1'] } }), err: [['spec.ingress[0].source.nets[0]', /expected a CIDR/]] },
  { name: 'nets must be masked', r: rule({ source: { nets: ['10.0.0.1/8'] } }), err: [['spec.ingress[0].source.nets[0]', /host bits set/]] },
  { name: 'catch-all notNets', r: rule({ destination: { notNets: ['0.0.0.0/0'] } }), err: [['spec.ingress[0].destination.notNets[0]', /catch-all/]] },
  { name: 'catch-all notNets v6', r: rule({ destination: { notNets: ['::/0'] } }), err: [['spec.ingress[0].destination.notNets[0]', /catch-all/]] },
  // --- selectors
  { name: 'bad selector', r: rule({ source: { selector: 'a ==' } }), err: [['spec.ingress[0].source.selector', /invalid selector "a =="/]] },
  { name: 'global() in namespaceSelector', r: res('NetworkPolicy', { ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }] }) },
  { name: 'global() combined', r: rule({ source: { namespaceSelector: 'global() && a == "b"' } }), err: [['spec.ingress[0].source.namespaceSelector', /cannot be combined/]] },
  { name: 'global() in selector', r: rule({ source: { selector: 'global()' } }), err: [['spec.ingress[0].source.selector', /only be used in an EntityRule namespaceSelector/]] },
  { name: 'global() in policy selector', r: res('GlobalNetworkPolicy', { selector: 'global()' }), err: [['spec.selector', /only be used/]] },
  { name: 'policy selector bad', r: res('GlobalNetworkPolicy', { selector: "role == 'x" }), err: [['spec.selector', /invalid selector/]] },
  // --- services, http, action
  { name: 'bad action', r: rule({ action: 'allow' }), err: [['spec.ingress[0].action', /expected Allow, Deny, Log or Pass/]] },
  { name: 'action required', r: res('GlobalNetworkPolicy', { ingress: [{ protocol: 'TCP' }] }), err: [['spec.ingress[0].action', /required/]] },
  { name: 'services in egress destination', r: egressRule({ destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }) },
  { name: 'services without namespace in GNP', r: egressRule({ destination: { services: { name: 'kube-dns' } } }), err: [['spec.egress[0].destination.services.namespace', /must specify a namespace/]] },
  { name: 'services with ports', r: egressRule({ protocol: 'TCP', destination: { services: { name: 's', namespace: 'n' }, ports: [53] } }), err: [['spec.egress[0].destination', /ports and notPorts cannot be specified with services/]] },
  { name: 'services with nets', r: egressRule({ destination: { services: { name: 's', namespace: 'n' }, nets: ['10.0.0.0/8'] } }), err: [['spec.egress[0].destination.services', /nets\/notNets and services/]] },
  { name: 'services in ingress destination', r: rule({ destination: { services: { name: 's', namespace: 'n' } } }), err: [['spec.ingress[0].destination.services', /not allowed in ingress rule destination/]] },
  { name: 'http on Allow', r: rule({ protocol: 'TCP', http: { methods: ['GET'], paths: [{ prefix: '/api' }] } }) },
  { name: 'http on Deny', r: rule({ action: 'Deny', http: { methods: ['GET'] } }), err: [['spec.ingress[0].http', /only valid on Allow/]] },
  { name: 'http with UDP', r: rule({ protocol: 'UDP', http: { methods: ['GET'] } }), err: [['spec.ingress[0].http', /protocol TCP or unset/]] },
  { name: 'http in egress', r: egressRule({ http: { methods: ['GET'] } }), err: [['spec.egress[0].http', /not allowed in egress/]] },
  { name: 'http path both', r: rule({ http: { paths: [{ exact: '/a', prefix: '/b' }] } }), err: [['spec.ingress[0].http.paths[0]', /both 'exact' and 'prefix'/]] },
  { name: 'http path no slash', r: rule({ http: { paths: [{ exact: 'a' }] } }), err: [['spec.ingress[0].http.paths[0]', /must start with "\/"/]] },
  { name: 'http duplicate methods', r: rule({ http: { methods: ['GET', 'GET'] } }), err: [['spec.ingress[0].http.methods', /duplicates/]] },
  // --- GNP flags, types, names
  { name: 'preDNAT needs applyOnForward', r: res('GlobalNetworkPolicy', { preDNAT: true }), err: [['spec.applyOnForward', /must be true/]] },
  { name: 'preDNAT ok', r: res('GlobalNetworkPolicy', { preDNAT: true, applyOnForward: true }) },
  { name: 'preDNAT with egress', r: res('GlobalNetworkPolicy', { preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }), err: [['spec.egress', /preDNAT policy cannot have any egress rules/], ['spec.types', /cannot have 'Egress' type/]] },
  { name: 'preDNAT and doNotTrack', r: res('GlobalNetworkPolicy', { preDNAT: true, doNotTrack: true, applyOnForward: true }), err: [['spec', /cannot both be true/]] },
  { name: 'duplicate types', r: res('GlobalNetworkPolicy', { types: ['Ingress', 'Ingress'] }), err: [['spec.types[1]', /duplicate value "Ingress"|specified more than once/]] },
  { name: 'bad type', r: res('GlobalNetworkPolicy', { types: ['ingress'] }), err: [['spec.types[0]', /expected Ingress or Egress/]] },
  { name: 'GNP name one dot', r: res('GlobalNetworkPolicy', {}, 'security.allow-dns') },
  { name: 'GNP name two dots', r: res('GlobalNetworkPolicy', {}, 'a.b.c'), err: [['metadata.name', /invalid policy name "a.b.c"/]] },
  { name: 'NP knp.default prefix', r: res('NetworkPolicy', {}, 'knp.default.a.b.c') },
  { name: 'NP name upper case', r: res('NetworkPolicy', {}, 'Allow'), err: [['metadata.name', /invalid/]] },
  { name: 'tier name is a name', r: res('GlobalNetworkPolicy', { tier: 'Bad_Tier' }), err: [['spec.tier', /not a valid name/]] },
  { name: 'policy in tier without prefix (current Calico)', r: res('GlobalNetworkPolicy', { tier: 'security' }, 'allow-dns') },
  { name: 'order is a number', r: res('GlobalNetworkPolicy', { order: 'first' }), err: [['spec.order', /expected a number, got string "first"/]] },
  { name: 'unknown field', r: res('GlobalNetworkPolicy', { ingres: [] }), err: [['spec.ingres', /unknown field "ingres"/]] },
  { name: 'unknown nested field', r: rule({ source: { selectr: 'a' } }), err: [['spec.ingress[0].source.selectr', /unknown field/]] },
  { name: 'namespace on a cluster kind', r: { ...res('GlobalNetworkPolicy', {}), metadata: { name: 'x', namespace: 'ns' } }, err: [['metadata.namespace', /not namespaced/]] },
  { name: 'staged delete with fields', r: res('StagedGlobalNetworkPolicy', { stagedAction: 'Delete', selector: 'a == "b"' }), err: [['spec', /should all be empty if stagedAction is Delete/]] },
  { name: 'staged delete', r: res('StagedGlobalNetworkPolicy', { stagedAction: 'Delete', tier: 'default' }) },
  // --- tiers
  { name: 'tier name with dot', r: res('Tier', {}, 'a.b'), err: [['metadata.name', /DNS label/]] },
  { name: 'default tier defaults are valid', r: res('Tier', {}, 'default') },
  { name: 'default tier Pass', r: res('Tier', { defaultAction: 'Pass' }, 'default'), err: [['spec.defaultAction', /'default' tier must have default action 'Deny'/]] },
  { name: 'tier action Allow', r: res('Tier', { defaultAction: 'Allow' }, 't1'), err: [['spec.defaultAction', /expected Deny or Pass/]] },
  { name: 'kube-admin needs Pass and 1000', r: res('Tier', {}, 'kube-admin'), err: [['spec.defaultAction', /'Pass'/], ['spec.order', /1000/]] },
  // --- metadata
  { name: 'name required', r: { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {}, spec: { cidr: '10.0.0.0/16' } } as AnyResource, err: [['metadata.name', /required/]] },
  { name: 'bad name', r: res('IPPool', { cidr: '10.0.0.0/16' }, 'Pool_1'), err: [['metadata.name', /invalid name "Pool_1"/]] },
  { name: 'bad label key', r: { ...res('IPPool', { cidr: '10.0.0.0/16' }), metadata: { name: 'p', labels: { 'a b': 'x' } } }, err: [['metadata.labels["a b"]', /invalid label key/]] },
  { name: 'bad label value', r: { ...res('IPPool', { cidr: '10.0.0.0/16' }), metadata: { name: 'p', labels: { a: '-x' } } }, err: [['metadata.labels["a"]', /invalid label value/]] },
  { name: 'annotations too big', r: { ...res('IPPool', { cidr: '10.0.0.0/16' }), metadata: { name: 'p', annotations: { a: 'x'.repeat(256 * 1024) } } }, err: [['metadata.annotations', /too large by 1 bytes/]] },
  // --- IPPool
  { name: 'pool ok', r: res('IPPool', { cidr: '198.18.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true }) },
  { name: 'pool v6 ok', r: res('IPPool', { cidr: 'fd00:198:18::/48', vxlanMode: 'Always' }) },
  { name: 'pool not masked', r: res('IPPool', { cidr: '10.0.0.1/16' }), err: [['spec.cidr', /not strictly masked/]] },
  { name: 'pool needs prefix', r: res('IPPool', { cidr: '10.0.0.0' }), err: [['spec.cidr', /CIDR/]] },
  { name: 'pool cidr required', r: res('IPPool', {}), err: [['spec.cidr', /required/]] },
  { name: 'pool blockSize v4', r: res('IPPool', { cidr: '10.0.0.0/16', blockSize: 19 }), err: [['spec.blockSize', /between 20 and 32/]] },
  { name: 'pool blockSize v6', r: res('IPPool', { cidr: 'fd00::/64', blockSize: 32 }), err: [['spec.blockSize', /between 116 and 128/]] },
  { name: 'pool smaller than block', r: res('IPPool', { cidr: '10.0.0.0/28' }), err: [['spec.cidr', /too small/]] },
  { name: 'disabled pool smaller than block', r: res('IPPool', { cidr: '10.0.0.0/28', disabled: true }) },
  { name: 'pool link-local', r: res('IPPool', { cidr: '169.254.0.0/16' }), err: [['spec.cidr', /link local/]] },
  { name: 'pool containing link-local', r: res('IPPool', { cidr: '128.0.0.0/1' }), err: [['spec.cidr', /link local/]] },
  { name: 'pool v6 link-local', r: res('IPPool', { cidr: 'fe80::/64' }), err: [['spec.cidr', /fe80::\/10/]] },
  { name: 'IPIP on v6', r: res('IPPool', { cidr: 'fd00::/64', ipipMode: 'Always' }), err: [['spec.ipipMode', /not supported on IPv6/]] },
  { name: 'IPIP and VXLAN', r: res('IPPool', { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), err: [['spec', /cannot both be enabled/]] },
  { name: 'ipipMode enum', r: res('IPPool', { cidr: '10.0.0.0/16', ipipMode: 'always' }), err: [['spec.ipipMode', /expected Never, Always or CrossSubnet/]] },
  { name: 'LoadBalancer with workload', r: res('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] }), err: [['spec.allowedUses', /cannot be combined/]] },
  { name: 'pool nodeSelector global()', r: res('IPPool', { cidr: '10.0.0.0/16', nodeSelector: 'global()' }), err: [['spec.nodeSelector', /global\(\)/]] },
  // --- BGPPeer
  { name: 'peer with port', r: res('BGPPeer', { peerIP: '10.0.0.1:1790', asNumber: 64512 }) },
  { name: 'peer v6 with port', r: res('BGPPeer', { peerIP: '[fd00::1]:179', asNumber: 64512 }) },
  { name: 'peer bad IP', r: res('BGPPeer', { peerIP: '10.0.0.300', asNumber: 64512 }), err: [['spec.peerIP', /expected an IP address, IPv4:port or \[IPv6\]:port/]] },
  { name: 'peer port 0', r: res('BGPPeer', { peerIP: '10.0.0.1:0' }), err: [['spec.peerIP', /port 1-65535/]] },
  { name: 'peerSelector with asNumber', r: res('BGPPeer', { peerSelector: 'all()', asNumber: 64512 }), err: [['spec.asNumber', /must be empty when peerSelector is set/]] },
  { name: 'peerIP and peerSelector', r: res('BGPPeer', { peerIP: '10.0.0.1', peerSelector: 'all()' }), err: [['spec', /peerIP and peerSelector cannot both be set/]] },
  { name: 'node and nodeSelector', r: res('BGPPeer', { node: 'n1', nodeSelector: 'all()', peerIP: '10.0.0.1' }), err: [['spec', /node and nodeSelector/]] },
  { name: 'keepOriginalNextHop and nextHopMode', r: res('BGPPeer', { peerIP: '10.0.0.1', keepOriginalNextHop: true, nextHopMode: 'Keep' }), err: [['spec', /keepOriginalNextHop and nextHopMode cannot both be set/]] },
  { name: 'reachableBy family', r: res('BGPPeer', { peerIP: '10.0.0.1', reachableBy: 'fd00::1' }), err: [['spec.reachableBy', /family mismatched/]] },
  { name: 'dotted AS number', r: res('BGPPeer', { peerIP: '10.0.0.1', asNumber: '1.10' }) },
  { name: '4-byte AS number', r: res('BGPPeer', { peerIP: '10.0.0.1', asNumber: 4200000000 }) },
  { name: 'AS number too big', r: res('BGPPeer', { peerIP: '10.0.0.1', asNumber: 4294967296 }), err: [['spec.asNumber', /AS number/]] },
  { name: 'localWorkloadSelector needs asNumber', r: res('BGPPeer', { localWorkloadSelector: 'all()' }), err: [['spec.asNumber', /required when localWorkloadSelector/]] },
  // --- BGPConfiguration
  { name: 'bgp config ok', r: res('BGPConfiguration', { asNumber: 64512, nodeToNodeMeshEnabled: true, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }, 'default') },
  { name: 'bgp listenPort 0 means unset (Go omitempty)', r: res('BGPConfiguration', { listenPort: 0 }, 'default') },
  { name: 'bgp listenPort too big', r: res('BGPConfiguration', { listenPort: 70000 }, 'default'), err: [['spec.listenPort', /between 0 and 65535|between 1 and 65535/]] },
  { name: 'bgp config non-default', r: res('BGPConfiguration', { asNumber: 64512 }, 'node.n1'), err: [['spec.asNumber', /non default BGP Configuration/]] },
  { name: 'bgp config non-default restart time', r: res('BGPConfiguration', { nodeMeshMaxRestartTime: '120s' }, 'node.n1'), err: [['spec.nodeMeshMaxRestartTime', /non default BGP Configuration/]] },
  { name: 'bgp config masked cidr', r: res('BGPConfiguration', { serviceClusterIPs: [{ cidr: '10.96.0.1/12' }] }, 'default'), err: [['spec.serviceClusterIPs[0].cidr', /host bits/]] },
  { name: 'communities unused', r: res('BGPConfiguration', { communities: [{ name: 'c', value: '100:200' }] }, 'default'), err: [['spec.communities', /not used/]] },
  { name: 'community value bits', r: res('BGPConfiguration', { communities: [{ name: 'c', value: '65536:1' }], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c'] }] }, 'default'), err: [['spec.communities[0].value', /16 bit/]] },
  { name: 'undefined community', r: res('BGPConfiguration', { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] }, 'default'), err: [['spec.prefixAdvertisements[0].communities[0]', /not defined/]] },
  { name: 'mesh password with mesh off', r: res('BGPConfiguration', { nodeToNodeMeshEnabled: false, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }, 'default'), err: [['spec.nodeMeshPassword', /nodeToNodeMeshEnabled is false/]] },
  { name: 'ignored interface *', r: res('BGPConfiguration', { ignoredInterfaces: ['*'] }, 'default'), err: [['spec.ignoredInterfaces[0]', /invalid interface pattern/]] },
  // --- BGPFilter
  { name: 'filter ok', r: res('BGPFilter', { exportV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In' }] }) },
  { name: 'filter cidr family', r: res('BGPFilter', { exportV4: [{ action: 'Accept', cidr: 'fd00::/64', matchOperator: 'In' }] }), err: [['spec.exportV4[0].cidr', /IPv4 CIDR/]] },
  { name: 'filter cidr without operator', r: res('BGPFilter', { importV6: [{ action: 'Reject', cidr: 'fd00::/64' }] }), err: [['spec.importV6[0]', /both be set or both be empty/]] },
  { name: 'filter operations on Reject', r: res('BGPFilter', { exportV4: [{ action: 'Reject', operations: [{ prependASPath: { prefix: [65000] } }] }] }), err: [['spec.exportV4[0].operations', /only be used with action Accept/]] },
  // --- endpoints, sets, node
  { name: 'hep ok', r: res('HostEndpoint', { node: 'n1', interfaceName: 'eth0', expectedIPs: ['198.18.0.1'] }) },
  { name: 'hep needs node and iface', r: res('HostEndpoint', {}), err: [['spec.node', /node must be specified/], ['spec', /interfaceName or expectedIPs/]] },
  { name: 'hep port protocol', r: res('HostEndpoint', { node: 'n1', interfaceName: '*', ports: [{ name: 'http', protocol: 'ICMP', port: 80 }] }), err: [['spec.ports[0].protocol', /does not support ports/]] },
  { name: 'wep ok', r: res('WorkloadEndpoint', { node: 'n1', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0', interfaceName: 'cali0123456789a', ipNetworks: ['10.0.0.1/32'], mac: 'ee:ee:ee:ee:ee:ee' }, 'n1-k8s-p-eth0') },
  { name: 'wep ipNetworks multi', r: res('WorkloadEndpoint', { interfaceName: 'cali1', ipNetworks: ['10.0.0.0/24'] }), err: [['spec.ipNetworks[0]', /multiple addresses/]] },
  { name: 'wep interface required', r: res('WorkloadEndpoint', { node: 'n1' }), err: [['spec.interfaceName', /required/]] },
  { name: 'networkset bare IP', r: res('GlobalNetworkSet', { nets: ['198.18.0.1', '10.0.0.0/8', 'fd00::/64'] }) },
  { name: 'networkset bad net', r: res('NetworkSet', { nets: ['10.0.0.0/33'] }), err: [['spec.nets[0]', /expected a CIDR/]] },
  { name: 'node ok', r: res('Node', { bgp: { ipv4Address: '10.0.0.1/24', asNumber: 64512 } }, 'node-1') },
  { name: 'node empty bgp', r: res('Node', { bgp: {} }, 'node-1'), err: [['spec.bgp', /should not be empty/]] },
  { name: 'node v6 in v4 field', r: res('Node', { bgp: { ipv4Address: 'fd00::1/64' } }, 'node-1'), err: [['spec.bgp.ipv4Address', /IPv4/]] },
  { name: 'node RR cluster id', r: res('Node', { bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: 'x' } }, 'node-1'), err: [['spec.bgp.routeReflectorClusterID', /IPv4 address/]] },
  { name: 'profile labelsToApply', r: res('Profile', { labelsToApply: { 'pcns.x': 'y' }, ingress: [{ action: 'Allow' }] }, 'kns.default') },
  { name: 'reservation needs prefix', r: res('IPReservation', { reservedCIDRs: ['10.0.0.1'] }), err: [['spec.reservedCIDRs[0]', /CIDR/]] },
  { name: 'felix natOutgoingAddress', r: res('FelixConfiguration', { natOutgoingAddress: 'fd00::1' }, 'default'), err: [['spec.natOutgoingAddress', /IPv4/]] },
  { name: 'felix nodeSelector on default', r: res('FelixConfiguration', { nodeSelector: 'all()' }, 'default'), err: [['spec.nodeSelector', /must not be set/]] },
  { name: 'felix routeTableRange', r: res('FelixConfiguration', { routeTableRange: { min: 0, max: 300 } }, 'default'), err: [['spec.routeTableRange', /1\.\.250/]] },
  { name: 'felix log level pattern (case-insensitive)', r: res('FelixConfiguration', { logSeverityScreen: 'debug' }, 'default') },
  { name: 'felix log level bad', r: res('FelixConfiguration', { logSeverityScreen: 'loud' }, 'default'), err: [['spec.logSeverityScreen', /does not match/]] },
  { name: 'felix regexp field', r: res('FelixConfiguration', { mtuIfacePattern: '(eth' }, 'default'), err: [['spec.mtuIfacePattern', /invalid regular expression/]] },
  { name: 'felix wireguard port', r: res('FelixConfiguration', { wireguardRoutingRulePriority: 32766 }, 'default'), err: [['spec.wireguardRoutingRulePriority', /between 1 and 32765/]] },
  { name: 'felix featureGates', r: res('FelixConfiguration', { featureGates: 'a=b,c' }, 'default'), err: [['spec.featureGates', /key=value/]] },
  { name: 'felix ok', r: res('FelixConfiguration', { featureGates: 'BPFConnectTimeLB=enabled', mtuIfacePattern: '^eth', wireguardInterfaceName: 'wg0', healthTimeoutOverrides: [{ name: 'int_dataplane', timeout: '30s' }] }, 'node.n1') },
  { name: 'block affinity deleted', r: res('BlockAffinity', { state: 'confirmed', node: 'n1', cidr: '10.0.0.0/26', deleted: true }), err: [['spec.deleted', /cannot be set/]] },
  { name: 'ipam config negative', r: res('IPAMConfiguration', { maxBlocksPerHost: -1 }, 'default'), err: [['spec.maxBlocksPerHost', /between 0 and 1000000|greater than or equal to 0/]] },
];

for (const c of cases) {
  void test(`validate: ${c.name}`, () => {
    const errors = validate(c.r);
    if (!c.err) {
      assert.deepEqual(errors, [], 'expected valid');
      return;
    }
    for (const [p, re] of c.err) {
      const hit = errors.find((e) => e.path === p && re.test(e.message));
      assert.ok(hit, `expected an error at ${p} matching ${String(re)}; got ${JSON.stringify(errors.map((e) => `${e.path}: ${e.message}`))}`);
    }
  });
}

void test('validate collects every error of a resource, not just the first', () => {
  const r = res('GlobalNetworkPolicy', { ingress: [{ action: 'Allow', protocol: 'tcp' }, { action: 'Deny', icmp: { code: 1 } }], bogus: 1 });
  const paths = validate(r).map((e) => e.path);
  assert.ok(paths.includes('spec.bogus') && paths.includes('spec.ingress[0].protocol') && paths.includes('spec.ingress[1].icmp.code'), JSON.stringify(paths));
});

void test('validate does not modify its input', () => {
  const r = res('IPPool', { cidr: '10.0.0.0/16' });
  const before = structuredClone(r);
  validate(r);
  assert.deepEqual(r, before);
});

// ---- defaults -----------------------------------------------------------------------------

void test('defaults: policy types from ingress/egress', () => {
  const types = (spec: Record<string, unknown>) => (applyDefaults(res('GlobalNetworkPolicy', spec)).spec as { types: string[] }).types;
  assert.deepEqual(types({}), ['Ingress']);
  assert.deepEqual(types({ ingress: [{ action: 'Allow' }] }), ['Ingress']);
  assert.deepEqual(types({ egress: [{ action: 'Allow' }] }), ['Egress']);
  assert.deepEqual(types({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }), ['Ingress', 'Egress']);
  assert.deepEqual(types({ types: ['Egress'], ingress: [{ action: 'Allow' }] }), ['Egress']);
  const np = applyDefaults(res('NetworkPolicy', { tier: 'security' }));
  assert.equal((np.spec as { tier: string }).tier, 'security');
  assert.equal(np.metadata.labels?.['projectcalico.org/tier'], 'security');
  const gnp = applyDefaults(res('GlobalNetworkPolicy', {}));
  assert.equal((gnp.spec as { tier: string }).tier, 'default');
  assert.equal(gnp.metadata.labels?.['projectcalico.org/tier'], 'default');
});

void test('defaults: IPPool', () => {
  const v4 = applyDefaults(res('IPPool', { cidr: '10.0.0.0/16' })).spec;
  assert.deepEqual(v4, {
    cidr: '10.0.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic',
  });
  const v6 = applyDefaults(res('IPPool', { cidr: 'FD00:0::/64', ipipMode: '', nodeSelector: '' })).spec as Record<string, unknown>;
  assert.equal(v6.blockSize, 122);
  assert.equal(v6.cidr, 'fd00::/64');
  assert.equal(v6.ipipMode, 'Never');
  assert.equal(v6.nodeSelector, 'all()');
  const kept = applyDefaults(res('IPPool', { cidr: '10.0.0.0/16', blockSize: 24, ipipMode: 'Always' })).spec as Record<string, unknown>;
  assert.equal(kept.blockSize, 24);
  assert.equal(kept.ipipMode, 'Always');
});

void test('defaults: Tier, IPAMConfiguration, BGPConfiguration, FelixConfiguration', () => {
  assert.deepEqual(applyDefaults(res('Tier', {}, 'security')).spec, { defaultAction: 'Deny', order: 1000000 });
  assert.deepEqual(applyDefaults(res('Tier', { defaultAction: 'Pass', order: 100 }, 'security')).spec, { defaultAction: 'Pass', order: 100 });
  assert.deepEqual(applyDefaults(res('IPAMConfiguration', {}, 'default')).spec, { autoAllocateBlocks: true, maxBlocksPerHost: 0, strictAffinity: false });
  const bgp = applyDefaults(res('BGPConfiguration', {}, 'default')).spec as Record<string, unknown>;
  assert.equal(bgp.logSeverityScreen, 'Info');
  assert.equal(bgp.serviceLoadBalancerAggregation, 'Enabled');
  const felix = applyDefaults(res('FelixConfiguration', {}, 'default')).spec as Record<string, unknown>;
  assert.equal(felix.floatingIPs, 'Disabled');
  assert.equal(felix.bpfConnectTimeLoadBalancing, 'TCP');
  // A resource without spec gets one.
  const noSpec = applyDefaults({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 't' } } as AnyResource);
  assert.deepEqual(noSpec.spec, { defaultAction: 'Deny', order: 1000000 });
});

void test('defaults and checks: KubeControllersConfiguration', () => {
  const d = applyDefaults(res('KubeControllersConfiguration', { controllers: { node: { hostEndpoint: { templates: [{ generateName: 't', interfaceCIDRs: ['10.0.0.0/8'] }] } } } }, 'default')).spec as Record<string, any>;
  assert.equal(d.prometheusMetricsPort, 9094);
  assert.equal(d.healthChecks, 'Enabled');
  assert.equal(d.controllers.node.leakGracePeriod, '15m0s');
  assert.equal(d.controllers.node.hostEndpoint.templates[0].nodeSelector, 'all()');
  // controllers is a Go struct: never missing as far as Calico is concerned.
  assert.deepEqual(validate(res('KubeControllersConfiguration', {}, 'default')), []);
  const bad = validate(res('KubeControllersConfiguration', { controllers: { node: { hostEndpoint: { templates: [{ generateName: 't' }, { generateName: 't', interfacePattern: 'eth.*' }] } } } }, 'default'));
  assert.ok(bad.some((e) => e.path === 'spec.controllers.node.hostEndpoint.templates[0]' && /interfaceCIDRs or interfacePattern/.test(e.message)), JSON.stringify(bad));
  assert.ok(bad.some((e) => e.path === 'spec.controllers.node.hostEndpoint.templates[1].generateName' && /unique/.test(e.message)), JSON.stringify(bad));
});

void test('named ports follow numorstring rules', () => {
  assert.deepEqual(validate(rule({ destination: { ports: ['http-alt', 'metrics.v2', 'A_b'] } })), []);
  const errs = validate(rule({ destination: { ports: ['bad name', 'a:b'] } }));
  assert.deepEqual(errs.map((e) => e.path), ['spec.ingress[0].destination.ports[0]', 'spec.ingress[0].destination.ports[1]']);
});

void test('wrong types for metadata and spec are reported, not crashed on', () => {
  const bad = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: 'p', spec: 7 } as unknown as AnyResource;
  const errs = validate(bad).map((e) => `${e.path}: ${e.message}`);
  assert.ok(errs.includes('metadata: expected an object, got string "p"'), JSON.stringify(errs));
  assert.ok(errs.includes('spec: expected an object, got 7'), JSON.stringify(errs));
});
