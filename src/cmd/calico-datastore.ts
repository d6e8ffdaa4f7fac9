// calico-datastore: the embedded etcd-v3-compatible server; see docs/datastore.md.
import module from 'node:module';
import { loadServer } from '../datastore/index.ts';

module.enableCompileCache?.();
const { runCli } = await loadServer();
process.exit(await runCli(process.argv.slice(2)));
