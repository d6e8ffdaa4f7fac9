// calico-bgp entry point (bin/calico-bgp execs this). Turns on Node's compile cache first —
// it keeps the stripped TypeScript and compiled code on disk, cutting start-up several-fold
// (it matters for graceful restarts and for meshes of many speakers) — then runs the CLI.
import module from 'node:module';

module.enableCompileCache?.();
const { calicoBgpMain } = await import('../bgp/index.ts');
await calicoBgpMain(process.argv);
