// One load-generating client process for bench/datastore: N etcd3 clients (one gRPC channel
// each), each with one request outstanding at a time, for a fixed duration. Prints one JSON
// line: {"ops":..,"errors":..,"ms":..,"cpuMs":..,"lat":[...sampled latencies ms]}; cpuMs is
// this process's own CPU time (user + system) over the measured interval.
//   node worker.ts <endpoint> <put|range> <clients> <durationMs> <keyPrefix>
import { Etcd3 } from 'etcd3';

const [endpoint, mode, clientsArg, durArg, prefix] = process.argv.slice(2);
const nClients = Number(clientsArg);
const durationMs = Number(durArg);
const value = 'v'.repeat(256);

const clients = Array.from({ length: nClients }, () => new Etcd3({ hosts: endpoint!, grpcOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
// warm up: connect every channel
await Promise.all(clients.map((c, i) => c.put(`${prefix}warm/${i}`).value('w')));
if (mode === 'range') await Promise.all(Array.from({ length: 100 }, (_, i) => clients[0]!.put(`${prefix}r/${i}`).value(value)));

// wait for the start signal on stdin so all workers start together
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

let ops = 0;
let errors = 0;
const lat: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const end = t0 + durationMs;
await Promise.all(
  clients.map(async (c, i) => {
    let n = 0;
    while (performance.now() < end) {
      const s = performance.now();
      try {
        if (mode === 'put') await c.put(`${prefix}${i}/${n % 1000}`).value(value);
        else await c.get(`${prefix}r/${n % 100}`).string();
        ops++;
      } catch {
        errors++;
      }
      if ((n & 15) === 0) lat.push(performance.now() - s);
      n++;
    }
  }),
);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ ops, errors, ms, cpuMs: (cpu.user + cpu.system) / 1000, lat }) + '\n');
for (const c of clients) c.close();
process.exit(0);
