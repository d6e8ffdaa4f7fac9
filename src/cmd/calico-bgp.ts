// calico-bgp entry point (bin/calico-bgp execs this). Start-up time matters (graceful restarts,
// a mesh of many speakers coming up at once), so it runs an esbuild bundle of the speaker kept
// in node_modules/.cache/calico-ts/ and rebuilt when the sources change (bundle-cache.ts; the
// datastore mode is a separate chunk loaded only with --datastore, the kernel writer thread a
// second entry). Without a usable bundle it runs the sources. Node's compile cache is turned on
// first (bin/calico-bgp also sets NODE_COMPILE_CACHE so this file itself is cached): it keeps the
// compiled code of the bundle (or the stripped TypeScript) on disk.
import module from 'node:module';

module.enableCompileCache?.();
const { bundleEntry } = await import('./bundle-cache.ts');
type Bgp = typeof import('../bgp/index.ts');
const url = await bundleEntry({
  name: 'calico-bgp',
  entries: { main: 'src/bgp/index.ts', 'kernel-worker-main': 'src/bgp/server/kernel-worker-main.ts' },
  // etcd3 reads its .proto files relative to itself; koffi loads its native addon the same way.
  external: ['etcd3', '@grpc/grpc-js', 'koffi'],
});
const bgp: Bgp = url ? ((await import(url)) as Bgp) : await import('../bgp/index.ts');
// `calico-bgp --datastore [...]`: peers and prefixes from the datastore (docs/bgp.md).
if (process.argv.includes('--datastore')) (await bgp.loadCalico()).datastoreMain(process.argv.slice(2).filter((a) => a !== '--datastore'));
else await bgp.calicoBgpMain(process.argv);
