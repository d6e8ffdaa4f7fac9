// bundle-cache on a small project of its own (a temp directory): builds, reuses, rebuilds when a
// source changes, builds once under concurrency, makes a working startup snapshot, and gives up
// (undefined: run the sources) when the cache cannot be created.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleEntry, cacheDir, type BundleSpec } from './bundle-cache.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-test-'));
const spec: BundleSpec = { name: 'demo', entries: { main: 'src/main.ts' } };
const saved = { cache: process.env.CALICO_BUNDLE_CACHE, off: process.env.CALICO_NO_BUNDLE };

/** Writes a source as an editor would, then lets time pass (builds count the last 50 ms as newer). */
async function write(rel: string, text: string): Promise<void> {
  const f = path.join(root, rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  await new Promise((r) => setTimeout(r, 80));
}

/** Waits for the background snapshot builder to record its result. */
async function snapshotState(name: string): Promise<{ dir: string; error?: string }> {
  const f = path.join(cacheDir(root), `${name}.snapshot.json`);
  for (let i = 0; i < 600 && !existsSync(f); i++) await new Promise((r) => setTimeout(r, 50));
  return JSON.parse(readFileSync(f, 'utf8')) as { dir: string; error?: string };
}

function builds(): string[] {
  return readdirSync(cacheDir(root)).filter((f) => /^demo-\d+-\d+$/.test(f));
}

before(async () => {
  delete process.env.CALICO_BUNDLE_CACHE;
  delete process.env.CALICO_NO_BUNDLE;
  await write('package-lock.json', '{}');
  await write('src/main.ts', "export const value: number = 1;\nexport async function later(): Promise<string> {\n  return (await import('./later.ts')).word;\n}\n");
  await write('src/later.ts', "export const word: string = 'one';\n");
  await write('src/snap.ts', "import { startupSnapshot } from 'node:v8';\nimport { value } from './main.ts';\nconst atBuild = value * 10;\nstartupSnapshot.setDeserializeMainFunction(() => process.stdout.write(`${atBuild} ${process.argv.slice(2).join(',')}`));\n");
});
after(() => {
  if (saved.cache !== undefined) process.env.CALICO_BUNDLE_CACHE = saved.cache;
  if (saved.off !== undefined) process.env.CALICO_NO_BUNDLE = saved.off;
  rmSync(root, { recursive: true, force: true });
});

void test('builds on first use, reuses while current, rebuilds after an edit', async () => {
  const url = await bundleEntry(spec, root);
  assert.ok(url, 'bundle built');
  const m1 = (await import(url)) as { value: number; later(): Promise<string> };
  assert.equal(m1.value, 1);
  assert.equal(await m1.later(), 'one');
  const dir = path.dirname(new URL(url).pathname);
  assert.ok(readdirSync(dir).some((f) => f.startsWith('chunk-')), 'the dynamic import is a chunk of its own');
  const manifest = JSON.parse(readFileSync(path.join(cacheDir(root), 'demo.json'), 'utf8')) as { inputs: string[] };
  assert.deepEqual(manifest.inputs.sort(), ['src/later.ts', 'src/main.ts']);

  assert.equal(await bundleEntry(spec, root), url, 'current: same build');
  assert.equal(builds().length, 1);

  await write('src/later.ts', "export const word: string = 'two';\n");
  const url2 = await bundleEntry(spec, root);
  assert.ok(url2 && url2 !== url, 'an edited input makes a new build');
  assert.equal(await ((await import(url2)) as { later(): Promise<string> }).later(), 'two');
  assert.equal(builds().length, 2, 'the previous build stays for processes still running it');

  await write('package-lock.json', '{"changed":true}');
  const url3 = await bundleEntry(spec, root);
  assert.ok(url3 && url3 !== url2, 'package-lock.json newer: rebuilt');
});

void test('concurrent starts with a stale bundle build it once', async () => {
  await write('src/main.ts', "export const value: number = 2;\nexport async function later(): Promise<string> {\n  return (await import('./later.ts')).word;\n}\n");
  const before = builds().length;
  const urls = await Promise.all([1, 2, 3, 4].map(() => bundleEntry(spec, root)));
  assert.ok(urls[0]);
  assert.deepEqual(new Set(urls).size, 1, 'everyone gets the same build');
  assert.equal(builds().length, before + 1);
  assert.ok(!existsSync(path.join(cacheDir(root), 'demo.json.lock')), 'lock released');
});

void test('a lock left by a builder that died is taken over at once', async () => {
  await write('src/later.ts', "export const word: string = 'three';\n");
  const dead = execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }).trim(); // exited by now
  writeFileSync(path.join(cacheDir(root), 'demo.json.lock'), dead);
  const t0 = performance.now();
  const url = await bundleEntry(spec, root);
  assert.ok(url);
  assert.ok(performance.now() - t0 < 20_000, 'did not wait for the dead builder');
  assert.equal(await ((await import(url)) as { later(): Promise<string> }).later(), 'three');
  assert.ok(!existsSync(path.join(cacheDir(root), 'demo.json.lock')));
});

void test('startup snapshot: built in the background after the bundle, runs, lists its inputs for bin/ scripts', { timeout: 60_000 }, async () => {
  const s: BundleSpec = { name: 'snapdemo', entries: { main: 'src/main.ts' }, snapshot: 'src/snap.ts' };
  const url = await bundleEntry(s, root);
  assert.ok(url, 'the bundle is there at once');
  const dir = cacheDir(root);
  const state = await snapshotState('snapdemo');
  assert.equal(state.error, undefined);
  const blob = path.join(dir, 'snapdemo.blob');
  const inputs = readFileSync(path.join(dir, 'snapdemo.inputs'), 'utf8').trim().split('\n');
  assert.deepEqual(inputs.sort(), ['package-lock.json', 'src/later.ts', 'src/main.ts', 'src/snap.ts'].map((f) => path.join(root, f)).sort());
  for (const f of inputs) assert.ok(statSync(f).mtimeMs < statSync(blob).mtimeMs, `${f} older than the blob`);
  const env = { ...process.env };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_OPTIONS;
  const out = execFileSync(process.execPath, ['--snapshot-blob', blob, 'ignored-script', 'a', 'b'], { encoding: 'utf8', env });
  assert.equal(out, '20 a,b', 'module state from build time, argv from run time');
  assert.equal(await bundleEntry(s, root), url, 'bundle and snapshot current: nothing rebuilt');

  // Snapshot lost (or made by another node binary): rebuilt for the same bundle.
  rmSync(path.join(dir, 'snapdemo.snapshot.json'));
  rmSync(blob);
  assert.equal(await bundleEntry(s, root), url);
  await snapshotState('snapdemo');
  assert.ok(existsSync(blob));

  // A snapshot input edited: the snapshot is stale (for bin/ scripts too) and made again.
  const before = statSync(blob).mtimeMs;
  await write('src/snap.ts', readFileSync(path.join(root, 'src/snap.ts'), 'utf8').replace('value * 10', 'value * 100'));
  rmSync(path.join(dir, 'snapdemo.snapshot.json'));
  assert.equal(await bundleEntry(s, root), url, 'the bundle itself does not depend on snap.ts');
  await snapshotState('snapdemo');
  assert.ok(statSync(blob).mtimeMs > before);
  assert.equal(execFileSync(process.execPath, ['--snapshot-blob', blob, 'x'], { encoding: 'utf8', env }), '200 ');

  // An entry that cannot be snapshotted leaves the error beside it; the bundle is still used.
  await write('src/bad-snap.ts', "import { startupSnapshot } from 'node:v8';\nstartupSnapshot.setDeserializeMainFunction(() => undefined);\nthrow new Error('no snapshot for you');\n");
  const bad: BundleSpec = { name: 'baddemo', entries: { main: 'src/main.ts' }, snapshot: 'src/bad-snap.ts' };
  const badUrl = await bundleEntry(bad, root);
  assert.ok(badUrl);
  const badState = await snapshotState('baddemo');
  assert.match(badState.error ?? '', /no snapshot for you/);
  assert.ok(!existsSync(path.join(dir, 'baddemo.blob')));
  assert.equal(await bundleEntry(bad, root), badUrl);
  assert.ok(!existsSync(path.join(dir, 'baddemo.snapshot.lock')), 'no builder started again until the next build');
});

void test('unusable cache directory or CALICO_NO_BUNDLE: undefined (run the sources)', async () => {
  process.env.CALICO_BUNDLE_CACHE = '/dev/null/calico-ts';
  try {
    assert.equal(await bundleEntry({ name: 'other', entries: { main: 'src/main.ts' } }, root), undefined);
  } finally {
    delete process.env.CALICO_BUNDLE_CACHE;
  }
  process.env.CALICO_NO_BUNDLE = '1';
  try {
    assert.equal(await bundleEntry(spec, root), undefined);
  } finally {
    delete process.env.CALICO_NO_BUNDLE;
  }
  await write('src/broken.ts', 'export const = ;\n');
  assert.equal(await bundleEntry({ name: 'broken', entries: { main: 'src/broken.ts' } }, root), undefined, 'a build error: sources');
});
