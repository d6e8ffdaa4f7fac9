// Pre-built code for the executables whose start-up time matters (calicoctl runs once per
// command; calico-bgp runs once per host, and a mesh of them starts at once). Loading the
// TypeScript sources costs type stripping of ~100-150 modules plus a module-graph walk per
// start; one esbuild bundle of the same code starts ~1.7x cheaper, a V8 startup snapshot of it
// (modules already initialised) ~2.3x. See docs/design/startup.md.
//
// Layout (node_modules/.cache/calico-ts/, or CALICO_BUNDLE_CACHE): <name>.json (the manifest)
// names the build directory <name>-<time>-<pid>/ holding the entries (`<entry>.mjs`, fixed
// names so code in a chunk can find a sibling entry such as a worker's) and shared chunks (split
// per dynamic import, so code behind `await import()` is only parsed when used). With a
// snapshot: <name>.blob, <name>.inputs (the files it was built from, absolute, for the bin/
// script's check) and <name>.snapshot.json (which build it was made for, or why it failed).
//
// Freshness: the manifest lists the source files the bundle was built from (esbuild's metafile)
// and when the build started. The bundle is used when every listed file is older than that,
// package-lock.json too, and the Node version matches. A file that starts being imported has
// to be named by an edited (so newer) importer, so checking only the listed files is enough.
// Checking ~100 stats takes ~1-2 ms. The snapshot is current when it is newer than the node
// binary and every file in <name>.inputs (its mtime is the start of its build).
//
// Concurrency: bundle builders take a lock file (O_EXCL); others wait for it (up to 30 s) rather
// than all building at once. Each build writes its own directory and publishes it by renaming
// the manifest into place, so a reader never sees half a build. Build directories that are not
// current and older than an hour are removed (a running process may still lazily load a chunk
// of the build it started from). The snapshot is made by a detached background process (one at
// a time, its own lock), so no start waits for it; the next start uses it.
//
// Fallback: without esbuild (a production install without devDependencies), without a writable
// cache, after a build error, or with CALICO_NO_BUNDLE=1, bundleEntry() returns undefined and
// the caller imports the sources. CALICO_BUNDLE_DEBUG=1 prints which code a start runs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BundleSpec {
  /** Cache name, e.g. `calicoctl`. */
  name: string;
  /** Entry name -> source file relative to the repository root; `main` is the one returned. */
  entries: Record<string, string>;
  /** Packages kept out of the bundle (loaded from node_modules at run time). */
  external?: string[];
  /**
   * Also build a V8 startup snapshot from this entry (a CommonJS bundle run by
   * `node --build-snapshot`): `<name>.blob` beside the manifest, with `<name>.inputs` listing
   * the files it was built from (absolute paths) for the bin/ script's freshness check.
   */
  snapshot?: string;
  /**
   * External packages that modules initialised at snapshot time import as a default export and
   * use only later (native addons such as koffi cannot be in a snapshot): they get a proxy that
   * loads the package on first use. Other externals are required when their importer first runs.
   */
  lazyDefaultExternal?: string[];
}

interface Manifest {
  dir: string;
  node: string;
  builtAt: number;
  inputs: string[];
}

// A lock is abandoned when its pid is gone; this bound only guards against a reused pid.
const LOCK_STALE_MS = 600_000;
const WAIT_MS = 30_000;
const KEEP_OLD_MS = 3_600_000;

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The cache directory: CALICO_BUNDLE_CACHE (e.g. for a read-only install), else under node_modules. */
export function cacheDir(root: string): string {
  return process.env.CALICO_BUNDLE_CACHE || path.join(root, 'node_modules/.cache/calico-ts');
}

function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    return typeof m.dir === 'string' && Array.isArray(m.inputs) && typeof m.builtAt === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The bundle's main entry file if the manifest is current for these sources, else undefined. */
function fresh(root: string, spec: BundleSpec, m: Manifest | undefined): string | undefined {
  if (!m || m.node !== process.version) return undefined;
  try {
    for (const f of [...m.inputs, 'package-lock.json']) if (statSync(path.join(root, f)).mtimeMs >= m.builtAt) return undefined;
    const main = path.join(cacheDir(root), m.dir, 'main.mjs');
    statSync(main);
    for (const e of Object.keys(spec.entries)) statSync(path.join(cacheDir(root), m.dir, `${e}.mjs`));
    return main;
  } catch {
    return undefined; // an input was removed, or the build directory is gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Takes a lock file holding our pid; false when another live process holds it. */
function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!lockAbandoned(lock)) return false;
    rmSync(lock, { force: true }); // its builder died (killed mid-build): take over
  }
  return false;
}

/** A lock whose process is gone, or older than LOCK_STALE_MS (a pid may be reused). */
function lockAbandoned(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function build(root: string, spec: BundleSpec, manifestFile: string): Promise<string> {
  const esbuild = await import('esbuild');
  const dir = cacheDir(root);
  // Sources modified from now on make the result stale. File times come from the kernel's coarse
  // clock, which can lag Date.now() by a few ms: count the last 50 ms as "after" too.
  const builtAt = Date.now() - 50;
  const name = `${spec.name}-${builtAt}-${process.pid}`;
  const out = path.join(dir, name);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.entries(spec.entries).map(([out, input]) => ({ in: input, out })),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'silent',
    external: [...(spec.external ?? []), 'esbuild'],
    // CommonJS dependencies (pino, yaml, ...) call require(): give the ESM output one.
    banner: { js: "import { createRequire as __calicoCreateRequire } from 'node:module'; const require = __calicoCreateRequire(import.meta.url);" },
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/') && !f.includes(':'));
  const m: Manifest = { dir: name, node: process.version, builtAt, inputs };
  const tmp = `${manifestFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(m));
  renameSync(tmp, manifestFile); // atomic: readers see the old build or the new one, whole
  removeOldBuilds(dir, spec.name, name);
  return path.join(out, 'main.mjs');
}

interface SnapshotState {
  /** The bundle build the snapshot was made from (Manifest.dir). */
  dir: string;
  error?: string;
}

/**
 * Whether the snapshot needs no build: it is what bin/calico-bgp would start from (newer than
 * the node binary and than every file listed in `<name>.inputs`), or making one failed for this
 * bundle build (not retried until the next build).
 */
function snapshotCurrent(root: string, spec: BundleSpec, m: Manifest): boolean {
  const dir = cacheDir(root);
  try {
    const st = JSON.parse(readFileSync(path.join(dir, `${spec.name}.snapshot.json`), 'utf8')) as SnapshotState;
    if (st.error) return st.dir === m.dir;
    const blob = statSync(path.join(dir, `${spec.name}.blob`)).mtimeMs;
    if (blob <= statSync(process.execPath).mtimeMs) return false;
    for (const f of readFileSync(path.join(dir, `${spec.name}.inputs`), 'utf8').split('\n')) if (f && statSync(f).mtimeMs >= blob) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a snapshot build in the background (a detached process running this file), so that no
 * start waits for it; one at a time (a lock file). The next start after it finished uses it.
 */
function startSnapshotBuild(root: string, spec: BundleSpec, m: Manifest): void {
  const lock = path.join(cacheDir(root), `${spec.name}.snapshot.lock`);
  if (existsSync(lock) && !lockAbandoned(lock)) return; // one is running
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'build-snapshot', JSON.stringify({ root, spec, dir: m.dir })], { detached: true, stdio: 'ignore', env });
  child.on('error', () => undefined);
  child.unref();
  debug(`${spec.name}: snapshot build started in the background (pid ${child.pid})`);
}

/** The background snapshot builder (this file run as a script): one builder at a time. */
async function snapshotBuilderMain(arg: string): Promise<void> {
  const { root, spec, dir } = JSON.parse(arg) as { root: string; spec: BundleSpec; dir: string };
  const cache = cacheDir(root);
  const lock = path.join(cache, `${spec.name}.snapshot.lock`);
  if (!takeLock(lock)) return; // another builder
  try {
    const m = readManifest(path.join(cache, `${spec.name}.json`));
    if (m?.dir === dir && !snapshotCurrent(root, spec, m)) await buildSnapshot(root, spec, m);
  } finally {
    rmSync(lock, { force: true });
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function buildSnapshot(root: string, spec: BundleSpec, m: Manifest): Promise<void> {
  const dir = cacheDir(root);
  const out = path.join(dir, m.dir);
  const state = (error?: string): void => {
    const f = path.join(dir, `${spec.name}.snapshot.json`);
    writeFileSync(`${f}.${process.pid}.tmp`, JSON.stringify({ dir: m.dir, error } satisfies SnapshotState));
    renameSync(`${f}.${process.pid}.tmp`, f);
  };
  // Sources edited from now on (50 ms of slack for the kernel's coarse file clock) are newer.
  const startedAt = Date.now() - 50;
  try {
    const esbuild = await import('esbuild');
    const cjs = path.join(out, 'snapshot.cjs');
    const pkg = path.join(root, 'package.json');
    const lazy = new Set(spec.lazyDefaultExternal ?? []);
    const ext = spec.external ?? [];
    const loader = (name: string): string =>
      `process.getBuiltinModule('node:module').createRequire(${JSON.stringify(pkg)})(${JSON.stringify(name)})`;
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [spec.snapshot!],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      outfile: cjs,
      metafile: true,
      logLevel: 'silent',
      // Less source text in the heap to deserialise at every start (blob 7.7 -> 6.5 MiB, ~10 ms
      // less CPU per start); names are kept, so stack traces still say which function.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      // Code that finds files beside its module (the kernel worker's entry, createRequire) sees
      // the ESM bundle's directory, which holds the same code.
      define: {
        'import.meta.url': JSON.stringify(pathToFileURL(path.join(out, 'main.mjs')).href),
        'import.meta.dirname': JSON.stringify(out),
        'import.meta.filename': JSON.stringify(path.join(out, 'main.mjs')),
      },
      plugins: [
        {
          name: 'run-time-externals',
          setup(b) {
            if (!ext.length) return;
            b.onResolve({ filter: new RegExp(`^(${ext.map(escapeRe).join('|')})$`) }, (a) => ({ path: a.path, namespace: 'run-time' }));
            b.onLoad({ filter: /.*/, namespace: 'run-time' }, (a) => ({
              loader: 'js',
              contents: lazy.has(a.path)
                ? `let m; const load = () => (m ??= ${loader(a.path)});\nexport default new Proxy({}, { get: (_, p) => load()[p] });`
                : `module.exports = ${loader(a.path)};`,
            }));
          },
        },
      ],
    });
    const blobTmp = path.join(out, 'snapshot.blob');
    await new Promise<void>((resolve, reject) => {
      // Without NODE_COMPILE_CACHE/NODE_OPTIONS: V8 cannot make a code cache while it snapshots.
      const env = { ...process.env };
      delete env.NODE_COMPILE_CACHE;
      delete env.NODE_OPTIONS;
      // Without V8's code cache in the blob: 40% smaller (less to read and map per start), and
      // measured no slower to start (functions compile lazily, few run at start).
      const config = path.join(out, 'snapshot-config.json');
      writeFileSync(config, JSON.stringify({ builder: cjs, withoutCodeCache: true }));
      const child = spawn(process.execPath, ['--snapshot-blob', blobTmp, '--build-snapshot-config', config], { cwd: out, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => (err += d));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`node --build-snapshot exited ${code}: ${err.replace(/\(node:\d+\) Warning: It's not yet fully verified[^\n]*\n([^\n]*\n){3}/g, '').trim().slice(-500)}`))));
    });
    const inputs = [...new Set([...m.inputs, ...Object.keys(result.metafile.inputs)])].filter((f) => !f.startsWith('node_modules/') && !f.includes(':'));
    const list = path.join(dir, `${spec.name}.inputs`);
    writeFileSync(`${list}.${process.pid}.tmp`, [...inputs, 'package-lock.json'].map((f) => path.join(root, f)).join('\n') + '\n');
    renameSync(`${list}.${process.pid}.tmp`, list);
    // The blob's mtime is when its build started: a source edited since is newer.
    utimesSync(blobTmp, new Date(), new Date(startedAt));
    renameSync(blobTmp, path.join(dir, `${spec.name}.blob`));
    state();
  } catch (err) {
    state(err instanceof Error ? err.message : String(err));
  }
}

function removeOldBuilds(dir: string, name: string, current: string): void {
  const now = Date.now();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === current || !e.name.startsWith(`${name}-`)) continue;
    if (!/^\d+-\d+$/.test(e.name.slice(name.length + 1))) continue;
    const p = path.join(dir, e.name);
    try {
      if (now - statSync(p).mtimeMs > KEEP_OLD_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      /* another process removed it */
    }
  }
}

/**
 * Packages left external (and createRequire in the bundled code) resolve from the bundle's own
 * directory upwards: a cache outside the installation (CALICO_BUNDLE_CACHE) gets a
 * `node_modules` link to the installation's packages.
 */
function linkPackages(root: string, dir: string): void {
  const modules = path.join(root, 'node_modules');
  if (!path.relative(modules, dir).startsWith('..')) return; // inside node_modules already
  const link = path.join(dir, 'node_modules');
  try {
    if (readlinkSync(link) === modules) return;
    rmSync(link, { force: true });
  } catch {
    /* no link yet */
  }
  symlinkSync(modules, link);
}

/** Writes `calico-ts bundle: ...` to stderr when CALICO_BUNDLE_DEBUG is set (which code a start runs). */
function debug(msg: string): void {
  if (process.env.CALICO_BUNDLE_DEBUG) process.stderr.write(`calico-ts bundle: ${msg}\n`);
}

/**
 * Returns the file URL of the bundle's `main` entry, building it first when missing or older
 * than the sources; undefined when the bundle cannot be used (then import the sources).
 */
export async function bundleEntry(spec: BundleSpec, root = repoRoot): Promise<string | undefined> {
  if (process.env.CALICO_NO_BUNDLE) {
    debug(`${spec.name}: sources (CALICO_NO_BUNDLE is set)`);
    return undefined;
  }
  const dir = cacheDir(root);
  const manifestFile = path.join(dir, `${spec.name}.json`);
  const use = (file: string, how: string): string => {
    debug(`${spec.name}: bundle ${path.relative(dir, file)} (${how})`);
    if (spec.snapshot) {
      const m = readManifest(manifestFile);
      if (m && !snapshotCurrent(root, spec, m)) startSnapshotBuild(root, spec, m);
    }
    return pathToFileURL(file).href;
  };
  const ready = fresh(root, spec, readManifest(manifestFile));
  if (ready) return use(ready, 'current');
  try {
    mkdirSync(dir, { recursive: true });
    linkPackages(root, dir);
    const lock = `${manifestFile}.lock`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (takeLock(lock)) {
        try {
          // Someone may have finished a build between our check and taking the lock.
          const now = fresh(root, spec, readManifest(manifestFile));
          if (now) return use(now, 'built by another process');
          return use(await build(root, spec, manifestFile), 'rebuilt');
        } finally {
          rmSync(lock, { force: true });
        }
      }
      // Another process is building: wait for its manifest (takeLock takes over an abandoned lock).
      await sleep(25);
      const done = fresh(root, spec, readManifest(manifestFile));
      if (done) return use(done, 'built by another process');
      if (Date.now() > deadline) {
        debug(`${spec.name}: sources (waited ${WAIT_MS / 1000} s for another build)`);
        return undefined;
      }
    }
  } catch (err) {
    // No esbuild, read-only or unusable cache directory, build error: run the sources.
    debug(`${spec.name}: sources (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    return undefined;
  }
}

if (import.meta.main && process.argv[2] === 'build-snapshot' && process.argv[3]) await snapshotBuilderMain(process.argv[3]);
