// calicoctl: manage Calico resources in the datastore (see docs/calicoctl.md).
import { runCalicoctl } from '../ctl/index.ts';

process.exitCode = await runCalicoctl(process.argv.slice(2));
