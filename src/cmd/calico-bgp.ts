// calico-bgp entry point (bin/calico-bgp execs this). Turns on Node's compile cache first —
// it keeps the stripped TypeScript and compiled code on disk, cutting start-up several-fold
// (it matters for graceful restarts and for meshes of many speakers) — then runs the CLI.
import module from 'node:module';

module.enableCompileCache?.();
const bgp = await import('../bgp/index.ts');
// `calico-bgp --datastore [...]`: peers and prefixes from the datastore (docs/bgp.md).
if (process.argv.includes('--datastore')) (await bgp.loadCalico()).datastoreMain(process.argv.slice(2).filter((a) => a !== '--datastore'));
else await bgp.calicoBgpMain(process.argv);
