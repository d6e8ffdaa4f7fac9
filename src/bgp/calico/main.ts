// Entry point for the datastore mode until `calico-bgp --datastore` is the documented way:
//   node src/bgp/calico/main.ts [--node-name N] [--endpoints URL] [--status-socket P]
//       [--log-level L] [--router-id IP|hash] [--secrets-dir D] [--prefix CIDR]...
import { parseArgs } from 'node:util';
import { runFromDatastore } from './cli.ts';

const { values } = parseArgs({
  options: {
    'node-name': { type: 'string' },
    endpoints: { type: 'string' },
    'status-socket': { type: 'string' },
    'status-file': { type: 'string' },
    'log-level': { type: 'string' },
    'router-id': { type: 'string' },
    'secrets-dir': { type: 'string' },
    prefix: { type: 'string', multiple: true },
  },
});
const level = values['log-level'];
if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) {
  process.stderr.write(`calico-bgp: --log-level: expected debug, info, warn or error, got ${JSON.stringify(level)}\n`);
  process.exit(2);
}
try {
  runFromDatastore({
    nodeName: values['node-name'],
    endpoints: values.endpoints,
    statusSocket: values['status-socket'],
    statusFile: values['status-file'],
    logLevel: level as 'debug' | 'info' | 'warn' | 'error' | undefined,
    routerId: values['router-id'],
    secretsDir: values['secrets-dir'],
    prefixes: values.prefix ?? [],
  });
} catch (err) {
  process.stderr.write(`calico-bgp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
