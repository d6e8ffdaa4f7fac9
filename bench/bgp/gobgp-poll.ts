// Runs inside the receiver's netns: polls GoBGP's gRPC API (GetTable, global IPv4 unicast) every
// few ms until it holds N destinations, then prints `DONE <monotonic ns> <count>`. Far cheaper
// than spawning the `gobgp` CLI per poll (~300 ms each on this machine). The two messages are
// hand-encoded protobuf (field numbers from GoBGP's apipb: GetTableRequest{table_type=1,
// family=2}, Family{afi=1,safi=2}, GetTableResponse{num_destination=1,num_path=2}).
// usage: node gobgp-poll.ts --api 127.0.0.1:50051 --want N [--interval 5]
import grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: { api: { type: 'string', default: '127.0.0.1:50051' }, want: { type: 'string' }, interval: { type: 'string', default: '5' } } });
const want = Number(a.want);
const interval = Number(a.interval);
const req = Buffer.from([0x12, 4, 0x08, 1, 0x10, 1]); // family { afi: IP, safi: UNICAST }

function varint(b: Buffer, o: number): [number, number] {
  let v = 0, mul = 1;
  for (;;) {
    const x = b[o++]!;
    v += (x & 0x7f) * mul;
    if (!(x & 0x80)) return [v, o];
    mul *= 128;
  }
}
function numDestination(b: Buffer): number {
  let o = 0;
  while (o < b.length) {
    const [key, o2] = varint(b, o);
    if ((key & 7) !== 0) return -1;
    const [v, o3] = varint(b, o2);
    if (key >> 3 === 1) return v;
    o = o3;
  }
  return 0;
}

const client = new grpc.Client(a.api, grpc.credentials.createInsecure());
function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/apipb.GobgpApi/GetTable', (x: Buffer) => x, (x: Buffer) => x, req, (err, res) => {
      if (err) reject(err); else resolve(numDestination(res!));
    });
  });
}
process.stdout.write('READY\n');
for (;;) {
  let n = -1;
  try { n = await get(); } catch { /* not up yet */ }
  if (n >= want) { process.stdout.write(`DONE ${process.hrtime.bigint()} ${n}\n`); break; }
  await new Promise((r) => setTimeout(r, interval));
}
client.close();
process.exit(0);
