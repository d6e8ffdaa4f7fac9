// Crash-test writer: N concurrent loops put unique keys through the etcd3 client and print
// "<key> <value>" on stdout for each write the server acknowledged, until killed.
//   node acked-writer.ts <endpoint> <prefix> <concurrency>
import { writeSync } from 'node:fs';
import { Etcd3 } from 'etcd3';

const [endpoint, prefix, conc] = process.argv.slice(2);
const client = new Etcd3({ hosts: endpoint!, dialTimeout: 2000 });
let stop = false;
process.on('SIGTERM', () => (stop = true));
await Promise.all(
  Array.from({ length: Number(conc) }, async (_, i) => {
    for (let n = 0; !stop; n++) {
      const key = `${prefix}${i}/${n}`;
      const value = `v${i}-${n}-${'x'.repeat(n % 200)}`;
      try {
        await client.put(key).value(value);
      } catch {
        return; // server gone: stop this loop
      }
      writeSync(1, `${key} ${value}\n`);
    }
  }),
);
client.close();
