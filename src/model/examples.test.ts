// One realistic manifest of every kind, written as Calico's docs show them: each decodes,
// validates, defaults and round-trips (no false rejections).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDocumentsDetailed, decodeDocuments, encodeYAML } from './codec.ts';
import { applyDefaults, validate } from './validate.ts';
import { KIND_NAMES } from './kinds.ts';
import { keyForResource, parseKey } from './keys.ts';

const EXAMPLES = `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  asNumber: 63400
  serviceClusterIPs: [{cidr: 10.96.0.0/12}]
  serviceExternalIPs: [{cidr: 104.244.42.129/32}, {cidr: 172.217.3.0/24}]
  listenPort: 178
  bindMode: NodeIP
  communities: [{name: bgp-large-community, value: '63400:300:100'}]
  prefixAdvertisements: [{cidr: 172.218.4.0/26, communities: [bgp-large-community, '63400:120']}]
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: my-filter}
spec:
  exportV4:
  - {action: Accept, matchOperator: In, cidr: 77.0.0.0/16, prefixLength: {min: 24, max: 28}}
  - {action: Reject, source: RemotePeers, interface: '*.calico', peerType: eBGP}
  importV6:
  - {action: Accept, matchOperator: NotIn, cidr: '9000::0/64'}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: rack1-tor}
spec: {peerIP: 192.20.30.40, asNumber: 64567, nodeSelector: rack == 'rack-1', keepaliveTime: 30s, maxRestartTime: 120s, sourceAddress: UseNodeIP, nextHopMode: Self, filters: [my-filter]}
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: {name: node-1-10-0-0-0-26}
spec: {state: confirmed, node: node-1, cidr: 10.0.0.0/26, deleted: false}
---
apiVersion: projectcalico.org/v3
kind: CalicoNodeStatus
metadata: {name: my-caliconodestatus-1}
spec: {classes: [Agent, BGP, Routes], node: my-kubernetes-node, updatePeriodSeconds: 10}
---
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata: {name: default}
spec: {calicoVersion: v3.32.0, clusterGUID: 0a1b2c3d4e5f, clusterType: 'typha,kdd,k8s,operator,bgp', datastoreReady: true}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {ipv6Support: false, ipipMTU: 1400, chainInsertMode: Append, logSeverityScreen: Info, reportingInterval: 0s, bpfEnabled: false, routeTableRanges: [{min: 1, max: 250}], healthPort: 9099, prometheusMetricsEnabled: true}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-tcp-6379}
spec:
  tier: default
  selector: role == 'database'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    metadata: {annotations: {from: frontend, to: database}}
    protocol: TCP
    source: {selector: role == 'frontend'}
    destination: {ports: [6379]}
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: a-name-for-the-set, labels: {role: external-database}}
spec: {nets: [198.51.100.0/28, 203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: some.name, labels: {type: production}}
spec:
  interfaceName: eth0
  node: myhost
  expectedIPs: [192.168.0.1, 192.168.0.2]
  profiles: [profile1, profile2]
  ports: [{name: some-port, port: 1234, protocol: TCP}, {name: another-port, port: 5432, protocol: UDP}]
---
apiVersion: projectcalico.org/v3
kind: IPAMBlock
metadata: {name: 10-0-0-0-26}
spec: {cidr: 10.0.0.0/26, affinity: 'host:node-1', strictAffinity: false, allocations: [0, null, 1], unallocated: [1], attributes: [{handle_id: k8s-pod-network.abc, secondary: {node: node-1, namespace: default, pod: p}}, {handle_id: ipip-tunnel-addr-node-1}], deleted: false}
---
apiVersion: projectcalico.org/v3
kind: IPAMConfiguration
metadata: {name: default}
spec: {strictAffinity: false, maxBlocksPerHost: 4}
---
apiVersion: projectcalico.org/v3
kind: IPAMHandle
metadata: {name: k8s-pod-network.abc}
spec: {handleID: k8s-pod-network.abc, block: {10.0.0.0/26: 1}}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: my.ippool-1}
spec: {cidr: 10.1.0.0/16, ipipMode: CrossSubnet, natOutgoing: true, disabled: false, nodeSelector: all(), allowedUses: [Workload, Tunnel]}
---
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata: {name: my-ipreservation-1}
spec: {reservedCIDRs: [192.168.2.3/32, 10.0.2.0/24, 'cafe:f00d::/123']}
---
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata: {name: default}
spec:
  logSeverityScreen: Info
  healthChecks: Enabled
  etcdV3CompactionPeriod: 10m
  prometheusMetricsPort: 9094
  controllers:
    node: {reconcilerPeriod: 5m, leakGracePeriod: 15m, syncLabels: Enabled, hostEndpoint: {autoCreate: Disabled}}
    policy: {reconcilerPeriod: 5m}
    workloadEndpoint: {reconcilerPeriod: 5m}
    serviceAccount: {reconcilerPeriod: 5m}
    namespace: {reconcilerPeriod: 5m}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-tcp-6379, namespace: production}
spec:
  selector: role == 'database'
  types: [Ingress, Egress]
  ingress:
  - action: Log
    protocol: TCP
    source: {selector: role == 'frontend'}
  - action: Deny
    protocol: TCP
    source: {selector: role == 'frontend'}
  - action: Allow
    protocol: TCP
    source: {selector: role == 'frontend', namespaceSelector: global()}
    destination: {ports: [6379]}
  egress:
  - action: Allow
    protocol: UDP
    destination: {services: {name: kube-dns, namespace: kube-system}}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: external-database, namespace: staging, labels: {role: db}}
spec: {nets: [198.51.100.0/28, 203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-hostname}
spec:
  bgp: {asNumber: 64512, ipv4Address: 10.244.0.1/24, ipv6Address: '2001:db8:85a3::8a2e:370:7334/120', ipv4IPIPTunnelAddr: 192.168.0.1}
  ipv4VXLANTunnelAddr: 192.168.0.2
  vxlanTunnelMACAddr: 66:cf:23:df:22:07
  orchRefs: [{nodeName: node-hostname, orchestrator: k8s}]
  addresses: [{address: 10.244.0.1, type: CalicoNodeIP}, {address: '2001:db8:85a3::8a2e:370:7334', type: InternalIP}]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: dev-profile, labels: {profile: dev}}
spec:
  ingress:
  - action: Deny
    source: {nets: [10.0.20.0/24]}
  - action: Allow
    source: {selector: profile == 'dev'}
  egress:
  - action: Allow
  labelsToApply: {profile: dev}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: allow-tcp-6379}
spec:
  stagedAction: Set
  selector: role == 'database'
  ingress: [{action: Allow, protocol: TCP, source: {selector: role == 'frontend'}, destination: {ports: [6379]}}]
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: test-network-policy, namespace: default}
spec:
  stagedAction: Set
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}, {podSelector: {matchLabels: {role: frontend}}}]
    ports: [{protocol: TCP, port: 6379}]
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: allow-tcp-6379, namespace: production}
spec:
  stagedAction: Set
  selector: role == 'database'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [6379]}}]
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: internal-access}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-my--nginx--b1337a-eth0, namespace: default, labels: {app: frontend, projectcalico.org/namespace: default, projectcalico.org/orchestrator: k8s}}
spec:
  node: node1
  orchestrator: k8s
  endpoint: eth0
  containerID: '1337495556942031415926535'
  pod: my-nginx-b1337a
  endpoint: eth0
  interfaceName: cali0ef24ba
  mac: ca:fe:1d:52:bb:e9
  ipNetworks: [192.168.0.0/32]
  profiles: [kns.default]
  ports: [{name: some-port, port: 1234, protocol: TCP}, {name: another-port, port: 5432, protocol: UDP}]
`;

void test('a realistic example of every kind decodes, validates, defaults and round-trips', () => {
  // (The WorkloadEndpoint above repeats "endpoint:", which YAML rejects; fix it to prove that
  // duplicate keys are caught, then use the corrected text.)
  const dup = decodeDocumentsDetailed(EXAMPLES, { source: 'examples.yaml' });
  assert.equal(dup.errors.length, 1);
  assert.equal(dup.errors[0]!.code, 'syntax');
  const text = EXAMPLES.replace('  endpoint: eth0\n  containerID', '  containerID');
  const r = decodeDocumentsDetailed(text, { source: 'examples.yaml' });
  assert.deepEqual(r.errors.map((e) => e.message), []);
  const kinds = new Set(r.resources.map((d) => d.resource.kind));
  assert.deepEqual([...kinds].sort(), [...KIND_NAMES].sort(), 'every kind has an example');
  for (const { resource } of r.resources) {
    const d = applyDefaults(resource);
    assert.deepEqual(validate(d), [], `${resource.kind} still valid after defaults`);
    const key = keyForResource(d);
    assert.equal(parseKey(key).kind, resource.kind);
  }
  assert.deepEqual(decodeDocuments(encodeYAML(r.resources.map((d) => d.resource))), r.resources.map((d) => d.resource));
});

void test('values Calico itself would mangle are rejected the same way', () => {
  // An unquoted 25-digit container ID is a YAML float; as a string it becomes "1.33...e+24".
  const wep = `apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: w, namespace: default}
spec: {interfaceName: cali1, containerID: 1337495556942031415926535}
`;
  assert.throws(() => decodeDocuments(wep), /spec\.containerID: "1\.3374955569420314e\+24" is not a valid container ID/);
  // Node addresses use Calico's "net" validator: a host address with a prefix is not a network.
  const node = 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n}\nspec: {addresses: [{address: 10.244.0.1/24}]}\n';
  assert.throws(() => decodeDocuments(node), /spec\.addresses\[0\]\.address: "10\.244\.0\.1\/24" has host bits set/);
});
