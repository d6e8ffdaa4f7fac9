// Records what BIRD 2 sends over a real BGP session, into testdata/bird-capture.json, for the
// decode-only test capture.test.ts. Needs root: BIRD runs in one network namespace and a small
// capture server (this file, re-executed with --serve) in another, joined by a veth pair.
// Namespaces and processes are per-run (ctb<pid>a/b) and removed on exit.
//   node src/bgp/packet/testdata/capture-bird.ts
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { FrameReader, KEEPALIVE_BYTES, decodeMessage, encodeMessage, packAdvertisements, parsePrefix } from '../index.ts';

const BIRD_AS = 4200000030;
const OUR_AS = 65002;

if (process.argv[2] === '--serve') {
  // Capture server, runs inside namespace B.
  const raw: string[] = [];
  const server = net.createServer((s) => {
    const fr = new FrameReader();
    s.on('data', (c: Buffer) => {
      fr.push(c);
      for (let f = fr.next(); f !== null; f = fr.next()) {
        raw.push(Buffer.from(f.bytes).toString('hex'));
        const r = decodeMessage(f, { fourOctetAs: true, ebgp: true });
        if (r.message.type === 'OPEN') {
          s.write(
            encodeMessage(
              {
                type: 'OPEN',
                version: 4,
                myAs: OUR_AS,
                holdTime: 30,
                bgpId: '198.18.250.2',
                capabilities: [
                  { kind: 'MULTIPROTOCOL', afi: 1, safi: 1 },
                  { kind: 'MULTIPROTOCOL', afi: 2, safi: 1 },
                  { kind: 'ROUTE_REFRESH' },
                  { kind: 'ENHANCED_ROUTE_REFRESH' },
                  { kind: 'FOUR_OCTET_AS', asn: OUR_AS },
                  { kind: 'EXTENDED_MESSAGE' },
                  { kind: 'GRACEFUL_RESTART', restartState: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: false }] },
                  { kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
                ],
              },
              { fourOctetAs: true },
            ),
          );
          s.write(KEEPALIVE_BYTES);
          const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [OUR_AS] }], communities: [OUR_AS * 65536 + 5] };
          for (const m of packAdvertisements(attrs, { afi: 1, nextHop: '198.18.250.2' }, [parsePrefix('198.19.9.0/24')], { fourOctetAs: true })) s.write(m);
        }
      }
    });
    s.on('error', () => undefined);
  });
  server.listen(179, '198.18.250.2');
  setTimeout(() => {
    process.stdout.write(JSON.stringify(raw));
    process.exit(0);
  }, Number(process.argv[3] ?? 15000));
} else {
  const tag = `ctb${process.pid % 10000}`;
  const nsA = `${tag}a`;
  const nsB = `${tag}b`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-bird-'));
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: 'inherit' });
  };
  const children: ReturnType<typeof spawn>[] = [];
  const cleanup = (): void => {
    for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGTERM');
    for (const ns of [nsA, nsB]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('-n', nsA, 'link', 'add', `${tag}x`, 'type', 'veth', 'peer', 'name', `${tag}y`, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', '198.18.250.1/30', 'dev', `${tag}x`);
    ip('-n', nsB, 'addr', 'add', '198.18.250.2/30', 'dev', `${tag}y`);
    ip('-n', nsA, 'addr', 'add', 'fd00:198:18:250::1/64', 'dev', `${tag}x`, 'nodad');
    ip('-n', nsB, 'addr', 'add', 'fd00:198:18:250::2/64', 'dev', `${tag}y`, 'nodad');
    for (const [ns, l] of [[nsA, `${tag}x`], [nsB, `${tag}y`]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', l, 'up');
    }
    fs.writeFileSync(
      path.join(dir, 'bird.conf'),
      `router id 198.18.250.1;
protocol device { }
protocol static s4 { ipv4; route 198.19.7.0/24 blackhole; route 198.19.8.0/22 blackhole; }
protocol static s6 { ipv6; route fd00:198:21::/48 blackhole; }
protocol bgp p {
  local 198.18.250.1 as ${BIRD_AS};
  neighbor 198.18.250.2 as ${OUR_AS};
  hold time 30;
  connect delay time 1;
  ipv4 { import all; export filter { bgp_community.add((65001, 77)); bgp_large_community.add((${BIRD_AS}, 1, 2)); accept; }; };
  ipv6 { import all; export all; next hop address fd00:198:18:250::1; };
}
`,
    );
    const serveMs = 12000;
    const server = spawn('ip', ['netns', 'exec', nsB, process.execPath, new URL(import.meta.url).pathname, '--serve', String(serveMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(server);
    let out = '';
    server.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    setTimeout(() => {
      const bird = spawn('ip', ['netns', 'exec', nsA, 'bird', '-f', '-c', path.join(dir, 'bird.conf'), '-s', path.join(dir, 'bird.ctl'), '-P', path.join(dir, 'bird.pid')], { stdio: 'inherit' });
      children.push(bird);
    }, 500);
    server.on('exit', () => {
      const messages = JSON.parse(out || '[]') as string[];
      const v = spawnSync('bird', ['--version'], { encoding: 'utf8' });
      const version = `${v.stdout}${v.stderr}`.trim() || 'BIRD 2';
      const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'bird-capture.json');
      fs.writeFileSync(file, JSON.stringify({ source: version, messages }, null, 1) + '\n');
      console.log(`wrote ${messages.length} messages to ${file}`);
      cleanup();
      process.exit(messages.length > 2 ? 0 : 1);
    });
  } catch (e) {
    cleanup();
    throw e;
  }
}
