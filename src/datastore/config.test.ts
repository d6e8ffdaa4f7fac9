import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datastoreConfigFrom, datastoreConfigFromEnv, settingsFromEnv } from './config.ts';
import { normaliseEndpoints } from './etcd-kv.ts';
import { prefixRangeEnd } from './kv.ts';
import { DatastoreConfigError } from './errors.ts';

void test('environment: Calico names, CALICO_ prefix wins, default endpoint', () => {
  assert.deepEqual(datastoreConfigFromEnv({}), { datastoreType: 'etcdv3', endpoints: ['http://127.0.0.1:2379'] });
  assert.deepEqual(settingsFromEnv({ ETCD_ENDPOINTS: 'a', CALICO_ETCD_ENDPOINTS: 'b', ETCD_KEY_FILE: 'k' }), { etcdEndpoints: 'b', etcdKeyFile: 'k' });
  const c = datastoreConfigFromEnv({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'https://198.18.0.1:2379, https://198.18.0.2:2379', ETCD_CA_CERT_FILE: '/ca', ETCD_CERT_FILE: '/c', ETCD_KEY_FILE: '/k', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p' });
  assert.deepEqual(c, { datastoreType: 'etcdv3', endpoints: ['https://198.18.0.1:2379', 'https://198.18.0.2:2379'], caCertFile: '/ca', certFile: '/c', keyFile: '/k', username: 'u', password: 'p' });
});

void test('bad settings are DatastoreConfigErrors saying what was expected', () => {
  assert.throws(() => datastoreConfigFrom({ datastoreType: 'kubernetes' }), (e: Error) => e instanceof DatastoreConfigError && /expected 'etcdv3'/.test(e.message));
  assert.throws(() => datastoreConfigFrom({ etcdEndpoints: '127.0.0.1:2379' }), /invalid etcd endpoint '127\.0\.0\.1:2379' in environment: expected http:\/\/host:port/);
  assert.throws(() => datastoreConfigFrom({ etcdKeyFile: '/k' }), /must be given together/);
});

void test('endpoint normalisation: default port, unix paths, bad schemes', () => {
  assert.deepEqual(normaliseEndpoints(['http://127.0.0.1', 'https://[::1]:2380/']), ['http://127.0.0.1:2379', 'https://[::1]:2380']);
  assert.deepEqual(normaliseEndpoints(['unix:///run/calico/ds.sock', 'unix:rel.sock', 'unix://rel2.sock']), ['unix:///run/calico/ds.sock', 'unix:rel.sock', 'unix:rel2.sock']);
  assert.throws(() => normaliseEndpoints(['ftp://x']), /scheme must be http, https or unix/);
  assert.throws(() => normaliseEndpoints([]), /no etcd endpoints specified/);
});

void test('prefixRangeEnd is etcd\'s prefix end', () => {
  assert.deepEqual(prefixRangeEnd(Buffer.from('/calico/')), Buffer.from('/calico0'));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0xff])), Buffer.from([0]));
});
