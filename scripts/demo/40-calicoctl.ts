// Demo: calicoctl against a live datastore. Starts calico-datastore (or, if it cannot start,
// real etcd) on a free loopback port with a temporary data dir, applies a reference-like
// manifest with the real bin/calicoctl, reads it back as tables and YAML, shows the errors a
// user gets for an invalid field and a stale resourceVersion, deletes everything, cleans up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const title = 'calicoctl: apply, get, patch and delete Calico resources in the datastore (etcd v3 API)';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CALICOCTL = path.join(ROOT, 'bin/calicoctl');

const MANIFEST = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  asNumber: 64512
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
  labels:
    rack: r1
spec:
  bgp:
    ipv4Address: 198.18.0.1/24
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-2
spec:
  bgp:
    ipv4Address: 198.18.0.2/24
    asNumber: 64513
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-1
spec:
  cidr: 198.19.0.0/16
  natOutgoing: true
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 198.18.0.254
  asNumber: 64600
  nodeSelector: rack == 'r1'
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  order: 100
  selector: all()
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
`;

const BAD = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-2
spec:
  cidr: 198.20.0.0/16
  blockSize: 12
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function waitLine(child: ChildProcess, re: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`not ready after ${ms} ms: ${buf.slice(-500)}`)), ms);
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${buf.slice(-500)}`));
    });
  });
}

async function startServer(dir: string): Promise<{ name: string; endpoint: string; child: ChildProcess }> {
  try {
    const child = spawn(path.join(ROOT, 'bin/calico-datastore'), ['--data-dir', path.join(dir, 'cds'), '--listen-client-urls', 'http://127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const m = await waitLine(child, /calico-datastore ready (\S+)/, 20_000).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    return { name: 'calico-datastore', endpoint: m[1]!.split(',')[0]!, child };
  } catch (err) {
    console.log(`(calico-datastore did not start: ${(err as Error).message.split('\n')[0]}; using etcd)`);
  }
  if (!existsSync('/usr/bin/etcd')) throw new Error('neither calico-datastore nor /usr/bin/etcd could be started');
  const cport = await freePort();
  const pport = await freePort();
  const client = `http://127.0.0.1:${cport}`;
  const peer = `http://127.0.0.1:${pport}`;
  const child = spawn('/usr/bin/etcd', ['--name', 'demo', '--data-dir', path.join(dir, 'etcd'), '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `demo=${peer}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitLine(child, /serving client requests|serving insecure client requests/, 20_000);
  return { name: 'etcd', endpoint: client, child };
}

async function calicoctl(endpoint: string, args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ETCD_ENDPOINTS: endpoint };
    const p = spawn(CALICOCTL, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin ?? '');
  });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-demo-ctl-'));
  let server: { name: string; endpoint: string; child: ChildProcess } | undefined;
  try {
    server = await startServer(dir);
    console.log(`${server.name} listening on ${server.endpoint} (data in ${dir})\n`);
    const ep = server.endpoint;
    const show = async (args: string[], stdin?: string, expectFail = false): Promise<string> => {
      const r = await calicoctl(ep, args, stdin);
      console.log(`$ calicoctl ${args.map((a) => (/[\s'{}]/.test(a) ? `'${a}'` : a)).join(' ')}${stdin !== undefined ? ' < manifest' : ''}`);
      if (r.out) console.log(r.out.replace(/\n$/, ''));
      if (r.err) console.log(r.err.replace(/\n$/, ''));
      console.log(`(exit ${r.code})\n`);
      if ((r.code !== 0) !== expectFail) throw new Error(`calicoctl ${args.join(' ')}: unexpected exit ${r.code}: ${r.err}`);
      return r.out;
    };
    const manifest = path.join(dir, 'cluster.yaml');
    writeFileSync(manifest, MANIFEST);
    const bad = path.join(dir, 'bad-pool.yaml');
    writeFileSync(bad, BAD);
    await show(['apply', '-f', manifest]);
    await show(['get', 'nodes', '-o', 'wide']);
    await show(['get', 'bgppeers']);
    await show(['get', 'gnp', '-o', 'wide']);
    const yaml = await show(['get', 'ippool', 'pool-1', '-o', 'yaml']);
    await show(['patch', 'ippool', 'pool-1', '-p', '{"spec":{"natOutgoing":false}}']);
    await show(['label', 'nodes', 'node-2', 'rack=r2']);
    await show(['get', 'nodes', '-o', 'go-template={{range .items}}{{.metadata.name}}: {{.metadata.labels.rack}}\n{{end}}']);
    console.log('An invalid field and a stale resourceVersion are refused, and nothing is written:');
    await show(['apply', '-f', bad], undefined, true);
    await show(['replace', '-f', '-'], yaml, true);
    await show(['delete', '-f', manifest]);
  } finally {
    if (server?.child.exitCode === null) {
      const exited = new Promise((r) => server!.child.once('exit', r));
      server.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
