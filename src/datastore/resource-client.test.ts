import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.ts';
import type { AnyResource } from '../model/index.ts';
import { ResourceClient, POLICY_METADATA_ANNOTATION, decodeSyncUpdate, formatGoDuration, parseGoDuration, type ResourceWatchEvent } from './resource-client.ts';
import { ResourceAlreadyExists, ResourceNotFound, ResourceUpdateConflict, DatastoreRequestError, DatastoreEntryCorrupt, OperationNotSupported } from './errors.ts';

function setup() {
  const kv = new MemoryKv();
  let n = 0;
  const rc = new ResourceClient({ kv }, { now: () => new Date('2026-11-24T06:00:00.123Z'), uuid: () => `uid-${++n}` });
  return { kv, rc };
}

const gnp = (name: string, labels?: Record<string, string>): AnyResource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkPolicy',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: { selector: 'all()', order: 10 },
});

void test('create stores Calico JSON without resourceVersion and fills uid, creationTimestamp, resourceVersion', async () => {
  const { kv, rc } = setup();
  const out = await rc.create(gnp('allow-dns'));
  assert.equal(out.metadata.uid, 'uid-1');
  assert.equal(out.metadata.creationTimestamp, '2026-11-24T06:00:00Z');
  const stored = await kv.get('/calico/resources/v3/projectcalico.org/globalnetworkpolicies/allow-dns');
  assert.ok(stored);
  assert.equal(out.metadata.resourceVersion, String(stored.modRevision));
  const json = JSON.parse(stored.value) as AnyResource;
  assert.equal(json.metadata.resourceVersion, undefined);
  assert.equal(json.kind, 'GlobalNetworkPolicy');
  assert.equal(json.metadata.annotations?.[POLICY_METADATA_ANNOTATION], '{"name":"allow-dns"}');
  const got = await rc.get('gnp', 'allow-dns');
  assert.equal(got.metadata.annotations, undefined, 'the policy-name annotation is dropped on read');
  assert.deepEqual(got, out);
  await assert.rejects(rc.create(gnp('allow-dns')), (e: Error) => e instanceof ResourceAlreadyExists && e.message === 'resource already exists: GlobalNetworkPolicy(allow-dns) with error: <nil>');
  await assert.rejects(rc.create({ ...gnp('x'), metadata: { name: 'x', resourceVersion: '5' } }), DatastoreRequestError);
});

void test('update is guarded by resourceVersion; missing resources are reported', async () => {
  const { rc } = setup();
  const v1 = await rc.create(gnp('p'));
  const v2 = await rc.update({ ...v1, spec: { selector: 'all()', order: 20 } });
  assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
  assert.equal(v2.metadata.uid, v1.metadata.uid);
  await assert.rejects(rc.update({ ...v1, spec: { order: 30 } }), (e: Error) =>
    e instanceof ResourceUpdateConflict && e.message === 'update conflict: GlobalNetworkPolicy(p)' && (e.detail ?? '').includes(`'${v1.metadata.resourceVersion}' is out of date`));
  await assert.rejects(rc.update({ ...gnp('nope'), metadata: { name: 'nope', resourceVersion: '3', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' } }), (e: Error) =>
    e instanceof ResourceNotFound && e.message === 'resource does not exist: GlobalNetworkPolicy(nope) with error: <nil>');
  await assert.rejects(rc.update(gnp('p')), /Metadata.ResourceVersion/);
  // without uid/creationTimestamp an update is refused, as clientv3 refuses it
  await assert.rejects(rc.update({ ...gnp('p'), metadata: { name: 'p', resourceVersion: v2.metadata.resourceVersion! } }), /Metadata\.CreationTimestamp/);
});

void test('apply creates, then updates keeping uid and creationTimestamp; labels follow the input', async () => {
  const { rc } = setup();
  const a = await rc.apply(gnp('p', { a: '1' }));
  const b = await rc.apply({ ...gnp('p', { b: '2' }), spec: { order: 5 } });
  assert.equal(b.metadata.uid, a.metadata.uid);
  assert.deepEqual(b.metadata.labels, { b: '2' });
  assert.deepEqual(b.spec, { order: 5 });
  const c = await rc.apply(gnp('p'));
  assert.equal(c.metadata.labels, undefined);
  await assert.rejects(rc.apply({ ...gnp('p'), metadata: { name: 'p', resourceVersion: a.metadata.resourceVersion! } }), ResourceUpdateConflict);
});

void test('list by namespace, across namespaces, and by label selector', async () => {
  const { rc } = setup();
  const np = (ns: string, name: string, labels: Record<string, string>): AnyResource => ({
    apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns, labels }, spec: {},
  });
  await rc.create(np('a', 'p1', { app: 'web' }));
  await rc.create(np('a', 'p2', { app: 'db' }));
  await rc.create(np('b', 'p3', { app: 'web', tier: 'x' }));
  const names = (l: { items: AnyResource[] }) => l.items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
  assert.deepEqual(names(await rc.list('NetworkPolicy', { namespace: 'a' })), ['a/p1', 'a/p2']);
  assert.deepEqual(names(await rc.list('networkpolicies')), ['a/p1', 'a/p2', 'b/p3']);
  assert.deepEqual(names(await rc.list('policy', { selector: 'app == "web"' })), ['a/p1', 'b/p3']);
  assert.deepEqual(names(await rc.list('policy', { selector: 'has(tier)' })), ['b/p3']);
  await assert.rejects(rc.create(np('', 'p4', {})), /namespace/);
  await assert.rejects(rc.get('NetworkPolicy', 'p1'), /namespace is not specified/);
});

void test('delete, optionally guarded by resourceVersion', async () => {
  const { rc } = setup();
  const v1 = await rc.create(gnp('p'));
  const v2 = await rc.apply({ ...gnp('p'), spec: { order: 1 } });
  await assert.rejects(rc.delete('GlobalNetworkPolicy', 'p', undefined, { resourceVersion: v1.metadata.resourceVersion! }), ResourceUpdateConflict);
  const gone = await rc.delete('GlobalNetworkPolicy', 'p', undefined, { resourceVersion: v2.metadata.resourceVersion! });
  assert.equal(gone.metadata.name, 'p');
  await assert.rejects(rc.delete('GlobalNetworkPolicy', 'p'), (e: Error) => e instanceof ResourceNotFound && e.message === 'resource does not exist: GlobalNetworkPolicy(p) with error: <nil>');
});

void test('watch from a revision gives added/modified/deleted with resources', async () => {
  const { rc } = setup();
  const v1 = await rc.create(gnp('p'));
  await rc.apply({ ...gnp('p'), spec: { order: 2 } });
  await rc.delete('gnp', 'p');
  const events: ResourceWatchEvent[] = [];
  const w = rc.watch('GlobalNetworkPolicy', { fromRevision: Number(v1.metadata.resourceVersion) }, { onEvents: (e) => events.push(...e), onError: (e) => assert.fail(e) });
  await w.ready;
  for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  await w.cancel();
  assert.deepEqual(events.map((e) => e.type), ['added', 'modified', 'deleted']);
  assert.equal(events[1]?.resource?.spec?.order, 2);
  assert.equal(events[2]?.resource?.metadata.name, 'p');
});

void test('corrupt stored values give a clear error naming the key', async () => {
  const { kv, rc } = setup();
  await kv.put('/calico/resources/v3/projectcalico.org/ippools/bad', '{not json');
  await assert.rejects(rc.get('IPPool', 'bad'), (e: Error) => e instanceof DatastoreEntryCorrupt && e.message.includes('/ippools/bad'));
  await assert.rejects(rc.get('NoSuchKind', 'x'), /resource type 'NoSuchKind' is not supported/);
  await assert.rejects(rc.list('IPAMBlock'), /IPAMBlock is IPAM state/);
});

void test('decodeSyncUpdate turns raw syncer updates of resource keys into resources', async () => {
  const { kv, rc } = setup();
  const created = await rc.create(gnp('p'));
  const raw = (await kv.range('/calico/resources/v3/projectcalico.org/globalnetworkpolicies/')).kvs[0]!;
  const set = decodeSyncUpdate({ type: 'set', key: raw.key, value: raw.value, revision: raw.modRevision });
  assert.equal(set.kind, 'GlobalNetworkPolicy');
  assert.deepEqual(set.resource, created);
  const del = decodeSyncUpdate({ type: 'delete', key: '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/np', value: '', revision: 9 });
  assert.deepEqual(del, { type: 'delete', key: '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/np', kind: 'NetworkPolicy', name: 'np', namespace: 'ns1', revision: 9 });
  assert.throws(() => decodeSyncUpdate({ type: 'set', key: '/calico/felix/v2/x', value: '{}', revision: 1 }), DatastoreEntryCorrupt);
});

void test('a corrupt entry ends a resource watch with one error and nothing after it', async () => {
  const { kv, rc } = setup();
  const errors: Error[] = [];
  const events: ResourceWatchEvent[] = [];
  const w = rc.watch('IPPool', {}, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
  await w.ready;
  await kv.put('/calico/resources/v3/projectcalico.org/ippools/bad', 'not json');
  await rc.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'good' }, spec: { cidr: '198.18.0.0/24' } });
  for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof DatastoreEntryCorrupt);
  assert.deepEqual(events, []);
});

void test("Calico's clientv3 rules: static default-allow profile, tiers, IP pool overlap and immutable fields", async () => {
  const { rc } = setup();
  // projectcalico-default-allow: always there, never stored, never writable (resources/static.go, clientv3/profile.go)
  const p = await rc.get('Profile', 'projectcalico-default-allow');
  assert.equal(p.metadata.resourceVersion, '1');
  assert.deepEqual(p.spec, { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] });
  const prof = (name: string): AnyResource => ({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name }, spec: {} });
  await rc.create(prof('a'));
  assert.deepEqual((await rc.list('Profile')).items.map((i) => i.metadata.name), ['a', 'projectcalico-default-allow']);
  await assert.rejects(rc.create(prof('projectcalico-default-allow')), (e: Error) =>
    e instanceof ResourceAlreadyExists &&
    e.message === 'resource already exists: projectcalico-default-allow with error: projectcalico-default-allow already exists. The profile "projectcalico-default-allow" is default provided by Calico');
  await assert.rejects(rc.delete('Profile', 'projectcalico-default-allow'), (e: Error) =>
    e instanceof OperationNotSupported &&
    e.message === 'operation Delete is not supported on projectcalico-default-allow: The profile "projectcalico-default-allow" is a default provided by Calico and cannot be deleted');
  await assert.rejects(rc.update({ ...p, metadata: { ...p.metadata, uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' } }), /operation Update is not supported on projectcalico-default-allow: .* cannot be updated/);
  await assert.rejects(rc.apply(prof('projectcalico-default-allow')), /operation Update is not supported on projectcalico-default-allow/);
  await assert.rejects(rc.replace(prof('projectcalico-default-allow')), /operation Update is not supported on projectcalico-default-allow/);

  // tiers (clientv3/tier.go, networkpolicy.go): policies need their tier; built-in and non-empty tiers stay
  await rc.ensureInitialized();
  await assert.rejects(rc.create({ ...gnp('t1.p'), spec: { tier: 't1', selector: 'all()' } }), (e: Error) =>
    e instanceof ResourceNotFound && e.message === 'resource does not exist: Tier(t1) with error: <nil>');
  await rc.create({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 't1' }, spec: { order: 100 } });
  await rc.create({ ...gnp('t1.p'), spec: { tier: 't1', selector: 'all()' } });
  await assert.rejects(rc.delete('Tier', 'default'), (e: Error) => e instanceof OperationNotSupported && e.message === 'operation Delete is not supported on default: Cannot delete default tier');
  await assert.rejects(rc.delete('Tier', 'kube-admin'), /Cannot delete kube-admin tier/);
  await assert.rejects(rc.delete('Tier', 't1'), (e: Error) => e.message === 'operation delete is not supported on t1: Cannot delete a non-empty tier');
  await rc.delete('GlobalNetworkPolicy', 't1.p');
  await rc.delete('Tier', 't1');

  // IP pools (clientv3/ippool.go): no overlap on create; CIDR and blockSize fixed on update
  const pool = (name: string, cidr: string, blockSize = 26): AnyResource => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize } });
  const p1 = await rc.create(pool('p1', '10.0.0.0/16'));
  await assert.rejects(rc.create(pool('p2', '10.0.1.0/24')), (e: Error) =>
    e instanceof DatastoreRequestError && e.message === "error with field IPPool.Spec.CIDR = '10.0.1.0/24' (IPPool(p2) CIDR overlaps with IPPool(p1) CIDR 10.0.0.0/16)");
  await rc.create(pool('p3', '10.1.0.0/16'));
  await rc.create(pool('v6', 'fd00:198:18::/48', 122));
  await assert.rejects(rc.create(pool('v6b', 'fd00:198:18:1::/64', 122)), /CIDR overlaps with IPPool\(v6\)/);
  await assert.rejects(rc.update({ ...p1, spec: { cidr: '10.2.0.0/16', blockSize: 28 } }), (e: Error) =>
    e.message === "error with the following fields:\n-  IPPool.Spec.CIDR = '10.2.0.0/16' (IPPool CIDR cannot be modified)\n-  IPPool.Spec.BlockSize = '28' (IPPool BlockSize cannot be modified)\n");
  await rc.update({ ...p1, spec: { cidr: '10.0.0.0/16', blockSize: 26, disabled: true } });
});

void test('durations are stored as Go prints them (metav1.Duration: "125s" → "2m5s")', async () => {
  assert.equal(formatGoDuration(parseGoDuration('125s')!), '2m5s');
  assert.equal(formatGoDuration(parseGoDuration('9910s')!), '2h45m10s');
  assert.equal(formatGoDuration(parseGoDuration('3600s')!), '1h0m0s');
  assert.equal(formatGoDuration(parseGoDuration('1.5s')!), '1.5s');
  assert.equal(formatGoDuration(parseGoDuration('500ms')!), '500ms');
  assert.equal(formatGoDuration(parseGoDuration('1500us')!), '1.5ms');
  assert.equal(formatGoDuration(parseGoDuration('1h30m')!), '1h30m0s');
  assert.equal(formatGoDuration(parseGoDuration('0')!), '0s');
  assert.equal(formatGoDuration(parseGoDuration('-90s')!), '-1m30s');
  assert.equal(parseGoDuration('5x'), undefined);
  assert.equal(parseGoDuration(''), undefined);
  const { rc } = setup();
  const fc = await rc.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'FelixConfiguration',
    metadata: { name: 'default' },
    spec: { netlinkTimeout: '125s', reportingTTL: '9910s', logSeverityScreen: 'Debug', healthTimeoutOverrides: [{ name: 'x', timeout: '90s' }] },
  } as AnyResource);
  assert.deepEqual(fc.spec, { netlinkTimeout: '2m5s', reportingTTL: '2h45m10s', logSeverityScreen: 'Debug', healthTimeoutOverrides: [{ name: 'x', timeout: '1m30s' }] });
  assert.deepEqual((await rc.get('FelixConfiguration', 'default')).spec, fc.spec);
});

void test('WorkloadEndpoint names come from the spec; namespace and orchestrator labels are added (clientv3/workloadendpoint.go)', async () => {
  const { rc } = setup();
  const wep = (name: string, spec: Record<string, unknown>): AnyResource =>
    ({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns1', labels: { app: 'db' } }, spec } as AnyResource);
  const k8s = { node: 'node1', orchestrator: 'k8s', pod: 'my-pod', endpoint: 'eth0', interfaceName: 'cali1' };
  const out = await rc.create(wep('node1-k8s-my--pod-eth0', k8s));
  assert.deepEqual(out.metadata.labels, { app: 'db', 'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': 'k8s' });
  await assert.rejects(rc.create(wep('wrong', k8s)), (e: Error) =>
    e.message === "error with field Name = 'wrong' (the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec: expected name node1-k8s-my--pod-eth0)");
  const assigned = await rc.create(wep('', { node: 'n2', orchestrator: 'cni', containerID: 'abc', endpoint: 'eth0' }));
  assert.equal(assigned.metadata.name, 'n2-cni-abc-eth0');
  await assert.rejects(rc.create(wep('x', { orchestrator: 'k8s' })), /error with field node \(field should be assigned\)/);
  await assert.rejects(rc.create(wep('x', { node: 'n', orchestrator: 'k8s', endpoint: 'eth0' })), /error with field pod = '' \(field should be assigned\)/);
});

void test('ensureInitialized completes an existing ClusterInformation like clientv3 (version, GUID, ready, cluster types)', async () => {
  const { rc, kv } = setup();
  await kv.put('/calico/resources/v3/projectcalico.org/clusterinformations/default', JSON.stringify({ kind: 'ClusterInformation', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { clusterType: 'typha' } }));
  await rc.ensureInitialized({ calicoVersion: 'v3.31.0', clusterType: 'bgp,typha' });
  const ci = await rc.get('ClusterInformation', 'default');
  const spec = ci.spec as Record<string, unknown>;
  assert.equal(spec.calicoVersion, 'v3.31.0');
  assert.equal(spec.clusterType, 'typha,bgp');
  assert.equal(spec.datastoreReady, true);
  assert.match(String(spec.clusterGUID), /^[0-9a-f]{32}$/);
  const rv = ci.metadata.resourceVersion;
  await rc.ensureInitialized();
  assert.equal((await rc.get('ClusterInformation', 'default')).metadata.resourceVersion, rv, 'nothing to change: no write');
});

void test('apply of a missing resource creates it even with a resourceVersion (resourcemgr.Apply: create first); replace does not', async () => {
  const { rc } = setup();
  const out = await rc.apply({ ...gnp('fresh'), metadata: { name: 'fresh', resourceVersion: '99' } });
  assert.notEqual(out.metadata.resourceVersion, '99');
  await assert.rejects(rc.replace({ ...gnp('other'), metadata: { name: 'other', resourceVersion: '99' } }), ResourceNotFound);
});

void test('singleton kinds are named "default" (clientv3 ipamconfig.go, kubecontrollersconfig.go, clusterinfo.go)', async () => {
  const { rc } = setup();
  const r = (kind: string, name: string): AnyResource => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec: {} } as AnyResource);
  await assert.rejects(rc.create(r('IPAMConfiguration', 'foo')), (e: Error) => e.message === 'Cannot create an IPAMConfiguration resource with a name other than "default"');
  await assert.rejects(rc.create(r('KubeControllersConfiguration', 'foo')), (e: Error) => e.message === 'Cannot create a Kube Controllers Configuration resource with a name other than "default"');
  await assert.rejects(rc.create(r('ClusterInformation', 'foo')), /Cluster Information resource with a name other than "default"/);
  await rc.create(r('IPAMConfiguration', 'default'));
  await rc.create(r('KubeControllersConfiguration', 'default'));
});

void test('list by name or name prefix (clientv3 ListOptions.Name / Prefix)', async () => {
  const { rc } = setup();
  for (const n of ['web-1', 'web-2', 'db-1']) await rc.create(gnp(n));
  assert.deepEqual((await rc.list('GlobalNetworkPolicy', { name: 'web-2' })).items.map((i) => i.metadata.name), ['web-2']);
  assert.deepEqual((await rc.list('GlobalNetworkPolicy', { name: 'web', prefix: true })).items.map((i) => i.metadata.name), ['web-1', 'web-2']);
  assert.deepEqual((await rc.list('GlobalNetworkPolicy', { name: 'nope' })).items, []);
  assert.deepEqual((await rc.list('Profile', { name: 'projectcalico-default-allow' })).items.map((i) => i.metadata.name), ['projectcalico-default-allow']);
});

void test("update needs resourceVersion, creationTimestamp and uid, with clientv3's exact messages (clientv3 *_e2e_test.go)", async () => {
  const { rc } = setup();
  const v1 = await rc.create(gnp('p'));
  const m = v1.metadata;
  await assert.rejects(rc.update({ ...v1, metadata: { ...m, resourceVersion: '' } }), (e: Error) => e.message === "error with field Metadata.ResourceVersion = '' (field must be set for an Update request)");
  await assert.rejects(rc.update({ ...v1, metadata: { name: 'p', resourceVersion: m.resourceVersion!, uid: m.uid! } }), (e: Error) =>
    e.message === "error with field Metadata.CreationTimestamp = '0001-01-01 00:00:00 +0000 UTC' (field must be set for an Update request)");
  await assert.rejects(rc.update({ ...v1, metadata: { name: 'p', resourceVersion: m.resourceVersion!, creationTimestamp: m.creationTimestamp! } }), (e: Error) =>
    e.message === "error with field Metadata.UID = '' (field must be set for an Update request)");
  await assert.rejects(rc.create({ ...gnp('q'), metadata: { name: 'q', resourceVersion: '12345' } }), (e: Error) =>
    e.message === "error with field Metadata.ResourceVersion = '12345' (field must not be set for a Create request)");
});

void test('a BGPPeer may only name existing BGPFilters (clientv3/bgppeer.go)', async () => {
  const { rc } = setup();
  const peer = (filters: string[]): AnyResource => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'p1' }, spec: { peerIP: '198.18.0.1', asNumber: 64512, filters } } as AnyResource);
  await assert.rejects(rc.create(peer(['bgp-filter-1'])), (e: Error) => e.message === "error with field BGPPeer.Spec.Filters = '[bgp-filter-1]' (BGPFilter(s) not found)");
  await rc.create({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'bgp-filter-1' }, spec: {} } as AnyResource);
  const p = await rc.create(peer(['bgp-filter-1']));
  await assert.rejects(rc.update({ ...p, spec: { ...(p.spec as object), filters: ['bgp-filter-1', 'bgp-filter-2', 'x'] } } as AnyResource), (e: Error) =>
    e.message === "error with field BGPPeer.Spec.Filters = '[bgp-filter-2 x]' (BGPFilter(s) not found)");
});

// ---- Node deletion cleans up like clientv3 nodes.Delete in etcd mode (libcalico-go/lib/clientv3/
// node.go; its e2e test "should clean up weps, IPAM allocations, etc. when deleted"). The IPAM
// state is written raw, as Calico's IPAM stores it under /calico/ipam/v2/.

/** A block as Calico's IPAM writes it: `used` maps ordinals to attribute indexes. */
function ipamBlock(cidr: string, affinity: string | null, used: Record<number, number>, attributes: object[], size = 64, seq = 3): string {
  const allocations: (number | null)[] = Array.from({ length: size }, (_, o) => used[o] ?? null);
  const unallocated = allocations.map((a, o) => (a === null ? o : -1)).filter((o) => o >= 0);
  const sequenceNumberForAllocation = Object.fromEntries(Object.keys(used).map((o) => [o, 1]));
  return JSON.stringify({ cidr, affinity, ...(affinity ? { affinity_claim_time: '2026-11-01T00:00:00Z' } : {}), allocations, unallocated, attributes, sequenceNumber: seq, sequenceNumberForAllocation, deleted: false });
}
const CONFIRMED = JSON.stringify({ state: 'confirmed', deleted: false });
const res = (kind: string, name: string, spec: object, namespace?: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec }) as AnyResource;

async function nodeWithEverything(ipamConfig?: object) {
  const { kv, rc } = setup();
  await rc.create(res('Node', 'node-1', { bgp: { ipv4Address: '198.18.0.1/24', ipv4IPIPTunnelAddr: '192.168.0.70' }, ipv4VXLANTunnelAddr: '192.168.0.71' }));
  await rc.create(res('IPPool', 'mypool', { cidr: '192.168.0.0/16' }));
  const wep = (node: string, pod: string, ip: string) =>
    rc.create(res('WorkloadEndpoint', '', { node, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: `cali${pod}`, ipNetworks: [ip] }, 'default'));
  await wep('node-1', 'mypod', '192.168.0.1/32');
  await wep('node-1-foo', 'other', '192.168.1.9/32'); // name starts with node-1's prefix, but another node
  // Block A: node-1's, one address for its pod, one borrowed by a pod on node-2.
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/192.168.0.0-26', ipamBlock('192.168.0.0/26', 'host:node-1', { 1: 0, 5: 1 }, [
    { handle_id: 'myhandle', secondary: { namespace: 'default', node: 'node-1', pod: 'mypod' } },
    { handle_id: 'other-pod', secondary: { namespace: 'default', node: 'node-2', pod: 'x' } },
  ]));
  // Block B: node-1's tunnel addresses only.
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/192.168.0.64-26', ipamBlock('192.168.0.64/26', 'host:node-1', { 6: 0, 7: 1 }, [
    { handle_id: 'ipipTunnelAddr', secondary: { node: 'node-1', type: 'ipipTunnelAddress' } },
    { handle_id: 'vxlanTunnelAddr', secondary: { node: 'node-1', type: 'vxlanTunnelAddress' } },
  ]));
  // Block C: node-2's.
  const blockC = ipamBlock('192.168.1.0/26', 'host:node-2', { 9: 0 }, [{ handle_id: 'myhandle', secondary: { node: 'node-2' } }]);
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/192.168.1.0-26', blockC);
  // Block D: node-3's, with a stale affinity left for node-1.
  const blockD = ipamBlock('192.168.2.0/26', 'host:node-3', {}, []);
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/192.168.2.0-26', blockD);
  // An empty IPv6 block of node-1.
  await kv.put('/calico/ipam/v2/assignment/ipv6/block/fd00:198:18::-122', ipamBlock('fd00:198:18::/122', 'host:node-1', {}, []));
  for (const [node, cidr] of [['node-1', 'ipv4/block/192.168.0.0-26'], ['node-1', 'ipv4/block/192.168.0.64-26'], ['node-1', 'ipv4/block/192.168.2.0-26'], ['node-1', 'ipv6/block/fd00:198:18::-122'], ['node-2', 'ipv4/block/192.168.1.0-26']]) {
    await kv.put(`/calico/ipam/v2/host/${node}/${cidr}`, CONFIRMED);
  }
  await kv.put('/calico/ipam/v2/host/node-1', '{}');
  await kv.put('/calico/ipam/v2/handle/myhandle', JSON.stringify({ block: { '192.168.0.0/26': 1, '192.168.1.0/26': 1 }, deleted: false }));
  await kv.put('/calico/ipam/v2/handle/other-pod', JSON.stringify({ block: { '192.168.0.0/26': 1 }, deleted: false }));
  await kv.put('/calico/ipam/v2/handle/ipipTunnelAddr', JSON.stringify({ block: { '192.168.0.64/26': 1 }, deleted: false }));
  await kv.put('/calico/ipam/v2/handle/vxlanTunnelAddr', JSON.stringify({ block: { '192.168.0.64/26': 1 }, deleted: false }));
  if (ipamConfig) await kv.put('/calico/ipam/v2/config', JSON.stringify(ipamConfig));
  await rc.create(res('BGPPeer', 'bgppeer1', { node: 'node-1', peerIP: '198.18.0.9', asNumber: 64512 }));
  await rc.create(res('BGPPeer', 'bgppeer2', { node: 'node-2', peerIP: '198.18.0.9', asNumber: 64512 }));
  await rc.create(res('FelixConfiguration', 'node.node-1', {}));
  await rc.create(res('BGPConfiguration', 'node.node-1', { logSeverityScreen: 'Info' }));
  await rc.create(res('FelixConfiguration', 'node.node-2', {}));
  await rc.create(res('HostEndpoint', 'host-endpoint-1', { node: 'node-1', interfaceName: 'eth0' }));
  await rc.create(res('HostEndpoint', 'host-endpoint-2', { node: 'another-node', interfaceName: 'eth0' }));
  return { kv, rc, blockC, blockD };
}

const json = async (kv: MemoryKv, key: string): Promise<Record<string, unknown> | undefined> => {
  const v = await kv.get(key);
  return v ? (JSON.parse(v.value) as Record<string, unknown>) : undefined;
};

void test('deleting a Node removes its endpoints, IPAM addresses, affinities, peers and per-node config (clientv3 nodes.Delete)', async () => {
  const { kv, rc, blockC, blockD } = await nodeWithEverything();
  await rc.delete('Node', 'node-1');
  await assert.rejects(rc.get('Node', 'node-1'), ResourceNotFound);
  // Workload endpoints: node-1's gone, node-1-foo's (same name prefix) kept.
  assert.deepEqual((await rc.list('WorkloadEndpoint')).items.map((w) => w.metadata.name), ['node--1--foo-k8s-other-eth0']);
  // Block A keeps node-2's borrowed address, loses node-1's and its affinity.
  const a = await json(kv, '/calico/ipam/v2/assignment/ipv4/block/192.168.0.0-26');
  assert.ok(a);
  assert.equal(a.affinity, null);
  assert.equal('affinity_claim_time' in a, false);
  const allocs = a.allocations as (number | null)[];
  assert.equal(allocs[1], null);
  assert.equal(allocs[5], 0, 'the remaining attribute is renumbered');
  assert.deepEqual(a.attributes, [{ handle_id: 'other-pod', secondary: { namespace: 'default', node: 'node-2', pod: 'x' } }]);
  assert.ok((a.unallocated as number[]).includes(1));
  assert.equal((a.unallocated as number[]).length, 63);
  assert.deepEqual(a.sequenceNumberForAllocation, { 5: 1 });
  assert.equal(a.sequenceNumber, 5, 'one write for the release, one for the affinity');
  // Block B (tunnel addresses only) and the empty IPv6 block are deleted with their affinities.
  assert.equal(await kv.get('/calico/ipam/v2/assignment/ipv4/block/192.168.0.64-26'), undefined);
  assert.equal(await kv.get('/calico/ipam/v2/assignment/ipv6/block/fd00:198:18::-122'), undefined);
  assert.deepEqual((await kv.range('/calico/ipam/v2/host/node-1')).kvs.map((k) => k.key), [], 'no affinity and no host key left for node-1');
  // Other nodes' IPAM untouched, the stale affinity's block too.
  assert.equal((await kv.get('/calico/ipam/v2/assignment/ipv4/block/192.168.1.0-26'))?.value, blockC);
  assert.equal((await kv.get('/calico/ipam/v2/assignment/ipv4/block/192.168.2.0-26'))?.value, blockD);
  assert.ok(await kv.get('/calico/ipam/v2/host/node-2/ipv4/block/192.168.1.0-26'));
  // Handles: emptied ones deleted, the rest decremented.
  assert.equal(await kv.get('/calico/ipam/v2/handle/ipipTunnelAddr'), undefined);
  assert.equal(await kv.get('/calico/ipam/v2/handle/vxlanTunnelAddr'), undefined);
  assert.deepEqual(await json(kv, '/calico/ipam/v2/handle/myhandle'), { block: { '192.168.1.0/26': 1 }, deleted: false });
  assert.deepEqual(await json(kv, '/calico/ipam/v2/handle/other-pod'), { block: { '192.168.0.0/26': 1 }, deleted: false });
  // Peers, per-node configuration and host endpoints of node-1 only.
  assert.deepEqual((await rc.list('BGPPeer')).items.map((p) => p.metadata.name), ['bgppeer2']);
  assert.deepEqual((await rc.list('FelixConfiguration')).items.map((p) => p.metadata.name), ['node.node-2']);
  assert.deepEqual((await rc.list('BGPConfiguration')).items.map((p) => p.metadata.name), []);
  assert.deepEqual((await rc.list('HostEndpoint')).items.map((p) => p.metadata.name), ['host-endpoint-2']);
});

void test('node deletion with an IPAM release cool-down leaves released addresses cooling; a missing Node is still cleaned up, then not found', async () => {
  const { kv, rc } = await nodeWithEverything({ strict_affinity: false, auto_allocate_blocks: true, ipCooldownSeconds: 600 });
  await rc.delete('Node', 'node-1');
  const a = await json(kv, '/calico/ipam/v2/assignment/ipv4/block/192.168.0.0-26');
  assert.ok(a);
  const attrs = a.attributes as { releasedAt?: string }[];
  const allocs = a.allocations as (number | null)[];
  assert.equal(attrs[allocs[1]!]?.releasedAt, '2026-11-24T06:00:00Z', 'released, in cool-down');
  assert.equal(a.affinity, null);
  // Block B's addresses are cooling too: not empty, so it stays, without affinity.
  const b = await json(kv, '/calico/ipam/v2/assignment/ipv4/block/192.168.0.64-26');
  assert.equal(b?.affinity, null);
  assert.deepEqual((await kv.range('/calico/ipam/v2/host/node-1')).kvs.map((k) => k.key), []);

  // A Node that does not exist: what belongs to it is removed all the same, then NotFound.
  await rc.create(res('WorkloadEndpoint', '', { node: 'gone', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0', interfaceName: 'calip', ipNetworks: ['192.168.1.10/32'] }, 'default'));
  await rc.create(res('BGPPeer', 'gone-peer', { node: 'gone', peerIP: '198.18.0.9', asNumber: 64512 }));
  await assert.rejects(rc.delete('Node', 'gone'), (e: Error) => e instanceof ResourceNotFound && e.message === 'resource does not exist: Node(gone) with error: <nil>');
  assert.deepEqual((await rc.list('WorkloadEndpoint')).items.map((w) => w.metadata.name), ['node--1--foo-k8s-other-eth0']);
  await assert.rejects(rc.get('BGPPeer', 'gone-peer'), ResourceNotFound);
  // Calico's name rules for the endpoint prefix apply to the node name.
  await assert.rejects(rc.delete('Node', '-bad'), /field must not begin with a '-'/);
});

void test('node deletion: a block changed by another IPAM client between read and write is re-read, its change kept', async () => {
  const { kv } = await nodeWithEverything();
  const blockA = '/calico/ipam/v2/assignment/ipv4/block/192.168.0.0-26';
  let raced = false;
  // Another client allocates 192.168.0.9 for node-2 right after our first read of block A.
  const racing = new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop !== 'get') return Reflect.get(target, prop, receiver) as unknown;
      return async (key: string, options?: { revision?: number }) => {
        const got = await target.get(key, options);
        if (key === blockA && !raced && got) {
          raced = true;
          const b = JSON.parse(got.value) as { allocations: (number | null)[]; unallocated: number[]; attributes: object[]; sequenceNumber: number };
          b.allocations[9] = b.attributes.length;
          b.attributes.push({ handle_id: 'late', secondary: { node: 'node-2' } });
          b.unallocated = b.unallocated.filter((o) => o !== 9);
          b.sequenceNumber++;
          await target.put(blockA, JSON.stringify(b));
        }
        return got;
      };
    },
  });
  const rc = new ResourceClient({ kv: racing }, { now: () => new Date('2026-11-24T06:00:00.123Z') });
  await rc.delete('Node', 'node-1');
  assert.ok(raced);
  const a = await json(kv, blockA);
  assert.ok(a);
  const allocs = a.allocations as (number | null)[];
  const attrs = a.attributes as { handle_id: string }[];
  assert.equal(allocs[1], null, 'node-1 pod address released');
  assert.equal(attrs[allocs[9]!]?.handle_id, 'late', 'the concurrent allocation survives');
  assert.equal(attrs[allocs[5]!]?.handle_id, 'other-pod');
  assert.equal(a.affinity, null);
  assert.deepEqual(await json(kv, '/calico/ipam/v2/handle/myhandle'), { block: { '192.168.1.0/26': 1 }, deleted: false }, 'the handle decremented once');
});

void test('replaceWith deletes a resource and creates its replacements in one transaction: all or nothing', async () => {
  const { rc } = setup();
  const pool = (name: string, cidr: string): AnyResource => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26 } });
  const names = async () => (await rc.list('IPPool')).items.map((p) => `${p.metadata.name} ${String(p.spec?.cidr)}`).sort();
  const old = await rc.create(pool('big', '10.0.0.0/16'));
  await rc.create(pool('other', '10.9.0.0/16'));
  // a replacement that is already there: nothing changes
  await rc.create(pool('split-big-1', '10.5.0.0/16'));
  await assert.rejects(rc.replaceWith(old, [pool('split-big-0', '10.0.0.0/17'), pool('split-big-1', '10.0.128.0/17')]), (e: Error) =>
    e instanceof ResourceAlreadyExists && e.message.includes('IPPool(split-big-1)'));
  assert.deepEqual(await names(), ['big 10.0.0.0/16', 'other 10.9.0.0/16', 'split-big-1 10.5.0.0/16']);
  await rc.delete('IPPool', 'split-big-1');
  // a replacement overlapping a third pool is refused like a create
  await assert.rejects(rc.replaceWith(old, [pool('split-big-0', '10.9.0.0/17')]), /CIDR overlaps with IPPool\(other\)/);
  // the old pool changed since it was read: a conflict, nothing changes
  const newer = await rc.update({ ...old, spec: { ...old.spec, disabled: true } });
  await assert.rejects(rc.replaceWith(old, [pool('split-big-0', '10.0.0.0/17')]), (e: Error) => e instanceof ResourceUpdateConflict);
  assert.deepEqual(await names(), ['big 10.0.0.0/16', 'other 10.9.0.0/16']);
  // success: the old pool gone, the new ones there with uid and creationTimestamp, at one revision
  const made = await rc.replaceWith(newer, [pool('split-big-0', '10.0.0.0/17'), pool('split-big-1', '10.0.128.0/17')]);
  assert.deepEqual(await names(), ['other 10.9.0.0/16', 'split-big-0 10.0.0.0/17', 'split-big-1 10.0.128.0/17']);
  assert.ok(made.every((p) => p.metadata.uid && p.metadata.creationTimestamp));
  assert.equal(made[0]!.metadata.resourceVersion, made[1]!.metadata.resourceVersion);
  await assert.rejects(rc.replaceWith(newer, [pool('x', '10.7.0.0/16')]), (e: Error) => e instanceof ResourceNotFound);
});
