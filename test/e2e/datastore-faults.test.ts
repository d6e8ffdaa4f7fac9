// calico-datastore under bad input and faults: oversized, over-quota and malformed requests
// (etcd's status codes and messages, and the server keeps serving), corrupt/foreign/locked
// data directories, unsafe flags, a full disk, and crash recovery after kill -9 under load.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http2 from 'node:http2';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { makePki } from './datastore-lib/certs.ts';
import { DATASTORE_BIN, REPO, runDatastoreExpectingFailure, startDatastore, tempDir, type Proc } from './datastore-lib/procs.ts';
import { B, prefixEnd, RawEtcd, watchCodec } from './datastore-lib/raw-client.ts';

const DB = 'calico-datastore.db';
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
async function server(opts: Parameters<typeof startDatastore>[0] = {}): Promise<{ p: Proc; c: RawEtcd }> {
  const p = await startDatastore(opts);
  const c = new RawEtcd(p.endpoint);
  cleanups.push(async () => {
    c.close();
    await p.cleanup();
  });
  return { p, c };
}

void describe('calico-datastore: bad requests', () => {
  void it('rejects a write larger than --max-request-bytes with etcd\'s error, and keeps serving', async () => {
    const { c } = await server({ args: ['--max-request-bytes', '4096'] });
    assert.deepEqual(await c.callErr('KV', 'Put', { key: B('/big'), value: Buffer.alloc(5000, 1) }), {
      code: 3,
      details: 'etcdserver: request is too large',
    });
    assert.deepEqual(
      await c.callErr('KV', 'Txn', { success: [{ request_put: { key: B('/big'), value: Buffer.alloc(5000, 1) } }] }),
      { code: 3, details: 'etcdserver: request is too large' },
    );
    // beyond the gRPC limit (max + 512 KiB, as etcd): refused by the transport
    const huge = await c.callErr('KV', 'Put', { key: B('/huge'), value: Buffer.alloc(600 * 1024, 1) });
    assert.equal(huge.code, 8, `RESOURCE_EXHAUSTED expected, got ${JSON.stringify(huge)}`);
    assert.match(huge.details, /larger than max/i);
    await c.put({ key: B('/small'), value: B('fits') });
    assert.equal((await c.range({ key: B('/big') })).kvs.length, 0);
    assert.equal(Buffer.from((await c.range({ key: B('/small') })).kvs[0].value).toString(), 'fits');
  });

  void it('raises the NOSPACE alarm past --quota-backend-bytes: writes refused, reads and deletes served, alarm survives restart', async () => {
    const quota = 256 * 1024;
    const { p, c } = await server({ args: ['--quota-backend-bytes', String(quota)] });
    let err = null;
    let n = 0;
    for (; n < 200 && !err; n++) {
      try {
        await c.put({ key: B(`/q/${n}`), value: Buffer.alloc(8000, n) });
      } catch (e) {
        err = e as grpc.ServiceError;
      }
    }
    assert.ok(err, 'quota never hit');
    assert.equal(err.code, 8);
    assert.equal(err.details, 'etcdserver: mvcc: database space exceeded');
    const st = await c.call('Maintenance', 'Status', {});
    assert.ok(Number(st.dbSize) < quota + 64 * 1024, `dbSize ${st.dbSize} stayed near the quota`);
    assert.deepEqual((await c.call('Maintenance', 'Alarm', { action: 0 })).alarms.map((a: { alarm: number }) => a.alarm), [1]);
    // every write path refused, even small ones; reads and deletes served
    assert.equal((await c.callErr('KV', 'Put', { key: B('/q/tiny'), value: B('x') })).details, 'etcdserver: mvcc: database space exceeded');
    assert.equal((await c.callErr('Lease', 'LeaseGrant', { TTL: 10 })).details, 'etcdserver: mvcc: database space exceeded');
    assert.equal(Number((await c.range({ key: B('/q/'), range_end: prefixEnd('/q/'), count_only: true })).count), n - 1);
    // the alarm is persisted
    await p.stop();
    const again = await startDatastore({ dataDir: p.dataDir, args: ['--quota-backend-bytes', String(quota)] });
    const c2 = new RawEtcd(again.endpoint);
    cleanups.push(async () => {
      c2.close();
      await again.cleanup();
    });
    assert.equal((await c2.callErr('KV', 'Put', { key: B('/q/tiny'), value: B('x') })).code, 8);
    // recovery as with etcd: delete, compact, defragment, disarm
    await c2.del({ key: B('/q/'), range_end: prefixEnd('/q/') });
    await c2.compact({ revision: await c2.rev() });
    await c2.call('Maintenance', 'Defragment', {});
    await c2.call('Maintenance', 'Alarm', { action: 2, alarm: 1 });
    await c2.put({ key: B('/q/after'), value: B('ok') });
  });

  void it('answers malformed protobuf with a gRPC error and keeps serving', async () => {
    const { p, c } = await server();
    const raw = new grpc.Client(p.endpoint.replace('http://', ''), grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const send = (method: string, bytes: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest(
          method,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (e) => resolve(e),
        );
      });
    const e1 = await send('/etcdserverpb.KV/Put', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])); // key length past the end
    assert.ok(e1 && e1.code !== 0, 'malformed Put must fail');
    const e2 = await send('/etcdserverpb.KV/Range', Buffer.from([0xff, 0xff, 0xff]));
    assert.ok(e2 && e2.code !== 0, 'malformed Range must fail');
    const e3 = await send('/etcdserverpb.KV/NoSuchMethod', Buffer.alloc(0));
    assert.equal(e3?.code, 12, 'unknown method: UNIMPLEMENTED');
    // semantic garbage: no key
    assert.deepEqual(await c.callErr('KV', 'DeleteRange', {}), { code: 3, details: 'etcdserver: key is not provided' });
    assert.deepEqual(await c.callErr('KV', 'Txn', { success: [{}] }), { code: 3, details: 'etcdserver: key not found' });
    await c.put({ key: B('/still'), value: B('alive') });
    assert.equal((await c.range({ key: B('/still') })).kvs.length, 1);
  });

  void it('a client that stops reading its watch stream: the server holds a bounded queue, and the client gets every event in order once it reads again', async () => {
    const { p, c } = await server();
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))![1]) / 1024;
    const h2 = http2.connect(p.endpoint, { settings: { initialWindowSize: 65535 } });
    h2.on('error', () => {});
    cleanups.push(() => h2.destroy());
    const req = h2.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
    const frame = (m: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(m.length, 1);
      return Buffer.concat([head, m]);
    };
    req.write(frame(watchCodec.request({ create_request: { key: B('/slow/'), range_end: prefixEnd('/slow/') } })));
    req.pause();
    // the same puts outside the watched prefix first, so that what the server's heap and
    // allocator grow to for the writes themselves is behind the baseline
    const value = Buffer.alloc(512 * 1024, 7);
    const N = 128;
    for (let i = 0; i < N; i++) await c.put({ key: B(`/warm/${i % 16}`), value });
    await new Promise((r) => setTimeout(r, 300));
    const rss0 = rss();
    // 64 MiB of events for a reader that takes none of them
    const first = Number((await c.put({ key: B('/slow/0'), value })).header.revision);
    for (let i = 1; i < N; i++) await c.put({ key: B(`/slow/${i % 16}`), value });
    await new Promise((r) => setTimeout(r, 300));
    const grown = rss() - rss0;
    assert.ok(grown < 32, `server RSS grew ${grown.toFixed(1)} MiB for a stalled 64 MiB stream (bounded queue expected)`);
    // the reader comes back: every revision arrives, in order, once
    const revs: number[] = [];
    // gRPC messages from the DATA chunks (catch-up sends one message of up to 1000 revisions)
    let chunks: Buffer[] = [];
    let have = 0;
    let need = 5;
    req.on('data', (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      while (have >= need) {
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
        chunks = [buf];
        const len = buf.readUInt32BE(1);
        if (have < 5 + len) {
          need = 5 + len;
          break;
        }
        const msg = watchCodec.response(buf.subarray(5, 5 + len));
        for (const ev of msg['events'] ?? []) revs.push(Number(ev.kv.mod_revision));
        const rest = buf.subarray(5 + len);
        chunks = rest.length ? [rest] : [];
        have = rest.length;
        need = 5;
      }
    });
    req.resume();
    for (let i = 0; i < 200 && revs.length < N; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(revs, Array.from({ length: N }, (_, i) => first + i));
    // and the stream is live again
    await c.put({ key: B('/slow/live'), value: B('x') });
    for (let i = 0; i < 100 && revs.length < N + 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(revs[N], first + N);
    req.close();
  });

  void it('refuses a client without a certificate when --client-cert-auth is on (raw gRPC client)', async () => {
    const pki = makePki(tempDir('ct-pki-'));
    cleanups.push(() => rmSync(pki.dir, { recursive: true, force: true }));
    const { p } = await server({
      listen: ['https://127.0.0.1:0'],
      args: ['--cert-file', pki.serverCert, '--key-file', pki.serverKey, '--trusted-ca-file', pki.caCert, '--client-cert-auth'],
    });
    const good = new RawEtcd(p.endpoint, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    const none = new RawEtcd(p.endpoint, { ca: readFileSync(pki.caCert) });
    try {
      await good.put({ key: B('/tls'), value: B('1') });
      await assert.rejects(none.call('KV', 'Range', { key: B('/tls') }, 3000), (e: grpc.ServiceError) => e.code === 14 || e.code === 4);
    } finally {
      good.close();
      none.close();
    }
  });
});

void describe('calico-datastore: data directory and flags', () => {
  void it('refuses to start on a corrupt database, with a clear error', async () => {
    const dir = tempDir('ct-corrupt-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, DB), Buffer.alloc(64 * 1024, 0x5a));
    const r = await runDatastoreExpectingFailure(['--data-dir', dir, '--listen-client-urls', 'http://127.0.0.1:0']);
    assert.equal(r.code, 1);
    assert.match(r.output, /calico-datastore: database .*calico-datastore\.db is not a usable calico-datastore database \(file is not a database\)/);
    assert.doesNotMatch(r.output, /\n\s+at /, 'no stack trace');
  });

  void it('refuses a database damaged after it was written (page corruption), and a foreign SQLite file', async () => {
    // a real store, then overwrite pages in the middle of the file
    const { p, c } = await server();
    for (let i = 0; i < 300; i++) await c.put({ key: B(`/d/${i}`), value: Buffer.alloc(500, i) });
    await p.stop();
    const f = path.join(p.dataDir, DB);
    const buf = readFileSync(f);
    assert.ok(buf.length > 16 * 4096);
    buf.fill(0xa5, 4096 * 3, 4096 * 12);
    writeFileSync(f, buf);
    const r = await runDatastoreExpectingFailure(['--data-dir', p.dataDir, '--listen-client-urls', 'http://127.0.0.1:0']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /is not a usable calico-datastore database/);

    const dir = tempDir('ct-foreign-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = new DatabaseSync(path.join(dir, DB));
    db.exec('CREATE TABLE t (x)');
    db.close();
    const r2 = await runDatastoreExpectingFailure(['--data-dir', dir, '--listen-client-urls', 'http://127.0.0.1:0']);
    assert.equal(r2.code, 1);
    assert.match(r2.output, /not a calico-datastore database/);
  });

  void it('refuses a data dir in use by another calico-datastore, and a data dir that is a file', async () => {
    const { p } = await server();
    const r = await runDatastoreExpectingFailure(['--data-dir', p.dataDir, '--listen-client-urls', 'http://127.0.0.1:0']);
    assert.equal(r.code, 1);
    assert.match(r.output, /in use by another process/);
    const f = path.join(tempDir('ct-file-'), 'afile');
    writeFileSync(f, 'x');
    cleanups.push(() => rmSync(path.dirname(f), { recursive: true, force: true }));
    const r2 = await runDatastoreExpectingFailure(['--data-dir', f, '--listen-client-urls', 'http://127.0.0.1:0']);
    assert.equal(r2.code, 1);
    assert.match(r2.output, /data dir .*afile: (cannot create|not a directory)/);
  });

  void it('refuses plain text on a non-loopback address unless told, and bad flag values', async () => {
    const dir = tempDir('ct-flags-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const a = await runDatastoreExpectingFailure(['--data-dir', dir, '--listen-client-urls', 'http://0.0.0.0:0']);
    assert.equal(a.code, 2);
    assert.match(a.output, /refusing to serve plain-text on non-loopback address http:\/\/0\.0\.0\.0:0/);
    const b = await runDatastoreExpectingFailure(['--data-dir', dir, '--listen-client-urls', 'ftp://127.0.0.1:1']);
    assert.match(b.output, /unsupported scheme 'ftp'/);
    const c = await runDatastoreExpectingFailure(['--data-dir', dir, '--listen-client-urls', 'https://127.0.0.1:0']);
    assert.match(c.output, /need --cert-file and --key-file/);
    const d = await runDatastoreExpectingFailure(['--data-dir', dir, '--max-request-bytes', 'lots']);
    assert.match(d.output, /--max-request-bytes: expected a non-negative integer, got 'lots'/);
    // a Go duration, as etcd takes it: a bare number has no unit
    const e = await runDatastoreExpectingFailure(['--data-dir', dir, '--experimental-watch-progress-notify-interval', '600000']);
    assert.equal(e.code, 2);
    assert.match(e.output, /--experimental-watch-progress-notify-interval: expected a duration such as 10m or 500ms, got '600000'/);
    // explicitly allowed: starts (on a port of 0.0.0.0 we close at once)
    const ok = await startDatastore({ dataDir: dir, listen: ['http://0.0.0.0:0'], args: ['--insecure-listen-non-loopback'] });
    await ok.stop();
  });

  void it('recovers its state on restart: revision, values, leases, compaction', async () => {
    const { p, c } = await server();
    await c.put({ key: B('/r/a'), value: B('1') });
    await c.put({ key: B('/r/a'), value: B('2') });
    const lease = await c.call('Lease', 'LeaseGrant', { TTL: 100 });
    await c.put({ key: B('/r/l'), value: B('x'), lease: lease.ID });
    await c.compact({ revision: 3 });
    const rev = await c.rev();
    await p.stop();
    const p2 = await startDatastore({ dataDir: p.dataDir });
    const c2 = new RawEtcd(p2.endpoint);
    cleanups.push(async () => {
      c2.close();
      await p2.cleanup();
    });
    assert.equal(await c2.rev(), rev);
    const a = (await c2.range({ key: B('/r/a') })).kvs[0];
    assert.deepEqual([Buffer.from(a.value).toString(), Number(a.version)], ['2', 2]);
    assert.equal((await c2.range({ key: B('/r/l') })).kvs[0].lease, lease.ID);
    assert.equal(Number((await c2.call('Lease', 'LeaseTimeToLive', { ID: lease.ID })).grantedTTL), 100);
    assert.equal((await c2.callErr('KV', 'Range', { key: B('/r/a'), revision: 2 })).details, 'etcdserver: mvcc: required revision has been compacted');
    const w = await c2.put({ key: B('/r/b'), value: B('3') });
    assert.equal(Number(w.header.revision), rev + 1);
  });
});

void describe('calico-datastore: durability', () => {
  void it('kill -9 under load: after restart every acknowledged write is present', async () => {
    for (let round = 0; round < 2; round++) {
      const p = await startDatastore();
      cleanups.push(() => p.cleanup());
      const writer = spawn(process.execPath, [path.join(REPO, 'test/e2e/datastore-lib/acked-writer.ts'), p.endpoint, `/crash/${round}/`, '32'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let acked = '';
      writer.stdout.on('data', (d: Buffer) => (acked += d.toString()));
      const t0 = Date.now();
      while (acked.split('\n').length < 1500 + round * 1000 && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 10));
      await p.kill9(); // mid-write: the writer has dozens of puts in flight
      await new Promise((r) => setTimeout(r, 200));
      if (writer.exitCode === null && writer.signalCode === null) {
        const exited = new Promise((r) => writer.once('exit', r));
        writer.kill('SIGKILL');
        await exited;
      }
      const lines = acked.split('\n').filter((l) => l.includes(' '));
      assert.ok(lines.length >= 1500, `only ${lines.length} acks before the kill`);
      const p2 = await startDatastore({ dataDir: p.dataDir });
      const c = new RawEtcd(p2.endpoint);
      try {
        const all = await c.range({ key: B(`/crash/${round}/`), range_end: prefixEnd(`/crash/${round}/`) });
        const have = new Map<string, string>((all.kvs as { key: Buffer; value: Buffer }[]).map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()]));
        let missing = 0;
        for (const l of lines) {
          const i = l.indexOf(' ');
          if (have.get(l.slice(0, i)) !== l.slice(i + 1)) missing++;
        }
        assert.equal(missing, 0, `${missing} of ${lines.length} acknowledged writes lost`);
        // nothing invented: every stored key was written by the writer, with its value
        for (const [k, v] of have) assert.ok(v.startsWith('v' + k.split('/')[3] + '-' + k.split('/')[4] + '-'), `unexpected ${k}=${v}`);
        // the store is usable and consistent: revision covers all keys, writes continue
        assert.ok((await c.rev()) >= have.size + 1);
        await c.put({ key: B(`/crash/${round}/after`), value: B('ok') });
      } finally {
        c.close();
        await p2.cleanup();
      }
    }
  });

  void it('a full disk: writes fail with a clear error, nothing acknowledged is lost, reads keep working', async () => {
    const dir = tempDir('ct-full-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    // a private mount namespace with a 2 MiB tmpfs as the data dir (the root namespace is untouched)
    const p = await startDatastore({
      dataDir: path.join(mnt, 'data'),
      wrapper: (argv) => [
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$@"', mnt, ...argv],
      ],
    });
    cleanups.push(() => p.stop());
    const c = new RawEtcd(p.endpoint);
    cleanups.push(() => c.close());
    const acked: string[] = [];
    let failure: grpc.ServiceError | null = null;
    for (let i = 0; i < 2000 && !failure; i++) {
      try {
        await c.put({ key: B(`/full/${i}`), value: Buffer.alloc(4000, i % 250) });
        acked.push(`/full/${i}`);
      } catch (e) {
        failure = e as grpc.ServiceError;
      }
    }
    assert.ok(failure, 'the disk never filled');
    assert.equal(failure.code, 14);
    assert.match(failure.details, /calico-datastore: write not persisted: .*(full|space)/i);
    const r = await c.range({ key: B('/full/'), range_end: prefixEnd('/full/'), keys_only: true });
    const have = new Set((r.kvs as { key: Buffer }[]).map((kv) => Buffer.from(kv.key).toString()));
    for (const k of acked) assert.ok(have.has(k), `acknowledged ${k} lost`);
    assert.ok(acked.length > 50);
    // the server stays up: further writes fail the same way, reads keep working
    const again = await c.callErr('KV', 'Put', { key: B('/full/again'), value: Buffer.alloc(4000, 1) });
    assert.equal(again.code, 14);
    assert.equal((await c.range({ key: B('/full/0') })).kvs.length, 1);
    assert.equal(Number((await c.call('Maintenance', 'Status', {})).header.revision), acked.length + 1);
  });

  void it('a full disk at start: a clear error, not a silent start', () => {
    const dir = tempDir('ct-fullstart-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = 'mount -t tmpfs -o size=1m tmpfs "$0" && mkdir "$0/data" && (head -c 2000000 /dev/zero > "$0/fill" 2>/dev/null; true) && exec "$@"';
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, dir, DATASTORE_BIN, '--data-dir', path.join(dir, 'data'), '--listen-client-urls', 'http://127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /calico-datastore: (data dir|database) .*: no space left on the device/);
  });

  void it('the bin wrapper runs on the project Node whatever PATH says', () => {
    assert.ok(readFileSync(DATASTORE_BIN, 'utf8').includes('node_modules/.bin/node'));
  });
});
