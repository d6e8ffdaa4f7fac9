import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDocuments, decodeDocumentsDetailed, encodeYAML, encodeJSON, toList, DecodeErrors } from './codec.ts';
import { ModelError, ValidationError } from './errors.ts';

function errorsOf(text: string, source = 'policy.yaml'): ModelError[] {
  return decodeDocumentsDetailed(text, { source }).errors;
}

const GNP = (name: string, extra = '') => `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: ${name}
spec:
  selector: all()
${extra}`;

void test('error message names source, document, resource, field and expectation', () => {
  const text = [GNP('a'), GNP('b'), GNP('allow-dns', '  ingress:\n  - action: Allow\n    protocol: tcp\n')].join('---\n');
  const errs = errorsOf(text);
  assert.equal(errs.length, 1);
  const e = errs[0]!;
  assert.ok(e instanceof ValidationError);
  assert.equal(e.code, 'invalid-resource');
  assert.equal(
    e.message,
    'cannot apply policy.yaml document 3 (GlobalNetworkPolicy allow-dns): spec.ingress[0].protocol: expected TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255, got "tcp"',
  );
  assert.deepEqual(e.fieldErrors.map((f) => [f.path, f.code]), [['spec.ingress[0].protocol', 'enum']]);
  assert.deepEqual({ ...e.context }, { source: 'policy.yaml', action: undefined, document: 3, item: undefined, kind: 'GlobalNetworkPolicy', name: 'allow-dns', namespace: undefined });
});

void test('namespaced resources are named namespace/name; action verb is configurable', () => {
  const text = 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np1, namespace: prod}\nspec: {order: x}\n';
  const r = decodeDocumentsDetailed(text, { source: 'np.yaml', action: 'create' });
  assert.match(r.errors[0]!.message, /^cannot create np\.yaml document 1 \(NetworkPolicy prod\/np1\): spec\.order: expected a number, got string "x"$/);
});

void test('kinds and apiVersions: clear errors', () => {
  const cases: [string, string, RegExp][] = [
    ['apiVersion: v1\nkind: Service\nmetadata: {name: s}\n', 'not-calico-kind', /\(Service s\): kind Service \(a Kubernetes core\/v1 resource\) is not a projectcalico\.org\/v3 resource/],
    ['apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: s}\n', 'wrong-api-version', /apiVersion: expected projectcalico\.org\/v3 for NetworkPolicy, got "networking\.k8s\.io\/v1"/],
    ['apiVersion: projectcalico.org/v3\nkind: Pod\nmetadata: {name: s}\n', 'unknown-kind', /unknown projectcalico\.org\/v3 kind "Pod"/],
    ['apiVersion: projectcalico.org/v3\nkind: ippool\nmetadata: {name: s}\n', 'unknown-kind', /did you mean IPPool\?/],
    ['apiVersion: projectcalico.org/v3\nmetadata: {name: s}\n', 'missing-kind', /kind: required field is missing/],
    ['kind: IPPool\nmetadata: {name: s}\nspec: {cidr: 10.0.0.0/16}\n', 'missing-api-version', /apiVersion: required field is missing/],
    ['- 1\n- 2\n', 'not-an-object', /document 1 item 1: expected a resource/],
    ['"just a string"\n', 'not-an-object', /expected a resource/],
    ['kind: [unclosed\n', 'syntax', /document 1/],
    ['a: 1\na: 2\n', 'syntax', /document 1/],
  ];
  for (const [text, code, re] of cases) {
    const errs = errorsOf(text, 'x.yaml');
    assert.ok(errs.length >= 1, text);
    assert.equal(errs[0]!.code, code, text);
    assert.match(errs[0]!.message, re, text);
    assert.match(errs[0]!.message, /^cannot apply x\.yaml document 1/, text);
  }
});

void test('multi-document YAML: empty documents keep numbering; all failing documents reported', () => {
  // A comment before the first "---" is not a document; "---\n---" holds an empty one.
  const text = `# header comment\n---\n${GNP('ok1')}---\n${GNP('a', '  order: x\n')}---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n${GNP('ok')}`;
  const r = decodeDocumentsDetailed(text, { source: 'f.yaml' });
  assert.deepEqual(r.errors.map((e) => e.context.document), [2, 4]);
  assert.deepEqual(r.resources.map((d) => [d.document, d.resource.metadata.name]), [[1, 'ok1'], [5, 'ok']]);
  assert.throws(() => decodeDocuments(text, { source: 'f.yaml' }), (e: unknown) => {
    assert.ok(e instanceof DecodeErrors && e instanceof ModelError);
    assert.equal(e.all.length, 2);
    assert.match(e.message, /document 2 .*\n.*document 4/);
    return true;
  });
});

void test('List kinds, plain arrays and JSON', () => {
  const list = `apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata: {}
items:
- metadata: {name: p1}
  spec: {cidr: 10.1.0.0/16}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: p2}
  spec: {cidr: 10.2.0.0/16}
`;
  assert.deepEqual(decodeDocuments(list).map((r) => [r.kind, r.metadata.name]), [['IPPool', 'p1'], ['IPPool', 'p2']]);
  const bad = decodeDocumentsDetailed(list.replace('10.2.0.0/16', '10.2.0.1/16'), { source: 'l.yaml' });
  assert.match(bad.errors[0]!.message, /^cannot apply l\.yaml document 1 item 2 \(IPPool p2\): spec\.cidr: IP pool CIDR is not strictly masked/);
  const json = JSON.stringify([
    { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 't1' }, spec: { order: 10 } },
    { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 's' }, spec: { nets: ['198.18.0.0/16'] } },
  ]);
  assert.deepEqual(decodeDocuments(json).map((r) => r.kind), ['Tier', 'GlobalNetworkSet']);
  const one = decodeDocuments('{"apiVersion":"projectcalico.org/v3","kind":"Profile","metadata":{"name":"kns.default"},"spec":{}}');
  assert.equal(one[0]!.kind, 'Profile');
});

void test('YAML scalars in string fields become text (as sigs.k8s.io/yaml does); nulls mean unset', () => {
  const text = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: n1
  labels:
    routeReflector: true
    rack: 12
spec:
  bgp:
    ipv4Address: 10.0.0.1/24
    routeReflectorClusterID: null
`;
  const [n] = decodeDocuments(text);
  assert.deepEqual(n!.metadata.labels, { routeReflector: 'true', rack: '12' });
  assert.deepEqual(n!.spec, { bgp: { ipv4Address: '10.0.0.1/24' } });
});

void test('decode returns resources as written (no defaults); validate:false skips semantic checks', () => {
  const [p] = decodeDocuments('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16}\n');
  assert.deepEqual(p!.spec, { cidr: '10.0.0.0/16' });
  const del = 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: "dead::beef::/64"}\n';
  assert.equal(decodeDocuments(del, { validate: false }).length, 1);
  assert.throws(() => decodeDocuments(del), /spec\.cidr: expected a CIDR/);
  // Types and unknown fields are still checked without validation (Go's strict decoder does).
  assert.throws(() => decodeDocuments(del.replace('spec:', 'spc:'), { validate: false }), /spc: unknown field "spc"/);
});

void test('encode: field order, YAML and JSON round trips, List form', () => {
  const rs = decodeDocuments([GNP('a', '  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: [53, "1000:2000", dns]}\n'), GNP('b')].join('---\n'));
  const yaml = encodeYAML(rs);
  assert.ok(yaml.startsWith('apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: a\nspec:\n'), yaml);
  assert.equal(yaml.split('---\n').length, 2);
  assert.deepEqual(decodeDocuments(yaml), rs);
  assert.deepEqual(decodeDocuments(encodeJSON(rs)), rs);
  assert.deepEqual(JSON.parse(encodeJSON(rs[0]!)), rs[0]);
  const list = toList('gnp', rs, '42');
  assert.equal(list.kind, 'GlobalNetworkPolicyList');
  assert.deepEqual(list.metadata, { resourceVersion: '42' });
  assert.deepEqual(decodeDocuments(JSON.stringify(list)), rs);
});

void test('YAML 1.1 booleans as Calico reads them; port ranges stay strings', () => {
  const text = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p, labels: {enabled: yes}}
spec: {cidr: 10.0.0.0/16, natOutgoing: yes, disabled: off}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [80:90]}}]
`;
  const [pool, gnp] = decodeDocuments(text);
  assert.deepEqual(pool!.spec, { cidr: '10.0.0.0/16', natOutgoing: true, disabled: false });
  assert.deepEqual(pool!.metadata.labels, { enabled: 'true' });
  assert.deepEqual((gnp!.spec as { ingress: { destination: { ports: unknown[] } }[] }).ingress[0]!.destination.ports, ['80:90']);
});

void test("field names match case-insensitively when there is no exact match, as Go's encoding/json does", () => {
  const [tier] = decodeDocuments('apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: admin\nspec:\n  Order: 10000\n');
  assert.deepEqual(tier!.spec, { order: 10000 });
  const [pool] = decodeDocuments('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  CIDR: 10.0.0.0/24\n  NATOutgoing: true\n');
  assert.equal((pool!.spec as { cidr?: string }).cidr, '10.0.0.0/24');
  assert.equal((pool!.spec as { natOutgoing?: boolean }).natOutgoing, true);
  // still unknown when no field matches in any case
  assert.throws(() => decodeDocuments('apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: a\nspec:\n  Ordr: 1\n'), /unknown field "Ordr"/);
});
