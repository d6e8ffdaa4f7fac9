// Datastore mode without the calico-bgp wrapper: node src/bgp/calico/main.ts [options]
// (the same options as `calico-bgp --datastore`; see docs/bgp.md).
import { datastoreMain } from './cli.ts';

datastoreMain(process.argv.slice(2));
