// Every CEL rule (x-kubernetes-validations) in Calico's CRDs has a re-implementation here: for
// each rule message, a resource that breaks exactly that rule must be rejected. A new upstream
// rule without an entry fails this test. Reads the CRDs at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { validate } from './validate.ts';
import type { AnyResource } from './types.ts';
import type { KindName } from './kinds.ts';

const CRD_DIR = path.resolve(import.meta.dirname, '../../../shared/calico-reference/crds');

const r = (kind: KindName, spec: Record<string, unknown>, name = 'r1', ns?: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec }) as AnyResource;
const gnpRule = (rule: Record<string, unknown>, dir: 'ingress' | 'egress' = 'ingress') => r('GlobalNetworkPolicy', { [dir]: [{ action: 'Allow', ...rule }] });
const svc = { name: 's', namespace: 'n' };

/** CEL message → a resource violating it. */
const VIOLATIONS: Record<string, AnyResource> = {
  'HTTP match is only valid on Allow rules': gnpRule({ action: 'Deny', http: { methods: ['GET'] } }),
  'ICMP code specified without an ICMP type': gnpRule({ protocol: 'ICMP', icmp: { code: 0 } }),
  'ICMP fields require protocol to be ICMP or ICMPv6': gnpRule({ protocol: 'TCP', icmp: { type: 8 } }),
  'IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()': r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], nodeSelector: 'a == "b"' }),
  'IP Pool with AllowedUse Tunnel cannot have namespaceSelector': r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['Tunnel'], namespaceSelector: 'a == "b"' }),
  'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.': r('IPPool', { cidr: '10.0.0.0/27' }),
  'IPIP is not supported on IPv6 pools': r('IPPool', { cidr: 'fd00::/64', ipipMode: 'CrossSubnet' }),
  'IPPool CIDR must be strictly masked': r('IPPool', { cidr: '10.0.0.1/16' }),
  'IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16': r('IPPool', { cidr: '169.254.10.0/24' }),
  'IPPool CIDR overlaps with IPv6 link local range fe80::/10': r('IPPool', { cidr: 'fe80:1::/64' }),
  'LoadBalancer IP pool cannot have IPIP or VXLAN enabled': r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }),
  'LoadBalancer IP pools cannot disable BGP export': r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], disableBGPExport: true }),
  'LoadBalancer cannot be combined with Workload or Tunnel allowed uses': r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Tunnel'] }),
  "The 'default' tier must have default action 'Deny'": r('Tier', { defaultAction: 'Pass', order: 1000000 }, 'default'),
  "The 'kube-admin' tier must have default action 'Pass'": r('Tier', { defaultAction: 'Deny', order: 1000 }, 'kube-admin'),
  "The 'kube-baseline' tier must have default action 'Pass'": r('Tier', { defaultAction: 'Deny', order: 10000000 }, 'kube-baseline'),
  'applyOnForward must be true if either preDNAT or doNotTrack is true': r('GlobalNetworkPolicy', { doNotTrack: true }),
  'asNumber is required when localWorkloadSelector is set': r('BGPPeer', { localWorkloadSelector: 'all()' }),
  'asNumber must be empty when peerSelector is set': r('BGPPeer', { peerSelector: 'all()', asNumber: 65000 }),
  'at least one of interfaceName or expectedIPs must be specified': r('HostEndpoint', { node: 'n1' }),
  'blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools': r('IPPool', { cidr: '10.0.0.0/8', blockSize: 33 }),
  'cannot specify NamespaceSelector and Services on the same rule': gnpRule({ destination: { services: svc, namespaceSelector: 'all()' } }, 'egress'),
  'cannot specify Nets/NotNets and Services on the same rule': gnpRule({ destination: { services: svc, notNets: ['10.0.0.0/8'] } }, 'egress'),
  'cannot specify Selector/NotSelector and Services on the same rule': gnpRule({ destination: { services: svc, notSelector: 'a == "b"' } }, 'egress'),
  'cannot specify ServiceAccounts and Services on the same rule': gnpRule({ destination: { services: svc, serviceAccounts: { names: ['sa'] } } }, 'egress'),
  'cidr and matchOperator must both be set or both be empty': r('BGPFilter', { importV4: [{ action: 'Accept', matchOperator: 'In' }] }),
  'cidr is required when prefixLength is set': r('BGPFilter', { exportV6: [{ action: 'Accept', prefixLength: { min: 64 } }] }),
  'communities are defined but not used in prefixAdvertisements': r('BGPConfiguration', { communities: [{ name: 'c', value: '1:1' }] }, 'default'),
  'default tier order must be 1000000': r('Tier', { order: 5 }, 'default'),
  'deviceRouteSourceAddress must be a valid IPv4 address': r('FelixConfiguration', { deviceRouteSourceAddress: 'fd00::1' }, 'default'),
  'deviceRouteSourceAddressIPv6 must be a valid IPv6 address': r('FelixConfiguration', { deviceRouteSourceAddressIPv6: '10.0.0.1' }, 'default'),
  'global() can only be used in an EntityRule namespaceSelector': gnpRule({ source: { selector: 'global()' } }),
  'global() selector is not valid for IPPool namespaceSelector': r('IPPool', { cidr: '10.0.0.0/16', namespaceSelector: 'global()' }),
  'global() selector is not valid for IPPool nodeSelector': r('IPPool', { cidr: '10.0.0.0/16', nodeSelector: 'global()' }),
  'ipipMode and vxlanMode cannot both be enabled': r('IPPool', { cidr: '10.0.0.0/16', ipipMode: 'CrossSubnet', vxlanMode: 'CrossSubnet' }),
  'keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is deprecated, use nextHopMode instead': r('BGPPeer', { peerIP: '10.0.0.1', keepOriginalNextHop: true, nextHopMode: 'Self' }),
  'kube-admin tier order must be 1000': r('Tier', { defaultAction: 'Pass', order: 1 }, 'kube-admin'),
  'kube-baseline tier order must be 10000000': r('Tier', { defaultAction: 'Pass', order: 1 }, 'kube-baseline'),
  'min must be >= 1': r('FelixConfiguration', { routeTableRanges: [{ min: 0, max: 10 }] }, 'default'),
  'min must not be greater than max': r('FelixConfiguration', { routeTableRanges: [{ min: 20, max: 10 }] }, 'default'),
  'must be a range of route table indices within 1..250': r('FelixConfiguration', { routeTableRange: { min: 1, max: 251 } }, 'default'),
  'natOutgoingAddress must be a valid IPv4 address': r('FelixConfiguration', { natOutgoingAddress: 'nope' }, 'default'),
  'node and nodeSelector cannot both be set': r('BGPPeer', { node: 'n1', nodeSelector: 'all()', peerIP: '10.0.0.1' }),
  'node must be specified': r('HostEndpoint', { interfaceName: 'eth0' }),
  'nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false': r('BGPConfiguration', { nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: '120s' }, 'default'),
  'nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false': r('BGPConfiguration', { nodeToNodeMeshEnabled: false, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }, 'default'),
  "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration": r('FelixConfiguration', { nodeSelector: 'all()' }, 'node.n1'),
  'operations may only be used with action Accept': r('BGPFilter', { importV4: [{ action: 'Reject', operations: [{ setPriority: { value: 10 } }] }] }),
  'peerIP and peerSelector cannot both be set': r('BGPPeer', { peerIP: '10.0.0.1', peerSelector: 'all()' }),
  'peerIP must be empty when localWorkloadSelector is set': r('BGPPeer', { localWorkloadSelector: 'all()', peerIP: '10.0.0.1', asNumber: 65000 }),
  'peerSelector must be empty when localWorkloadSelector is set': r('BGPPeer', { localWorkloadSelector: 'all()', peerSelector: 'all()', asNumber: 65000 }),
  'ports and notPorts cannot be specified with services': gnpRule({ protocol: 'TCP', destination: { services: svc, notPorts: [80] } }, 'egress'),
  'preDNAT and doNotTrack cannot both be true': r('GlobalNetworkPolicy', { preDNAT: true, doNotTrack: true, applyOnForward: true }),
  "preDNAT policy cannot have 'Egress' type": r('GlobalNetworkPolicy', { preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }),
  'preDNAT policy cannot have any egress rules': r('GlobalNetworkPolicy', { preDNAT: true, applyOnForward: true, types: ['Ingress'], egress: [{ action: 'Allow' }] }),
  'protocol ICMP requires ipVersion 4': gnpRule({ notProtocol: 'ICMP', ipVersion: 6 }),
  'protocol ICMPv6 requires ipVersion 6': gnpRule({ notProtocol: 58, ipVersion: 4 }),
  'reachableBy must be empty when peerIP is empty': r('BGPPeer', { peerSelector: 'all()', reachableBy: '10.0.0.1' }),
  'routeTableRange and routeTableRanges cannot both be set': r('FelixConfiguration', { routeTableRange: { min: 1, max: 10 }, routeTableRanges: [{ min: 20, max: 30 }] }, 'default'),
  'rules with HTTP match must have protocol TCP or unset': gnpRule({ protocol: 'UDP', http: { paths: [{ prefix: '/' }] } }),
  'services must specify a service name': gnpRule({ destination: { services: { namespace: 'n' } } }, 'egress'),
};

/** CEL rules that compare against the previous object: checked on update by the datastore. */
const UPDATE_ONLY: Record<string, string> = {
  'Block size cannot be changed; follow IP pool migration guide to avoid corruption.': 'transition rule (self == oldSelf)',
  'CIDR cannot be changed; follow IP pool migration guide to avoid corruption.': 'transition rule (self == oldSelf)',
};

function celMessages(): Set<string> {
  const out = new Set<string>();
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    for (const v of (o['x-kubernetes-validations'] as { message?: string }[] | undefined) ?? []) if (v.message) out.add(v.message.replace(/\s+/g, ' ').trim());
    for (const v of Object.values((o.properties as Record<string, unknown> | undefined) ?? {})) walk(v);
    walk(o.items);
  };
  for (const f of readdirSync(CRD_DIR).filter((x) => x.endsWith('.yaml'))) {
    const crd = parse(readFileSync(path.join(CRD_DIR, f), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } };
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema);
  }
  return out;
}

void test('every CEL rule of Calico\'s CRDs is enforced', (t) => {
  if (!existsSync(CRD_DIR)) {
    console.log(`skipped: Calico CRDs not found at ${CRD_DIR}`);
    t.skip('CRDs missing');
    return;
  }
  const messages = celMessages();
  const missing = [...messages].filter((m) => !(m in VIOLATIONS) && !(m in UPDATE_ONLY));
  assert.deepEqual(missing, [], 'CEL rules without a re-implementation test');
  for (const [msg, res] of Object.entries(VIOLATIONS)) {
    assert.ok(messages.has(msg), `stale entry (no longer in the CRDs): ${msg}`);
    const errors = validate(res);
    assert.ok(errors.length > 0, `not rejected: ${msg}`);
    // ... and for that reason: most of the rule message's words appear in one of the errors.
    const words = msg.toLowerCase().split(/[^a-z0-9()/.:*-]+/).filter((w) => w.length >= 4);
    const best = Math.max(...errors.map((e) => words.filter((w) => `${e.path} ${e.message}`.toLowerCase().includes(w)).length / words.length));
    assert.ok(best >= 0.5, `rejected for another reason: ${msg}: ${JSON.stringify(errors.map((e) => e.message))}`);
  }
  console.log(`CEL coverage: ${messages.size} rules, ${Object.keys(VIOLATIONS).length} enforced and tested, ${Object.keys(UPDATE_ONLY).length} update-only`);
});

void test('the CEL violation fixtures are valid once the one violated rule is fixed', () => {
  // Spot-check that the fixtures do not fail for an unrelated reason.
  const fixed: [AnyResource, string][] = [
    [r('IPPool', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'] }), 'LoadBalancer pool'],
    [r('BGPPeer', { localWorkloadSelector: 'all()', asNumber: 65000 }), 'local workload peer'],
    [r('HostEndpoint', { node: 'n1', interfaceName: 'eth0' }), 'host endpoint'],
    [r('Tier', { defaultAction: 'Pass', order: 1000 }, 'kube-admin'), 'kube-admin tier'],
    [gnpRule({ destination: { services: svc } }, 'egress'), 'service rule'],
    [r('BGPFilter', { exportV6: [{ action: 'Accept', cidr: 'fd00::/64', matchOperator: 'In', prefixLength: { min: 64 } }] }), 'filter'],
    [r('FelixConfiguration', { routeTableRanges: [{ min: 1, max: 10 }] }, 'default'), 'route table ranges'],
  ];
  for (const [res, what] of fixed) assert.deepEqual(validate(res), [], what);
});
