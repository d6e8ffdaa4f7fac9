// Pre-bundled entry points for the executables whose start-up time matters (calicoctl runs once
// per command; calico-bgp runs once per host, and a mesh of them starts at once). Loading the
// TypeScript sources costs type stripping of ~100-150 modules plus a module-graph walk per
// start; one esbuild bundle of the same code starts 2-3x cheaper.
//
// Layout: node_modules/.cache/calico-ts/<name>.json (the manifest) names the build directory
// <name>-<time>-<pid>/ holding the entries (`<entry>.mjs`, fixed names so code in a chunk can
// find a sibling entry such as a worker's) and shared chunks (split per dynamic import, so
// code behind `await import()` is only parsed when used).
//
// Freshness: the manifest lists the source files the bundle was built from (esbuild's metafile)
// and when the build started. The bundle is used when every listed file is older than that,
// package-lock.json too, and the Node version matches. A file that starts being imported has
// to be named by an edited (so newer) importer, so checking only the listed files is enough.
// Checking ~100 stats takes ~1-2 ms.
//
// Concurrency: builders take a lock file (O_EXCL); others wait for it (up to 30 s) rather than
// all building at once. Each build writes its own directory and publishes it by renaming the
// manifest into place, so a reader never sees half a build. Build directories that are not
// current and older than an hour are removed (a running process may still lazily load a chunk
// of the build it started from).
//
// Fallback: without esbuild (a production install without devDependencies), without a writable
// cache, or with CALICO_NO_BUNDLE=1, bundleEntry() returns undefined and the caller imports
// the sources.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BundleSpec {
  /** Cache name, e.g. `calicoctl`. */
  name: string;
  /** Entry name -> source file relative to the repository root; `main` is the one returned. */
  entries: Record<string, string>;
  /** Packages kept out of the bundle (loaded from node_modules at run time). */
  external?: string[];
}

interface Manifest {
  dir: string;
  node: string;
  builtAt: number;
  inputs: string[];
}

const LOCK_STALE_MS = 60_000;
const WAIT_MS = 30_000;
const KEEP_OLD_MS = 3_600_000;

export const repoRoot = path.resolve(import.meta.dirname, '../..');

function cacheDir(root: string): string {
  return path.join(root, 'node_modules/.cache/calico-ts');
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

async function build(root: string, spec: BundleSpec, manifestFile: string): Promise<string> {
  const esbuild = await import('esbuild');
  const dir = cacheDir(root);
  const builtAt = Date.now() - 1; // sources modified from now on make the result stale
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
 * Returns the file URL of the bundle's `main` entry, building it first when missing or older
 * than the sources; undefined when the bundle cannot be used (then import the sources).
 */
export async function bundleEntry(spec: BundleSpec, root = repoRoot): Promise<string | undefined> {
  if (process.env.CALICO_NO_BUNDLE) return undefined;
  const dir = cacheDir(root);
  const manifestFile = path.join(dir, `${spec.name}.json`);
  const ready = fresh(root, spec, readManifest(manifestFile));
  if (ready) return pathToFileURL(ready).href;
  try {
    mkdirSync(dir, { recursive: true });
    const lock = `${manifestFile}.lock`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      let fd: number | undefined;
      try {
        fd = openSync(lock, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (fd !== undefined) {
        closeSync(fd);
        try {
          // Someone may have finished a build between our check and taking the lock.
          const now = fresh(root, spec, readManifest(manifestFile));
          return pathToFileURL(now ?? (await build(root, spec, manifestFile))).href;
        } finally {
          rmSync(lock, { force: true });
        }
      }
      // Another process is building: wait for its manifest (or take over a stale lock).
      await sleep(25);
      const done = fresh(root, spec, readManifest(manifestFile));
      if (done) return pathToFileURL(done).href;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) return undefined;
    }
  } catch {
    return undefined; // no esbuild, read-only tree, build error: run from source
  }
}
