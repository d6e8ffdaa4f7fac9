// calicoctl: manage Calico resources in the datastore (see docs/calicoctl.md).
//
// calicoctl runs once per command, so start-up time matters: it runs an esbuild bundle of
// src/ctl kept in node_modules/.cache/calico-ts/ and rebuilt when the sources change
// (bundle-cache.ts), or the sources when no bundle can be made. CALICO_NO_BUNDLE=1 (or the older
// CALICOCTL_NO_BUNDLE=1) forces the sources.
import { bundleEntry, repoRoot } from './bundle-cache.ts';

type Ctl = typeof import('../ctl/index.ts');
// etcd3 reads its .proto files relative to itself: keep it (and grpc) as packages.
const url = process.env.CALICOCTL_NO_BUNDLE ? undefined : await bundleEntry({ name: 'calicoctl', entries: { main: 'src/ctl/index.ts' }, external: ['etcd3', '@grpc/grpc-js'] });
const ctl: Ctl = url ? ((await import(url)) as Ctl) : await import('../ctl/index.ts');
process.exitCode = await ctl.runCalicoctl(process.argv.slice(2), ctl.processIO(), ctl.defaultDeps(repoRoot));
