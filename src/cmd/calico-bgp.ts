// calico-bgp entry point (bin/calico-bgp execs this). Start-up time matters (graceful restarts,
// a mesh of many speakers coming up at once), so the speaker's code comes pre-built
// (bundle-cache.ts, kept in node_modules/.cache/calico-ts/ and rebuilt when sources change):
//   - a V8 startup snapshot with every module already initialised: bin/calico-bgp passes it to
//     node when it is current, and this file is then only argv[1] (calico-bgp-snapshot.ts runs);
//   - otherwise an esbuild bundle (the datastore mode a separate chunk loaded only with
//     --datastore; the kernel writer thread a second entry), building it and the snapshot first
//     when they are stale;
//   - the TypeScript sources when neither can be made (no esbuild, read-only tree,
//     CALICO_NO_BUNDLE=1).
// Node's compile cache is turned on first (bin/calico-bgp also sets NODE_COMPILE_CACHE so this
// file itself is cached): it keeps the compiled code of the bundle (or stripped sources) on disk.
import module from 'node:module';

module.enableCompileCache?.();
const { bundleEntry } = await import('./bundle-cache.ts');
const { runCalicoBgp } = await import('./calico-bgp-run.ts');
type Bgp = typeof import('../bgp/index.ts');
const url = await bundleEntry({
  name: 'calico-bgp',
  entries: { main: 'src/bgp/index.ts', 'kernel-worker-main': 'src/bgp/server/kernel-worker-main.ts' },
  // etcd3 reads its .proto files relative to itself; koffi loads its native addon the same way.
  external: ['etcd3', '@grpc/grpc-js', 'koffi'],
  snapshot: 'src/cmd/calico-bgp-snapshot.ts',
  lazyDefaultExternal: ['koffi'],
});
await runCalicoBgp(url ? ((await import(url)) as Bgp) : await import('../bgp/index.ts'), process.argv);
