// calico-datastore: see docs/datastore.md.
// eslint-disable-next-line local/no-deep-imports -- src/datastore/index.ts (the client layer) does not re-export the server yet
import { runCli } from '../datastore/server/index.ts';

const code = await runCli(process.argv.slice(2));
process.exit(code);
