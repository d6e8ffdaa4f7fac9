// calicoctl: manage Calico resources in the datastore (see docs/calicoctl.md).
//
// calicoctl runs once per command, so start-up time matters. Loading the TypeScript sources
// (type stripping ~150 modules) costs 2-3x more than one pre-bundled file, so this entry keeps
// an esbuild bundle of src/ctl in node_modules/.cache/calico-ts/ and rebuilds it whenever any
// source file is newer (checked with a stat walk of src/, a few ms). Without esbuild (a
// production install without devDependencies) or a writable cache, it runs the sources.
// CALICOCTL_NO_BUNDLE=1 forces the sources.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '../..');
const cacheDir = path.join(root, 'node_modules/.cache/calico-ts');
const bundle = path.join(cacheDir, 'calicoctl.mjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

async function freshBundle(): Promise<string | undefined> {
  if (process.env.CALICOCTL_NO_BUNDLE) return undefined;
  try {
    const sources = Math.max(newestSource(path.join(root, 'src')), statSync(path.join(root, 'package-lock.json')).mtimeMs);
    if (existsSync(bundle) && statSync(bundle).mtimeMs > sources) return bundle;
    const esbuild = await import('esbuild');
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${bundle}.${process.pid}.tmp`;
    await esbuild.build({
      entryPoints: [path.join(root, 'src/ctl/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      outfile: tmp,
      logLevel: 'silent',
      // etcd3 reads its .proto files relative to itself: keep it (and grpc) as packages.
      external: ['etcd3', '@grpc/grpc-js', 'esbuild'],
      banner: { js: "import { createRequire as __calicoCreateRequire } from 'node:module'; const require = __calicoCreateRequire(import.meta.url);" },
    });
    renameSync(tmp, bundle); // atomic: concurrent builders each publish a complete file
    return bundle;
  } catch {
    return undefined; // no esbuild, read-only tree, ...: run from source
  }
}

type Ctl = typeof import('../ctl/index.ts');
const file = await freshBundle();
const ctl: Ctl = file ? ((await import(pathToFileURL(file).href)) as Ctl) : await import('../ctl/index.ts');
process.exitCode = await ctl.runCalicoctl(process.argv.slice(2), ctl.processIO(), ctl.defaultDeps(root));
