// calicoctl against the whole reference manifest corpus (../shared/calico-reference/manifests,
// every .yaml file), on both servers of the etcd v3 API: real etcd and our calico-datastore.
// For each file of Calico resources: `apply -f` succeeds, `get <kind> <name> -o yaml` gives
// each resource back equivalent (Calico's defaults applied, server-filled metadata aside),
// `delete -f` removes them (after the scenario's own delete.yaml where there is one), and
// `get` then reports them missing. Files of Kubernetes kinds must fail with a clear error and
// write nothing. calicoctl runs in-process here (runCalicoctl) for speed; the executable is
// exercised in calicoctl-cli.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runCalicoctl, defaultDeps, goShape, type CtlIO } from '../../src/ctl/index.ts';
import { EtcdKv } from '../../src/datastore/index.ts';
import { applyDefaults, decodeDocumentsDetailed, type AnyResource } from '../../src/model/index.ts';
import { startDatastore, startEtcd, type Proc } from './datastore-lib/procs.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/calico-reference/manifests');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (name.endsWith('.yaml')) out.push(p);
  }
  return out;
}

async function ctl(endpoint: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CtlIO = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    readStdin: async () => '',
    env: { ETCD_ENDPOINTS: endpoint },
  };
  const deps = { ...defaultDeps(), defaultConfigPath: '/nonexistent/calicoctl.cfg' };
  const code = await runCalicoctl(argv, io, deps);
  return { code, out, err };
}

/** What a resource looks like once stored: defaults applied, server-filled metadata removed. */
function comparable(r: AnyResource): AnyResource {
  const c = structuredClone(r);
  delete c.metadata.uid;
  delete c.metadata.creationTimestamp;
  delete c.metadata.resourceVersion;
  return c;
}

const servers: Array<{ name: string; start: () => Promise<Proc> }> = [
  { name: 'etcd', start: () => startEtcd() },
  { name: 'calico-datastore', start: () => startDatastore() },
];

for (const server of servers) {
  void test(`calicoctl applies, gets and deletes the reference manifest corpus (${server.name})`, async (t) => {
    const files = yamlFiles(CORPUS);
    assert.ok(files.length >= 60, `expected the full corpus, found ${files.length} files`);
    const proc = await server.start();
    t.after(() => proc.cleanup());
    const ep = proc.endpoint;
    const raw = new EtcdKv({ endpoints: [ep] });
    t.after(() => raw.close());
    let calicoFiles = 0;
    let k8sFiles = 0;
    let resources = 0;
    let deleteFiles = 0;

    for (const file of files) {
      const rel = path.relative(CORPUS, file);
      if (path.basename(file) === 'delete.yaml') {
        deleteFiles++; // exercised with its input.yaml below
        continue;
      }
      const text = readFileSync(file, 'utf8');
      const decoded = decodeDocumentsDetailed(text, { source: rel });
      if (decoded.errors.length) {
        // Kubernetes kinds (Service, EndpointSlice): refused as a whole, nothing written.
        k8sFiles++;
        const before = await raw.currentRevision();
        const r = await ctl(ep, 'apply', '-f', file);
        assert.equal(r.code, 1, `${rel}: apply must fail`);
        assert.match(r.err, /^failed to execute command: .*is not a projectcalico\.org\/v3 resource/, `${rel}: ${r.err}`);
        assert.equal(r.err.trim().split('\n').length, 1, `${rel}: one-line error`);
        assert.equal(await raw.currentRevision(), before, `${rel}: nothing written`);
        continue;
      }
      calicoFiles++;
      const docs = decoded.resources.map((d) => d.resource);
      const applied = await ctl(ep, 'apply', '-f', file);
      assert.equal(applied.code, 0, `${rel}: apply failed: ${applied.err}`);
      const kinds = new Set(docs.map((d) => d.kind));
      const expectMsg = kinds.size === 1 ? `Successfully applied ${docs.length} '${docs[0]!.kind}' resource(s)\n` : `Successfully applied ${docs.length} resource(s)\n`;
      assert.equal(applied.out, expectMsg, rel);

      // The last document for a name wins (some scenarios apply the same resource twice).
      const latest = new Map<string, AnyResource>();
      for (const d of docs) latest.set(`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d);
      for (const want of latest.values()) {
        resources++;
        const args = ['get', want.kind, want.metadata.name!, '-o', 'yaml', ...(want.metadata.namespace ? ['-n', want.metadata.namespace] : [])];
        const got = await ctl(ep, ...args);
        assert.equal(got.code, 0, `${rel}: get ${want.kind} ${want.metadata.name}: ${got.err}`);
        const back = parse(got.out) as AnyResource;
        assert.match(back.metadata.uid ?? '', /^[0-9a-f-]{36}$/, `${rel}: uid filled`);
        assert.match(String(back.metadata.creationTimestamp), /Z$/, `${rel}: creationTimestamp filled`);
        assert.match(back.metadata.resourceVersion ?? '', /^\d+$/, `${rel}: resourceVersion filled`);
        // What calicoctl prints for the input: defaults applied, in the shape of Calico's Go types
        // (omitempty zero values left out).
        assert.deepEqual(comparable(back), comparable(goShape(applyDefaults(want)) as AnyResource), `${rel}: ${want.kind} ${want.metadata.name} comes back equivalent`);
      }

      const del = path.join(path.dirname(file), 'delete.yaml');
      if (path.basename(file) === 'input.yaml' && existsSync(del)) {
        const d1 = await ctl(ep, 'delete', '-f', del);
        assert.equal(d1.code, 0, `${path.relative(CORPUS, del)}: ${d1.err}`);
        assert.match(d1.out, /^Successfully deleted \d+ /, path.relative(CORPUS, del));
        const d2 = await ctl(ep, 'delete', '--skip-not-exists', '-f', file);
        assert.equal(d2.code, 0, `${rel}: ${d2.err}`);
      } else {
        const d = await ctl(ep, 'delete', '-f', file);
        // Deleting a Node also deletes what belongs to it (Calico's clientv3 nodes.Delete):
        // its BGPPeers, HostEndpoints, WorkloadEndpoints and node.<name> configuration later in
        // the same file are gone by their turn, and reported as not existing.
        const deletedNodes = new Set<string>();
        let owned = 0;
        for (const doc of docs) {
          const node = (doc.spec as { node?: unknown } | undefined)?.node;
          const name = doc.metadata.name ?? '';
          if (doc.kind === 'Node') deletedNodes.add(name);
          else if ((['BGPPeer', 'HostEndpoint', 'WorkloadEndpoint'].includes(doc.kind) && typeof node === 'string' && deletedNodes.has(node)) ||
            (['FelixConfiguration', 'BGPConfiguration'].includes(doc.kind) && name.startsWith('node.') && deletedNodes.has(name.slice(5)))) owned++;
        }
        // A file that names one resource twice deletes it once; the second is "does not exist".
        if (owned > 0 && latest.size === docs.length) {
          assert.equal(d.code, 1, `${rel}: ${d.err}`);
          assert.match(d.out, new RegExp(`^Successfully deleted ${docs.length - owned} `), rel);
          const errs = d.err.trim().split('\n').filter(Boolean);
          assert.equal(errs.length, owned, `${rel}: ${d.err}`);
          for (const e of errs) assert.match(e, /resource does not exist: /, rel);
        } else if (latest.size === docs.length) {
          assert.equal(d.code, 0, `${rel}: delete failed: ${d.err}`);
          assert.match(d.out, new RegExp(`^Successfully deleted ${docs.length} `), rel);
        } else {
          assert.match(d.err, /resource does not exist/, rel);
        }
      }
      for (const want of latest.values()) {
        const g = await ctl(ep, 'get', want.kind, want.metadata.name!, ...(want.metadata.namespace ? ['-n', want.metadata.namespace] : []));
        assert.equal(g.code, 1, `${rel}: ${want.kind} ${want.metadata.name} still exists after delete`);
        assert.match(g.err, /resource does not exist: /, rel);
      }
    }
    // Everything calicoctl wrote for resources is gone again (ClusterInformation and the
    // default tiers that calicoctl's writes initialise stay, as in Calico).
    const left = await raw.range('/calico/resources/v3/projectcalico.org/');
    const leftKinds = new Set(left.kvs.map((k) => k.key.split('/')[5]));
    assert.deepEqual([...leftKinds].sort(), ['clusterinformations', 'tiers'], `left behind: ${left.kvs.map((k) => k.key).join(', ')}`);
    assert.equal(calicoFiles + k8sFiles + deleteFiles, files.length, 'every file was exercised');
    assert.ok(calicoFiles >= 40 && k8sFiles >= 6, `covered ${calicoFiles} Calico files and ${k8sFiles} Kubernetes files`);
    t.diagnostic(`${server.name}: ${calicoFiles} Calico manifest files (${resources} resources) applied/got/deleted; ${k8sFiles} Kubernetes files refused`);
  });

  void test(`calicoctl applies the corpus as a directory (-f DIR -R) and removes it (${server.name})`, async (t) => {
    const proc = await server.start();
    t.after(() => proc.cleanup());
    // bgpfilter/ has only sub-directories: -R reads them all (without it, nothing).
    const dir = path.join(CORPUS, 'bgpfilter');
    const r = await ctl(proc.endpoint, 'apply', '-R', '-f', dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Successfully applied \d+ resource\(s\)\n$/);
    const list = await ctl(proc.endpoint, 'get', 'bgpfilters', '-o', 'json');
    const parsed = JSON.parse(list.out) as { kind: string; items: unknown[] };
    assert.equal(parsed.kind, 'BGPFilterList');
    assert.ok(parsed.items.length > 0);
    const d = await ctl(proc.endpoint, 'delete', '--skip-not-exists', '-R', '-f', dir);
    assert.equal(d.code, 0, d.err);
    const after = await ctl(proc.endpoint, 'get', 'bgpfilters', '-o', 'json');
    assert.deepEqual((JSON.parse(after.out) as { items: unknown[] }).items, []);
  });
}
