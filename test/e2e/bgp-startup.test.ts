// How the shipped bin/calico-bgp starts (src/cmd/bundle-cache.ts): from the V8 startup snapshot
// when it is current, from the esbuild bundle when not (building both first), from the sources
// when the cache cannot be used. Each case runs the real command with its own cache directory
// (CALICO_BUNDLE_CACHE), so the shared cache under node_modules is not touched, and asks it which
// code it ran (CALICO_BUNDLE_DEBUG=1). The kernel writer thread (kernel.writer: worker) is started
// from the snapshot and from the bundle and must install a peer's route.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Lab, e2eSkipReason, sh } from './lib/netns.ts';
import { REPO } from './lib/speaker.ts';
import { waitFor } from './lib/wait.ts';

const BIN = path.join(REPO, 'bin/calico-bgp');
const cache = mkdtempSync(path.join(os.tmpdir(), 'calico-bgp-cache-'));
after(() => rmSync(cache, { recursive: true, force: true }));

function runBin(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, CALICO_BUNDLE_DEBUG: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const conf = path.join(cache, 'check.json');
writeFileSync(conf, JSON.stringify({ routerId: '198.18.0.1', peers: [{ address: '198.18.0.2', asNumber: 64512 }] }));

function checkOutput(stdout: string): void {
  const cfg = JSON.parse(stdout) as { routerId: string; asNumber: number; peers: Array<{ address: string; port: number }> };
  assert.equal(cfg.routerId, '198.18.0.1');
  assert.equal(cfg.asNumber, 64512); // default filled in by the loaded code
  assert.equal(cfg.peers[0]!.port, 179);
}

void test('bin/calico-bgp: builds bundle + snapshot into an empty cache, then starts from the snapshot', { timeout: 120_000 }, async () => {
  const env = { CALICO_BUNDLE_CACHE: cache };
  const first = await runBin([BIN, 'check-config', '--config', conf], env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /calico-ts bundle: calico-bgp: bundle calico-bgp-\d+-\d+\/main\.mjs \((rebuilt|built by another process)\)/);
  checkOutput(first.stdout);
  // The snapshot is made in the background: wait for its builder's verdict.
  const state = path.join(cache, 'calico-bgp.snapshot.json');
  await waitFor('snapshot built', () => existsSync(state), { timeoutMs: 60_000 });
  const snap = JSON.parse(readFileSync(state, 'utf8')) as { dir: string; error?: string };
  assert.equal(snap.error, undefined, `snapshot build failed: ${snap.error}`);
  const blob = path.join(cache, 'calico-bgp.blob');
  const inputs = readFileSync(path.join(cache, 'calico-bgp.inputs'), 'utf8').trim().split('\n');
  assert.ok(inputs.includes(path.join(REPO, 'src/bgp/server/speaker.ts')), 'inputs list the speaker sources');
  assert.ok(inputs.includes(path.join(REPO, 'src/cmd/calico-bgp-snapshot.ts')));
  const manifest = JSON.parse(readFileSync(path.join(cache, 'calico-bgp.json'), 'utf8')) as { dir: string; builtAt: number };
  assert.equal(manifest.dir, snap.dir);
  assert.ok(statSync(blob).mtimeMs > manifest.builtAt, 'the blob carries the start of its own build');

  // The next start runs the snapshot. (Retried: in a tree being edited while the test runs, a
  // start may first find the snapshot stale, rebuild it, and the one after uses it.)
  let second = await runBin([BIN, 'check-config', '--config', conf], env);
  for (let i = 0; i < 3 && !/snapshot/.test(second.stderr); i++) second = await runBin([BIN, 'check-config', '--config', conf], env);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /calico-ts bundle: calico-bgp: snapshot .*calico-bgp\.blob \(current\)/);
  checkOutput(second.stdout);

  // A bad config still fails with the config error (and exit 2) from the snapshot.
  const bad = path.join(cache, 'bad.json');
  writeFileSync(bad, JSON.stringify({ routerId: 'nope' }));
  const third = await runBin([BIN, 'check-config', '--config', bad], env);
  assert.equal(third.code, 2);
  assert.match(third.stderr, /routerId/);
});

void test('bin/calico-bgp: runs the sources when the cache directory cannot be written', { timeout: 60_000 }, async () => {
  // As root, permissions do not stop writes: a path below a regular file cannot be created by anyone.
  const r = await runBin([BIN, 'check-config', '--config', conf], { CALICO_BUNDLE_CACHE: '/dev/null/calico-ts' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /calico-ts bundle: calico-bgp: sources \(ENOTDIR/);
  checkOutput(r.stdout);
  const off = await runBin([BIN, 'check-config', '--config', conf], { CALICO_BUNDLE_CACHE: cache, CALICO_NO_BUNDLE: '1' });
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /sources \(CALICO_NO_BUNDLE is set\)/);
  checkOutput(off.stdout);
});

const skip = e2eSkipReason([]);

void test('kernel.writer: worker: the shipped command starts it from the bundle; a snapshot start writes on the main thread', { skip, timeout: 120_000 }, async () => {
  const lab = new Lab('k');
  after(() => lab.cleanup());
  const a = lab.netns('a');
  const b = lab.netns('b');
  lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.12.1/24'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.12.2/24'] });
  const config = (name: string, me: string, peer: string, block: string): string => {
    const f = path.join(lab.dir, `${name}.yaml`);
    writeFileSync(f, `routerId: ${me}\nlistenAddress: ${me}\nlogLevel: info\nprefixes: [${block}]\nkernel:\n  writer: worker\npeers:\n  - { address: ${peer}, asNumber: 64512 }\n`);
    return f;
  };
  const env = { CALICO_BUNDLE_CACHE: cache, CALICO_BUNDLE_DEBUG: '1' };
  await runBin([BIN, 'check-config', '--config', conf], env); // make sure bundle and snapshot are built
  const blob = path.join(cache, 'calico-bgp.blob');
  await waitFor('snapshot built', () => existsSync(blob), { timeoutMs: 60_000 });
  // a: the shipped command: the worker config makes it skip the snapshot (Node aborts when a
  // thread of a snapshot-started process loads child_process), so the bundle runs the thread.
  const da = lab.spawn('a', a, [BIN, '--config', config('a', '198.18.12.1', '198.18.12.2', '198.19.40.0/26')], env);
  // b: forced onto the snapshot anyway: the writer must fall back to the main thread, not abort.
  const node = path.join(REPO, 'node_modules/.bin/node');
  const db = lab.spawn('b', b, [node, '--snapshot-blob', blob, path.join(REPO, 'src/cmd/calico-bgp.ts'), '--config', config('b', '198.18.12.2', '198.18.12.1', '198.19.41.0/26')], env);
  const routes = (ns: string): string => sh(['ip', '-n', ns, 'route', 'show', 'proto', '81']);
  try {
    await waitFor('each block in the other kernel', () => routes(a).includes('198.19.41.0/26 via 198.18.12.2') && routes(b).includes('198.19.40.0/26 via 198.18.12.1'), { timeoutMs: 30_000 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- a:\n${da.log().slice(-1500)}\n--- b:\n${db.log().slice(-1500)}`);
  }
  assert.match(da.log(), /calico-ts bundle: calico-bgp: bundle calico-bgp-\d+-\d+\/main\.mjs/);
  assert.doesNotMatch(da.log(), /snapshot/);
  for (const d of [da, db]) assert.doesNotMatch(d.log(), /kernel writer thread exited|netlink unavailable|Assertion failed|"level":50/);
  // The writer thread of a: a thread running the bundle's kernel-worker-main.mjs has its own
  // V8 isolate, visible as more threads than b (no writer thread) has.
  const threads = (pid: number): number => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  assert.ok(threads(da.pid) > threads(db.pid), `threads: a ${threads(da.pid)}, b ${threads(db.pid)}`);
});
