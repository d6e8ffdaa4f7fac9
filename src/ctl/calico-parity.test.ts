// calicoctl behaviours checked against Calico's own source (calicoctl/calicoctl/commands,
// resourcemgr, libcalico-go/lib/clientv3, and the expected outputs in calicoctl/tests/st).
// Each test names the Calico file that shows the behaviour. In-memory datastore; the
// executable against real etcd is covered in test/e2e/calicoctl-*.test.ts.
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { DatastoreUnavailable, MemoryKv, memoryDatastore, encodeStored } from '../datastore/index.ts';
import { applyDefaults, keyFor, type AnyResource } from '../model/index.ts';
import { runCalicoctl } from './cli.ts';
import type { CtlDeps, CtlIO } from './commands.ts';
import { harness } from './testing.ts';
import { goFieldName } from './calico-errors.ts';

const peer = (name: string, peerIP: string) =>
  `{"apiVersion":"projectcalico.org/v3","kind":"BGPPeer","metadata":{"name":"${name}"},"spec":{"node":"node2","peerIP":"${peerIP}","asNumber":64515}}`;
const pool = (name: string, cidr: string, extra = '') =>
  `{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"${name}"},"spec":{"cidr":"${cidr}"${extra}}}`;

void test('invalid resources: Calico field wording, no "Partial success" (tests/st test_crud.py *_invalid_resource*)', async () => {
  const { run } = harness();
  const one = await run(['create', '-f', '-'], peer('bgppeer-name-123abc', 'badpeerIP'));
  assert.equal(one.code, 1);
  assert.ok(one.err.includes("PeerIP = 'badpeerIP'"), one.err);
  assert.ok(one.err.startsWith("failed to create 'BGPPeer' resource: [cannot create stdin document 1 (BGPPeer bgppeer-name-123abc): spec.peerIP: error with field PeerIP = 'badpeerIP' ("), one.err);
  assert.ok(!one.out.includes('Partial success'));
  const many = await run(['apply', '-f', '-'], `[${peer('bgppeer-invalid1', 'badpeerIP')},${peer('bgppeer-invalid2', 'badpeerIP')}]`);
  assert.ok(many.err.startsWith("failed to apply any 'BGPPeer' resources: ["), many.err);
  assert.ok(many.err.includes("PeerIP = 'badpeerIP'"));
  assert.equal(many.out, '');
});

void test('"Partial success" only while successes outnumber failures (commands/crud_commands.go)', async () => {
  const { run } = harness();
  const oneOfThree = await run(['create', '-f', '-'], `[${peer('a', '198.18.0.1')},${peer('b', 'bad')},${peer('c', 'bad')}]`);
  assert.equal(oneOfThree.code, 1);
  assert.equal(oneOfThree.out, '', 'one success, two failures: no Partial success line');
  assert.ok(oneOfThree.err.startsWith('hit error: ['), oneOfThree.err);
  const twoOfThree = await run(['create', '-f', '-'], `[${peer('d', '198.18.0.2')},${peer('e', '198.18.0.3')},${peer('f', 'bad')}]`);
  assert.equal(twoOfThree.out, "Partial success: created the first 2 out of 3 'BGPPeer' resources:\n");
  assert.ok(twoOfThree.err.startsWith('hit error: [cannot create stdin document 1 (BGPPeer f): spec.peerIP: error with field PeerIP'), twoOfThree.err);
});

void test('replace goes on after a failure and reports the last error (reportReplaceResults)', async () => {
  const { run } = harness();
  assert.equal((await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'))).code, 0);
  const missing = await run(['replace', '-f', '-'], pool('nosuch', '198.18.9.0/24'));
  assert.equal(missing.code, 1);
  assert.equal(missing.out, "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n");
  assert.equal(missing.err, 'hit error: resource does not exist: IPPool(nosuch) with error: <nil>\n');
  // the document after the failing one is still replaced
  const both = await run(['replace', '-f', '-'], `[${pool('nosuch', '198.18.9.0/24')},${pool('p1', '198.18.0.0/24', ',"disabled":true')}]`);
  assert.equal(both.code, 1);
  assert.equal(both.out, "Partial success: replaced the first 2 out of 2 'IPPool' resources:\n");
  const got = await run(['get', 'ippool', 'p1', '-o', 'go-template={{.spec.disabled}}']);
  assert.equal(got.out, 'true');
  // a namespace refusal is not counted as handled
  const ns = await run(['replace', '-n', 'x', '-f', '-'], pool('p1', '198.18.0.0/24'));
  assert.equal(ns.err, "failed to replace 'IPPool' resource: IPPool is not namespaced\n");
});

void test('stale resourceVersion: "update conflict: Kind(name)" (libcalico-go/lib/errors)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'));
  const withRv = pool('p1', '198.18.0.0/24').replace('"name":"p1"', '"name":"p1","resourceVersion":"1"');
  const r = await run(['replace', '-f', '-'], withRv);
  assert.equal(r.err, 'hit error: update conflict: IPPool(p1)\n');
  const a = await run(['apply', '-f', '-'], withRv);
  assert.equal(a.err, "failed to apply 'IPPool' resource: [update conflict: IPPool(p1)]\n");
  const d = await run(['delete', '-f', '-'], withRv);
  assert.equal(d.err, "Failed to delete 'IPPool' resource: update conflict: IPPool(p1)\n\n");
});

void test('unknown fields: MassageError\'s sentence (commands/command.go)', async () => {
  const { run, kv } = harness();
  const r = await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24', ',"bogus":1'));
  assert.equal(r.code, 1);
  assert.ok(r.err.startsWith('field in document is not recognized or is in the wrong location: bogus'), r.err);
  assert.equal((await kv.range('/calico/resources/v3/projectcalico.org/ippools/')).kvs.length, 0);
});

void test('ClusterInformation: calicoctl refuses each write with its own words (resourcemgr/clusterinfo.go)', async () => {
  const { run } = harness();
  const ci = '{"apiVersion":"projectcalico.org/v3","kind":"ClusterInformation","metadata":{"name":"default"},"spec":{}}';
  assert.equal((await run(['create', '-f', '-'], ci)).err, "failed to create 'ClusterInformation' resource: [operation create or apply is not supported on ClusterInformation]\n");
  assert.equal((await run(['apply', '-f', '-'], ci)).err, "failed to apply 'ClusterInformation' resource: [operation apply is not supported on ClusterInformation: resource is readonly]\n");
  // apply initialised the datastore, so replace finds it and is refused
  const rep = await run(['replace', '-f', '-'], ci);
  assert.equal(rep.err, 'hit error: operation apply or replace is not supported on ClusterInformation\n');
  assert.equal((await run(['delete', 'clusterinfo', 'default'])).err, "Failed to delete 'ClusterInformation' resource: operation delete is not supported on ClusterInformation\n\n");
});

void test('label: not found, invalid, not changed (commands/label_command.go)', async () => {
  const { run } = harness();
  assert.equal((await run(['label', 'ippool', 'nosuch', 'a=b'])).err, 'ippool nosuch not found\n');
  assert.equal((await run(['label', 'ippool', 'nosuch', 'ab'])).err, 'invalid label ab\n', 'the label is checked before the get');
  assert.equal((await run(['label', 'widget', 'x', 'a=b'])).err, "failed to get widget x, error resource type 'widget' is not supported\n");
  assert.equal((await run(['label', 'ippool', '', 'a=b'])).err, 'failed to get ippool , error resource name may not be empty\n');
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'));
  assert.equal((await run(['label', 'ippool', 'p1', 'ab'])).err, 'invalid label ab\n');
  assert.equal((await run(['label', 'ippool', 'p1', 'a=b'])).out, 'Successfully set label a on ippool p1\n');
  assert.equal((await run(['label', 'ippool', 'p1', 'a=b'])).out, 'Successfully updated label a on ippool p1\n', 'same value counts as overwritten');
  assert.equal((await run(['label', 'ippool', 'p1', 'a=c'])).err, "failed to update label of ippool p1, key a is already present. please use '--overwrite' to set a new value\n");
  assert.equal((await run(['label', 'ippool', 'p1', 'x', '--remove'])).err, 'cannot remove label of ippool p1, key x does not exist\n');
  assert.equal((await run(['label', 'ippool', 'p1', 'a', '--remove'])).out, 'Successfully removed label a from ippool p1\n');
  assert.equal((await run(['label', 'ippool', 'p1', 'bad key!=v'])).err, 'failed to update ippool p1, label not changed\n');
});

void test('patch accepts any --type and applies a strategic (merge) patch (resourcemgr.Patch)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'));
  for (const t of ['json', 'merge', 'strategic']) {
    const r = await run(['patch', 'ippool', 'p1', '-p', '{"spec":{"natOutgoing":true}}', '--type', t]);
    assert.deepEqual(r, { code: 0, out: "Successfully patched 1 'IPPool' resource\n", err: '' }, t);
  }
  assert.equal((await run(['patch', 'ippool', 'nosuch', '-p', '{}'])).err, 'hit error: resource does not exist: IPPool(nosuch) with error: <nil>\n');
});

void test('version mismatch check and --allow-version-mismatch (commands/common/version_mismatch.go)', async () => {
  const { run, kv } = harness('v3.31.0');
  const ci = (v: string) => encodeStored({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: v, datastoreReady: true } } as AnyResource);
  await kv.put(keyFor('ClusterInformation', 'default'), ci('v3.30.2'));
  const r = await run(['get', 'ippools']);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'failed to get resources: version mismatch.\nClient Version:   v3.31.0\nCluster Version:  3.30.2\nUse --allow-version-mismatch to override\n');
  assert.equal((await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'))).err, 'version mismatch.\nClient Version:   v3.31.0\nCluster Version:  3.30.2\nUse --allow-version-mismatch to override\n');
  assert.equal((await run(['--allow-version-mismatch', 'create', '-f', '-'], pool('p1', '198.18.0.0/24'))).code, 0);
  assert.equal((await run(['get', 'ippools', '--allow-version-mismatch'])).code, 0);
  assert.match((await run(['label', 'ippool', 'p1', 'a=b'])).err, /^failed to get ippool p1, error version mismatch\./);
  // same release with another build suffix, or no version recorded: no mismatch
  await kv.put(keyFor('ClusterInformation', 'default'), ci('v3.31.0-12-gabcdef'));
  assert.equal((await run(['get', 'ippools'])).code, 0);
  await kv.put(keyFor('ClusterInformation', 'default'), ci(''));
  assert.equal((await run(['get', 'ippools'])).code, 0);
  // validate never looks at the datastore
  assert.equal((await run(['validate', '-f', '-'], pool('p2', '198.18.1.0/24'))).code, 0);
});

void test('get output: one table per named resource, errors after; null when nothing was found; JSON as Go prints it (tests/st test_get_delete_multiple_names, common/printer.go)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], `[${pool('ippool-name1', '10.0.1.0/24', ',"ipipMode":"Always","blockSize":27,"nodeSelector":"foo == \'bar\'"')},${pool('ippool-name2', 'fed0:8001::/64', ',"blockSize":123')}]`);
  const t1 = "NAME           CIDR          SELECTOR       \nippool-name1   10.0.1.0/24   foo == 'bar'";
  const t2 = 'NAME           CIDR             SELECTOR   \nippool-name2   fed0:8001::/64   all()';
  const r = await run(['get', 'ippool', 'ippool-name1', 'blah', 'ippool-name2', '--export']);
  assert.equal(r.code, 1);
  assert.equal(r.out + r.err, `${t1}   \n\n${t2}      \n\nresource does not exist: IPPool(blah) with error: <nil>\n`);
  const wide = await run(['get', 'ippool', 'ippool-name1', '-o', 'wide']);
  assert.equal(
    wide.out.trimEnd(),
    'NAME           CIDR          NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR       ASSIGNMENTMODE   \n' +
      "ippool-name1   10.0.1.0/24   false   Always     Never       false      false              foo == 'bar'   Automatic",
  );
  const y = await run(['get', 'ippool', 'nosuch', '-o', 'yaml']);
  assert.deepEqual([y.code, y.out], [1, 'null\n']);
  const j = await run(['get', 'ippool', 'nosuch', '-o', 'json']);
  assert.deepEqual([j.code, j.out], [1, 'null']);
  const one = await run(['get', 'ippool', 'ippool-name1', '-o', 'json']);
  assert.ok(one.out.endsWith('}'), 'no newline after the JSON');
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"p"},"spec":{"selector":"a == \'x\' && b == \'y\'"}}');
  const esc = await run(['get', 'gnp', 'p', '-o', 'json']);
  assert.ok(esc.out.includes(String.raw`"a == 'x' \u0026\u0026 b == 'y'"`), esc.out);
  assert.equal((JSON.parse(esc.out) as AnyResource).spec?.selector, "a == 'x' && b == 'y'");
});

void test('profiles list projectcalico-default-allow; tiers are protected (etcdv3 backend, clientv3/tier.go)', async () => {
  const { run } = harness();
  const p = await run(['get', 'profiles']);
  assert.equal(p.out, 'NAME                          \nprojectcalico-default-allow   \n\n');
  const y = await run(['get', 'profile', 'projectcalico-default-allow', '-o', 'yaml']);
  assert.equal(
    y.out,
    'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: projectcalico-default-allow\n  resourceVersion: "1"\nspec:\n  egress:\n  - action: Allow\n  ingress:\n  - action: Allow\n',
  );
  assert.match((await run(['delete', 'profile', 'projectcalico-default-allow'])).err, /operation Delete is not supported on projectcalico-default-allow/);
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"t1"},"spec":{"order":10}}');
  const noTier = await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"t2.p"},"spec":{"tier":"t2"}}');
  assert.equal(noTier.err, "failed to create 'GlobalNetworkPolicy' resource: [resource does not exist: Tier(t2) with error: <nil>]\n");
  assert.equal((await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"t1.p"},"spec":{"tier":"t1"}}')).code, 0);
  assert.equal((await run(['delete', 'tier', 't1'])).err, "Failed to delete 'Tier' resource: operation delete is not supported on t1: Cannot delete a non-empty tier\n\n");
  assert.equal((await run(['delete', 'tier', 'default'])).err, "Failed to delete 'Tier' resource: operation Delete is not supported on default: Cannot delete default tier\n\n");
  await run(['delete', 'gnp', 't1.p']);
  assert.equal((await run(['delete', 'tier', 't1'])).out, "Successfully deleted 1 'Tier' resource(s)\n");
});

void test('IP pools: overlap and immutable CIDR/blockSize (clientv3/ippool.go)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/16'));
  const ov = await run(['create', '-f', '-'], pool('p2', '198.18.1.0/24'));
  assert.equal(ov.err, "failed to create 'IPPool' resource: [error with field IPPool.Spec.CIDR = '198.18.1.0/24' (IPPool(p2) CIDR overlaps with IPPool(p1) CIDR 198.18.0.0/16)]\n");
  const cidr = await run(['apply', '-f', '-'], pool('p1', '198.19.0.0/16'));
  assert.equal(cidr.err, "failed to apply 'IPPool' resource: [error with field IPPool.Spec.CIDR = '198.19.0.0/16' (IPPool CIDR cannot be modified)]\n");
  const bs = await run(['apply', '-f', '-'], pool('p1', '198.18.0.0/16', ',"blockSize":28'));
  assert.equal(bs.err, "failed to apply 'IPPool' resource: [error with field IPPool.Spec.BlockSize = '28' (IPPool BlockSize cannot be modified)]\n");
  assert.equal((await run(['apply', '-f', '-'], pool('p1', '198.18.0.0/16', ',"natOutgoing":true'))).code, 0);
});

void test('Go field names for Calico-style field errors', () => {
  assert.deepEqual(
    ['peerIP', 'asNumber', 'cidr', 'ipipMode', 'vxlanMode', 'natOutgoing', 'nodeSelector', 'blockSize', 'ipVersion', 'action', 'disableBGPExport'].map(goFieldName),
    ['PeerIP', 'ASNumber', 'CIDR', 'IPIPMode', 'VXLANMode', 'NATOutgoing', 'NodeSelector', 'BlockSize', 'IPVersion', 'Action', 'DisableBGPExport'],
  );
});

void test('tiers list by order; field names match case-insensitively, as Go decodes them (test_tier_list_order, resourcemgr/tier.go)', async () => {
  const { run } = harness();
  const r = await run(['create', '-f', '-'], '[{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"admin"},"spec":{"Order":10000}},{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"before"},"spec":{"Order":100}}]');
  assert.equal(r.out, "Successfully created 2 'Tier' resource(s)\n", r.err);
  const y = await run(['get', 'tiers', '-o', 'go-template={{range .items}}{{.metadata.name}} {{end}}']);
  assert.equal(y.out, 'before kube-admin admin default kube-baseline ');
  const t = await run(['get', 'tiers']);
  assert.equal(t.out.split('\n')[1], 'before          100     ');
});

void test('knp.default. NetworkPolicy names are Kubernetes\' (resourcemgr/networkpolicy.go, test_disallow_crud_on_knp_defaults)', async () => {
  const { run } = harness();
  const np = '{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"knp.default.foobarfizz","namespace":"default"},"spec":{"selector":"all()"}}';
  const c = await run(['create', '-f', '-'], np);
  assert.equal(c.err, "failed to create 'NetworkPolicy' resource: [operation create or apply is not supported on NetworkPolicy(default/knp.default.foobarfizz): kubernetes network policies must be managed through the kubernetes API]\n");
  assert.match((await run(['apply', '-f', '-'], np)).err, /resource does not exist: NetworkPolicy\(default\/knp\.default\.foobarfizz\)/);
  assert.match((await run(['replace', '-f', '-'], np)).err, /resource does not exist/);
  assert.match((await run(['delete', '-f', '-'], np)).err, /is not supported on .*kubernetes network policies must be managed through the kubernetes API/);
});

void test('FelixConfiguration durations come back as Go prints them (test_felixconfig)', async () => {
  const { run } = harness();
  await run(['apply', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"FelixConfiguration","metadata":{"name":"felixconfiguration1"},"spec":{"ipv6Support":false,"netlinkTimeout":"125s","reportingTTL":"9910s"}}');
  const g = await run(['get', 'felixconfig', 'felixconfiguration1', '-o', 'go-template={{.spec.netlinkTimeout}} {{.spec.reportingTTL}}']);
  assert.equal(g.out, '2m5s 2h45m10s');
});

// The invalid-resource table of calicoctl/tests/st/calicoctl/test_crud.py (TestInvalidData): each
// create must fail, write nothing, and say what Calico says.
const ST_INVALID: [string, string, string[]][] = [
  ["bgpPeer-invalidIP", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer3\"},\"spec\":{\"asNumber\":64513,\"node\":\"node1\",\"peerIP\":\"192.168.0.256\"}}", ["PeerIP = '192.168.0.256'"]],
  ["bgpPeer-apiversion", "{\"apiVersion\":\"v7\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer4\"},\"spec\":{\"asNumber\":64513,\"node\":\"node1\",\"peerIP\":\"192.168.0.250\"}}", ["unknown resource type (BGPPeer) and/or version (v7)"]],
  ["bgpPeer-invalidIpv6", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer5\"},\"spec\":{\"asNumber\":64590,\"node\":\"node2\",\"peerIP\":\"fd5f::6::ee\"}}", ["PeerIP = 'fd5f::6::ee'"]],
  ["bgpPeer-invalidnodename", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer6\"},\"spec\":{\"asNumber\":64590,\"node\":\"node 2\",\"peerIP\":\"fd5f::6:ee\"}}", ["Node = 'node 2'"]],
  ["bgpPeer-unrecognisedfield", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer7\"},\"spec\":{\"asNumber\":64590,\"unknown\":\"thing\",\"node\":\"node2\",\"peerIP\":\"fd5f::6:ee\"}}", ["field in document is not recognized or is in the wrong location: unknown"]],
  ["hostEndpoint-invalidInterface", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"HostEndpoint\",\"metadata\":{\"labels\":{\"type\":\"database\"},\"name\":\"endpoint1\"},\"spec\":{\"interfaceName\":\"wibblywobblyeth0\",\"profiles\":[\"prof1\",\"prof2\"],\"node\":\"host1\"}}", ["InterfaceName = 'wibblywobblyeth0'"]],
  ["policy-invalidLowPortinRange", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"Deny\",\"destination\":{},\"protocol\":\"TCP\",\"source\":{\"ports\":[\"0:65535\"]}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["Port = '0' (port range invalid, port number must be between 1 and 65535)"]],
  ["policy-invalidLowPortinList", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"Deny\",\"destination\":{},\"protocol\":\"TCP\",\"source\":{\"ports\":[0,10,80]}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["Port = '0' (port range invalid, port number must be between 1 and 65535)"]],
  ["policy-invalidReversedRange", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"Deny\",\"destination\":{},\"protocol\":\"TCP\",\"source\":{\"ports\":[\"65535:1\"]}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["minimum port number (65535) is greater than maximum port number (1) in port range"]],
  ["policy-invalidAction", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"jumpupanddown\",\"destination\":{},\"protocol\":\"TCP\",\"source\":{}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["supported values: \"Allow\", \"Deny\", \"Log\", \"Pass\""]],
  ["policy-NetworkPolicyNameRejected", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"knp.default.rejectmeplease\",\"namespace\":\"default\"},\"spec\":{\"Egress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"TCP\",\"source\":{}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["kubernetes network policies must be managed through the kubernetes API"]],
  ["pool-invalidNet1", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"pool-invalid-net-1\"},\"spec\":{\"ipipMode\":\"Always\",\"cidr\":\"10.0.1.0/33\"}}", ["CIDR = '10.0.1.0/33'"]],
  ["pool-invalidNet2", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"pool-invalid-net-1\"},\"spec\":{\"ipipMode\":\"Always\",\"cidr\":\"10.0.256.0/24\"}}", ["CIDR = '10.0.256.0/24'"]],
  ["pool-invalidNet3", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"pool-invalid-net-1\"},\"spec\":{\"ipipMode\":\"Always\",\"cidr\":\"10.0.250.0/32\"}}", ["field spec (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)"]],
  ["pool-invalidNet4", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"pool-invalid-net-1\"},\"spec\":{\"ipipMode\":\"Never\",\"cidr\":\"fd5f::2::1/32\"}}", ["CIDR = 'fd5f::2::1/32'"]],
  ["pool-invalidNet6", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"invalid-net-6\"},\"spec\":{\"ipipMode\":\"Never\",\"vxlanMode\":\"Never\",\"cidr\":\"::/128\"}}", ["field spec (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)"]],
  ["pool-invalidNet7", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"invalid-net-7\"},\"spec\":{\"cidr\":\"192.168.0.0/27\"}}", ["field spec (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)"]],
  ["pool-invalidNet8", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"invalid-net-8\"},\"spec\":{\"ipipMode\":\"Never\",\"cidr\":\"fd5f::1/123\"}}", ["IPPool.Spec.CIDR = 'fd5f::/123'"]],
  ["pool-invalidIpIp1", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"invalid-ipip-1\"},\"spec\":{\"disabled\":\"True\",\"cidr\":\"10.0.1.0/24\"}}", ["cannot unmarshal string into Go struct field IPPoolSpec.spec.disabled of type bool"]],
  ["pool-invalidIpIp2", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\",\"metadata\":{\"name\":\"invalid-ipip-2\"},\"spec\":{\"disabled\":\"Maybe\",\"cidr\":\"10.0.1.0/24\"}}", ["cannot unmarshal string into Go struct field IPPoolSpec.spec.disabled of type bool"]],
  ["profile-ICMPtype", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"Profile\",\"metadata\":{\"name\":\"profile2\"},\"spec\":{\"Egress\":[{\"action\":\"Allow\",\"destination\":{},\"source\":{}}],\"Ingress\":[{\"ipVersion\":4,\"ICMP\":{\"type\":256,\"code\":255},\"action\":\"Deny\",\"protocol\":\"ICMP\",\"destination\":{},\"source\":{}}]}}", ["Type = '256'"]],
  ["profile-ICMPcode", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"Profile\",\"metadata\":{\"name\":\"profile2\"},\"spec\":{\"Egress\":[{\"action\":\"Allow\",\"destination\":{},\"source\":{}}],\"Ingress\":[{\"ipVersion\":4,\"ICMP\":{\"type\":19,\"code\":256},\"action\":\"Deny\",\"protocol\":\"ICMP\",\"destination\":{},\"source\":{}}]}}", ["Code = '256'"]],
  // Calico's own unmarshalers (numorstring ASNumber, Port) stop decoding ahead of the misplaced
  // fields ('scope', 'protocol' under source) these documents also carry.
  ["bgpPeer-invalidASnum", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"bgppeer2\"},\"spec\":{\"asNumber\":4294967296,\"node\":\"node1\",\"peerIP\":\"192.168.0.250\",\"scope\":\"node\"}}", ["failed to execute command: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string (cannot create stdin document 1 (BGPPeer bgppeer2))"]],
  ["policy-invalidHighPortinList", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"Deny\",\"destination\":{},\"source\":{\"protocol\":\"TCP\",\"ports\":[10,90,65536]}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["failed to execute command: json: cannot unmarshal number 65536 into Go struct field EntityRule.spec.egress.source.ports of type uint16"]],
  ["policy-invalidHighPortinRange", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"policy2\"},\"spec\":{\"Egress\":[{\"action\":\"Deny\",\"destination\":{},\"source\":{\"protocol\":\"TCP\",\"ports\":[\"1:65536\"]}}],\"Ingress\":[{\"action\":\"Allow\",\"destination\":{},\"protocol\":\"UDP\",\"source\":{}}],\"order\":100000,\"selector\":\"\"}}", ["failed to execute command: invalid maximum port number in range (1:65536)"]],
  ["compound-config", "[{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"compound-config\"},\"spec\":{\"node\":\"node1\",\"peerIP\":\"192.168.0.250\",\"asNumber\":64513}},{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"Profile\",\"metadata\":{\"name\":\"profile2\"},\"spec\":{\"Egress\":[{\"action\":\"Allow\",\"destination\":{},\"source\":{}}],\"Ingress\":[{\"ipVersion\":4,\"ICMP\":{\"type\":256,\"code\":255},\"action\":\"Deny\",\"protocol\":\"ICMP\",\"destination\":{},\"source\":{}}]}}]", ["Type = '256'"]],
];

void test("Calico's st invalid-data table: same error words, nothing written (tests/st test_crud.py TestInvalidData)", async () => {
  for (const [name, doc, expected] of ST_INVALID) {
    const { run, kv } = harness();
    const r = await run(['create', '-f', '-'], doc);
    assert.equal(r.code, 1, name);
    for (const e of expected) assert.ok((r.out + r.err).includes(e), `${name}: expected ${JSON.stringify(e)} in ${JSON.stringify(r.err)}`);
    const stored = (await kv.range('/calico/resources/v3/projectcalico.org/')).kvs.map((k) => k.key).filter((k) => !/\/(tiers|clusterinformations)\//.test(k));
    // compound-config holds one valid BGPPeer, which is created like Calico does
    assert.deepEqual(stored.filter((k) => !k.endsWith('/bgppeers/compound-config')), [], `${name}: nothing written`);
  }
});

void test('BGPConfiguration default-only fields: Calico\'s "Cannot set" words (clientv3/bgpconfig.go, test_bgpconfig)', async () => {
  const { run } = harness();
  const r = await run(['apply', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"bgpconfiguration1"},"spec":{"logSeverityScreen":"Debug","nodeToNodeMeshEnabled":true,"asNumber":64512}}');
  assert.equal(r.code, 1);
  assert.ok(r.err.includes('BGPConfiguration.Spec.NodeToNodeMeshEnabled (Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.)'), r.err);
  assert.ok(r.err.includes('BGPConfiguration.Spec.ASNumber (Cannot set ASNumber on a non default BGP Configuration.)'), r.err);
  assert.equal((await run(['apply', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"nodeToNodeMeshEnabled":true,"asNumber":64512}}')).code, 0);
});

void test('names: Calico\'s Metadata.Name words (clientv3 resources.Create, validator validateObjectMeta)', async () => {
  const { run } = harness();
  const bad = await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"Bad_Name"},"spec":{"cidr":"10.0.0.0/24"}}');
  assert.ok(bad.err.includes("error with field Metadata.Name = 'Bad_Name' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))"), bad.err);
  const none = await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{},"spec":{"cidr":"10.0.0.0/24"}}');
  assert.ok(none.err.includes("error with field Metadata.Name = '' (field must be set for a Create request)"), none.err);
  const gnp = await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"a.b.c"},"spec":{}}');
  assert.ok(gnp.err.includes("error with field Metadata.Name = 'a.b.c' (name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?))"), gnp.err);
});

void test('get -f with a resourceVersion reads the resource at that revision (resourcemgr Get with GetOptions.ResourceVersion)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24', ',"disabled":false'));
  const v1 = JSON.parse((await run(['get', 'ippool', 'p1', '-o', 'json'])).out) as AnyResource;
  await run(['patch', 'ippool', 'p1', '-p', '{"spec":{"disabled":true}}']);
  const old = await run(['get', '-o', 'go-template={{.spec.disabled}}', '-f', '-'], JSON.stringify(v1));
  assert.equal(old.out, 'false');
  const now = await run(['get', '-o', 'go-template={{.spec.disabled}}', '-f', '-'], pool('p1', '198.18.0.0/24'));
  assert.equal(now.out, 'true');
});

void test('patch that adds an unknown field: MassageError\'s sentence (test_patch, resourcemgr.Patch)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"p1","namespace":"default"},"spec":{"selector":"all()"}}');
  const r = await run(['patch', 'networkpolicy', 'p1', '-p', '{"http": {"exact": "path/to/match"}}']);
  assert.equal(r.code, 1);
  assert.ok(r.err.startsWith('hit error: field in document is not recognized or is in the wrong location: http ('), r.err);
});

void test('version: client lines, cluster lines, --poll re-prints changes (commands/version.go)', async () => {
  const kv = new MemoryKv();
  let rounds = 0;
  let io = { out: '', err: '' };
  const deps: CtlDeps = {
    connect: () => ({ ...memoryDatastore({ prepare: (r: AnyResource) => applyDefaults(r) }, kv), close: async () => {} }),
    defaultConfigPath: '/nonexistent/calicoctl.cfg',
    version: { version: 'v3.31.0', gitCommit: 'abc123' },
    sleep: async () => {
      rounds++;
      if (rounds === 1) {
        await kv.put(keyFor('ClusterInformation', 'default'), encodeStored({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.31.0', clusterType: 'bgp' } } as AnyResource));
      }
      if (rounds === 3) throw new Error('stop');
    },
  };
  const run = async (argv: string[]) => {
    io = { out: '', err: '' };
    const c: CtlIO = { out: (s) => void (io.out += s), err: (s) => void (io.err += s), readStdin: async () => '', env: {} };
    return runCalicoctl(argv, c, deps);
  };
  assert.equal(await run(['version', '--poll', 'bogus']), 1);
  assert.equal(io.err, 'invalid poll duration specified: bogus\n');
  assert.equal(io.out, '', 'nothing printed before the duration is checked');
  assert.equal(await run(['version']), 1);
  assert.equal(io.out, 'Client Version:    v3.31.0\nGit commit:        abc123\n');
  assert.equal(io.err, 'unable to retrieve Cluster Version or Type: resource does not exist: ClusterInformation(default) with error: <nil>\n');
  await run(['version', '--poll', '1s']);
  assert.equal(io.out, 'Client Version:    v3.31.0\nGit commit:        abc123\nCluster Version:   v3.31.0\nCluster Type:      bgp\n');
  assert.match(io.err, /^unable to retrieve Cluster Version or Type: resource does not exist/);
});

void test('range and tier-name errors in Calico\'s words (clientv3 ipamconfig/tier e2e tests)', async () => {
  const { run } = harness();
  const r = await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPAMConfiguration","metadata":{"name":"default"},"spec":{"maxBlocksPerHost":-1,"strictAffinity":false}}');
  assert.ok(r.err.includes("MaxBlocksPerHost = '-1' (must be greater than or equal to 0)"), r.err);
  const long = 'thisisareallylongnamethatislongerthansixtythreecharactersthatwillnotfitinalabel';
  const t = await run(['create', '-f', '-'], `{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"${long}"},"spec":{}}`);
  assert.ok(t.err.includes(`error with field Metadata.Name = '${long}' (name is too long by 16 bytes)`), t.err);
  const d = await run(['apply', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"default"},"spec":{"order":5}}');
  assert.ok(d.err.includes('default tier order must be 1000000'), d.err);
});

void test('where errors go: clientmgr/ExecuteConfigCommand set-up failures on stdout, the rest on stderr (clientmgr/client.go, common/resources.go, calicoctl.go)', async () => {
  const { run } = harness();
  // "Error reading config file" is fmt.Printf + os.Exit(1), for every command that needs a client.
  for (const argv of [['get', 'ippools'], ['delete', 'ippool', 'x'], ['label', 'ippool', 'x', 'a=b'], ['version']]) {
    const r = await run([...argv, '--config', '/nonexistent/other.cfg']);
    assert.equal(r.code, 1, argv.join(' '));
    assert.equal(r.err, '', argv.join(' '));
    assert.ok(r.out.endsWith('Error reading config file: /nonexistent/other.cfg\n'), `${argv.join(' ')}: ${JSON.stringify(r.out)}`);
  }
  // A bad configuration: "Failed to create Calico API client: ..." on stdout (ExecuteConfigCommand) ...
  const runEnv = async (argv: string[], env: Record<string, string>) => {
    let out = '';
    let err = '';
    const io: CtlIO = { out: (s) => void (out += s), err: (s) => void (err += s), readStdin: async () => '', env };
    const code = await runCalicoctl(argv, io, { connect: () => { throw new Error('unused'); }, defaultConfigPath: '/nonexistent/calicoctl.cfg', version: { version: 'v1', gitCommit: 'x' } });
    return { code, out, err };
  };
  const g = await runEnv(['get', 'ippools'], { DATASTORE_TYPE: 'kubernetes' });
  assert.equal(g.code, 1);
  assert.equal(g.err, '');
  assert.match(g.out, /^Failed to create Calico API client: failed to load config from env vars: unsupported datastoreType 'kubernetes'.*\n$/);
  // ... but `version` returns clientmgr's error to main, which prints it bare on stderr.
  const v = await runEnv(['version'], { DATASTORE_TYPE: 'kubernetes' });
  assert.equal(v.code, 1);
  assert.equal(v.out, 'Client Version:    v1\nGit commit:        x\n');
  assert.match(v.err, /^failed to load config from env vars: unsupported datastoreType 'kubernetes'.*\n$/);
  // Command errors stay on stderr.
  const nf = await run(['delete', 'ippool', 'nosuch']);
  assert.equal(nf.out, '');
  assert.equal(nf.err, "Failed to delete 'IPPool' resource: resource does not exist: IPPool(nosuch) with error: <nil>\n\n");
});

void test('an unreachable datastore: Calico\'s "Failed to create Calico API client: context deadline exceeded" on stdout, one line; `version` bare on stderr', async () => {
  const kv = new MemoryKv();
  const down = new DatastoreUnavailable(['http://127.0.0.1:9'], 'connect ECONNREFUSED 127.0.0.1:9');
  const failing = { ...memoryDatastore({}, kv), close: async () => {} };
  const resources = new Proxy(failing.resources, { get: (t, p) => (typeof (t as unknown as Record<string | symbol, unknown>)[p] === 'function' ? async () => { throw down; } : (t as unknown as Record<string | symbol, unknown>)[p]) });
  const deps: CtlDeps = { connect: () => ({ ...failing, resources }), defaultConfigPath: '/nonexistent/calicoctl.cfg', version: { version: 'v1', gitCommit: 'x' } };
  const run = async (argv: string[], stdin = '') => {
    let out = '';
    let err = '';
    const io: CtlIO = { out: (s) => void (out += s), err: (s) => void (err += s), readStdin: async () => stdin, env: {} };
    return { code: await runCalicoctl(argv, io, deps), out, err };
  };
  const line = 'Failed to create Calico API client: context deadline exceeded (datastore unavailable at http://127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9; check the datastore is running, and ETCD_ENDPOINTS or --config)\n';
  for (const [argv, stdin] of [[['get', 'nodes'], ''], [['apply', '-f', '-'], pool('p1', '198.18.0.0/24')], [['delete', 'node', 'n1'], ''], [['label', 'ippool', 'p', 'a=b'], ''], [['patch', 'ippool', 'p', '-p', '{}'], '']] as const) {
    const r = await run([...argv], stdin);
    assert.deepEqual(r, { code: 1, out: line, err: '' }, argv.join(' '));
  }
  const v = await run(['version']);
  assert.deepEqual(v, { code: 1, out: 'Client Version:    v1\nGit commit:        x\n', err: 'context deadline exceeded (datastore unavailable at http://127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9; check the datastore is running, and ETCD_ENDPOINTS or --config)\n' });
});

void test("Calico's unmarshaler errors (numorstring Port, ASNumber): Go's words, ahead of collected decode errors, in document order", async () => {
  const { run } = harness();
  const gnp = (ports: string, extra = '') => `apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p1}\nspec:\n  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: ${ports}${extra}}\n`;
  const cases: [string, string][] = [
    [gnp('[80, 70000]'), 'failed to execute command: json: cannot unmarshal number 70000 into Go struct field EntityRule.spec.ingress.destination.ports of type uint16 (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    [gnp('["99999"]'), 'failed to execute command: invalid port format (99999) (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    [gnp('["70000:80"]'), 'failed to execute command: invalid minimum port number in range (70000:80) (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    [gnp('["90:80"]'), 'failed to execute command: minimum port number (90) is greater than maximum port number (80) in port range (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    [gnp('["bad name!"]'), 'failed to execute command: invalid name for named port (bad name!) (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    [gnp('[true]'), 'failed to execute command: json: cannot unmarshal bool into Go struct field EntityRule.spec.ingress.destination.ports of type uint16 (cannot create stdin document 1 (GlobalNetworkPolicy p1))\n'],
    ['apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: b1}\nspec: {peerIP: 198.18.0.1, asNumber: "1.2.3"}\n', 'failed to execute command: invalid AS Number format (1.2.3) (cannot create stdin document 1 (BGPPeer b1))\n'],
    ['apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n1}\nspec: {bgp: {ipv4Address: 198.18.0.1/24, asNumber: -1}}\n', 'failed to execute command: json: cannot unmarshal number into Go struct field NodeBGPSpec.spec.bgp.asNumber of type string (cannot create stdin document 1 (Node n1))\n'],
  ];
  for (const [doc, err] of cases) {
    const r = await run(['create', '-f', '-'], doc);
    assert.deepEqual({ code: r.code, out: r.out, err: r.err }, { code: 1, out: '', err }, doc);
  }
  // Valid forms pass: numbers and strings in range, "a.b" AS numbers, named ports.
  assert.equal((await run(['create', '-f', '-'], gnp('[80, "443", "8000:8080", "http"]'))).code, 0);
  assert.equal((await run(['create', '-f', '-'], 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: b2}\nspec: {peerIP: 198.18.0.1, asNumber: "1.10"}\n')).code, 0);
  // Documents are decoded in order: an unknown field in document 1 is reported before a bad port in document 2.
  const two = await run(['create', '-f', '-'], `${gnp('[80]', ', bogus: 1')}---\n${gnp('[70000]').replace('p1', 'p2')}`);
  assert.match(two.err, /^field in document is not recognized or is in the wrong location: bogus/);
  const rev = await run(['create', '-f', '-'], `${gnp('[80]').replace('p1', 'p3')}---\n${gnp('[70000]', ', bogus: 1').replace('p1', 'p4')}`);
  assert.match(rev.err, /^failed to execute command: json: cannot unmarshal number 70000 .*\(cannot create stdin document 2 \(GlobalNetworkPolicy p4\)\)\n$/);
});

void test('ExecuteConfigCommand order: version check, then the input, then the client (common/resources.go, version_mismatch.go)', async () => {
  const { run, kv } = harness('v3.31.0');
  await kv.put(keyFor('ClusterInformation', 'default'), encodeStored({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.30.2' } } as AnyResource));
  // A mismatched cluster is reported before a bad file or an unknown resource type.
  assert.match((await run(['apply', '-f', '/nonexistent/x.yaml'])).err, /^version mismatch\./);
  assert.match((await run(['delete', '-f', '-'], 'kind: [')).err, /^version mismatch\./);
  assert.match((await run(['get', 'widgets'])).err, /^failed to get resources: version mismatch\./);
  assert.match((await run(['label', 'widget', 'x', 'a=b'])).err, /^failed to get widget x, error version mismatch\./);
  // The version check skips a datastore it cannot reach, or a bad configuration: the input is
  // checked first, then the client's failure is reported (stdout).
  const down = new DatastoreUnavailable(['http://127.0.0.1:9'], 'connect ECONNREFUSED 127.0.0.1:9');
  let calls = 0;
  const failing = memoryDatastore({}, new MemoryKv());
  const resources = new Proxy(failing.resources, { get: (t, p) => (typeof (t as unknown as Record<string | symbol, unknown>)[p] === 'function' ? async () => { calls++; throw down; } : (t as unknown as Record<string | symbol, unknown>)[p]) });
  const runWith = async (argv: string[], env: Record<string, string> = {}, stdin = '') => {
    let out = '';
    let err = '';
    const io: CtlIO = { out: (s) => void (out += s), err: (s) => void (err += s), readStdin: async () => stdin, env };
    const code = await runCalicoctl(argv, io, { connect: () => ({ ...failing, resources, close: async () => {} }), defaultConfigPath: '/nonexistent/calicoctl.cfg', version: { version: 'v1', gitCommit: 'x' } });
    return { code, out, err };
  };
  const bad = await runWith(['apply', '-f', '/nonexistent/x.yaml']);
  assert.deepEqual(bad, { code: 1, out: '', err: 'failed to execute command: open /nonexistent/x.yaml: no such file or directory\n' });
  assert.equal((await runWith(['get', 'widgets'])).err, "failed to get resources: resource type 'widgets' is not supported\n");
  calls = 0;
  const unreachable = await runWith(['apply', '-f', '-'], {}, pool('p1', '198.18.0.0/24'));
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.out, /^Failed to create Calico API client: context deadline exceeded \(datastore unavailable at http:\/\/127\.0\.0\.1:9/);
  assert.equal(calls, 1, 'an unreachable datastore is tried once');
  const badConfig = await runWith(['apply', '-f', '/nonexistent/x.yaml'], { DATASTORE_TYPE: 'kubernetes' });
  assert.equal(badConfig.err, 'failed to execute command: open /nonexistent/x.yaml: no such file or directory\n');
  const badConfigGood = await runWith(['apply', '-f', '-'], { DATASTORE_TYPE: 'kubernetes' }, pool('p1', '198.18.0.0/24'));
  assert.match(badConfigGood.out, /^Failed to create Calico API client: .*unsupported datastoreType 'kubernetes'/);
  // A missing --config file ends the command at the version check, before the input.
  const missing = await runWith(['apply', '-f', '/nonexistent/x.yaml', '--config', '/nonexistent/c.cfg']);
  assert.deepEqual(missing, { code: 1, out: 'Error reading config file: /nonexistent/c.cfg\n', err: '' });
});

void test('delete KIND without names deletes one resource with an empty name, which never exists (resourcemgr.GetResourcesFromArgs, etcdv3 Delete)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'));
  assert.deepEqual(await run(['delete', 'ippool']), { code: 1, out: '', err: "Failed to delete 'IPPool' resource: resource does not exist: IPPool() with error: <nil>\n\n" });
  assert.deepEqual(await run(['delete', 'networkpolicy']), { code: 1, out: '', err: "Failed to delete 'NetworkPolicy' resource: resource does not exist: NetworkPolicy(default/) with error: <nil>\n\n" });
  assert.deepEqual(await run(['delete', 'ippool', '--skip-not-exists']), { code: 0, out: "Successfully deleted 1 'IPPool' resource(s)\n", err: '' });
  assert.equal((await run(['get', 'ippool', 'p1'])).code, 0, 'nothing was deleted');
  // create/apply/replace/validate take (and ignore) positional arguments next to -f, as cobra's default does.
  assert.equal((await run(['create', '-f', '-', 'extra'], pool('p2', '198.18.1.0/24'))).out, "Successfully created 1 'IPPool' resource(s)\n");
});

void test('empty input: checked per file, in a directory too; stdin is "-"; an empty directory is named (common/resources.go, file/iter.go)', async (t) => {
  const { run } = harness();
  const dir = mkdtempSync(path.join(tmpdir(), 'ctl-empty-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await run(['apply', '-f', '-'], '# only a comment\n'), { code: 1, out: '', err: 'no resources specified in file -\n' });
  mkdirSync(path.join(dir, 'none'));
  writeFileSync(path.join(dir, 'none', 'notes.txt'), 'not a manifest');
  assert.deepEqual(await run(['apply', '-f', path.join(dir, 'none')]), { code: 1, out: '', err: `no resources specified in directory ${path.join(dir, 'none')}\n` });
  assert.deepEqual(await run(['apply', '--skip-empty', '-f', path.join(dir, 'none')]), { code: 0, out: 'No resources specified\n', err: '' });
  // a.yaml is applied only if b.yaml (empty) does not stop the command first: it does, and nothing is written.
  writeFileSync(path.join(dir, 'a.yaml'), pool('p1', '198.18.0.0/24'));
  writeFileSync(path.join(dir, 'b.yaml'), '');
  assert.deepEqual(await run(['apply', '-f', dir]), { code: 1, out: '', err: `no resources specified in file ${path.join(dir, 'b.yaml')}\n` });
  assert.equal((await run(['get', 'ippool', 'p1'])).code, 1);
  assert.deepEqual(await run(['apply', '--skip-empty', '-f', dir]), { code: 0, out: "Successfully applied 1 'IPPool' resource(s)\n", err: '' });
});

void test('get -A / -a on a kind that is not namespaced: exactly "IPPool is not namespaced" (tests/fv namespace_option_test.go TestMultiOption)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24'));
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"policy1","namespace":"firstns"},"spec":{}}');
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"policy2","namespace":"secondns"},"spec":{}}');
  for (const flag of ['-A', '-a']) assert.deepEqual(await run(['get', 'ippool', flag]), { code: 1, out: '', err: 'IPPool is not namespaced\n' });
  const a = await run(['get', 'networkPolicy', '-A']);
  assert.equal(a.out, 'NAMESPACE   NAME      TIER      \nfirstns     policy1   default   \nsecondns    policy2   default   \n\n');
  assert.deepEqual(await run(['get', 'networkPolicy', '-a']), a);
});

// Each kind's names and table headings (narrow, wide) as calicoctl's resourcemgr registers them.
const RESOURCEMGR_KINDS: [string, string, string][] = [
  ['bgpconfiguration bgpconfigurations bgpconfig bgpconfigs', 'NAME LOGSEVERITY MESHENABLED ASNUMBER', 'NAME LOGSEVERITY MESHENABLED ASNUMBER'],
  ['bgpfilter bgpfilters bgpf bgpfs bf bfs', 'NAME NUMEXPORTV4 NUMIMPORTV4 NUMEXPORTV6 NUMIMPORTV6', 'NAME NUMEXPORTV4 NUMIMPORTV4 NUMEXPORTV6 NUMIMPORTV6'],
  ['bgppeer bgppeers bgpp bgpps bp bps', 'NAME PEERIP NODE ASN', 'NAME PEERIP NODE ASN'],
  ['clusterinformation clusterinformations clusterinfo clusterinfos', 'NAME CLUSTERGUID CLUSTERTYPE CALICOVERSION DATASTOREREADY', 'NAME CLUSTERGUID CLUSTERTYPE CALICOVERSION DATASTOREREADY'],
  ['felixconfiguration felixconfigurations felixconfig felixconfigs', 'NAME', 'NAME'],
  ['globalnetworkpolicy globalnetworkpolicies gnp gnps', 'NAME TIER', 'NAME TIER ORDER SELECTOR'],
  ['globalnetworkset globalnetworksets gnetsets', 'NAME', 'NAME NETS'],
  ['hostendpoint hostendpoints hep heps', 'NAME NODE', 'NAME NODE INTERFACE IPS PROFILES'],
  ['ipamconfiguration ipamconfigurations ipamconfig ipamconfigs', 'NAME STRICTAFFINITY AUTOALLOCATEBLOCKS', 'NAME STRICTAFFINITY AUTOALLOCATEBLOCKS MAXBLOCKSPERHOST'],
  ['ippool ippools ipp ipps pool pools', 'NAME CIDR SELECTOR', 'NAME CIDR NAT IPIPMODE VXLANMODE DISABLED DISABLEBGPEXPORT SELECTOR ASSIGNMENTMODE'],
  ['ipreservation ipreservations reservation reservations', 'NAME', 'NAME CIDRS'],
  ['kubecontrollersconfiguration kubecontrollersconfigurations kubecontrollersconfig kubecontrollersconfigs', 'NAME', 'NAME'],
  ['networkpolicy networkpolicies policy np policies pol pols', 'NAME TIER', 'NAME TIER ORDER SELECTOR'],
  ['networkset networksets netsets', 'NAME', 'NAME NETS'],
  ['node nodes no nos', 'NAME', 'NAME ASN IPV4 IPV6'],
  ['caliconodestatus caliconodestatuses nodestatus nodestatuses', 'NAME NODE', 'NAME NODE CLASSES'],
  ['profile profiles pro pros', 'NAME', 'NAME LABELS'],
  ['stagedglobalnetworkpolicy stagedglobalnetworkpolicies sgnp sgnps', 'NAME TIER', 'NAME TIER ORDER SELECTOR'],
  ['stagedkubernetesnetworkpolicy stagedkubernetesnetworkpolicies stagedkubernetespolicy sknp stagedkubernetespolicies skpol skpols', 'NAME', 'NAME PODSELECTOR'],
  ['stagednetworkpolicy stagednetworkpolicies stagedpolicy snp stagedpolicies spol spols', 'NAME TIER', 'NAME TIER ORDER SELECTOR'],
  ['tier tiers', 'NAME ORDER', 'NAME ORDER'],
  ['workloadendpoint workloadendpoints wep weps', 'WORKLOAD NODE NETWORKS INTERFACE', 'NAME WORKLOAD NODE NETWORKS INTERFACE PROFILES NATS'],
];

void test('every resource name calicoctl accepts, and each kind\'s table headings, narrow and wide (resourcemgr/*.go registerResource)', async () => {
  const { run } = harness();
  for (const [names, narrow, wide] of RESOURCEMGR_KINDS) {
    for (const [i, alias] of names.split(' ').entries()) {
      for (const name of [alias, alias.toUpperCase()]) {
        const r = await run(['get', name, ...(i % 2 ? ['-o', 'wide'] : [])]);
        assert.equal(r.code, 0, `${name}: ${r.err}`);
        assert.equal(r.out.split('\n')[0]!.trim().split(/ +/).join(' '), i % 2 ? wide : narrow, name);
      }
    }
  }
});

void test('-o json/yaml in the shape of Calico\'s Go structs: fields in struct order, struct-typed fields always present (encoding/json over api/pkg/apis/projectcalico/v3)', async () => {
  const { run } = harness();
  const keys = (o: unknown): string[] => Object.keys(o as object);
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"p1"},"spec":{"nodeSelector":"all()","cidr":"198.18.0.0/24"}}');
  const p = JSON.parse((await run(['get', 'ippool', 'p1', '-o', 'json'])).out) as { spec: object };
  assert.deepEqual(keys(p), ['kind', 'apiVersion', 'metadata', 'spec']);
  assert.deepEqual(keys(p.spec), ['cidr', 'vxlanMode', 'ipipMode', 'blockSize', 'nodeSelector', 'allowedUses', 'assignmentMode']);
  await run(['create', '-f', '-'], 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g1}\nspec:\n  types: [Ingress]\n  selector: all()\n  ingress:\n  - destination: {ports: [80], nets: [198.18.0.0/24]}\n    protocol: TCP\n    action: Allow\n  - action: Deny\n');
  const g = JSON.parse((await run(['get', 'gnp', 'g1', '-o', 'json'])).out) as { spec: { ingress: { destination?: object }[] } };
  assert.deepEqual(keys(g.spec), ['tier', 'ingress', 'selector', 'types']);
  assert.deepEqual(keys(g.spec.ingress[0]), ['action', 'protocol', 'destination']);
  assert.deepEqual(keys(g.spec.ingress[0]!.destination), ['nets', 'ports']);
  assert.deepEqual(keys(g.spec.ingress[1]), ['action'], 'source and destination are omitzero');
  // Node, Tier and KubeControllersConfiguration status, and a few spec structs, print as {}.
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1"},"spec":{"bgp":{"ipv4Address":"198.18.0.1/24","asNumber":64512}}}');
  const n = JSON.parse((await run(['get', 'node', 'n1', '-o', 'json'])).out) as { spec: { bgp: object }; status: object };
  assert.deepEqual(n.status, {});
  assert.deepEqual(keys(n.spec.bgp), ['asNumber', 'ipv4Address']);
  assert.match((await run(['get', 'tier', 'default', '-o', 'yaml'])).out, /\nstatus: \{\}\n$/);
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"KubeControllersConfiguration","metadata":{"name":"default"},"spec":{}}');
  const k = JSON.parse((await run(['get', 'kubecontrollersconfig', 'default', '-o', 'json'])).out) as { spec: { controllers: object }; status: object };
  assert.deepEqual([k.spec.controllers, k.status], [{}, {}]);
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"StagedKubernetesNetworkPolicy","metadata":{"name":"s1","namespace":"default"},"spec":{}}');
  assert.match((await run(['get', 'sknp', 's1', '-o', 'yaml'])).out, /\nspec:\n {2}podSelector: \{\}\n {2}stagedAction: Set\n$/);
  // ... and what get prints applies back unchanged.
  for (const kind of ['node', 'tier', 'kubecontrollersconfig', 'sknp']) {
    assert.equal((await run(['apply', '-f', '-'], (await run(['get', kind, '-o', 'yaml'])).out)).code, 0, kind);
  }
});

void test('-o yaml/json leave out omitempty fields holding Go\'s zero value (false, 0, "", empty), and empty entity rules (omitzero)', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], pool('p1', '198.18.0.0/24', ',"natOutgoing":false,"disabled":false,"disableBGPExport":false,"namespaceSelector":""'));
  const p = JSON.parse((await run(['get', 'ippool', 'p1', '-o', 'json'])).out) as { spec: object };
  assert.deepEqual(Object.keys(p.spec), ['cidr', 'vxlanMode', 'ipipMode', 'blockSize', 'nodeSelector', 'allowedUses', 'assignmentMode']);
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"g1"},"spec":{"selector":"all()","doNotTrack":false,"ingress":[{"action":"Allow","protocol":"TCP","source":{"nets":[],"selector":""},"destination":{"ports":[80],"notNets":[]}}]}}');
  const g = JSON.parse((await run(['get', 'gnp', 'g1', '-o', 'json'])).out) as { spec: { ingress: object[] } };
  assert.deepEqual(g.spec, { tier: 'default', ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }], selector: 'all()', types: ['Ingress'] });
  // IPAMConfiguration's strictAffinity and autoAllocateBlocks have no omitempty: false stays.
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPAMConfiguration","metadata":{"name":"default"},"spec":{"strictAffinity":false,"autoAllocateBlocks":false,"maxBlocksPerHost":0}}');
  const i = JSON.parse((await run(['get', 'ipamconfig', 'default', '-o', 'json'])).out) as { spec: object };
  assert.deepEqual(i.spec, { strictAffinity: false, autoAllocateBlocks: false });
});

void test('ipam configure: IPAM\'s config object at /calico/ipam/v2/config, Calico\'s defaults, checks and messages (commands/ipam/configure.go, ipam.SetIPAMConfig)', async () => {
  const { run, kv } = harness();
  const r = (argv: string[]) => run(['ipam', 'configure', ...argv]);
  assert.deepEqual(await r([]), { code: 1, out: '', err: 'at least one configuration option must be specified\n' });
  assert.deepEqual(await r(['--strictaffinity=maybe']), { code: 1, out: '', err: 'invalid value. Use true or false to set strictaffinity\n' });
  assert.deepEqual(await r(['--max-blocks-per-host=x']), { code: 1, out: '', err: 'invalid value for maxblockhost. Use a valid number\n' });
  assert.deepEqual(await r(['--kubevirt-ip-persistence=yes']), { code: 1, out: '', err: 'invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled\n' });
  assert.deepEqual(await r(['--max-blocks-per-host=4']), { code: 1, out: '', err: 'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n' });
  assert.equal(await kv.get('/calico/ipam/v2/config'), undefined, 'nothing written by a refused change');
  assert.deepEqual(await r(['--strictaffinity=true', '--max-blocks-per-host=4']), { code: 0, out: 'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\n', err: '' });
  assert.deepEqual(await r(['--ip-cooldown-seconds', '30', '--kubevirt-ip-persistence=Disabled']), { code: 0, out: 'Successfully set KubeVirtVMAddressPersistence to: Disabled\nSuccessfully set IPCooldownSeconds to: 30\n', err: '' });
  assert.deepEqual(JSON.parse((await kv.get('/calico/ipam/v2/config'))!.value), { strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 4, kubeVirtVMAddressPersistence: 'Disabled', ipCooldownSeconds: 30 });
  assert.deepEqual(await r(['--ip-cooldown-seconds', 'x']), { code: 1, out: '', err: 'invalid argument "x" for "--ip-cooldown-seconds" flag: strconv.ParseInt: parsing "x": invalid syntax\n' });
});

void test('ipam show: pool and block utilisation, reservations, --ip (commands/ipam/show.go; tests/fv ipam_test.go TestIPAM)', async () => {
  const { run, kv } = harness();
  await run(['create', '-f', '-'], '[{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"ipam-test-v4"},"spec":{"cidr":"198.18.0.0/16"}},{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"ipam-test-v6"},"spec":{"cidr":"fd00:198:18::/48"}}]');
  const empty = await run(['ipam', 'show']);
  assert.match(empty.out, /^\+-+\+/);
  assert.ok(empty.out.includes('| GROUPING | CIDR             | IPS TOTAL  | IPS IN USE | IPS RESERVED | IPS FREE          |\n'), empty.out);
  assert.ok(empty.out.includes('| IP Pool  | 198.18.0.0/16    |      65536 |     0 (0%) |       0 (0%) |      65536 (100%) |\n'), empty.out);
  assert.ok(empty.out.includes('| IP Pool  | fd00:198:18::/48 | 9.2234e+18 |     0 (0%) |       0 (0%) | 9.2234e+18 (100%) |\n'), empty.out);
  assert.deepEqual(await run(['ipam', 'show', '--ip=198.18.0.2']), { code: 0, out: '198.18.0.2 is not assigned\n', err: '' });
  // Five addresses in use in one /26, as Calico's IPAM records them; 198.18.0.60/30 reserved.
  const allocations: (number | null)[] = Array.from({ length: 64 }, (_, i) => (i < 5 ? 0 : null));
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26', JSON.stringify({ cidr: '198.18.0.0/26', affinity: 'host:node1', allocations, unallocated: Array.from({ length: 59 }, (_, i) => i + 5), attributes: [{ handle_id: 'h1', secondary: { note: 'reserved by ipam_test.go', node: 'node1' } }], sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false }));
  await run(['create', '-f', '-'], '{"apiVersion":"projectcalico.org/v3","kind":"IPReservation","metadata":{"name":"r1"},"spec":{"reservedCIDRs":["198.18.0.60/30"]}}');
  const blocks = await run(['ipam', 'show', '--show-blocks']);
  assert.ok(blocks.out.includes('| IP Pool  | 198.18.0.0/16    |      65536 |     5 (0%) |       4 (0%) |      65527 (100%) |\n'), blocks.out);
  assert.ok(blocks.out.includes('| Block    | 198.18.0.0/26    |         64 |     5 (8%) |       4 (6%) |          55 (86%) |\n'), blocks.out);
  assert.ok(!(await run(['ipam', 'show'])).out.includes('Block'));
  assert.deepEqual(await run(['ipam', 'show', '--ip=198.18.0.2']), {
    code: 0,
    out: 'IP 198.18.0.2 is in use\nHandle ID: h1\nActive Owner Attributes:\n  node: node1\n  note: reserved by ipam_test.go\n',
    err: '',
  });
  // argutils.ValidateIP: on stdout, exit 1.
  assert.deepEqual(await run(['ipam', 'show', '--ip=198.18.0.300']), { code: 1, out: 'Error executing command: invalid IP address specified: 198.18.0.300\n', err: '' });
});

void test('ipam show --show-borrowed: addresses a node holds in another node\'s block (commands/ipam/show.go ShowBorrowedDetails)', async () => {
  const { run, kv } = harness();
  const allocations: (number | null)[] = Array.from({ length: 64 }, (_, i) => (i === 2 ? 0 : i === 3 ? 1 : i === 4 ? 2 : null));
  await kv.put('/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26', JSON.stringify({
    cidr: '198.18.0.0/26', affinity: 'host:node1', allocations, unallocated: [],
    attributes: [{ handle_id: 'a', secondary: { node: 'node1', pod: 'p0', namespace: 'ns' } }, { handle_id: 'b', secondary: { node: 'node2', pod: 'p1', namespace: 'ns' } }, { handle_id: 'c' }],
    sequenceNumber: 0, sequenceNumberForAllocation: {}, deleted: false,
  }));
  const r = await run(['ipam', 'show', '--show-borrowed']);
  assert.equal(r.out, [
    '+------------+----------------+---------------+-------------+------+--------------+',
    '| IP         | BORROWING-NODE | BLOCK         | BLOCK OWNER | TYPE | ALLOCATED-TO |',
    '+------------+----------------+---------------+-------------+------+--------------+',
    '| 198.18.0.3 | node2          | 198.18.0.0/26 | node1       | pod  | ns/p1        |',
    '+------------+----------------+---------------+-------------+------+--------------+',
    '',
    'Note: found 1 IP allocations without an explicit node association. Unable to determine if they are borrowed.',
    '',
  ].join('\n'));
});
