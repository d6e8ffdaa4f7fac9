// Real etcdctl (Debian's etcd-client, API v3) against calico-datastore: put/get/del/watch/txn/
// lease over TCP and a unix socket, and over TLS with client certificates (refused without one).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePki, type TestPki } from './datastore-lib/certs.ts';
import { startDatastore, tempDir, type Proc } from './datastore-lib/procs.ts';

const ETCDCTL = '/usr/bin/etcdctl';

type CtlOpts = { input?: string; tls?: string[]; cwd?: string; quick?: boolean };

function ctl(endpoint: string, args: string[], opts: CtlOpts = {}): { code: number | null; out: string; err: string } {
  const t = opts.quick ? ['--dial-timeout', '1s', '--command-timeout', '2s'] : ['--dial-timeout', '3s', '--command-timeout', '5s'];
  const r = spawnSync(ETCDCTL, ['--endpoints', endpoint, ...t, ...(opts.tls ?? []), ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    cwd: opts.cwd,
    input: opts.input,
    encoding: 'utf8',
    timeout: 20000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function ok(endpoint: string, args: string[], opts: CtlOpts = {}): string {
  const r = ctl(endpoint, args, opts);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.err}${r.out}`);
  return r.out;
}

/** Drives put/get/del/txn/lease/watch through etcdctl against one endpoint. */
async function exercise(ep: string, tls?: string[]): Promise<void> {
  const o = { tls };
  assert.equal(ok(ep, ['put', '/ctl/a', 'alpha'], o).trim(), 'OK');
  assert.equal(ok(ep, ['put', '/ctl/b', 'beta'], o).trim(), 'OK');
  assert.equal(ok(ep, ['get', '/ctl/a'], o), '/ctl/a\nalpha\n');
  assert.equal(ok(ep, ['get', '/ctl/', '--prefix', '--keys-only'], o).split('\n').filter(Boolean).join(','), '/ctl/a,/ctl/b');
  const js = JSON.parse(ok(ep, ['get', '/ctl/a', '-w', 'json'], o));
  assert.equal(Buffer.from(js.kvs[0].value, 'base64').toString(), 'alpha');
  assert.equal(js.kvs[0].version, 1);
  // txn: compare value, then put/else get
  const txnOut = ok(ep, ['txn'], { ...o, input: 'value("/ctl/a") = "alpha"\n\nput /ctl/c gamma\n\nget /ctl/b\n\n' });
  assert.match(txnOut, /^SUCCESS\n\nOK\n/);
  assert.equal(ok(ep, ['get', '/ctl/c', '--print-value-only'], o), 'gamma\n');
  const txnFail = ok(ep, ['txn'], { ...o, input: 'value("/ctl/a") = "nope"\n\nput /ctl/d no\n\nget /ctl/b\n\n' });
  assert.match(txnFail, /^FAILURE\n\n\/ctl\/b\nbeta\n/);
  // watch: a child etcdctl sees our puts and deletes
  const w = spawn(ETCDCTL, ['--endpoints', ep, ...(tls ?? []), 'watch', '/ctl/w', '--prefix'], { env: { ...process.env, ETCDCTL_API: '3' } });
  let wout = '';
  w.stdout.on('data', (d: Buffer) => (wout += d.toString()));
  try {
    // give the watch time to be created (no output until the first event)
    await new Promise((r) => setTimeout(r, 800));
    ok(ep, ['put', '/ctl/w/1', 'one'], o);
    ok(ep, ['del', '/ctl/w/1'], o);
    const t0 = Date.now();
    while (!wout.includes('DELETE') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(wout, 'PUT\n/ctl/w/1\none\nDELETE\n/ctl/w/1\n\n');
  } finally {
    w.kill('SIGKILL');
  }
  // leases
  const grant = ok(ep, ['lease', 'grant', '60'], o);
  const m = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(grant);
  assert.ok(m, grant);
  const id = m[1]!;
  ok(ep, ['put', '/ctl/leased', 'x', '--lease', id], o);
  const ttl = ok(ep, ['lease', 'timetolive', id, '--keys'], o);
  assert.match(ttl, new RegExp(`lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[/ctl/leased\\]\\)`));
  assert.match(ok(ep, ['lease', 'keep-alive', '--once', id], o), new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
  assert.match(ok(ep, ['lease', 'list'], o), new RegExp(id));
  assert.match(ok(ep, ['lease', 'revoke', id], o), new RegExp(`lease ${id} revoked`));
  assert.equal(ok(ep, ['get', '/ctl/leased'], o), '');
  // delete with prefix reports the count
  assert.equal(ok(ep, ['del', '/ctl/', '--prefix'], o).trim(), '3');
  // endpoint status/health: etcdctl 3.4 sends the whole URL ("http://127.0.0.1:N") as the
  // HTTP/2 :authority here on plain-text connections (Node's HTTP/2 server used to refuse it)
  const st = JSON.parse(ok(ep, ['endpoint', 'status', '-w', 'json'], o));
  assert.equal(st[0].Status.leader, st[0].Status.header.member_id);
  assert.equal(st[0].Status.version, '3.4.23');
  const health = ctl(ep, ['endpoint', 'health'], o);
  assert.equal(health.code, 0, health.err);
  assert.match(health.out + health.err, /is healthy: successfully committed proposal/);
  // the concurrency recipes (lease + txn + watch): a lock held while a command runs, an election
  assert.equal(ok(ep, ['lock', '/ctl-lock', 'echo', 'held'], o), 'held\n');
  const elect = spawn(ETCDCTL, ['--endpoints', ep, ...(tls ?? []), 'elect', '/ctl-election', 'p1'], { env: { ...process.env, ETCDCTL_API: '3' } });
  let eout = '';
  elect.stdout.on('data', (d: Buffer) => (eout += d.toString()));
  try {
    const t1 = Date.now();
    while (!eout.includes('p1') && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.match(eout, /^\/ctl-election\/[0-9a-f]+\np1\n/);
  } finally {
    elect.kill('SIGINT');
  }
  const ml = ok(ep, ['member', 'list'], o);
  assert.match(ml, /started, default, , /);
  // an error comes back as etcd's message
  const bad = ctl(ep, ['put', '/ctl/x', 'y', '--lease', 'abc123'], o);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /requested lease not found/);
}

void describe('etcdctl against calico-datastore', () => {
  let plain: Proc;
  let sockDir: string;
  before(async () => {
    sockDir = tempDir('ct-sock-');
    // etcdctl (grpc-go) sends a unix socket's path as the HTTP/2 :authority, and Node's HTTP/2
    // server refuses an authority containing '/'. etcd's own convention avoids it: a relative
    // socket name like unix://localhost:NNNN, resolved in the working directory.
    plain = await startDatastore({ cwd: sockDir, listen: ['http://127.0.0.1:0', 'unix://localhost:12379'] });
  });
  after(async () => {
    await plain?.cleanup();
    if (sockDir) rmSync(sockDir, { recursive: true, force: true });
  });

  void it('put/get/del/txn/watch/lease/status over TCP', async () => {
    await exercise(plain.endpoint);
  });

  void it('works over a unix socket given by absolute path (unix:///path)', async () => {
    const abs = path.join(sockDir, 'abs.sock');
    const srv = await startDatastore({ listen: [`unix://${abs}`] });
    try {
      assert.equal(ok(`unix://${abs}`, ['put', '/abs/a', 'via-abs'], {}).trim(), 'OK');
      assert.equal(ok(`unix://${abs}`, ['get', '/abs/a', '--print-value-only'], {}), 'via-abs\n');
    } finally {
      await srv.cleanup();
    }
  });

  void it('works over the unix socket, which is mode 0600', async () => {
    const sock = path.join(sockDir, 'localhost:12379');
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    assert.ok(statSync(sock).isSocket());
    assert.equal(ok('unix://localhost:12379', ['put', '/sock/a', 'via-unix'], { cwd: sockDir }).trim(), 'OK');
    assert.equal(ok(plain.endpoint, ['get', '/sock/a', '--print-value-only']), 'via-unix\n');
  });
});

void describe('etcdctl with TLS client certificates', () => {
  let pki: TestPki;
  let srv: Proc;
  before(async () => {
    pki = makePki(tempDir('ct-pki-'));
    srv = await startDatastore({
      listen: ['https://127.0.0.1:0'],
      args: ['--cert-file', pki.serverCert, '--key-file', pki.serverKey, '--trusted-ca-file', pki.caCert, '--client-cert-auth'],
    });
  });
  after(async () => {
    await srv?.cleanup();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  void it('serves etcdctl presenting a client certificate from the trusted CA', async () => {
    assert.match(srv.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    await exercise(srv.endpoint, ['--cacert', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey]);
  });

  void it('refuses a client with no certificate, and one with a certificate from another CA', () => {
    const none = ctl(srv.endpoint, ['put', '/tls/x', '1'], { tls: ['--cacert', pki.caCert], quick: true });
    assert.notEqual(none.code, 0, 'no client certificate must be refused');
    const rogue = ctl(srv.endpoint, ['put', '/tls/x', '1'], { tls: ['--cacert', pki.caCert, '--cert', pki.rogueCert, '--key', pki.rogueKey], quick: true });
    assert.notEqual(rogue.code, 0, 'a certificate from another CA must be refused');
    const plainText = ctl(srv.endpoint.replace('https://', 'http://'), ['put', '/tls/x', '1'], { quick: true });
    assert.notEqual(plainText.code, 0, 'plain text to a TLS listener must fail');
    // nothing was written by the refused clients
    const good = ['--cacert', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey];
    assert.equal(ok(srv.endpoint, ['get', '/tls/x'], { tls: good }), '');
  });
});
