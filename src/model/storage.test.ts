import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toStorage, fromStorage, stampCreate, checkCreateMetadata, checkUpdateMetadata, userMetadata, POLICY_NAME_ANNOTATION } from './storage.ts';
import type { AnyResource } from './types.ts';

const gnp = (): AnyResource => ({
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy',
  metadata: { name: 'allow-dns', resourceVersion: '12', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', annotations: { a: 'b' } },
  spec: { tier: 'default', selector: 'all()', types: ['Ingress'] },
});

void test('policies: stored without resourceVersion, with the name annotation; read back exactly', () => {
  const kv = toStorage(gnp());
  assert.equal(kv.key, '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/allow-dns');
  const stored = JSON.parse(kv.value);
  assert.equal(stored.metadata.resourceVersion, undefined);
  assert.equal(stored.metadata.annotations[POLICY_NAME_ANNOTATION], '{"name":"allow-dns"}');
  const back = fromStorage(kv.key, kv.value, 99);
  assert.deepEqual(back, { ...gnp(), metadata: { ...gnp().metadata, resourceVersion: '99' } });
  // A legacy value without the annotation, stored under a default.-prefixed name.
  const legacy = fromStorage('/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.x',
    JSON.stringify({ kind: 'GlobalNetworkPolicy', metadata: { name: 'default.x' }, spec: { tier: 'default' } }), 5n);
  assert.equal(legacy.metadata.name, 'x');
  assert.equal(legacy.metadata.resourceVersion, '5');
});

void test('namespaced and cluster resources keep metadata; bad values are ModelErrors', () => {
  const np: AnyResource = { apiVersion: 'projectcalico.org/v3', kind: 'NetworkSet', metadata: { name: 's', namespace: 'prod' }, spec: { nets: ['10.0.0.0/8'] } };
  const kv = toStorage(np);
  assert.equal(kv.key, '/calico/resources/v3/projectcalico.org/networksets/prod/s');
  assert.deepEqual(fromStorage(kv.key, new TextEncoder().encode(kv.value), '7'), { ...np, metadata: { ...np.metadata, resourceVersion: '7' } });
  assert.throws(() => fromStorage(kv.key, '{not json', 1), (e: unknown) => (e as { code?: string }).code === 'invalid-stored-value');
  assert.throws(() => fromStorage('/nope', '{}', 1), (e: unknown) => (e as { code?: string }).code === 'invalid-key');
});

void test('IPAM kinds use IPAM JSON under /calico/ipam/v2', () => {
  const block: AnyResource = {
    apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: '10-0-0-0-26' },
    spec: { cidr: '10.0.0.0/26', affinity: 'host:n1', strictAffinity: false, allocations: [0, null], unallocated: [1], attributes: [{ handle_id: 'h', secondary: { node: 'n1' } }], sequenceNumber: 3, deleted: false },
  };
  const kv = toStorage(block);
  assert.equal(kv.key, '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
  assert.deepEqual(JSON.parse(kv.value), { cidr: '10.0.0.0/26', affinity: 'host:n1', allocations: [0, null], unallocated: [1], attributes: [{ handle_id: 'h', secondary: { node: 'n1' } }], sequenceNumber: 3, sequenceNumberForAllocation: null, deleted: false });
  const back = fromStorage(kv.key, kv.value, 4);
  assert.deepEqual(back.spec, block.spec);
  assert.equal(back.metadata.resourceVersion, '4');
  const aff = fromStorage('/calico/ipam/v2/host/n1/ipv4/block/10.0.0.0-26', '{"state":"confirmed","deleted":false}', 2);
  assert.deepEqual(aff.spec, { state: 'confirmed', node: 'n1', type: 'host', cidr: '10.0.0.0/26', deleted: false });
  assert.equal(toStorage(aff).key, '/calico/ipam/v2/host/n1/ipv4/block/10.0.0.0-26');
  const h = fromStorage('/calico/ipam/v2/handle/k8s-pod-network.abc', '{"block":{"10.0.0.0/26":1},"deleted":false}', 3);
  assert.deepEqual(h.spec, { handleID: 'k8s-pod-network.abc', block: { '10.0.0.0/26': 1 }, deleted: false });
  assert.equal(JSON.parse(toStorage(h).value).block['10.0.0.0/26'], 1);
});

void test('create/update metadata rules', () => {
  const fresh: AnyResource = { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: {} };
  assert.deepEqual(checkCreateMetadata(fresh).map((e) => e.path), ['metadata.namespace']);
  assert.deepEqual(checkCreateMetadata({ ...fresh, metadata: { name: 'p', namespace: 'n', resourceVersion: '3' } }).map((e) => e.path), ['metadata.resourceVersion']);
  const stamped = stampCreate(fresh, { now: new Date('2026-11-24T06:00:00.123Z'), uid: 'abc' });
  assert.equal(stamped.metadata.creationTimestamp, '2026-11-24T06:00:00Z');
  assert.equal(stamped.metadata.uid, 'abc');
  assert.equal(fresh.metadata.uid, undefined, 'input untouched');
  assert.match(stampCreate(fresh).metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.deepEqual(checkUpdateMetadata(stamped).map((e) => e.path), ['metadata.resourceVersion', 'metadata.namespace']);
  assert.deepEqual(userMetadata({ name: 'a', uid: 'x', labels: { a: 'b' }, generation: 3 }), { name: 'a', labels: { a: 'b' } });
});
