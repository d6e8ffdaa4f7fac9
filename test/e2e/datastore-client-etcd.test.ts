// The datastore client layer against REAL servers of the etcd v3 API — etcd (Debian's
// etcd-server) and our calico-datastore — started here on free loopback ports with temp data
// dirs: KV + CAS, resource client, watch from a revision, the syncer across a cut connection
// + compaction (through a TCP proxy we control) and across a server kill -9 + restart; then
// (etcd) TLS with client certificates, and fail-fast on refused and hung endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  EtcdKv,
  MemoryKv,
  ResourceClient,
  Syncer,
  DatastoreUnavailable,
  ResourceAlreadyExists,
  ResourceUpdateConflict,
  RevisionCompacted,
  connectDatastore,
  datastoreConfigFromEnv,
  type Kv,
  type SyncStatus,
  type SyncUpdate,
} from '../../src/datastore/index.ts';
import { startDatastore, tempDir, type Proc } from './datastore-lib/procs.ts';
import type { AnyResource } from '../../src/model/index.ts';

const ETCD = '/usr/bin/etcd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface EtcdOptions { tls?: { cert: string; key: string; ca: string } }

/** A real etcd on free loopback ports; restartable on the same ports and data dir. */
class EtcdProcess {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'ct-etcd-'));
  clientPort = 0;
  peerPort = 0;
  proc: ChildProcess | undefined;
  log = '';
  private readonly opts: EtcdOptions;
  constructor(opts: EtcdOptions = {}) {
    this.opts = opts;
  }
  get endpoint(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.clientPort}`;
  }
  async start(): Promise<void> {
    if (!this.clientPort) {
      this.clientPort = await freePort();
      this.peerPort = await freePort();
    }
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name', 'ct', '--data-dir', path.join(this.dir, 'data'),
      '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `ct=${peer}`,
    ];
    if (this.opts.tls) {
      args.push('--cert-file', this.opts.tls.cert, '--key-file', this.opts.tls.key, '--trusted-ca-file', this.opts.tls.ca, '--client-cert-auth');
    }
    this.log = '';
    const p = spawn(ETCD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    p.stdout!.on('data', () => {});
    await until('etcd ready', () => this.log.includes('ready to serve client requests') || this.log.includes('serving client requests'), 15_000);
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }
  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** calico-datastore (bin/calico-datastore), restartable on the same port and data dir. */
class DatastoreProcess {
  readonly dir = tempDir('ct-dsc-');
  clientPort = 0;
  private proc: Proc | undefined;
  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }
  async start(): Promise<void> {
    if (!this.clientPort) this.clientPort = await freePort();
    this.proc = await startDatastore({ dataDir: this.dir, listen: [this.endpoint] });
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p) return;
    if (signal === 'SIGKILL') await p.kill9();
    else await p.stop();
  }
  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

type Server = EtcdProcess | DatastoreProcess;

/** A TCP proxy we can cut: all connections dropped and new ones refused until restored. */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  port = 0;
  private readonly target: number;
  constructor(target: number) {
    this.target = target;
  }
  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.cut) return client.destroy();
      const up = net.connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(up);
      const drop = () => { client.destroy(); up.destroy(); this.sockets.delete(client); this.sockets.delete(up); };
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      client.pipe(up).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }
  async close(): Promise<void> {
    this.setCut(true);
    await new Promise((r) => this.server?.close(r));
  }
}

class Consumer {
  readonly state = new Map<string, { value: string; rev: number }>();
  readonly statuses: SyncStatus[] = [];
  readonly updates: SyncUpdate[] = [];
  readonly problems: string[] = [];
  onUpdates = (us: readonly SyncUpdate[]): void => {
    for (const u of us) {
      this.updates.push(u);
      const have = this.state.get(u.key);
      if (u.type === 'set') {
        if (have && have.rev >= u.revision) this.problems.push(`duplicate set ${u.key}@${u.revision}`);
        this.state.set(u.key, { value: u.value, rev: u.revision });
      } else {
        if (!have) this.problems.push(`delete of unknown ${u.key}`);
        this.state.delete(u.key);
      }
    }
  };
  onStatus = (s: SyncStatus): void => void this.statuses.push(s);
}

async function sameAsStore(kv: EtcdKv, prefix: string, c: Consumer): Promise<boolean> {
  const r = await kv.range(prefix);
  const want = JSON.stringify(r.kvs.map((k) => [k.key, k.value, k.modRevision]));
  const got = JSON.stringify([...c.state].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.value, v.rev]));
  return want === got;
}


/**
 * One scripted sequence of KV operations; the transcript uses revisions relative to the start,
 * so the in-memory fake and a real server can be compared line by line.
 */
async function kvScenario(kv: Kv, p: string): Promise<string[]> {
  const out: string[] = [];
  const base = await kv.currentRevision();
  const r = (n: number) => n - base;
  const rec = (s: string) => void out.push(s);
  rec(`put a: ${r((await kv.put(`${p}a`, '1')).revision)}`);
  rec(`put b: ${r((await kv.put(`${p}b`, '2')).revision)}`);
  const upd = await kv.put(`${p}a`, '1b', { prevKv: true });
  rec(`update a: ${r(upd.revision)} prev=${upd.prev?.value}`);
  const ga = await kv.get(`${p}a`);
  rec(`get a: ${ga?.value} mod=${r(ga!.modRevision)} create=${r(ga!.createRevision)} version=${ga!.version}`);
  rec(`get a@2: ${(await kv.get(`${p}a`, { revision: base + 1 }))?.value}`);
  const create = await kv.txn({ compare: [{ key: `${p}a`, target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key: `${p}a`, value: 'x' }], failure: [{ type: 'get', key: `${p}a` }] });
  rec(`create-if-absent a: ${create.succeeded} rev=${r(create.revision)} got=${create.results[0]?.type === 'get' ? create.results[0].kvs[0]?.value : '-'}`);
  const cas = await kv.txn({ compare: [{ key: `${p}b`, target: 'mod', op: '=', value: base + 2 }], success: [{ type: 'put', key: `${p}b`, value: '2b' }, { type: 'delete', key: `${p}a` }] });
  rec(`cas b + delete a: ${cas.succeeded} rev=${r(cas.revision)}`);
  const stale = await kv.txn({ compare: [{ key: `${p}b`, target: 'mod', op: '=', value: base + 2 }], success: [{ type: 'put', key: `${p}b`, value: 'no' }] });
  rec(`stale cas b: ${stale.succeeded} rev=${r(stale.revision)}`);
  const val = await kv.txn({ compare: [{ key: `${p}b`, target: 'value', op: '=', value: '2b' }, { key: `${p}missing`, target: 'create', op: '=', value: 0 }], success: [{ type: 'get', key: p, prefix: true }] });
  rec(`value+create compare: ${val.succeeded} keys=${val.results[0]?.type === 'get' ? val.results[0].kvs.map((k) => k.key.slice(p.length)).join(',') : '-'}`);
  for (const k of ['c', 'd', 'e']) await kv.put(`${p}${k}`, k);
  const page = await kv.range(p, { limit: 2 });
  rec(`range limit 2: ${page.kvs.map((k) => k.key.slice(p.length)).join(',')} more=${page.more} count=${page.count}`);
  const rest = await kv.range(p, { fromKey: `${page.kvs[1]!.key}\0` });
  rec(`range from: ${rest.kvs.map((k) => k.key.slice(p.length)).join(',')}`);
  const del = await kv.delete(`${p}c`, { prefix: false, prevKv: true });
  rec(`delete c: deleted=${del.deleted} prev=${del.prev[0]?.value} rev=${r(del.revision)}`);
  const lease = await kv.leaseGrant(30);
  await kv.put(`${p}leased`, 'l', { lease: lease.id });
  await kv.leaseRevoke(lease.id);
  rec(`after revoke: ${(await kv.get(`${p}leased`)) === undefined ? 'gone' : 'present'}`);
  const events: string[] = [];
  const w = kv.watch(p, { fromRevision: base + 3, prevKv: true }, { onEvents: (es) => events.push(...es.map((e) => `${e.type} ${e.kv.key.slice(p.length)}@${r(e.kv.modRevision)}${e.prev ? ` prev=${e.prev.value}` : ''}`)), onError: (e) => events.push(`error ${e.name}`) });
  await w.ready;
  await until('watch replay', () => events.length >= 9, 5000);
  await new Promise((res) => setTimeout(res, 50)); // and nothing more
  await w.cancel();
  rec(`watch from 3: ${events.join('; ')}`);
  return out;
}

const SERVERS: Array<{ name: string; make: () => Server }> = [
  { name: 'etcd', make: () => new EtcdProcess() },
  { name: 'calico-datastore', make: () => new DatastoreProcess() },
];

for (const { name: serverName, make } of SERVERS) void test(`datastore client against real ${serverName}`, async (t) => {
  const etcd = make();
  t.after(() => etcd.cleanup());
  await etcd.start();

  await t.test('KV: put/get/range, create-if-absent and mod-revision CAS, lease expiry', async () => {
    const kv = new EtcdKv({ endpoints: [etcd.endpoint] });
    try {
      const p = await kv.put('/t/kv/a', '1');
      const c = await kv.txn({ compare: [{ key: '/t/kv/a', target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key: '/t/kv/a', value: 'x' }], failure: [{ type: 'get', key: '/t/kv/a' }] });
      assert.equal(c.succeeded, false);
      const ok = await kv.txn({ compare: [{ key: '/t/kv/a', target: 'mod', op: '=', value: p.revision }], success: [{ type: 'put', key: '/t/kv/a', value: '2' }] });
      assert.equal(ok.succeeded, true);
      assert.equal((await kv.get('/t/kv/a'))?.value, '2');
      assert.equal((await kv.get('/t/kv/a', { revision: p.revision }))?.value, '1');
      const lease = await kv.leaseGrant(1);
      await kv.put('/t/kv/leased', 'v', { lease: lease.id });
      assert.ok((await kv.leaseKeepAliveOnce(lease.id)) >= 1);
      await until('lease expiry', async () => (await kv.get('/t/kv/leased')) === undefined, 6_000);
    } finally {
      await kv.close();
    }
  });

  await t.test(`MemoryKv (the unit-test fake) behaves like ${serverName} on a scripted scenario`, async () => {
    const kv = new EtcdKv({ endpoints: [etcd.endpoint] });
    try {
      const real = await kvScenario(kv, '/t/scenario/');
      const fake = await kvScenario(new MemoryKv(), '/t/scenario/');
      assert.deepEqual(fake, real);
    } finally {
      await kv.close();
    }
  });

  await t.test(`resource client: Calico semantics on real ${serverName}`, async () => {
    const kv = new EtcdKv({ endpoints: [etcd.endpoint] });
    const rc = new ResourceClient({ kv });
    try {
      const pool: AnyResource = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-1' }, spec: { cidr: '198.18.0.0/16' } };
      const v1 = await rc.create(pool);
      const raw = await kv.get('/calico/resources/v3/projectcalico.org/ippools/pool-1');
      assert.ok(raw);
      assert.equal(v1.metadata.resourceVersion, String(raw.modRevision));
      assert.match(v1.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(v1.metadata.uid!, /^[0-9a-f-]{36}$/);
      await assert.rejects(rc.create(pool), ResourceAlreadyExists);
      const v2 = await rc.update({ ...v1, spec: { cidr: '198.18.0.0/16', natOutgoing: true } });
      await assert.rejects(rc.update({ ...v1, spec: { cidr: '198.18.0.0/16' } }), ResourceUpdateConflict);
      const seen: string[] = [];
      const w = rc.watch('IPPool', { fromRevision: Number(v1.metadata.resourceVersion) }, { onEvents: (es) => seen.push(...es.map((e) => e.type)), onError: (e) => seen.push(`error ${e.message}`) });
      await rc.delete('IPPool', 'pool-1', undefined, { resourceVersion: v2.metadata.resourceVersion! });
      await until('watch events', () => seen.length >= 3);
      await w.cancel();
      assert.deepEqual(seen, ['added', 'modified', 'deleted']);
    } finally {
      await kv.close();
    }
  });

  await t.test('syncer: cut connection, writes and compaction while cut → relist with only the difference', async () => {
    const proxy = new CuttableProxy(etcd.clientPort);
    await proxy.start();
    const direct = new EtcdKv({ endpoints: [etcd.endpoint] });
    const viaProxy = new EtcdKv({ endpoints: [`http://127.0.0.1:${proxy.port}`], callTimeoutMs: 2000 });
    const c = new Consumer();
    const s = new Syncer({ kv: viaProxy }, c, { prefixes: ['/t/sync/'], initialBackoffMs: 50, maxBackoffMs: 300 });
    try {
      for (let i = 0; i < 20; i++) await direct.put(`/t/sync/k${i}`, `v${i}`);
      s.start();
      await until('in-sync', () => c.statuses.includes('in-sync'));
      await direct.put('/t/sync/live', '1');
      await until('live update', () => c.state.has('/t/sync/live'));
      // 1. A short cut: the watch resumes from the last delivered revision, no relist.
      proxy.setCut(true);
      await direct.put('/t/sync/k1', 'changed-during-cut');
      await direct.delete('/t/sync/k2');
      await new Promise((r) => setTimeout(r, 300));
      proxy.setCut(false);
      await until('converged after cut', () => sameAsStore(direct, '/t/sync/', c));
      assert.equal(s.stats.lists, 1, 'resumed without a relist');
      // 2. A cut with compaction past the syncer's revision: it must relist.
      const before = c.updates.length;
      proxy.setCut(true);
      await direct.delete('/t/sync/k3');
      await direct.put('/t/sync/k4', 'changed');
      await direct.put('/t/sync/new', 'n');
      await direct.compact(await direct.currentRevision());
      await new Promise((r) => setTimeout(r, 200));
      proxy.setCut(false);
      await until('converged after compaction', () => sameAsStore(direct, '/t/sync/', c));
      assert.equal(s.stats.lists, 2, 'relisted once after compaction');
      assert.deepEqual(c.updates.slice(before).map((u) => `${u.type} ${u.key}`).sort(), ['delete /t/sync/k3', 'set /t/sync/k4', 'set /t/sync/new']);
      assert.deepEqual(c.problems, []);
      await direct.put('/t/sync/after', 'x');
      await until('watching after relist', () => c.state.has('/t/sync/after'));
    } finally {
      await s.stop();
      await viaProxy.close();
      await direct.close();
      await proxy.close();
    }
  });

  await t.test(`syncer: survives a ${serverName} restart (kill -9) without losing or duplicating state`, async () => {
    const kv = new EtcdKv({ endpoints: [etcd.endpoint], callTimeoutMs: 2000 });
    const c = new Consumer();
    const s = new Syncer({ kv }, c, { prefixes: ['/t/restart/'], initialBackoffMs: 50, maxBackoffMs: 500 });
    const writer = new EtcdKv({ endpoints: [etcd.endpoint], callTimeoutMs: 2000 });
    try {
      for (let i = 0; i < 10; i++) await writer.put(`/t/restart/k${i}`, `v${i}`);
      s.start();
      await until('in-sync', () => c.statuses.includes('in-sync'));
      await etcd.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      await etcd.start();
      // Like any client, the writer retries until its connection is re-established.
      await until('writer reconnected', async () => (await writer.put('/t/restart/k0', 'after-restart')).revision > 0);
      await writer.delete('/t/restart/k9');
      await writer.put('/t/restart/k10', 'new');
      await until('converged after restart', () => sameAsStore(writer, '/t/restart/', c));
      assert.deepEqual(c.problems, []);
      assert.ok(s.stats.watchRestarts >= 2, 'the watch was re-established');
    } finally {
      await s.stop();
      await kv.close();
      await writer.close();
    }
  });

  await t.test('watch from a compacted revision reports RevisionCompacted', async () => {
    const kv = new EtcdKv({ endpoints: [etcd.endpoint] });
    try {
      const rev = await kv.currentRevision();
      await kv.put('/t/compact/x', '1');
      await kv.put('/t/compact/x', '2');
      await kv.compact(await kv.currentRevision());
      const err = await new Promise<Error>((resolve) => kv.watch('/t/compact/', { fromRevision: rev }, { onEvents: () => {}, onError: resolve }));
      assert.ok(err instanceof RevisionCompacted, String(err));
      await assert.rejects(kv.range('/t/compact/', { revision: rev }), RevisionCompacted);
    } finally {
      await kv.close();
    }
  });
});

void test('unreachable datastore fails fast with DatastoreUnavailable', async () => {
  const port = await freePort(); // nothing listens there
  const kv = new EtcdKv({ endpoints: [`http://127.0.0.1:${port}`], callTimeoutMs: 3000 });
  const t0 = Date.now();
  await assert.rejects(kv.get('/x'), (e: Error) => e instanceof DatastoreUnavailable && e.message.includes(`127.0.0.1:${port}`));
  assert.ok(Date.now() - t0 < 5000);
  await kv.close();
  // A server that accepts TCP but never answers (a hung peer): the call deadline bounds it.
  const held = new Set<net.Socket>();
  const silent = net.createServer((sock) => void held.add(sock.on('error', () => {})));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const bh = new EtcdKv({ endpoints: [`http://127.0.0.1:${silentPort}`], callTimeoutMs: 1500 });
  const t1 = Date.now();
  await assert.rejects(bh.get('/x'), DatastoreUnavailable);
  assert.ok(Date.now() - t1 < 4000, `took ${Date.now() - t1} ms`);
  await bh.close();
  for (const sock of held) sock.destroy();
  silent.close();
});

void test('TLS with client certificates (ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=ct-test-ca');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=ct-${who}`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '1', '-extfile', f(`${who}.ext`));
  }
  const etcd = new EtcdProcess({ tls: { cert: f('server.crt'), key: f('server.key'), ca: f('ca.crt') } });
  t.after(() => etcd.cleanup());
  await etcd.start();
  const cfg = datastoreConfigFromEnv({
    ETCD_ENDPOINTS: etcd.endpoint,
    ETCD_CA_CERT_FILE: f('ca.crt'),
    ETCD_CERT_FILE: f('client.crt'),
    ETCD_KEY_FILE: f('client.key'),
  });
  const ds = connectDatastore(cfg);
  try {
    const r = await ds.resources.create({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'tls-tier' }, spec: { order: 100 } });
    assert.equal(r.metadata.name, 'tls-tier');
  } finally {
    await ds.close();
  }
  // Without a client certificate the server refuses us.
  const noCert = new EtcdKv({ endpoints: [etcd.endpoint], caCertFile: f('ca.crt'), callTimeoutMs: 3000 });
  await assert.rejects(noCert.get('/x'));
  await noCert.close();
  // Without trusting the CA we refuse the server.
  const noCa = new EtcdKv({ endpoints: [etcd.endpoint], certFile: f('client.crt'), keyFile: f('client.key'), callTimeoutMs: 3000 });
  await assert.rejects(noCa.get('/x'));
  await noCa.close();
});
