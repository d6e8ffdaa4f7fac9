// Entry of the calico-bgp V8 startup snapshot (built by bundle-cache.ts as a CommonJS bundle,
// then `node --snapshot-blob B --build-snapshot`): the speaker's modules are loaded and
// initialised at build time (zod schemas, pino, commander, the codec tables), so a start that
// deserialises the snapshot skips module loading altogether. bin/calico-bgp runs
// `node --snapshot-blob B src/cmd/calico-bgp.ts ARGS` when B is newer than every source it was
// built from; the script path is then only argv[1]. Native addons (koffi) and the datastore
// client are loaded at run time, on first use.
import { startupSnapshot } from 'node:v8';
import * as bgp from '../bgp/index.ts';
import { runCalicoBgp } from './calico-bgp-run.ts';

startupSnapshot.setDeserializeMainFunction(() => {
  runCalicoBgp(bgp, process.argv).catch((err: unknown) => {
    process.stderr.write(`calico-bgp: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
});
