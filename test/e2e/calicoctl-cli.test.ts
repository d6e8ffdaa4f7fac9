// The calicoctl executable (bin/calicoctl) against real servers: its output and messages as
// Calico prints them, and bad input and faults — malformed YAML, unknown kinds, invalid fields,
// a stale resourceVersion, missing resources, an unreachable datastore — each a one-line error
// with a non-zero exit and nothing half-written. Also configuration: calicoctl.cfg (--config)
// with TLS client certificates against etcd, and a unix:// endpoint on calico-datastore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { EtcdKv } from '../../src/datastore/index.ts';
import { freePort, startDatastore, startEtcd, REPO } from './datastore-lib/procs.ts';

const CALICOCTL = path.join(REPO, 'bin/calicoctl');

interface Run { code: number | null; out: string; err: string; ms: number }

function calicoctl(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
    // Only what the test says: no ambient datastore settings.
    for (const k of ['ETCD_ENDPOINTS', 'DATASTORE_TYPE', 'ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE']) {
      if (!opts.env || !(k in opts.env)) delete env[k];
    }
    const p = spawn(CALICOCTL, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err, ms: Date.now() - t0 }));
    p.stdin.end(opts.stdin ?? '');
  });
}

/**
 * Exit 1 with one line matching `re` on `stream` (stderr, or stdout for the client set-up
 * failures Calico prints there) and nothing on the other.
 */
function oneLineError(r: Run, re: RegExp, what: string, stream: 'stdout' | 'stderr' = 'stderr'): void {
  assert.equal(r.code, 1, `${what}: exit code (stdout ${JSON.stringify(r.out)}, stderr ${JSON.stringify(r.err)})`);
  const [text, other] = stream === 'stderr' ? [r.err, r.out] : [r.out, r.err];
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on ${stream}, got ${JSON.stringify(text)}`);
  assert.match(lines[0]!, re, what);
  if (stream === 'stdout') assert.equal(other, '', `${what}: nothing on stderr`);
}

const POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 198.18.0.0/24
  natOutgoing: true
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
spec:
  cidr: 198.18.1.0/24
  ipipMode: Always
  nodeSelector: "rack == 'r1'"
`;

void test('calicoctl executable against real etcd: output, messages, bad input and faults', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.cleanup());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ETCD_ENDPOINTS: etcd.endpoint };
  const raw = new EtcdKv({ endpoints: [etcd.endpoint] });
  t.after(() => raw.close());
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  await t.test('apply from stdin, then the default and wide tables exactly as calicoctl prints them', async () => {
    const r = await calicoctl(['apply', '-f', '-'], { env, stdin: POOLS });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "Successfully applied 2 'IPPool' resource(s)\n");
    const ps = await calicoctl(['get', 'ippools'], { env });
    assert.equal(ps.out, [
      'NAME     CIDR            SELECTOR       ',
      'pool-a   198.18.0.0/24   all()          ',
      "pool-b   198.18.1.0/24   rack == 'r1'   ",
      '',
      '',
    ].join('\n'));
    const wide = await calicoctl(['get', 'ipp', '-o', 'wide'], { env });
    assert.equal(wide.out.split('\n')[0], 'NAME     CIDR            NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR       ASSIGNMENTMODE   ');
    assert.equal(wide.out.split('\n')[2], "pool-b   198.18.1.0/24   false   Always     Never       false      false              rack == 'r1'   Automatic        ");
    const cc = await calicoctl(['get', 'pool', 'pool-b', '-o', 'custom-columns=NAME,IPIPMODE'], { env });
    assert.equal(cc.out, 'NAME     IPIPMODE   \npool-b   Always     \n\n');
    const tpl = await calicoctl(['get', 'ippools', '-o', 'go-template={{range .items}}{{.metadata.name}}={{.spec.cidr}};{{end}}'], { env });
    assert.equal(tpl.out, 'pool-a=198.18.0.0/24;pool-b=198.18.1.0/24;');
    const json = await calicoctl(['get', 'ippool', 'pool-a', '-o', 'json'], { env });
    const obj = JSON.parse(json.out) as { kind: string; metadata: { resourceVersion: string } };
    assert.equal(obj.kind, 'IPPool');
    assert.match(obj.metadata.resourceVersion, /^\d+$/);
    const bad = await calicoctl(['get', 'ippools', '-o', 'custom-columns=NAME,NOPE'], { env });
    oneLineError(bad, /^unknown heading NOPE, valid values are: .*CIDR/, 'unknown column');
  });

  await t.test('malformed YAML: one line naming the file and document, nothing written', async () => {
    const before = await raw.currentRevision();
    const f = file('broken.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x\nspec:\n  cidr: 198.18.9.0/24\n');
    const r = await calicoctl(['apply', '-f', f], { env });
    oneLineError(r, new RegExp(`^failed to execute command: cannot apply ${f.replace(/[.]/g, '\\.')} document 1: `), 'malformed YAML');
    assert.equal(await raw.currentRevision(), before);
  });

  await t.test('unknown kinds: in a file and on the command line', async () => {
    const before = await raw.currentRevision();
    const f = file('kind.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPoool\nmetadata:\n  name: x\nspec: {}\n');
    oneLineError(await calicoctl(['apply', '-f', f], { env }), /^failed to execute command: .*unknown projectcalico\.org\/v3 kind "IPPoool"/, 'unknown kind in file');
    const k8s = file('svc.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec: {}\n');
    oneLineError(await calicoctl(['create', '-f', k8s], { env }), /kind Service \(a Kubernetes core\/v1 resource\) is not a projectcalico\.org\/v3 resource/, 'Kubernetes kind');
    oneLineError(await calicoctl(['get', 'widgets'], { env }), /^failed to get resources: resource type 'widgets' is not supported$/, 'unknown kind arg');
    oneLineError(await calicoctl(['delete', 'widgets', 'x'], { env }), /^resource type 'widgets' is not supported$/, 'unknown kind arg (delete)');
    assert.equal(await raw.currentRevision(), before);
  });

  await t.test('invalid fields: unknown field fails the file; a bad value fails that document only', async () => {
    const before = await raw.currentRevision();
    const unknown = file('unknown.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 198.18.9.0/24\n  natOutgoin: true\n');
    oneLineError(await calicoctl(['apply', '-f', unknown], { env }), /^field in document is not recognized or is in the wrong location: natOutgoin \(.*document 1 \(IPPool x\): spec\.natOutgoin: unknown field/, 'unknown field');
    const badValue = file('badvalue.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 198.18.9.0/33\n');
    oneLineError(await calicoctl(['apply', '-f', badValue], { env }), /^failed to apply 'IPPool' resource: \[.*document 1 \(IPPool x\): spec\.cidr: error with field CIDR = '198\.18\.9\.0\/33' \(/, 'bad CIDR');
    assert.equal(await raw.currentRevision(), before, 'nothing written');
    // Multi-document: the good ones are applied, the bad one reported, as calicoctl does.
    const mixed = file('mixed.yaml', [
      'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: ok-1\nspec:\n  nets: [198.18.5.0/24]',
      'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: bad\nspec:\n  nets: [not-a-net]',
      'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: ok-2\nspec:\n  nets: [198.18.6.0/24]',
    ].join('\n---\n'));
    const r = await calicoctl(['apply', '-f', mixed], { env });
    assert.equal(r.code, 1);
    assert.equal(r.out, "Partial success: applied the first 2 out of 3 'GlobalNetworkSet' resources:\n");
    oneLineError(r, /^hit error: \[.*document 2 \(GlobalNetworkSet bad\): spec\.nets\[0\]: error with field Nets = 'not-a-net' \(/, 'mixed');
    const got = await calicoctl(['get', 'globalnetworksets', '-o', 'go-template={{range .items}}{{.metadata.name}} {{end}}'], { env });
    assert.equal(got.out, 'ok-1 ok-2 ');
  });

  await t.test('stale resourceVersion and create-over-existing are refused, datastore unchanged', async () => {
    const v1 = parse((await calicoctl(['get', 'ippool', 'pool-a', '-o', 'yaml'], { env })).out) as { metadata: { resourceVersion: string }; spec: Record<string, unknown> };
    const edited = file('pool-a.yaml', `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-a\n  resourceVersion: "${v1.metadata.resourceVersion}"\nspec:\n  cidr: 198.18.0.0/24\n  natOutgoing: false\n`);
    const ok = await calicoctl(['replace', '-f', edited], { env });
    assert.equal(ok.out, "Successfully replaced 1 'IPPool' resource(s)\n", ok.err);
    const before = await raw.currentRevision();
    const stale = await calicoctl(['replace', '-f', edited], { env });
    // calicoctl (reportReplaceResults) counts the failed update as handled, then reports it
    assert.equal(stale.out, "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n");
    oneLineError(stale, /^hit error: update conflict: IPPool\(pool-a\)$/, 'stale replace');
    const staleApply = await calicoctl(['apply', '-f', edited], { env });
    oneLineError(staleApply, /update conflict: IPPool\(pool-a\)/, 'stale apply');
    const dup = await calicoctl(['create', '-f', '-'], { env, stdin: POOLS });
    oneLineError(dup, /^failed to create any 'IPPool' resources: \[resource already exists: IPPool\(pool-a\) with error: <nil> resource already exists: IPPool\(pool-b\) with error: <nil>\]$/, 'create existing');
    const skip = await calicoctl(['create', '--skip-exists', '-f', '-'], { env, stdin: POOLS });
    assert.equal(skip.out, "Successfully created 2 'IPPool' resource(s)\n", skip.err);
    assert.equal(await raw.currentRevision(), before, 'nothing written by refused or skipped writes');
  });

  await t.test('missing resources: get, delete, replace, patch, label', async () => {
    oneLineError(await calicoctl(['get', 'ippool', 'nosuch'], { env }), /^resource does not exist: IPPool\(nosuch\) with error: <nil>$/, 'get');
    oneLineError(await calicoctl(['delete', 'ippool', 'nosuch'], { env }), /^Failed to delete 'IPPool' resource: resource does not exist: IPPool\(nosuch\) with error: <nil>$/, 'delete');
    const skip = await calicoctl(['delete', '--skip-not-exists', 'ippool', 'nosuch'], { env });
    assert.equal(skip.code, 0, skip.err);
    const f = file('nosuch.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: nosuch\nspec:\n  cidr: 198.18.7.0/24\n');
    oneLineError(await calicoctl(['replace', '-f', f], { env }), /^hit error: resource does not exist: IPPool\(nosuch\) with error: <nil>$/, 'replace');
    oneLineError(await calicoctl(['patch', 'ippool', 'nosuch', '-p', '{"spec":{"natOutgoing":true}}'], { env }), /^hit error: resource does not exist: IPPool\(nosuch\) with error: <nil>$/, 'patch');
    oneLineError(await calicoctl(['label', 'ippool', 'nosuch', 'a=b'], { env }), /^ippool nosuch not found$/, 'label');
    oneLineError(await calicoctl(['get', 'networkpolicy', 'np1', '-n', 'ns1'], { env }), /^resource does not exist: NetworkPolicy\(ns1\/np1\) with error: <nil>$/, 'namespaced get');
  });

  await t.test('patch, label and version', async () => {
    const p = await calicoctl(['patch', 'ippool', 'pool-b', '-p', '{"spec":{"natOutgoing":true},"metadata":{"labels":{"tier":"gold"}}}'], { env });
    assert.equal(p.out, "Successfully patched 1 'IPPool' resource\n", p.err);
    const badPatch = await calicoctl(['patch', 'ippool', 'pool-b', '-p', '{"spec":{"blockSize":99}}'], { env });
    oneLineError(badPatch, /^hit error: .*spec\.blockSize/, 'invalid patch result');
    const l1 = await calicoctl(['label', 'ippool', 'pool-b', 'zone=a'], { env });
    assert.equal(l1.out, 'Successfully set label zone on ippool pool-b\n', l1.err);
    oneLineError(await calicoctl(['label', 'ippool', 'pool-b', 'zone=b'], { env }), /^failed to update label of ippool pool-b, key zone is already present\. please use '--overwrite' to set a new value$/, 'label exists');
    assert.equal((await calicoctl(['label', 'ippool', 'pool-b', 'zone=b', '--overwrite'], { env })).out, 'Successfully updated label zone on ippool pool-b\n');
    assert.equal((await calicoctl(['label', 'ippool', 'pool-b', 'tier', '--remove'], { env })).out, 'Successfully removed label tier from ippool pool-b\n');
    const got = parse((await calicoctl(['get', 'ippool', 'pool-b', '-o', 'yaml'], { env })).out) as { metadata: { labels: Record<string, string> }; spec: { natOutgoing: boolean; ipipMode: string } };
    assert.deepEqual(got.metadata.labels, { zone: 'b' });
    assert.equal(got.spec.natOutgoing, true);
    assert.equal(got.spec.ipipMode, 'Always');
    const v = await calicoctl(['version'], { env });
    assert.match(v.out, /^Client Version: {4}v\d+\.\d+\.\d+\nGit commit: {8}\S+\nCluster Version: {3}unknown\nCluster Type: {6}unknown\n$/);
  });

  await t.test('delete by file and by names', async () => {
    const r = await calicoctl(['delete', '-f', '-'], { env, stdin: POOLS });
    assert.equal(r.out, "Successfully deleted 2 'IPPool' resource(s)\n", r.err);
    const r2 = await calicoctl(['delete', 'globalnetworksets', 'ok-1', 'ok-2'], { env });
    assert.equal(r2.out, "Successfully deleted 2 'GlobalNetworkSet' resource(s)\n", r2.err);
    assert.equal((await calicoctl(['get', 'ippools'], { env })).out, 'NAME   CIDR   SELECTOR   \n\n');
  });

  await t.test('delete node cleans up like Calico: endpoints, IPAM addresses and affinities, peers, per-node config', async () => {
    const docs = [
      'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ct-node-1}\nspec:\n  bgp: {ipv4Address: 198.18.0.1/24, ipv4IPIPTunnelAddr: 198.19.0.6}',
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ct-pool}\nspec: {cidr: 198.19.0.0/16}',
      'apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata: {name: ct--node--1-k8s-mypod-eth0, namespace: default}\nspec: {node: ct-node-1, orchestrator: k8s, pod: mypod, endpoint: eth0, interfaceName: calimypod, ipNetworks: [198.19.0.1/32]}',
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ct-peer-1}\nspec: {node: ct-node-1, peerIP: 198.18.0.9, asNumber: 64512}',
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ct-peer-2}\nspec: {node: ct-node-2, peerIP: 198.18.0.9, asNumber: 64512}',
      'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: node.ct-node-1}\nspec: {}',
      'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: ct-hep-1}\nspec: {node: ct-node-1, interfaceName: eth0}',
    ];
    const applied = await calicoctl(['apply', '-f', '-'], { env, stdin: docs.join('\n---\n') });
    assert.equal(applied.out, 'Successfully applied 7 resource(s)\n', applied.err);
    // IPAM state as Calico's IPAM writes it: a /26 affine to the node holding the pod's
    // address (handle h-pod) and the IPIP tunnel address (handle h-ipip).
    const allocations: (number | null)[] = Array.from({ length: 64 }, () => null);
    allocations[1] = 0;
    allocations[6] = 1;
    await raw.put('/calico/ipam/v2/assignment/ipv4/block/198.19.0.0-26', JSON.stringify({
      cidr: '198.19.0.0/26', affinity: 'host:ct-node-1', allocations, unallocated: allocations.map((a, o) => (a === null ? o : -1)).filter((o) => o >= 0),
      attributes: [{ handle_id: 'h-pod', secondary: { node: 'ct-node-1', pod: 'mypod' } }, { handle_id: 'h-ipip', secondary: { node: 'ct-node-1', type: 'ipipTunnelAddress' } }],
      sequenceNumber: 2, sequenceNumberForAllocation: { 1: 0, 6: 1 }, deleted: false,
    }));
    await raw.put('/calico/ipam/v2/host/ct-node-1/ipv4/block/198.19.0.0-26', '{"state":"confirmed","deleted":false}');
    await raw.put('/calico/ipam/v2/handle/h-pod', '{"block":{"198.19.0.0/26":1},"deleted":false}');
    await raw.put('/calico/ipam/v2/handle/h-ipip', '{"block":{"198.19.0.0/26":1},"deleted":false}');
    const del = await calicoctl(['delete', 'node', 'ct-node-1'], { env });
    assert.equal(del.out, "Successfully deleted 1 'Node' resource(s)\n", del.err);
    assert.deepEqual((await raw.range('/calico/ipam/v2/')).kvs.map((k) => k.key), [], 'block, affinity and handles released');
    const names = async (kind: string, ...more: string[]) => {
      const r = await calicoctl(['get', kind, ...more, '-o', 'go-template={{range .items}}{{.metadata.name}} {{end}}'], { env });
      assert.equal(r.code, 0, r.err);
      return r.out;
    };
    assert.equal(await names('workloadendpoints', '-A'), '');
    assert.equal(await names('bgppeers'), 'ct-peer-2 ');
    assert.equal(await names('hostendpoints'), '');
    assert.doesNotMatch(await names('felixconfigurations'), /node\.ct-node-1/);
    assert.equal(await names('nodes'), '');
    await calicoctl(['delete', 'bgppeer', 'ct-peer-2'], { env });
    await calicoctl(['delete', 'ippool', 'ct-pool'], { env });
  });

  await t.test("Calico st behaviours: datastore migrate lock/unlock/import, delete without a name, empty files, Go's output shape, ipam split/configure", async () => {
    // test_flags test_version_mismatch: import is refused for etcd before any version check.
    await raw.put('/calico/resources/v3/projectcalico.org/clusterinformations/default', JSON.stringify({ kind: 'ClusterInformation', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { clusterGUID: 'g1', datastoreReady: true, calicoVersion: 'v0.0.0.1.2.3' } }));
    oneLineError(await calicoctl(['datastore', 'migrate', 'import', '-f', 'a'], { env }), /^invalid datastore type: etcdv3 to import to for datastore migration\. Datastore type must be kubernetes$/, 'import into etcd');
    const mismatch = await calicoctl(['datastore', 'migrate', 'lock'], { env });
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.err, /^version mismatch\.\nClient Version: {3}v\S+\nCluster Version: {2}0\.0\.0\.1\.2\.3\nUse --allow-version-mismatch to override\n$/);
    const ready = async (): Promise<string> => (await calicoctl(['--allow-version-mismatch', 'get', 'clusterinfo', 'default', '-o', 'go-template={{.spec.datastoreReady}}'], { env })).out;
    const lock = await calicoctl(['--allow-version-mismatch', 'datastore', 'migrate', 'lock'], { env });
    assert.deepEqual([lock.code, lock.out, lock.err], [0, 'Datastore locked.\n', '']);
    assert.equal(await ready(), 'false');
    const unlock = await calicoctl(['--allow-version-mismatch', 'datastore', 'migrate', 'unlock'], { env });
    assert.deepEqual([unlock.code, unlock.out, unlock.err], [0, 'Datastore unlocked.\n', '']);
    assert.equal(await ready(), 'true');
    await raw.delete('/calico/resources/v3/projectcalico.org/clusterinformations/default');
    // delete KIND with no name: one resource with an empty name, which does not exist.
    const del = await calicoctl(['delete', 'ippool'], { env });
    assert.deepEqual([del.code, del.out, del.err], [1, '', "Failed to delete 'IPPool' resource: resource does not exist: IPPool() with error: <nil>\n\n"]);
    // An empty file in a directory stops the command before anything is written.
    const d = mkdtempSync(path.join(dir, 'empty-'));
    writeFileSync(path.join(d, 'a.yaml'), 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ct-node-9}\nspec: {bgp: {asNumber: 64512, ipv4Address: 198.18.0.9/24}}\n');
    writeFileSync(path.join(d, 'b.yaml'), '# nothing here\n');
    oneLineError(await calicoctl(['apply', '-f', d], { env }), new RegExp(`^no resources specified in file ${path.join(d, 'b.yaml')}$`), 'empty file in a directory');
    assert.equal((await calicoctl(['apply', '--skip-empty', '-f', d], { env })).out, "Successfully applied 1 'Node' resource(s)\n");
    // Go's shape: struct order in JSON, a Node's status as {}.
    const n = JSON.parse((await calicoctl(['get', 'node', 'ct-node-9', '-o', 'json'], { env })).out) as { spec: { bgp: object }; status: object };
    assert.deepEqual(Object.keys(n), ['kind', 'apiVersion', 'metadata', 'spec', 'status']);
    assert.deepEqual(Object.keys(n.spec.bgp), ['asNumber', 'ipv4Address']);
    assert.deepEqual(n.status, {});
    assert.equal((await calicoctl(['delete', 'node', 'ct-node-9'], { env })).code, 0);
    // test_ipam_split: a locked datastore's pool split in four, then unlocked; ipam configure.
    assert.equal((await calicoctl(['apply', '-f', '-'], { env, stdin: 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ct-split}\nspec: {cidr: 198.18.8.0/24, blockSize: 28}\n' })).code, 0);
    oneLineError(await calicoctl(['ipam', 'split', '--cidr=198.18.8.0/24', '4'], { env }), /^datastore is not locked\. Run the `calicoctl datastore migrate lock` command in order split the IP pools$/, 'split unlocked');
    assert.equal((await calicoctl(['datastore', 'migrate', 'lock'], { env })).code, 0);
    const split = await calicoctl(['ipam', 'split', '--name=ct-split', '4'], { env });
    assert.equal(split.code, 0, split.err);
    assert.match(split.out, /^IP Pool ct-split was successfully split into 4 smaller pools\.Created split-ct-split-0 with CIDR 198\.18\.8\.0\/26\.\n/);
    const pools = await calicoctl(['get', 'ippools', '-o', 'go-template={{range .items}}{{.metadata.name}}={{.spec.cidr}} {{end}}'], { env });
    assert.equal(pools.out, 'split-ct-split-0=198.18.8.0/26 split-ct-split-1=198.18.8.64/26 split-ct-split-2=198.18.8.128/26 split-ct-split-3=198.18.8.192/26 ');
    assert.equal((await calicoctl(['datastore', 'migrate', 'unlock'], { env })).code, 0);
    for (let i = 0; i < 4; i++) assert.equal((await calicoctl(['delete', 'ippool', `split-ct-split-${i}`], { env })).code, 0);
    const conf = await calicoctl(['ipam', 'configure', '--strictaffinity=true'], { env });
    assert.deepEqual([conf.code, conf.out, conf.err], [0, 'Successfully set StrictAffinity to: true\n', '']);
    const stored = await raw.get('/calico/ipam/v2/config');
    assert.deepEqual(JSON.parse(stored!.value), { strict_affinity: true, auto_allocate_blocks: true, kubeVirtVMAddressPersistence: 'Enabled' });
    await raw.delete('/calico/ipam/v2/config');
  });
});

void test('calicoctl with an unreachable datastore fails fast with one line, in Calico\'s words and stream', async () => {
  // A closed loopback port: freePort() binds port 0, notes the port and closes it again.
  const port = await freePort();
  const env = { ETCD_ENDPOINTS: `http://127.0.0.1:${port}` };
  const cause = `\\(datastore unavailable at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; check the datastore is running, and ETCD_ENDPOINTS or --config\\)`;
  for (const args of [['get', 'nodes'], ['get', 'ippools'], ['apply', '-f', '-'], ['delete', 'ippool', 'x'], ['label', 'ippool', 'x', 'a=b']]) {
    const r = await calicoctl(args, { env, stdin: POOLS });
    // calicoctl's ExecuteConfigCommand prints the client failure on stdout (exit 1).
    oneLineError(r, new RegExp(`^Failed to create Calico API client: context deadline exceeded ${cause}$`), args.join(' '), 'stdout');
    assert.ok(r.ms < 5000, `${args.join(' ')} took ${r.ms} ms`);
  }
  const v = await calicoctl(['version'], { env });
  assert.equal(v.code, 1);
  assert.match(v.out, /^Client Version: {4}\S+\nGit commit: {8}\S+\n$/);
  assert.match(v.err, new RegExp(`^context deadline exceeded ${cause}\n$`));
});

void test('calicoctl configuration: calicoctl.cfg with TLS client certificates, bad config files', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-ctlcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=ct-ctl-ca');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=ct-${who}`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '1', '-extfile', f(`${who}.ext`));
  }
  const etcd = await startEtcd({ tls: { certFile: f('server.crt'), keyFile: f('server.key'), trustedCaFile: f('ca.crt'), clientCertAuth: true } });
  t.after(() => etcd.cleanup());
  writeFileSync(f('calicoctl.cfg'), [
    'apiVersion: projectcalico.org/v3',
    'kind: CalicoAPIConfig',
    'metadata: {}',
    'spec:',
    '  datastoreType: etcdv3',
    `  etcdEndpoints: ${etcd.endpoint}`,
    `  etcdCACertFile: ${f('ca.crt')}`,
    `  etcdCertFile: ${f('client.crt')}`,
    `  etcdKeyFile: ${f('client.key')}`,
    '',
  ].join('\n'));
  const ok = await calicoctl(['apply', '--config', f('calicoctl.cfg'), '-f', '-'], { stdin: POOLS });
  assert.equal(ok.out, "Successfully applied 2 'IPPool' resource(s)\n", ok.err);
  const list = await calicoctl(['get', 'ippools', '-c', f('calicoctl.cfg'), '-o', 'go-template={{len .items}}']);
  assert.equal(list.out, '2');
  // The same via the environment (ETCD_* variables, no config file).
  const viaEnv = await calicoctl(['get', 'ippools', '-o', 'go-template={{len .items}}'], {
    env: { ETCD_ENDPOINTS: etcd.endpoint, ETCD_CA_CERT_FILE: f('ca.crt'), ETCD_CERT_FILE: f('client.crt'), ETCD_KEY_FILE: f('client.key') },
  });
  assert.equal(viaEnv.out, '2', viaEnv.err);
  // No client certificate: refused by the server, reported in one line.
  const noCert = await calicoctl(['get', 'ippools'], { env: { ETCD_ENDPOINTS: etcd.endpoint, ETCD_CA_CERT_FILE: f('ca.crt') } });
  assert.equal(noCert.code, 1);
  assert.equal((noCert.out + noCert.err).trimEnd().split('\n').length, 1, noCert.out + noCert.err);
  oneLineError(await calicoctl(['get', 'ippools', '--config', f('missing.cfg')]), /^Error reading config file: .*missing\.cfg$/, 'missing config', 'stdout');
  writeFileSync(f('wrong.cfg'), 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfigs\nspec: {}\n');
  oneLineError(await calicoctl(['get', 'ippools', '--config', f('wrong.cfg')]), /^Failed to create Calico API client: syntax error in .*wrong\.cfg: invalid config file: expected kind 'CalicoAPIConfig', got 'CalicoAPIConfigs'$/, 'wrong kind', 'stdout');
  writeFileSync(f('k8s.cfg'), 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n');
  oneLineError(await calicoctl(['get', 'ippools', '--config', f('k8s.cfg')]), /unsupported datastoreType 'kubernetes'/, 'kubernetes datastore', 'stdout');
  oneLineError(await calicoctl(['get', 'ippools'], { env: { DATASTORE_TYPE: 'kubernetes' } }), /unsupported datastoreType 'kubernetes'/, 'DATASTORE_TYPE=kubernetes', 'stdout');
});

void test('calicoctl over a unix:// endpoint (calico-datastore unix socket)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-ctlux-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'ds.sock');
  const ds = await startDatastore({ listen: ['http://127.0.0.1:0', `unix://${sock}`] });
  t.after(() => ds.cleanup());
  const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: `unix://${sock}` };
  const r = await calicoctl(['apply', '-f', '-'], { env, stdin: POOLS });
  assert.equal(r.out, "Successfully applied 2 'IPPool' resource(s)\n", r.err);
  // Written through the socket, visible over TCP.
  const tcp = await calicoctl(['get', 'ippools', '-o', 'go-template={{range .items}}{{.metadata.name}} {{end}}'], { env: { ETCD_ENDPOINTS: ds.endpoint } });
  assert.equal(tcp.out, 'pool-a pool-b ');
});
