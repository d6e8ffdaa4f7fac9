import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFor, keyForResource, parseKey, keyPrefix, blockAffinityKey, cidrToName, nameToCIDR, IPAM_CONFIG_KEY } from './keys.ts';
import { KINDS, KIND_NAMES, lookupKind, kindForList } from './kinds.ts';
import { ModelError } from './errors.ts';
import { formatCIDR } from '../lib/index.ts';

void test('lookupKind accepts kinds, plurals and calicoctl aliases case-insensitively', () => {
  const cases: [string, string][] = [
    ['gnp', 'GlobalNetworkPolicy'], ['GlobalNetworkPolicy', 'GlobalNetworkPolicy'], ['globalnetworkpolicies', 'GlobalNetworkPolicy'],
    ['ipp', 'IPPool'], ['ippools', 'IPPool'], ['pools', 'IPPool'], ['IPPOOL', 'IPPool'], ['ippools.projectcalico.org', 'IPPool'],
    ['np', 'NetworkPolicy'], ['policy', 'NetworkPolicy'], ['pol', 'NetworkPolicy'], ['hep', 'HostEndpoint'], ['wep', 'WorkloadEndpoint'],
    ['bgpconfig', 'BGPConfiguration'], ['bp', 'BGPPeer'], ['bf', 'BGPFilter'], ['nodes', 'Node'], ['no', 'Node'], ['pro', 'Profile'],
    ['netsets', 'NetworkSet'], ['gnetsets', 'GlobalNetworkSet'], ['sknp', 'StagedKubernetesNetworkPolicy'], ['snp', 'StagedNetworkPolicy'],
    ['sgnp', 'StagedGlobalNetworkPolicy'], ['tier', 'Tier'], ['nodestatus', 'CalicoNodeStatus'], ['clusterinfo', 'ClusterInformation'],
    ['felixconfig', 'FelixConfiguration'], ['ipamconfig', 'IPAMConfiguration'], ['reservations', 'IPReservation'],
    ['kubecontrollersconfig', 'KubeControllersConfiguration'], ['ipamblocks', 'IPAMBlock'], ['blockaffinities', 'BlockAffinity'], ['ipamhandle', 'IPAMHandle'],
  ];
  for (const [alias, kind] of cases) assert.equal(lookupKind(alias)?.kind, kind, alias);
  assert.equal(lookupKind('service'), undefined);
  assert.equal(lookupKind('pod'), undefined);
  assert.equal(kindForList('IPPoolList')?.kind, 'IPPool');
  assert.equal(KIND_NAMES.length, 25);
  for (const k of KIND_NAMES) assert.equal(KINDS[k].plural, KINDS[k].plural.toLowerCase());
});

void test('keys for cluster and namespaced kinds, and back', () => {
  const cases: [string, string, string | undefined, string][] = [
    ['GlobalNetworkPolicy', 'default.allow-dns', undefined, '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-dns'],
    ['NetworkPolicy', 'default.allow', 'prod', '/calico/resources/v3/projectcalico.org/networkpolicies/prod/default.allow'],
    ['IPPool', 'pool-1', undefined, '/calico/resources/v3/projectcalico.org/ippools/pool-1'],
    ['BGPFilter', 'f1', undefined, '/calico/resources/v3/projectcalico.org/bgpfilters/f1'],
    ['Node', 'node-1', undefined, '/calico/resources/v3/projectcalico.org/nodes/node-1'],
    ['WorkloadEndpoint', 'n1-k8s-pod-eth0', 'default', '/calico/resources/v3/projectcalico.org/workloadendpoints/default/n1-k8s-pod-eth0'],
    ['Profile', 'kns.default', undefined, '/calico/resources/v3/projectcalico.org/profiles/kns.default'],
    ['IPAMConfiguration', 'default', undefined, '/calico/resources/v3/projectcalico.org/ipamconfigurations/default'],
    ['CalicoNodeStatus', 'n1', undefined, '/calico/resources/v3/projectcalico.org/caliconodestatuses/n1'],
    ['IPAMHandle', 'k8s-pod-network.abc', undefined, '/calico/ipam/v2/handle/k8s-pod-network.abc'],
  ];
  for (const [kind, name, ns, key] of cases) {
    assert.equal(keyFor(kind, name, ns), key);
    const p = parseKey(key);
    assert.equal(p.kind, kind);
    assert.equal(p.name, name);
    assert.equal(p.namespace, ns);
  }
});

void test('IPAM keys follow Calico etcd layout', () => {
  assert.equal(keyFor('IPAMBlock', '10.0.0.0/26'), '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
  assert.equal(keyFor('IPAMBlock', '10-0-0-64-26'), '/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26');
  assert.equal(keyFor('IPAMBlock', 'fd00-198-18---122'), '/calico/ipam/v2/assignment/ipv6/block/fd00:198:18::-122');
  assert.equal(blockAffinityKey('node-1', '10.0.0.0/26'), '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26');
  assert.equal(blockAffinityKey('vm1', 'fd00::/122', 'virtual'), '/calico/ipam/v2/virtual/vm1/ipv6/block/fd00::-122');
  assert.equal(keyForResource({ kind: 'BlockAffinity', spec: { node: 'n1', cidr: '10.1.0.0/26', state: 'confirmed' } }), '/calico/ipam/v2/host/n1/ipv4/block/10.1.0.0-26');
  assert.equal(keyForResource({ kind: 'IPAMHandle', metadata: { name: 'x' }, spec: { handleID: 'k8s-pod-network.X' } }), '/calico/ipam/v2/handle/k8s-pod-network.X');
  assert.deepEqual(parseKey('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26'), { kind: 'IPAMBlock', name: '10-0-0-0-26', cidr: '10.0.0.0/26' });
  assert.deepEqual(parseKey('/calico/ipam/v2/host/n1/ipv6/block/fd00::-122'), {
    kind: 'BlockAffinity', name: 'n1-fd00---122', cidr: 'fd00::/122', node: 'n1', affinityType: 'host',
  });
  assert.equal(IPAM_CONFIG_KEY, '/calico/ipam/v2/config');
  assert.equal(cidrToName('fd00:1::/122'), 'fd00-1---122');
  assert.equal(formatCIDR(nameToCIDR('fd00-1---122')!), 'fd00:1::/122');
  assert.equal(keyPrefix('NetworkPolicy', 'ns1'), '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/');
  assert.equal(keyPrefix('gnp'), '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/');
  assert.equal(keyPrefix('IPAMBlock'), '/calico/ipam/v2/assignment/');
});

void test('bad keys and arguments are ModelErrors with codes', () => {
  const bad = ['/calico/resources/v3/projectcalico.org/nosuch/x', '/calico/resources/v3/projectcalico.org/networkpolicies/x',
    '/calico/resources/v3/projectcalico.org/ippools/a/b', '/calico/ipam/v2/assignment/ipv4/block/fd00::-122', '/other/key', '/calico/ipam/v2/handle/'];
  for (const k of bad) assert.throws(() => parseKey(k), (e: unknown) => e instanceof ModelError && e.code === 'invalid-key', k);
  assert.throws(() => keyFor('NetworkPolicy', 'x'), (e: unknown) => e instanceof ModelError && e.code === 'invalid-argument' && /namespace is required/.test(e.message));
  assert.throws(() => keyFor('Service', 'x'), /unknown resource kind "Service"/);
  assert.throws(() => keyFor('IPPool', 'a/b'), /contains "\/"/);
  assert.throws(() => keyFor('BlockAffinity', 'x'), /node and CIDR/);
});

void test('policyNameFromStorage strips a legacy default. prefix only in the default tier', async () => {
  const { policyNameFromStorage } = await import('./keys.ts');
  assert.equal(policyNameFromStorage('default.allow', 'default'), 'allow');
  assert.equal(policyNameFromStorage('default.allow', undefined), 'allow');
  assert.equal(policyNameFromStorage('default.allow', 'security'), 'default.allow');
  assert.equal(policyNameFromStorage('security.allow', 'security'), 'security.allow');
});
