// calicoctl's command logic against the in-memory datastore (MemoryKv): messages, namespace
// handling, partial success, skip flags, output selection. The real-server tests are in
// test/e2e/calicoctl-*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnyResource } from '../model/index.ts';
import { harness } from './testing.ts';

const NP = (name: string, ns?: string) => `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}spec:
  selector: app == 'web'
  ingress:
  - action: Allow
`;

void test('namespaced kinds: default namespace, -n, -A, and mismatches', async () => {
  const { run } = harness();
  assert.deepEqual(await run(['apply', '-f', '-'], NP('p1')), { code: 0, out: "Successfully applied 1 'NetworkPolicy' resource(s)\n", err: '' });
  assert.equal((await run(['apply', '-n', 'prod', '-f', '-'], NP('p2'))).code, 0);
  const mismatch = await run(['apply', '-n', 'prod', '-f', '-'], NP('p3', 'dev'));
  assert.equal(mismatch.err, "failed to apply 'NetworkPolicy' resource: [resource namespace does not match client namespace. dev != prod]\n");
  const def = await run(['get', 'policies']);
  assert.equal(def.out, 'NAME   TIER      \np1     default   \n\n', 'lists the default namespace');
  const all = await run(['get', 'np', '-A']);
  assert.equal(all.out, 'NAMESPACE   NAME   TIER      \ndefault     p1     default   \nprod        p2     default   \n\n');
  const one = await run(['get', 'np', 'p2', '-n', 'prod', '-o', 'go-template={{.metadata.namespace}}/{{.metadata.name}}']);
  assert.equal(one.out, 'prod/p2');
  assert.equal((await run(['get', 'np', 'p2', '-A'])).err, 'cannot use --all-namespace flag for getting a single resource\n');
  assert.equal((await run(['get', 'ippools', '-n', 'x'])).err, 'IPPool is not namespaced\n');
  assert.equal((await run(['get', 'np', '-A', '-n', 'x'])).err, 'cannot use both --namespace and --all-namespaces flags at the same time\n');
});

void test('mixed kinds, partial success, skip flags', async () => {
  const { run } = harness();
  const docs = [
    'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100',
    'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: ok\nspec:\n  nets: [198.18.0.0/24]',
  ].join('\n---\n');
  assert.equal((await run(['create', '-f', '-'], docs)).out, 'Successfully created 2 resource(s)\n');
  const again = await run(['create', '-f', '-'], docs);
  assert.equal(again.err, 'failed to create any resources: [resource already exists: Tier(security) with error: <nil> resource already exists: GlobalNetworkSet(ok) with error: <nil>]\n');
  assert.equal((await run(['create', '--skip-exists', '-f', '-'], docs)).out, 'Successfully created 2 resource(s)\n');
  const del = await run(['delete', 'tier', 'security', 'nosuch']);
  assert.equal(del.out, "Successfully deleted 1 'Tier' resource(s)\n");
  assert.equal(del.err, "Failed to delete 'Tier' resource: resource does not exist: Tier(nosuch) with error: <nil>\n\n");
  assert.equal(del.code, 1);
  assert.equal((await run(['delete', '--skip-not-exists', 'tier', 'nosuch'])).code, 0);
  assert.equal((await run(['delete', 'tier'])).err, "Failed to delete 'Tier' resource: resource does not exist: Tier() with error: <nil>\n\n");
  assert.equal((await run(['apply'])).err, 'no resources specified: calicoctl apply needs -f FILENAME (a file, a directory or - for stdin)\n');
  assert.equal((await run(['apply', '-f', '-'], '# only a comment\n')).err, 'no resources specified in file -\n');
  assert.equal((await run(['apply', '--skip-empty', '-f', '-'], '')).out, 'No resources specified\n');
});

void test('ClusterInformation is read-only; apply initialises the datastore like Calico', async () => {
  const { run } = harness();
  const ci = 'apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\nspec: {}\n';
  const r = await run(['apply', '-f', '-'], ci);
  assert.equal(r.err, "failed to apply 'ClusterInformation' resource: [operation apply is not supported on ClusterInformation: resource is readonly]\n");
  const tiers = await run(['get', 'tiers']);
  assert.equal(tiers.out, 'NAME            ORDER   \nkube-admin      1000    \ndefault         1e+06   \nkube-baseline   1e+07   \n\n');
  const v = await run(['version']);
  assert.equal(v.out, 'Client Version:    v9.9.9\nGit commit:        abc123\nCluster Version:   unknown\nCluster Type:      unknown\n');
  assert.equal((await run(['version', '--client'])).out, 'Client Version:    v9.9.9\nGit commit:        abc123\n');
});

void test('get from a file, export, yaml/json of several results, unknown output format', async () => {
  const { run } = harness();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-cmd-'));
  try {
    const f = path.join(dir, 'pools.yaml');
    writeFileSync(f, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: 198.18.0.0/24\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: b\nspec:\n  cidr: 198.18.1.0/24\n');
    assert.equal((await run(['apply', '-f', f])).code, 0);
    const y = await run(['get', '-f', f, '-o', 'json']);
    const arr = JSON.parse(y.out) as AnyResource[];
    assert.deepEqual(arr.map((r) => r.metadata.name), ['a', 'b']);
    assert.deepEqual(Object.keys(arr[0]!).slice(0, 3), ['kind', 'apiVersion', 'metadata'], 'Go struct order in JSON');
    const ex = await run(['get', 'ippool', 'a', '--export', '-o', 'yaml']);
    assert.doesNotMatch(ex.out, /uid|resourceVersion|creationTimestamp/);
    assert.equal((await run(['get', 'ippools', '-o', 'xml'])).err, "unrecognized output format 'xml'\n");
    assert.equal((await run(['get', 'ippools', '-o', 'custom-columns='])).err, 'need to specify at least one column\n');
    assert.equal((await run(['get', 'ippools', '-o', 'go-template={{if}}'])).code, 1);
    const two = await run(['get', 'ippool', 'a', 'b']);
    assert.equal(two.out, 'NAME   CIDR            SELECTOR   \na      198.18.0.0/24   all()      \n\nNAME   CIDR            SELECTOR   \nb      198.18.1.0/24   all()      \n\n', 'one table per named resource, as calicoctl prints');
    assert.equal((await run(['get', '-f', path.join(dir, 'missing.yaml')])).err, `failed to execute command: open ${path.join(dir, 'missing.yaml')}: no such file or directory\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('patch validates the result and keeps it atomic; label on namespaced resources', async () => {
  const { run, kv } = harness();
  await run(['apply', '-f', '-'], NP('p1', 'ns1'));
  const before = kv.revision;
  const bad = await run(['patch', 'networkpolicy', 'p1', '-n', 'ns1', '-p', '{"spec":{"ingress":[{"action":"Allowed"}]}}']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^hit error: cannot patch NetworkPolicy ns1\/p1: spec\.ingress\[0\]\.action: error with field spec\.ingress\[0\]\.action \(supported values: "Allow", "Deny", "Log", "Pass"\)/);
  assert.equal(kv.revision, before, 'nothing written');
  assert.equal((await run(['patch', 'np', 'p1', '-n', 'ns1', '-p', 'not json'])).err.startsWith('hit error: invalid patch:'), true);
  assert.equal((await run(['patch', 'np', 'p1', '-n', 'ns1', '--type', 'json', '-p', '[]'])).code, 1);
  const ok = await run(['patch', 'np', 'p1', '-n', 'ns1', '-p', '{"spec":{"order":5}}']);
  assert.equal(ok.out, "Successfully patched 1 'NetworkPolicy' resource\n");
  assert.equal((await run(['label', 'np', 'p1', '-n', 'ns1', 'team=blue'])).out, 'Successfully set label team on np p1\n');
  const got = await run(['get', 'np', 'p1', '-n', 'ns1', '-o', 'go-template={{.spec.order}} {{.metadata.labels.team}}']);
  assert.equal(got.out, '5 blue');
});

void test('unknown commands, flags and argument counts: cobra/pflag words, exit 1 (tests/st test_flags.py)', async () => {
  const { run } = harness();
  assert.deepEqual(await run(['frobnicate']), { code: 1, out: '', err: 'unknown command "frobnicate" for "calicoctl"\n' });
  // pflag names a flag without its argument as typed.
  assert.deepEqual(await run(['get', 'ippool', '-o']), { code: 1, out: '', err: "flag needs an argument: 'o' in -o\n" });
  assert.deepEqual(await run(['get', 'ippool', '--output']), { code: 1, out: '', err: 'flag needs an argument: --output\n' });
  // Under a group (node, datastore, datastore migrate) a word that names no subcommand shows the group's help.
  const nodeHelp = await run(['node', 'foo']);
  assert.equal(nodeHelp.code, 0);
  assert.match(nodeHelp.out, /^Usage: calicoctl node /);
  // cobra's suggestions: edit distance up to 2, or a prefix; main's Fprintln adds the last newline.
  assert.deepEqual(await run(['gte']), { code: 1, out: '', err: 'unknown command "gte" for "calicoctl"\n\nDid you mean this?\n\tget\n\n' });
  assert.deepEqual(await run(['dat']), { code: 1, out: '', err: 'unknown command "dat" for "calicoctl"\n\nDid you mean this?\n\tget\n\tdatastore\n\n' });
  assert.deepEqual(await run(['get', '--bogus']), { code: 1, out: '', err: 'unknown flag: --bogus\n' });
  assert.deepEqual(await run(['-m']), { code: 1, out: '', err: "unknown shorthand flag: 'm' in -m\n" });
  assert.deepEqual(await run(['--unknown-flag']), { code: 1, out: '', err: 'unknown flag: --unknown-flag\n' });
  assert.equal((await run(['get', 'ippools', '-o'])).err, "flag needs an argument: 'o' in -o\n");
  assert.equal((await run(['patch', 'ippool'])).err, 'accepts 2 arg(s), received 1\n');
  assert.equal((await run(['label', 'ippool', 'x'])).err, 'requires at least 3 arg(s), only received 2\n');
  assert.equal((await run(['-l', 'bogus', 'get', 'ippools'])).err, 'unknown log level: bogus, expected one of: panic, fatal, error, warn, info, debug\n');
  assert.equal((await run(['-l', 'debug', 'get', 'ippools'])).code, 0);
  const bare = await run([]);
  assert.equal(bare.code, 0, 'no command: help on stdout, exit 0 (cobra)');
  assert.match(bare.out, /Usage: calicoctl/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: calicoctl/);
});

void test('validate checks offline, with calicoctl\'s messages', async () => {
  const { run, kv } = harness();
  const before = kv.revision;
  assert.equal((await run(['validate', '-f', '-'], NP('p1'))).out, "Successfully validated 1 'NetworkPolicy' resource(s)\n");
  const bad = await run(['validate', '-f', '-'], 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 198.18.0.0/33\n');
  assert.match(bad.err, /^failed to validate 'IPPool' resource: \[cannot validate stdin document 1 \(IPPool x\): spec\.cidr: error with field CIDR = '198\.18\.0\.0\/33' \(expected a CIDR/);
  assert.equal(kv.revision, before, 'validate never writes');
  assert.equal(kv.calls.size, 0, 'validate never talks to the datastore');
});

void test('-o yaml quotes like calicoctl (go-yaml): timestamps and YAML 1.1 booleans as strings', async () => {
  const { run } = harness();
  await run(['apply', '-f', '-'], 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\n  labels:\n    enabled: "yes"\nspec:\n  nets: [198.18.0.0/24]\n');
  const y = (await run(['get', 'gnetsets', 's', '-o', 'yaml'])).out;
  assert.match(y, /^  creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
  assert.match(y, /^    enabled: "yes"$/m);
  assert.match(y, /^  resourceVersion: "\d+"$/m);
  assert.match(y, /^  nets:\n  - 198\.18\.0\.0\/24$/m, 'lists not indented under their key');
});
