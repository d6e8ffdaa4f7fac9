// Calico's calicoctl system tests (calicoctl/tests/st/calicoctl/test_crud.py and test_flags.py),
// one test here per Calico test (named in the title), run against our calicoctl with the
// in-memory datastore. The steps and expected outcomes are Calico's; the resources are our own.
// Where Calico's test only checks for an error or a substring, we assert the whole line that
// Calico's source (calicoctl/commands, libcalico-go/lib/errors) prints. Already covered
// elsewhere: test_get_delete_multiple_names, test_*_invalid_resource*, TestInvalidData,
// test_tier_list_order, test_disallow_crud_on_knp_defaults, test_felixconfig, test_bgpconfig,
// test_patch (calico-parity.test.ts), test_bad_flags (commands.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { DatastoreUnavailable, MemoryKv, encodeStored, memoryDatastore } from '../datastore/index.ts';
import { keyFor, type AnyResource } from '../model/index.ts';
import { runCalicoctl } from './cli.ts';
import { harness } from './testing.ts';

type Obj = Record<string, unknown>;
const V3 = 'projectcalico.org/v3';
const res = (kind: string, name: string, spec: Obj, meta: Obj = {}): Obj => ({ apiVersion: V3, kind, metadata: { name, ...meta }, spec });
const j = (o: unknown): string => JSON.stringify(o);
const clone = <T>(o: T): T => structuredClone(o);

/** What Calico's st tests compare: the output without uid, resourceVersion, creationTimestamp, nulls and empty maps. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    if (k === 'uid' || k === 'resourceVersion' || k === 'creationTimestamp') continue;
    const c = clean(x);
    if (c === null || c === undefined || (typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0)) continue;
    out[k] = c;
  }
  return out;
}
const list = (kind: string, items: unknown[]): Obj => ({ apiVersion: V3, kind: `${kind}List`, items });
/** Calico's add_tier_label: policies come back labelled with their tier. */
function tierLabelled(o: Obj): Obj {
  const c = clone(o) as { kind: string; metadata: { labels?: Record<string, string> }; spec: { tier?: string } };
  c.metadata.labels = { ...(c.metadata.labels ?? {}), 'projectcalico.org/tier': c.spec.tier ?? 'default' };
  return c as unknown as Obj;
}

const pool4 = res('IPPool', 'pool-v4', { cidr: '198.18.1.0/24', ipipMode: 'Always', vxlanMode: 'Never', blockSize: 27, allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic', nodeSelector: "foo == 'bar'" });
const pool6 = res('IPPool', 'pool-v6', { cidr: 'fd00:198:18::/64', ipipMode: 'Never', vxlanMode: 'Never', blockSize: 123, allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic', nodeSelector: 'all()' });
const peer1 = res('BGPPeer', 'peer-1', { node: 'node1', peerIP: '198.18.0.250', asNumber: 64514 });
const peer1b = res('BGPPeer', 'peer-1', { node: 'node1', peerIP: '198.18.0.251', asNumber: 64515 });
const np1 = res('NetworkPolicy', 'np-1', { tier: 'default', order: 100, selector: "type == 'database'", types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }], egress: [{ action: 'Deny' }] }, { namespace: 'default' });
const np1b = res('NetworkPolicy', 'np-1', { tier: 'default', order: 200, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny' }] }, { namespace: 'default' });
const staged = (o: Obj, kind: string): Obj => ({ ...clone(o), kind, spec: { ...(o.spec as Obj), stagedAction: 'Set' } });
const snp1 = staged(np1, 'StagedNetworkPolicy');
const snp1b = staged(np1b, 'StagedNetworkPolicy');
const sknp1 = res('StagedKubernetesNetworkPolicy', 'sknp-1', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] }, { namespace: 'default' });
const sknp1b = res('StagedKubernetesNetworkPolicy', 'sknp-1', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] }, { namespace: 'default' });
const hep1 = res('HostEndpoint', 'hep-1', { interfaceName: 'eth0', profiles: ['prof1'], node: 'host1', expectedIPs: ['198.18.0.1'] }, { labels: { type: 'database' } });
const hep1b = res('HostEndpoint', 'hep-1', { interfaceName: 'eth1', profiles: ['prof1', 'prof2'], node: 'host1' }, { labels: { type: 'frontend' } });
const prof1 = res('Profile', 'prof-1', { labelsToApply: { group: 'web' }, ingress: [{ action: 'Allow', source: { selector: "type == 'db'" } }], egress: [{ action: 'Allow' }] }, { labels: { foo: 'bar' } });
const prof1b = res('Profile', 'prof-1', { ingress: [{ action: 'Deny', protocol: 'UDP' }], egress: [{ action: 'Deny' }] }, { labels: { foo: 'baz' } });
const gnp1 = res('GlobalNetworkPolicy', 'gnp-1', { tier: 'default', order: 100, selector: "type == 'database'", types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: ['198.18.2.0/24'] } }], egress: [{ action: 'Allow' }] });
const gnp1b = res('GlobalNetworkPolicy', 'gnp-1', { tier: 'default', order: 200, selector: 'all()', types: ['Egress'], egress: [{ action: 'Deny', protocol: 'UDP' }] });
const sgnp1 = staged(gnp1, 'StagedGlobalNetworkPolicy');
const sgnp1b = staged(gnp1b, 'StagedGlobalNetworkPolicy');
const wep = (node: string, orchestrator: string, pod: string | undefined, name: string): Obj =>
  res('WorkloadEndpoint', name, { node, orchestrator, ...(pod ? { pod } : {}), endpoint: 'eth0', containerID: 'container1234', ipNetworks: ['198.18.3.4/32'], interfaceName: 'cali1234', profiles: ['prof1'] }, {
    namespace: 'ns1',
    labels: { 'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': orchestrator, type: 'database' },
  });
const wep1 = wep('node1', 'k8s', 'abcd', 'node1-k8s-abcd-eth0');
const wep2 = wep('node2', 'cni', undefined, 'node2-cni-container1234-eth0');
const node = (name: string, v4: string): Obj => res('Node', name, { bgp: { ipv4Address: v4, ipv6Address: 'fd00:198:18::1/120' } });
const tierA = res('Tier', 'admin', { order: 10000 });
const manyNets = Array.from({ length: 10000 }, (_, i) => `10.${i >> 8}.${i % 256}.0/28`);
const TRUNCATED = '10.0.0.0/28,10.0.1.0/28,10.0.2.0/28,10.0.3.0/28,10.0.4.0/28,10.0.5.0/28,10.0....';

const NOT_FOUND = (id: string): string => `resource does not exist: ${id} with error: <nil>`;

void test('test_get: create, get by name and list as YAML, tables, delete by name and by file', async () => {
  const { run } = harness();
  assert.equal((await run(['create', '-f', '-'], j(pool6))).out, "Successfully created 1 'IPPool' resource(s)\n");
  assert.deepEqual(clean(JSON.parse((await run(['get', 'ippool', 'pool-v6', '-o', 'json'])).out)), pool6);
  await run(['create', '-f', '-'], j(pool4));
  const l = await run(['get', 'ippool', '-o', 'yaml']);
  assert.match(l.out, /^apiVersion: projectcalico.org\/v3\nitems:\n- apiVersion/);
  assert.deepEqual(clean(JSON.parse((await run(['get', 'ippool', '-o', 'json'])).out)), list('IPPool', [pool4, pool6]));
  // calicoctl's table: headings padded by tabwriter, an empty line after the table.
  assert.equal((await run(['get', 'ippool', 'pool-v4'])).out, "NAME      CIDR            SELECTOR       \npool-v4   198.18.1.0/24   foo == 'bar'   \n\n");
  assert.equal(
    (await run(['get', 'ippool', 'pool-v4', '-o', 'wide'])).out,
    'NAME      CIDR            NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR       ASSIGNMENTMODE   \n' +
      "pool-v4   198.18.1.0/24   false   Always     Never       false      false              foo == 'bar'   Automatic        \n\n",
  );
  assert.equal((await run(['delete', 'ippool', 'pool-v4'])).out, "Successfully deleted 1 'IPPool' resource(s)\n");
  assert.equal((await run(['delete', '-f', '-'], j(pool6))).out, "Successfully deleted 1 'IPPool' resource(s)\n");
  assert.deepEqual(clean(JSON.parse((await run(['get', 'ippool', '-o', 'json'])).out)), list('IPPool', []));
  const again = await run(['delete', 'ippool', 'pool-v6']);
  assert.deepEqual(again, { code: 1, out: '', err: `Failed to delete 'IPPool' resource: ${NOT_FOUND('IPPool(pool-v6)')}\n\n` });
});

void test('test_no_config: no datastore configured fails every command cleanly (no crash)', async () => {
  // No ETCD_ENDPOINTS and no calicoctl.cfg: the default endpoint, which our harness refuses.
  const { run } = harness();
  const noConfig = async (argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const down = new DatastoreUnavailable(['http://127.0.0.1:2379'], 'connect ECONNREFUSED 127.0.0.1:2379');
    const ds = memoryDatastore({}, new MemoryKv());
    const resources = new Proxy(ds.resources, { get: (t, p) => (typeof (t as unknown as Obj)[p as string] === 'function' ? async () => { throw down; } : (t as unknown as Obj)[p as string]) });
    const code = await runCalicoctl(argv, { out: (s) => void (out += s), err: (s) => void (err += s), readStdin: async () => stdin, env: {} }, {
      connect: () => ({ ...ds, resources, close: async () => {} }),
      defaultConfigPath: '/nonexistent/calicoctl.cfg',
      version: { version: 'v1', gitCommit: 'x' },
    });
    return { code, out, err };
  };
  const line = 'Failed to create Calico API client: context deadline exceeded (datastore unavailable at http://127.0.0.1:2379: connect ECONNREFUSED 127.0.0.1:2379; check the datastore is running, and ETCD_ENDPOINTS or --config)\n';
  for (const [argv, stdin] of [
    [['get', 'policy'], ''],
    [['get', 'policy', 'x'], ''],
    [['create', '-f', '-'], j(pool6)],
    [['apply', '-f', '-'], j(peer1b)],
    [['replace', '-f', '-'], j(np1b)],
    [['replace', '-f', '-'], j(snp1b)],
    [['label', 'workloadendpoint', 'node1-k8s-abcd-eth0', 'app=web', '--namespace=ns1'], ''],
  ] as [string[], string][]) {
    assert.deepEqual(await noConfig(argv, stdin), { code: 1, out: line, err: '' }, argv.join(' '));
  }
  // `ipam show` meets the unreachable datastore at its version check (ipam_command.go).
  const ipam = await noConfig(['ipam', 'show']);
  assert.equal(ipam.code, 1);
  assert.match(ipam.err, /^unable to get Cluster Information to verify version mismatch: context deadline exceeded \(datastore unavailable at http:\/\/127\.0\.0\.1:2379/);
  assert.deepEqual(await run(['ipam', 'check']), { code: 1, out: '', err: 'calicoctl ipam check is not implemented in calico-ts\n' });
});

void test('test_reject_unknown_resource: get of an unknown kind', async () => {
  const { run } = harness();
  assert.deepEqual(await run(['get', 'somekind', 'somename']), { code: 1, out: '', err: "failed to get resources: resource type 'somekind' is not supported\n" });
});

void test('test_empty_name_is_illegal: an empty name fails get, delete and label before anything happens', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], j(pool4));
  assert.deepEqual(await run(['get', 'policy', '']), { code: 1, out: '', err: 'failed to get resources: resource name may not be empty\n' });
  assert.deepEqual(await run(['get', 'policy', 'x', '', 'y']), { code: 1, out: '', err: 'failed to get resources: resource name may not be empty\n' });
  // Calico's test passes "delete" and "label" as the kind of a get: unknown resource types.
  assert.deepEqual(await run(['get', 'delete', '']), { code: 1, out: '', err: "failed to get resources: resource type 'delete' is not supported\n" });
  assert.deepEqual(await run(['get', 'delete', 'x', '', 'y']), { code: 1, out: '', err: "failed to get resources: resource type 'delete' is not supported\n" });
  assert.deepEqual(await run(['get', 'label', '', 'key', '--remove']), { code: 1, out: '', err: 'unknown flag: --remove\n' });
  // delete with one empty name among others deletes nothing.
  assert.deepEqual(await run(['delete', 'ippool', 'pool-v4', '', 'y']), { code: 1, out: '', err: 'resource name may not be empty\n' });
  assert.equal((await run(['get', 'ippool', 'pool-v4'])).code, 0, 'pool-v4 is still there');
  assert.deepEqual(await run(['label', 'ippool', '', 'a=b']), { code: 1, out: '', err: 'failed to get ippool , error resource name may not be empty\n' });
  assert.deepEqual(await run(['patch', 'ippool', '', '-p', '{}']), { code: 1, out: '', err: 'resource name may not be empty\n' });
});

async function revisionCycle(kind: string, getKind: string, v1: Obj, v2: Obj, update: 'replace' | 'apply', created: 'create' | 'apply'): Promise<void> {
  const { run } = harness();
  const name = (v1.metadata as { name: string }).name;
  const id = `${kind}(${(v1.metadata as { namespace?: string }).namespace ? `default/${name}` : name})`;
  const get = async (): Promise<Obj> => JSON.parse((await run(['get', getKind, name, '-o', 'json'])).out) as Obj;
  assert.equal((await run([created, '-f', '-'], j(v1))).code, 0);
  const rev0 = await get();
  assert.equal((await run([update, '-f', '-'], j(v2))).code, 0);
  const rev1 = await get();
  const rv = (o: Obj): string => (o.metadata as { resourceVersion: string }).resourceVersion;
  assert.notEqual(rv(rev0), rv(rev1));
  // The old revision is refused with libcalico-go's ErrorResourceUpdateConflict.
  const stale = await run([update, '-f', '-'], j(rev0));
  assert.equal(stale.code, 1);
  assert.equal(stale.err, update === 'replace' ? `hit error: update conflict: ${id}\n` : `failed to apply '${kind}' resource: [update conflict: ${id}]\n`);
  assert.deepEqual(clean(await get()), clean(rev1), 'the stale write changed nothing');
  // The original data with the current revision goes through.
  (rev0.metadata as { resourceVersion: string }).resourceVersion = rv(rev1);
  assert.equal((await run([update, '-f', '-'], j(rev0))).out, `Successfully ${update === 'replace' ? 'replaced' : 'applied'} 1 '${kind}' resource(s)\n`);
  assert.deepEqual((clean(await get()) as Obj).spec, (clean(rev0) as Obj).spec);
  assert.equal((await run(['delete', getKind, name])).out, `Successfully deleted 1 '${kind}' resource(s)\n`);
  if (update === 'replace') {
    const gone = await run(['replace', '-f', '-'], j(v2));
    assert.equal(gone.code, 1);
    assert.equal(gone.err, `hit error: ${NOT_FOUND(id)}\n`);
  }
}

void test('test_delete_with_resource_version: delete -f honours the resourceVersion in the file', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], j(peer1));
  const rev0 = (await run(['get', 'bgppeer', 'peer-1', '-o', 'yaml'])).out;
  await run(['apply', '-f', '-'], j(peer1b));
  const rev1 = (await run(['get', 'bgppeer', 'peer-1', '-o', 'yaml'])).out;
  assert.notEqual(rev0, rev1);
  assert.deepEqual(await run(['delete', '-f', '-'], rev0), { code: 1, out: '', err: "Failed to delete 'BGPPeer' resource: update conflict: BGPPeer(peer-1)\n\n" });
  assert.deepEqual(await run(['delete', '-f', '-'], rev1), { code: 0, out: "Successfully deleted 1 'BGPPeer' resource(s)\n", err: '' });
});

void test('test_replace_with_resource_version: NetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy', async () => {
  await revisionCycle('NetworkPolicy', 'networkpolicy', np1, np1b, 'replace', 'create');
  await revisionCycle('StagedNetworkPolicy', 'stagednetworkpolicy', snp1, snp1b, 'replace', 'create');
  await revisionCycle('StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicy', sknp1, sknp1b, 'replace', 'create');
});

void test('test_apply_with_resource_version: HostEndpoint created and updated by apply', async () => {
  const { run } = harness();
  assert.deepEqual(await run(['get', 'hostendpoint', 'hep-1', '-o', 'yaml']), { code: 1, out: 'null\n', err: `${NOT_FOUND('HostEndpoint(hep-1)')}\n` });
  await revisionCycle('HostEndpoint', 'hostendpoint', hep1, hep1b, 'apply', 'apply');
});

void test('test_disallow_update_old_resource_version_replace / _apply: a resource read back can be written once', async () => {
  for (const update of ['replace', 'apply'] as const) {
    const { run } = harness();
    await run(['create', '-f', '-'], j(pool4));
    const rev1 = (await run(['get', 'ippool', 'pool-v4', '-o', 'yaml'])).out;
    assert.equal((await run([update, '-f', '-'], rev1)).code, 0, update);
    const rev2 = (await run(['get', 'ippool', 'pool-v4', '-o', 'yaml'])).out;
    assert.notEqual(/resourceVersion: "(\d+)"/.exec(rev1)![1], /resourceVersion: "(\d+)"/.exec(rev2)![1]);
    const stale = await run([update, '-f', '-'], rev1);
    assert.equal(stale.code, 1);
    assert.ok(stale.err.includes('update conflict: IPPool(pool-v4)'), stale.err);
    assert.equal((await run(['delete', 'ippool', 'pool-v4'])).code, 0);
  }
});

void test('test_json: create, apply, replace and delete from JSON files, get -o json', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctl-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { run } = harness();
  const file = (o: Obj): string => {
    const f = path.join(dir, 'input.json');
    writeFileSync(f, JSON.stringify(o, null, 2));
    return f;
  };
  const get = async (): Promise<string> => (await run(['get', 'profile', 'prof-1', '-o', 'json'])).out;
  assert.equal((await run(['create', '-f', file(prof1)])).code, 0);
  const out = await get();
  assert.ok(out.startsWith('{\n  "kind": "Profile",\n  "apiVersion": "projectcalico.org/v3",\n  "metadata": {'), out);
  assert.ok(!out.endsWith('\n'), 'Go MarshalIndent: no newline at the end');
  assert.deepEqual(clean(JSON.parse(out)), prof1);
  assert.equal((await run(['apply', '-f', file(prof1b)])).out, "Successfully applied 1 'Profile' resource(s)\n");
  assert.deepEqual(clean(JSON.parse(await get())), prof1b);
  assert.equal((await run(['replace', '-f', file(prof1)])).out, "Successfully replaced 1 'Profile' resource(s)\n");
  assert.deepEqual(clean(JSON.parse(await get())), prof1);
  assert.equal((await run(['delete', '-f', file(prof1)])).out, "Successfully deleted 1 'Profile' resource(s)\n");
});

void test('test_stdin: GlobalNetworkPolicy and StagedGlobalNetworkPolicy through stdin, JSON and YAML mixed', async () => {
  const { run } = harness();
  for (const [kind, v1, v2] of [['globalnetworkpolicy', gnp1, gnp1b], ['stagedglobalnetworkpolicy', sgnp1, sgnp1b]] as const) {
    const get = async (o: 'json' | 'yaml'): Promise<unknown> => {
      const r = await run(['get', kind, 'gnp-1', '-o', o]);
      return clean(o === 'json' ? JSON.parse(r.out) : parseYaml(r.out));
    };
    assert.equal((await run(['create', '-f', '-'], JSON.stringify(v1, null, 2))).code, 0);
    assert.deepEqual(await get('json'), tierLabelled(v1));
    const asYaml = toYaml(v2);
    assert.equal((await run(['apply', '-f', '-'], asYaml)).code, 0);
    assert.deepEqual(await get('yaml'), tierLabelled(v2));
    assert.equal((await run(['replace', '-f', '-'], j(v1))).code, 0);
    assert.deepEqual(await get('json'), tierLabelled(v1));
    assert.equal((await run(['delete', '-f', '-'], toYaml(v1))).code, 0);
    assert.equal((await run(['get', kind, 'gnp-1'])).code, 1);
  }
});

void test('test_file_multi: a file of mixed kinds and a List; get -f returns what was written', async () => {
  const { run } = harness();
  const resources = [gnp1, wep1, wep2];
  assert.deepEqual(await run(['create', '-f', '-'], j(resources)), { code: 0, out: 'Successfully created 3 resource(s)\n', err: '' });
  // get -f: one result per document, an array in the output.
  const got = JSON.parse((await run(['get', '-o', 'json', '-f', '-'], j(resources))).out) as unknown[];
  assert.deepEqual(clean(got), [tierLabelled(gnp1), wep1, wep2]);
  const gnp = (await run(['get', 'globalnetworkpolicy', 'gnp-1', '-o', 'yaml'])).out;
  const wepList = (await run(['get', 'workloadendpoints', '-o', 'yaml', '--all-namespaces'])).out;
  assert.deepEqual(clean(parseYaml(wepList)), list('WorkloadEndpoint', [wep1, wep2]));
  // A file holding an object and a List (as get printed them) deletes all three.
  assert.deepEqual(await run(['delete', '-f', '-'], `${gnp}---\n${wepList}`), { code: 0, out: 'Successfully deleted 3 resource(s)\n', err: '' });
  assert.deepEqual(clean(JSON.parse((await run(['get', 'workloadendpoints', '-o', 'json'])).out)), list('WorkloadEndpoint', []));
});

void test('test_file_single_list: a List as input expands to exact gets (an array out) and deletes', async () => {
  const { run } = harness();
  assert.equal((await run(['create', '-f', '-'], j([wep1, wep2]))).out, "Successfully created 2 'WorkloadEndpoint' resource(s)\n");
  const wepList = (await run(['get', 'workloadendpoints', '-o', 'yaml', '--all-namespaces'])).out;
  assert.deepEqual(clean(parseYaml(wepList)), list('WorkloadEndpoint', [wep1, wep2]));
  const got = await run(['get', '-o', 'yaml', '-f', '-'], wepList);
  assert.match(got.out, /^- apiVersion: projectcalico.org\/v3\n {2}kind: WorkloadEndpoint\n/);
  assert.deepEqual(clean(parseYaml(got.out)), [wep1, wep2]);
  assert.equal((await run(['delete', '-f', '-'], wepList)).out, "Successfully deleted 2 'WorkloadEndpoint' resource(s)\n");
  assert.deepEqual(clean(JSON.parse((await run(['get', 'workloadendpoints', '-o', 'json'])).out)), list('WorkloadEndpoint', []));
});

const NON_NAMESPACED: [string, Obj, Obj?][] = [
  ['test_non_namespaced_ippool', pool4],
  ['test_non_namespaced_ipresv', res('IPReservation', 'resv-1', { reservedCIDRs: ['198.18.4.0/24', '198.18.5.1/32'] })],
  ['test_non_namespaced_profile', prof1],
  ['test_non_namespaced_globalnetworkpolicy', gnp1],
  ['test_non_namespaced_stagedglobalnetworkpolicy', sgnp1],
  ['test_non_namespaced_globalnetworkset', res('GlobalNetworkSet', 'net-set1', { nets: ['198.18.0.1', '198.18.64.0/18', 'fd00:198:18::1', 'fd00:198:18::96'] })],
  ['test_non_namespaced_globalnetworkset_large', res('GlobalNetworkSet', 'net-set1', { nets: manyNets })],
  ['test_non_namespaced_hostendpoint', hep1],
  ['test_non_namespaced_bgppeer', peer1],
  ['test_non_namespaced_node', node('node1', '198.18.0.4/24')],
  ['test_non_namespaced_tier', tierA],
  ['test_non_namespaced_tiered_globalnetworkpolicy', res('GlobalNetworkPolicy', 'admin.gnp-2', { tier: 'admin', order: 10, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }] }), tierA],
  ['test_non_namespaced_tiered_stagedglobalnetworkpolicy', res('StagedGlobalNetworkPolicy', 'admin.gnp-2', { tier: 'admin', order: 10, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }], stagedAction: 'Set' }), tierA],
];

void test('test_non_namespaced_*: create, list, wide list; -n and -A refused with "<Kind> is not namespaced"; delete', async () => {
  for (const [name, data, tier] of NON_NAMESPACED) {
    const { run } = harness();
    if (tier) assert.equal((await run(['create', '-f', '-'], j(tier))).code, 0, name);
    const kind = data.kind as string;
    const resName = (data.metadata as { name: string }).name;
    assert.equal((await run(['create', '-f', '-'], j(data))).out, `Successfully created 1 '${kind}' resource(s)\n`, name);
    const table = await run(['get', kind]);
    assert.equal(table.code, 0, name);
    assert.match(table.out, /^NAME {3}/, name);
    assert.ok(table.out.split('\n').some((l) => l.startsWith(`${resName}   `)), `${name}: ${table.out.slice(0, 200)}`);
    assert.equal((await run(['get', kind, '-o', 'wide'])).code, 0, name);
    assert.deepEqual(await run(['get', kind, resName, '--namespace', 'default', '-o', 'yaml']), { code: 1, out: 'null\n', err: `${kind} is not namespaced\n` }, name);
    assert.deepEqual(await run(['get', kind, '--all-namespaces', '-o', 'yaml']), { code: 1, out: 'null\n', err: `${kind} is not namespaced\n` }, name);
    assert.deepEqual(await run(['delete', '-f', '-'], j(data)), { code: 0, out: `Successfully deleted 1 '${kind}' resource(s)\n`, err: '' }, name);
    if (tier) assert.equal((await run(['delete', '-f', '-'], j(tier))).code, 0, name);
  }
});

void test('test_ip_reservation_no_truncation / test_ip_reservation_truncation: CIDRS column cut at 80 characters', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], j(res('IPReservation', 'resv-1', { reservedCIDRs: ['198.18.4.0/24', '198.18.5.1/32'] })));
  assert.equal((await run(['get', 'IPReservation', '-o', 'wide'])).out, 'NAME     CIDRS                         \nresv-1   198.18.4.0/24,198.18.5.1/32   \n\n');
  const long = harness();
  await long.run(['create', '-f', '-'], j(res('IPReservation', 'resv-1', { reservedCIDRs: manyNets })));
  const wide = await long.run(['get', 'IPReservation', '-o', 'wide']);
  assert.equal(wide.out.split('\n')[1], `resv-1   ${TRUNCATED}   `);
  assert.equal(TRUNCATED.length, 80);
});

void test('test_nets_truncation_* / test_nets_no_truncation_*: GlobalNetworkSet and NetworkSet NETS column', async () => {
  const nets = ['198.18.0.1', '198.18.64.0/18', 'fd00:198:18::1', 'fd00:198:18::96'];
  for (const [kind, ns] of [['GlobalNetworkSet', undefined], ['NetworkSet', 'namespace-1']] as const) {
    const big = harness();
    await big.run(['create', '-f', '-'], j(res(kind, 'net-set1', { nets: manyNets }, ns ? { namespace: ns } : {})));
    const wide = await big.run(['get', kind, '-o', 'wide', ...(ns ? ['-n', ns] : [])]);
    assert.equal(wide.code, 0);
    assert.ok(wide.out.includes(`net-set1   ${TRUNCATED}   \n`), wide.out);
    const small = harness();
    await small.run(['create', '-f', '-'], j(res(kind, 'net-set1', { nets })));
    const all = await small.run(['get', kind, '-o', 'wide']);
    assert.ok(all.out.includes(`net-set1   ${nets.join(',')}   \n`), all.out);
  }
  // A namespace given (-n or -A) adds the NAMESPACE column.
  const { run } = harness();
  await run(['create', '-f', '-'], j(res('NetworkSet', 'net-set2', { nets }, { namespace: 'test' })));
  assert.equal((await run(['get', 'networksets', '-n', 'test'])).out, 'NAMESPACE   NAME       \ntest        net-set2   \n\n');
});

const NAMESPACED: [string, Obj, Obj?][] = [
  ['test_namespaced_networkpolicy', np1],
  ['test_namespaced_stagednetworkpolicy', snp1],
  ['test_namespaced_networkset', res('NetworkSet', 'net-set1', { nets: ['198.18.0.1', '198.18.64.0/18'] })],
  ['test_namespaced_workloadendpoint', wep1],
  ['test_namespaced_tiered_networkpolicy', res('NetworkPolicy', 'admin.np-2', { tier: 'admin', order: 10, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }] }), tierA],
  ['test_namespaced_tiered_stagednetworkpolicy', res('StagedNetworkPolicy', 'admin.np-2', { tier: 'admin', order: 10, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }], stagedAction: 'Set' }), tierA],
];

void test('test_namespaced_*: the default namespace, -n, -A and namespaces from files', async () => {
  for (const [name, data, tier] of NAMESPACED) {
    const { run } = harness();
    if (tier) await run(['create', '-f', '-'], j(tier));
    const kind = data.kind as string;
    const d1 = clone(data) as { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: Obj };
    const d2 = clone(data) as typeof d1;
    if (kind === 'WorkloadEndpoint') {
      d1.metadata.labels = { ...d1.metadata.labels, 'projectcalico.org/namespace': 'default' };
      d2.metadata.name = d1.metadata.name.replace(/0$/, '1');
      d2.spec.endpoint = 'eth1';
      d2.metadata.labels = { ...d2.metadata.labels, 'projectcalico.org/namespace': 'namespace2' };
    } else {
      const prefix = tier ? 'admin.' : '';
      d1.metadata.name = `${prefix}name1`;
      d2.metadata.name = `${prefix}name2`;
    }
    d1.metadata.namespace = '';
    d2.metadata.namespace = 'namespace2';
    assert.equal((await run(['create', '-f', '-'], j(d1))).code, 0, name);
    assert.equal((await run(['create', '-f', '-'], j(d2))).code, 0, name);
    d1.metadata.namespace = 'default';
    const want = (d: typeof d1): unknown => (kind.endsWith('NetworkPolicy') ? tierLabelled(d as unknown as Obj) : d);
    const getJson = async (argv: string[], stdin?: string): Promise<{ code: number; body: unknown; err: string }> => {
      const r = await run([...argv, '-o', 'json'], stdin);
      return { code: r.code, body: clean(JSON.parse(r.out)), err: r.err };
    };
    assert.deepEqual((await getJson(['get', kind.toLowerCase(), d1.metadata.name, '--namespace', 'default'])).body, want(d1), name);
    assert.deepEqual((await getJson(['get', kind, '--all-namespaces'])).body, list(kind, [want(d1), want(d2)]), name);
    assert.deepEqual((await getJson(['get', kind])).body, list(kind, [want(d1)]), name);
    assert.deepEqual((await getJson(['get', kind, '-n', 'namespace2'])).body, list(kind, [want(d2)]), name);
    assert.deepEqual((await getJson(['get', '-f', '-'], j(d1))).body, want(d1), name);
    assert.deepEqual((await getJson(['get', '-f', '-'], j(d2))).body, want(d2), name);
    const noNs = (d: typeof d1): string => {
      const c = clone(d);
      delete c.metadata.namespace;
      return j(c);
    };
    assert.deepEqual((await getJson(['get', '-f', '-'], noNs(d1))).body, want(d1), name);
    const miss1 = await getJson(['get', '-n', 'namespace2', '-f', '-'], noNs(d1));
    assert.deepEqual([miss1.code, miss1.err], [1, `${NOT_FOUND(`${kind}(namespace2/${d1.metadata.name})`)}\n`], name);
    assert.deepEqual((await getJson(['get', '-n', 'namespace2', '-f', '-'], noNs(d2))).body, want(d2), name);
    const miss2 = await getJson(['get', '-f', '-'], noNs(d2));
    assert.deepEqual([miss2.code, miss2.err], [1, `${NOT_FOUND(`${kind}(default/${d2.metadata.name})`)}\n`], name);
    // A mismatched namespace between file and -n is refused.
    const mismatch = await run(['get', '-n', 'other', '-f', '-'], j(d2));
    assert.equal(mismatch.err, 'resource namespace does not match client namespace. namespace2 != other\n', name);
    assert.equal((await run(['delete', kind, d1.metadata.name])).out, `Successfully deleted 1 '${kind}' resource(s)\n`, name);
    const del2 = await run(['delete', kind, d2.metadata.name]);
    assert.deepEqual(del2, { code: 1, out: '', err: `Failed to delete '${kind}' resource: ${NOT_FOUND(`${kind}(default/${d2.metadata.name})`)}\n\n` }, name);
    assert.equal((await run(['delete', '-f', '-'], j(d2))).code, 0, name);
  }
});

void test('test_clusterinfo: create and delete refused; created with the first write, its GUID kept', async () => {
  const { run } = harness();
  const ci = res('ClusterInformation', 'default', { clusterGUID: 'cluster-guid1', datastoreReady: true });
  assert.deepEqual(await run(['create', '-f', '-'], j(ci)), { code: 1, out: '', err: "failed to create 'ClusterInformation' resource: [operation create or apply is not supported on ClusterInformation]\n" });
  assert.deepEqual(await run(['delete', 'clusterinfo', 'default']), { code: 1, out: '', err: "Failed to delete 'ClusterInformation' resource: operation delete is not supported on ClusterInformation\n\n" });
  await run(['create', '-f', '-'], j(node('node2', '198.18.0.5/24')));
  const first = JSON.parse((await run(['get', 'clusterinfo', 'default', '-o', 'json'])).out) as { spec: { clusterGUID: string } };
  assert.match(first.spec.clusterGUID, /^[a-f0-9]{32}$/);
  assert.deepEqual(clean(first), res('ClusterInformation', 'default', { clusterGUID: first.spec.clusterGUID, datastoreReady: true }));
  await run(['create', '-f', '-'], j(node('node3', '198.18.0.6/24')));
  assert.deepEqual(clean(JSON.parse((await run(['get', 'clusterinfo', 'default', '-o', 'json'])).out)), clean(first));
});

void test('test_kubecontrollersconfig: create, replace (with status), apply, delete', async () => {
  const { run } = harness();
  const k1 = res('KubeControllersConfiguration', 'default', { logSeverityScreen: 'Info', controllers: { node: { syncLabels: 'Enabled', hostEndpoint: { autoCreate: 'Disabled' } } } });
  const k2 = { ...res('KubeControllersConfiguration', 'default', { logSeverityScreen: 'Debug', controllers: { node: { syncLabels: 'Enabled', hostEndpoint: { autoCreate: 'Disabled' } }, namespace: {} } }), status: { environmentVars: { LOG_LEVEL: 'Info' } } };
  const rv = async (): Promise<string> => (JSON.parse((await run(['get', 'kubecontrollersconfig', 'default', '-o', 'json'])).out) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  assert.equal((await run(['create', '-f', '-'], j(k1))).out, "Successfully created 1 'KubeControllersConfiguration' resource(s)\n");
  const r0 = await rv();
  assert.equal((await run(['replace', '-f', '-'], j(k2))).out, "Successfully replaced 1 'KubeControllersConfiguration' resource(s)\n");
  const r1 = await rv();
  assert.notEqual(r0, r1);
  assert.equal((await run(['apply', '-f', '-'], j(k1))).out, "Successfully applied 1 'KubeControllersConfiguration' resource(s)\n");
  assert.notEqual(r1, await rv());
  assert.equal((await run(['get', 'kubecontrollersconfig'])).out, 'NAME      \ndefault   \n\n');
  assert.equal((await run(['delete', 'kubecontrollersconfig', 'default'])).out, "Successfully deleted 1 'KubeControllersConfiguration' resource(s)\n");
});

void test('test_metadata_unchanged_create_replace / _apply: only labels and annotations change on update', async () => {
  for (const [create, update] of [['create', 'replace'], ['apply', 'apply']] as const) {
    const { run } = harness();
    const h2 = res('HostEndpoint', 'endpoint1', { interfaceName: 'cali7', profiles: ['prof1', 'prof2'], node: 'host2' }, { labels: { type: 'frontend' } });
    const h3 = res('HostEndpoint', 'endpoint1', { interfaceName: 'cali7', profiles: ['prof1', 'prof2'], node: 'host2' }, {
      labels: { type: 'frontend', misc: 'version1' },
      annotations: { key: 'value' },
      selfLink: 'test-self-link',
      uid: 'test-uid-change',
      generation: 3,
      finalizers: ['finalizer1', 'finalizer2'],
      creationTimestamp: '2006-01-02T15:04:05Z',
    });
    type Meta = Record<string, unknown>;
    const get = async (): Promise<Meta> => (JSON.parse((await run(['get', 'hostendpoint', 'endpoint1', '-o', 'json'])).out) as { metadata: Meta }).metadata;
    assert.equal((await run(['get', 'hostendpoint', 'endpoint1', '-o', 'yaml'])).code, 1);
    assert.equal((await run([create, '-f', '-'], j(h2))).code, 0, create);
    const m0 = await get();
    assert.ok(m0.uid && m0.creationTimestamp);
    assert.equal((await run([update, '-f', '-'], j(h3))).code, 0, update);
    const m1 = await get();
    assert.notEqual(m1.resourceVersion, m0.resourceVersion);
    for (const k of ['selfLink', 'generation', 'finalizers']) assert.ok(!(k in m1), `${update}: ${k} not kept`);
    assert.equal(m1.uid, m0.uid);
    assert.equal(m1.creationTimestamp, m0.creationTimestamp);
    assert.deepEqual(m1.labels, { type: 'frontend', misc: 'version1' });
    assert.deepEqual(m1.annotations, { key: 'value' });
    assert.equal((await run(['delete', 'hostendpoint', 'endpoint1'])).code, 0);
  }
});

void test('test_export_flag: --export strips cluster metadata from a named get, not from a list; the export applies', async () => {
  for (const kind of ['NetworkPolicy', 'StagedNetworkPolicy']) {
    const { run } = harness();
    const p = res(kind, 'policy-mypolicy2', { order: 100000, selector: "type=='webserver'", types: ['Ingress'], ingress: [{ action: 'Allow' }] }, {
      namespace: 'default',
      generateName: 'test-policy-',
      labels: { label1: 'l1', label2: 'l2' },
      annotations: { annot1: 'a1' },
    });
    assert.equal((await run(['create', '-f', '-'], j(p))).code, 0, kind);
    const rev0 = JSON.parse((await run(['get', kind.toLowerCase(), 'policy-mypolicy2', '-o', 'json'])).out) as { metadata: Obj };
    for (const k of ['uid', 'creationTimestamp', 'resourceVersion']) assert.ok(k in rev0.metadata, k);
    assert.equal(rev0.metadata.namespace, 'default');
    const exported = await run(['get', kind.toLowerCase(), 'policy-mypolicy2', '-o', 'yaml', '--export']);
    const rev1 = parseYaml(exported.out) as { metadata: Obj; spec: Obj };
    for (const k of ['uid', 'namespace', 'resourceVersion', 'creationTimestamp']) assert.ok(!(k in rev1.metadata), `${kind}: ${k} stripped`);
    assert.equal(rev1.metadata.name, 'policy-mypolicy2');
    const listed = JSON.parse((await run(['get', kind.toLowerCase(), '-o', 'json', '--export'])).out) as { items: { metadata: Obj }[] };
    assert.equal(listed.items.length, 1);
    for (const k of ['uid', 'namespace', 'resourceVersion', 'creationTimestamp']) assert.ok(k in listed.items[0]!.metadata, `${kind}: list keeps ${k}`);
    rev1.spec.order = 100;
    assert.equal((await run(['apply', '-f', '-'], toYaml(rev1))).code, 0);
    const rev3 = JSON.parse((await run(['get', kind.toLowerCase(), 'policy-mypolicy2', '-o', 'json'])).out) as { spec: { order: number } };
    assert.equal(rev3.spec.order, 100);
    assert.equal((await run(['delete', kind.toLowerCase(), 'policy-mypolicy2'])).code, 0);
  }
});

void test('test_bgppeer_node_selector / _password / test_bgp_ttl_security / test_bgp_reachable_by: the BGPPeer table', async () => {
  const table = async (spec: Obj, name: string): Promise<string> => {
    const { run } = harness();
    assert.equal((await run(['create', '-f', '-'], j(res('BGPPeer', name, spec)))).code, 0, name);
    const r = await run(['get', 'bgpp']);
    assert.equal(r.code, 0);
    return r.out;
  };
  // NODE shows the node selector, or "(global)" for a peer of every node.
  assert.equal(await table({ nodeSelector: 'has(rr)', peerSelector: 'has(rr)' }, 'bp1'), 'NAME   PEERIP   NODE      ASN   \nbp1             has(rr)   0     \n\n');
  assert.equal(await table({ password: { secretKeyRef: { name: 'bgp-passwords', key: 'bp1p' } }, peerSelector: 'has(rr)' }, 'bp1'), 'NAME   PEERIP   NODE       ASN   \nbp1             (global)   0     \n\n');
  assert.equal(await table({ node: 'somenode', ttlSecurity: 1 }, 'gtsm-peers'), 'NAME         PEERIP   NODE       ASN   \ngtsm-peers            somenode   0     \n\n');
  assert.equal(await table({ node: 'somenode', peerIP: '198.18.20.20', reachableBy: '198.18.10.10' }, 'route-reflector'), 'NAME              PEERIP         NODE       ASN   \nroute-reflector   198.18.20.20   somenode   0     \n\n');
});

void test('test_label_command: set, refuse without --overwrite, overwrite, remove; a node without labels', async () => {
  const { run } = harness();
  await run(['create', '-f', '-'], j(wep1));
  const labels = async (): Promise<unknown> => (JSON.parse((await run(['get', 'workloadendpoint', 'node1-k8s-abcd-eth0', '--namespace=ns1', '-o', 'json'])).out) as { metadata: { labels: unknown } }).metadata.labels;
  const rev1 = await labels();
  assert.deepEqual(await run(['label', 'workloadendpoint', 'node1-k8s-abcd-eth0', 'app=web', '--namespace=ns1']), { code: 0, out: 'Successfully set label app on workloadendpoint node1-k8s-abcd-eth0\n', err: '' });
  assert.equal((await labels() as Record<string, string>).app, 'web');
  assert.deepEqual(await run(['label', 'workloadendpoint', 'node1-k8s-abcd-eth0', 'app=order', '--namespace=ns1']), {
    code: 1,
    out: '',
    err: "failed to update label of workloadendpoint node1-k8s-abcd-eth0, key app is already present. please use '--overwrite' to set a new value\n",
  });
  assert.deepEqual(await run(['label', 'workloadendpoint', 'node1-k8s-abcd-eth0', 'app=order', '--namespace=ns1', '--overwrite']), { code: 0, out: 'Successfully updated label app on workloadendpoint node1-k8s-abcd-eth0\n', err: '' });
  assert.equal((await labels() as Record<string, string>).app, 'order');
  assert.deepEqual(await run(['label', 'workloadendpoint', 'node1-k8s-abcd-eth0', 'app', '--namespace=ns1', '--remove']), { code: 0, out: 'Successfully removed label app from workloadendpoint node1-k8s-abcd-eth0\n', err: '' });
  assert.deepEqual(await labels(), rev1);
  const n1 = node('node1', '198.18.0.4/24');
  await run(['create', '-f', '-'], j(n1));
  assert.equal((await run(['label', 'nodes', 'node1', 'cluster=frontend'])).out, 'Successfully set label cluster on nodes node1\n');
  assert.equal((await run(['get', 'nodes', 'node1', '-o', 'go-template={{.metadata.labels.cluster}}'])).out, 'frontend');
  await run(['apply', '-f', '-'], j(n1));
  assert.deepEqual(await run(['label', 'nodes', 'node1', 'cluster', '--remove']), { code: 1, out: '', err: 'cannot remove label of nodes node1, key cluster does not exist\n' });
});

void test('test_validate_*: offline validation of files, stdin, JSON, several kinds, and failures', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctl-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { run } = harness();
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const ok = (out: string) => ({ code: 0, out, err: '' });
  // test_validate_single_valid_resource, _from_stdin, _json_format
  assert.deepEqual(await run(['validate', '-f', file('peer.yaml', toYaml(peer1))]), ok("Successfully validated 1 'BGPPeer' resource(s)\n"));
  assert.deepEqual(await run(['validate', '-f', '-'], toYaml(peer1)), ok("Successfully validated 1 'BGPPeer' resource(s)\n"));
  assert.deepEqual(await run(['validate', '-f', file('peer.json', JSON.stringify(peer1, null, 2))]), ok("Successfully validated 1 'BGPPeer' resource(s)\n"));
  // test_validate_single_invalid_resource_syntax: a negative AS number does not decode.
  const neg = await run(['validate', '-f', '-'], j(res('BGPPeer', 'invalid-bgp', { peerIP: '192.168.1.1', asNumber: -1 })));
  assert.deepEqual(neg, { code: 1, out: '', err: 'failed to execute command: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string (cannot validate stdin document 1 (BGPPeer invalid-bgp))\n' });
  // test_validate_malformed_yaml
  const bad = await run(['validate', '-f', file('malformed.yaml', 'kind: [broken\n  this: is')]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^failed to execute command: /);
  // test_validate_multiple_valid_resources: two kinds, no kind in the message.
  assert.deepEqual(await run(['validate', '-f', '-'], j([peer1, pool4])), ok('Successfully validated 2 resource(s)\n'));
  // test_validate_empty_file / test_validate_skip_empty_flag
  const empty = file('empty.yaml', '');
  assert.deepEqual(await run(['validate', '-f', empty]), { code: 1, out: '', err: `no resources specified in file ${empty}\n` });
  assert.deepEqual(await run(['validate', '-f', empty, '--skip-empty']), ok('No resources specified\n'));
  // test_validate_ignores_datastore_args: --config and --context are accepted; nothing is read from them.
  assert.deepEqual(await run(['validate', '--config=/tmp/nonexistent-config.yaml', '--context=test', '-f', '-'], j(peer1)), ok("Successfully validated 1 'BGPPeer' resource(s)\n"));
  // test_validate_different_resource_types
  assert.deepEqual(await run(['validate', '-f', '-'], j(np1)), ok("Successfully validated 1 'NetworkPolicy' resource(s)\n"));
  assert.deepEqual(await run(['validate', '-f', '-'], j(pool4)), ok("Successfully validated 1 'IPPool' resource(s)\n"));
  // test_validate_calico_specific_validation_failure: a bad selector.
  const sel = await run(['validate', '-f', '-'], j(res('NetworkPolicy', 'allow-tcp-6379', { selector: 'ga@rb"ag\'e' }, { namespace: 'production' })));
  assert.equal(sel.code, 1);
  assert.ok(sel.err.startsWith("failed to validate 'NetworkPolicy' resource: [cannot validate stdin document 1 (NetworkPolicy production/allow-tcp-6379): spec.selector: error with field Selector = 'ga@rb\"ag'e' ("), sel.err);
  // test_validate_multiple_resources_with_calico_validation_failure: one of two fails; successes
  // do not outnumber failures, so no "Partial success" line.
  const mixed = await run(['validate', '-f', '-'], j([pool4, res('NetworkPolicy', 'invalid-policy', { selector: 'invalid@selector!' }, { namespace: 'test' })]));
  assert.equal(mixed.code, 1);
  assert.equal(mixed.out, '');
  assert.ok(mixed.err.startsWith('hit error: [cannot validate stdin document 1 (NetworkPolicy test/invalid-policy): spec.selector: error with field Selector = \'invalid@selector!\' ('), mixed.err);
});

void test('test_usage: -h prints the usage and exits 0', async () => {
  const { run } = harness();
  const r = await run(['-h']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: calicoctl /);
  assert.equal(r.err, '');
});

void test('test_version_mismatch: datastore migrate import skips the check; an unset or equal calicoVersion passes; another fails', async () => {
  const { run, kv } = harness('v3.31.0');
  const n1 = j(node('node1', '198.18.0.4/24'));
  assert.equal((await run(['--allow-version-mismatch', 'create', '-f', '-'], n1)).code, 0);
  const setVersion = async (v: string): Promise<void> => {
    await kv.put(keyFor('ClusterInformation', 'default'), encodeStored(res('ClusterInformation', 'default', { calicoVersion: v, clusterGUID: 'g', datastoreReady: true }) as unknown as AnyResource));
  };
  await setVersion('v0.0.0.1.2.3');
  // import is not version-checked: its own error (etcd cannot be imported into).
  assert.deepEqual(await run(['datastore', 'migrate', 'import', '-f', 'a']), {
    code: 1,
    out: '',
    err: 'invalid datastore type: etcdv3 to import to for datastore migration. Datastore type must be kubernetes\n',
  });
  await setVersion('');
  assert.equal((await run(['replace', '-f', '-'], n1)).code, 0);
  await setVersion('v3.31.0');
  assert.equal((await run(['replace', '-f', '-'], n1)).code, 0);
  await setVersion('v0.0.0.1.2.3');
  assert.deepEqual(await run(['replace', '-f', '-'], n1), { code: 1, out: '', err: 'version mismatch.\nClient Version:   v3.31.0\nCluster Version:  0.0.0.1.2.3\nUse --allow-version-mismatch to override\n' });
});

void test('datastore migrate lock / unlock: ClusterInformation datastoreReady false, then true (commands/datastore/migrate)', async () => {
  const { run } = harness();
  const ready = async (): Promise<string> => (await run(['get', 'clusterinfo', 'default', '-o', 'go-template={{.spec.datastoreReady}}'])).out;
  assert.deepEqual(await run(['datastore', 'migrate', 'lock']), { code: 0, out: 'Datastore locked.\n', err: '' });
  assert.equal(await ready(), 'false');
  assert.deepEqual(await run(['datastore', 'migrate', 'unlock']), { code: 0, out: 'Datastore unlocked.\n', err: '' });
  assert.equal(await ready(), 'true');
  const empty = harness();
  assert.deepEqual(await empty.run(['datastore', 'migrate', 'unlock']), {
    code: 1,
    out: '',
    err: `error retrieving ClusterInformation for unlocking: ${NOT_FOUND('ClusterInformation(default)')}\n`,
  });
  assert.match((await run(['datastore', 'migrate'])).out, /^Usage: calicoctl datastore migrate /);
});

void test('test_migrate (its etcd half): export refuses an unlocked datastore; locked, it prints every kind, ClusterInformation and IPAM', async () => {
  const { run, kv } = harness();
  const docs = [
    pool4,
    res('Node', 'node4', { bgp: { ipv4Address: '198.18.0.4/24' }, orchRefs: [{ nodeName: 'k8s-node4', orchestrator: 'k8s' }] }),
    res('FelixConfiguration', 'node.node4', { iptablesFilterAllowAction: 'Return' }),
    res('BGPConfiguration', 'node.node4', { logSeverityScreen: 'Info' }),
    np1,
    res('NetworkPolicy', 'knp.default.np', { selector: 'all()' }, { namespace: 'ns2' }),
  ];
  // knp.default. names cannot be written through calicoctl: put that one in as Kubernetes' converter would.
  assert.equal((await run(['create', '-f', '-'], j(docs.slice(0, 5)))).code, 0);
  await kv.put(keyFor('NetworkPolicy', 'knp.default.np', 'ns2'), encodeStored(docs[5] as unknown as AnyResource));
  await kv.put('/calico/ipam/v2/host/node4/ipv4/block/198.18.1.0-26', '{"state":"confirmed","deleted":false}');
  await kv.put('/calico/ipam/v2/handle/ipip-tunnel-addr-node4', '{"block":{"198.18.1.0/26":1},"deleted":false}');
  assert.deepEqual(await run(['datastore', 'migrate', 'export']), { code: 1, out: '', err: 'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order to begin migration\n' });
  assert.equal((await run(['datastore', 'migrate', 'lock'])).code, 0);
  const exp = await run(['datastore', 'migrate', 'export']);
  assert.equal(exp.code, 0, exp.err);
  const [v3, ci, ipam] = exp.out.split('===\n');
  const lists = v3!.split('---\n').filter(Boolean).map((d) => parseYaml(d) as { kind: string; items: { metadata: Obj; spec: Obj }[] });
  assert.deepEqual(lists.map((l) => l.kind), [
    'IPPoolList', 'BGPPeerList', 'TierList', 'GlobalNetworkPolicyList', 'StagedGlobalNetworkPolicyList', 'GlobalNetworkSetList', 'HostEndpointList',
    'KubeControllersConfigurationList', 'NetworkPolicyList', 'StagedNetworkPolicyList', 'StagedKubernetesNetworkPolicyList', 'NetworkSetList',
    'NodeList', 'BGPConfigurationList', 'FelixConfigurationList', 'IPReservationList', 'BGPFilterList',
  ]);
  const items = (kind: string) => lists.find((l) => l.kind === kind)!.items;
  assert.deepEqual(items('IPPoolList').map((i) => i.metadata), [{ name: 'pool-v4' }], 'uid, resourceVersion and creationTimestamp removed');
  assert.deepEqual(items('TierList').map((i) => i.metadata.name), ['kube-admin', 'default', 'kube-baseline'], 'tiers by order');
  assert.deepEqual(items('NetworkPolicyList').map((i) => i.metadata.name), ['np-1'], 'Kubernetes policies left out');
  assert.deepEqual(items('NodeList').map((i) => i.metadata.name), ['k8s-node4'], 'nodes take their Kubernetes name');
  assert.deepEqual(items('FelixConfigurationList').map((i) => i.metadata.name), ['node.k8s-node4']);
  assert.deepEqual(items('BGPConfigurationList').map((i) => i.metadata.name), ['node.k8s-node4']);
  assert.equal((JSON.parse(ci!) as { spec: { datastoreReady: boolean } }).spec.datastoreReady, false);
  assert.deepEqual(JSON.parse(ipam!), {
    block_affinities: [{ Key: '/calico/ipam/v2/host/k8s-node4/ipv4/block/198.18.1.0-26', Value: { state: 'confirmed', deleted: false }, TTL: 0 }],
    handles: [{ Key: '/calico/ipam/v2/handle/ipip-tunnel-addr-k8s-node4', Value: { block: { '198.18.1.0/26': 1 }, deleted: false }, TTL: 0 }],
  });
  // A node without a Kubernetes name cannot be exported.
  await run(['create', '-f', '-'], j(node('node5', '198.18.0.5/24')));
  const bad = await run(['datastore', 'migrate', 'export']);
  assert.equal(bad.code, 1);
  assert.equal(bad.err, "unable to process metadata for export for Node resource: node node5 missing a 'k8s' orchestrator reference. Unable to export data unless every node has a 'k8s' orchestrator reference\n");
});

void test('test_ipam_split_by_cidr / test_ipam_split_by_name: only on a locked datastore; 2^k pools named split-<pool>-<i>', async () => {
  for (const by of [['--cidr=198.18.1.0/24'], ['--name=pool-v4']]) {
    const { run } = harness();
    assert.equal((await run(['create', '-f', '-'], j(pool4))).code, 0);
    assert.equal((await run(['create', '-f', '-'], j(node('node4', '198.18.0.4/24')))).code, 0);
    assert.deepEqual(await run(['ipam', 'split', ...by, '4']), { code: 1, out: '', err: 'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order split the IP pools\n' });
    assert.equal((await run(['datastore', 'migrate', 'lock'])).code, 0);
    if (by[0]!.startsWith('--cidr')) {
      assert.deepEqual(await run(['ipam', 'split', '--cidr=198.18.2.0/24', '4']), { code: 1, out: '', err: 'unable to find IP pool  covering the specified CIDR 198.18.2.0/24\n' });
    } else {
      assert.deepEqual(await run(['ipam', 'split', '--name=nope', '4']), { code: 1, out: '', err: 'unable to find IP pool with name nope: resource does not exist: IPPool(nope) with error: <nil>\n' });
    }
    assert.deepEqual(await run(['ipam', 'split', ...by, '3']), { code: 1, out: '', err: 'error splitting the CIDR 198.18.1.0/24 into 3 CIDRs: number to split CIDR into is not a valid power of 2: 3\n' });
    assert.deepEqual(await run(['ipam', 'split', ...by, '512']), { code: 1, out: '', err: 'error splitting the CIDR 198.18.1.0/24 into 512 CIDRs: the CIDR 198.18.1.0/24 is not large enough to be split into 512 parts\n' });
    const ok = await run(['ipam', 'split', ...by, '4']);
    assert.deepEqual(ok, {
      code: 0,
      out: 'IP Pool pool-v4 was successfully split into 4 smaller pools.Created split-pool-v4-0 with CIDR 198.18.1.0/26.\nCreated split-pool-v4-1 with CIDR 198.18.1.64/26.\n' +
        'Created split-pool-v4-2 with CIDR 198.18.1.128/26.\nCreated split-pool-v4-3 with CIDR 198.18.1.192/26.\nPlease refer to the documentation for final steps.',
      err: '',
    });
    assert.deepEqual(await run(['get', 'ippool', 'pool-v4', '-o', 'yaml']), { code: 1, out: 'null\n', err: 'resource does not exist: IPPool(pool-v4) with error: <nil>\n' });
    for (const [i, cidr] of ['198.18.1.0/26', '198.18.1.64/26', '198.18.1.128/26', '198.18.1.192/26'].entries()) {
      const got = clean(parseYaml((await run(['get', 'ippool', `split-pool-v4-${i}`, '-o', 'yaml'])).out));
      assert.deepEqual(got, res('IPPool', `split-pool-v4-${i}`, { ...(pool4.spec as Obj), cidr }), 'a copy of the old pool, enabled, without disabled: false');
    }
    assert.equal((await run(['datastore', 'migrate', 'unlock'])).code, 0);
  }
  const { run } = harness();
  assert.deepEqual(await run(['ipam', 'split', 'x']), { code: 1, out: '', err: 'error reading number to split IP pools into. x is not a valid number: strconv.Atoi: parsing "x": invalid syntax\n' });
  assert.deepEqual(await run(['ipam', 'split', '4']), { code: 1, out: '', err: 'no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split\n' });
  assert.deepEqual(await run(['ipam', 'split']), { code: 1, out: '', err: 'accepts 1 arg(s), received 0\n' });
});
