import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClientConfig, parseClientConfig } from './config.ts';

void test('CalicoAPIConfig files: fields, defaults and errors', () => {
  const c = parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: https://198.18.0.1:2379,https://198.18.0.2:2379\n  etcdCACertFile: /ca.pem\n  etcdCertFile: /c.pem\n  etcdKeyFile: /k.pem\n', 'x.cfg');
  assert.deepEqual(c, { datastoreType: 'etcdv3', endpoints: ['https://198.18.0.1:2379', 'https://198.18.0.2:2379'], caCertFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
  const json = parseClientConfig('{"apiVersion":"projectcalico.org/v3","kind":"CalicoAPIConfig","spec":{"etcdEndpoints":"unix:///run/calico/ds.sock"}}', 'x.json');
  assert.deepEqual(json.endpoints, ['unix:///run/calico/ds.sock']);
  assert.deepEqual(parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n', 'e.cfg').endpoints, ['http://127.0.0.1:2379'], 'default: the embedded datastore');
  assert.throws(() => parseClientConfig('apiVersion: v1\nkind: CalicoAPIConfig\n', 'a.cfg'), /^Error: syntax error in a\.cfg: invalid config file: unknown APIVersion 'v1'$|unknown APIVersion 'v1'/);
  assert.throws(() => parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoint: http://x:1\n', 'b.cfg'), /unknown field "spec\.etcdEndpoint"/);
  assert.throws(() => parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n', 'k.cfg'), /unsupported datastoreType 'kubernetes' in k\.cfg/);
  assert.throws(() => parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: ftp://x\n', 'f.cfg'), /invalid etcd endpoint 'ftp:\/\/x'/);
  assert.throws(() => parseClientConfig('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdCertFile: /c.pem\n', 'c.cfg'), /certificate and key must be given together/);
  assert.throws(() => parseClientConfig('a: [', 'y.cfg'), /^.*syntax error in y\.cfg: failed to parse config as YAML\/JSON/);
});

void test('loadClientConfig: explicit file must exist; default file missing → environment', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-cfg-'));
  try {
    const missingDefault = path.join(dir, 'calicoctl.cfg');
    assert.throws(() => loadClientConfig(path.join(dir, 'nope.cfg'), {}, missingDefault), /^Error: Error reading config file: .*nope\.cfg$|Error reading config file/);
    assert.deepEqual(loadClientConfig(undefined, {}, missingDefault).endpoints, ['http://127.0.0.1:2379']);
    const env = loadClientConfig(undefined, { ETCD_ENDPOINTS: 'http://198.18.0.5:2379', ETCD_CA_CERT_FILE: '/ca', ETCD_CERT_FILE: '/c', ETCD_KEY_FILE: '/k', DATASTORE_TYPE: 'etcdv3' }, missingDefault);
    assert.deepEqual(env, { datastoreType: 'etcdv3', endpoints: ['http://198.18.0.5:2379'], caCertFile: '/ca', certFile: '/c', keyFile: '/k' });
    assert.deepEqual(loadClientConfig(undefined, { CALICO_ETCD_ENDPOINTS: 'http://198.18.0.6:2379', ETCD_ENDPOINTS: 'http://198.18.0.7:2379' }, missingDefault).endpoints, ['http://198.18.0.6:2379'], 'CALICO_ prefix wins');
    writeFileSync(missingDefault, 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: http://198.18.0.9:2379\n');
    assert.deepEqual(loadClientConfig(undefined, { ETCD_ENDPOINTS: 'http://198.18.0.5:2379' }, missingDefault).endpoints, ['http://198.18.0.9:2379'], 'a config file wins over the environment');
    assert.throws(() => loadClientConfig(undefined, { DATASTORE_TYPE: 'kubernetes' }, path.join(dir, 'none')), /unsupported datastoreType 'kubernetes' in environment/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('CalicoAPIConfig field names match case-insensitively, as Go decodes them', () => {
  const c = parseClientConfig('APIVersion: projectcalico.org/v3\nKind: CalicoAPIConfig\nSpec:\n  EtcdEndpoints: http://198.18.0.9:2379\n  DatastoreType: etcdv3\n', 'c.cfg');
  assert.deepEqual(c.endpoints, ['http://198.18.0.9:2379']);
});
