// Netlink event stream and per-netns sysctls against the real kernel, in a netns this test
// creates and always deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetlinkMonitor, readSysctl, writeSysctl } from '../../src/lib/netlink/index.ts';
import type { NetlinkEvent } from '../../src/lib/netlink/index.ts';

const isRoot = process.getuid?.() === 0;
const NS = `ctm${process.pid % 10000}`;
const ip = (...a: string[]) => execFileSync('ip', a, { encoding: 'utf8' });

async function nextMatching(mon: NetlinkMonitor, pred: (e: NetlinkEvent) => boolean, ms = 5000): Promise<NetlinkEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timed out waiting for a netlink event');
    let timer: NodeJS.Timeout | undefined;
    const e = await Promise.race([mon.next(), new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), left); })]);
    clearTimeout(timer);
    if (e === 'timeout') throw new Error('timed out waiting for a netlink event');
    if (e === null) throw new Error('monitor closed');
    if (pred(e)) return e;
  }
}

void test('netlink monitor: link, address and route events; sysctls per netns', { skip: isRoot ? false : 'needs root (creates network namespaces)' }, async (t) => {
  ip('netns', 'add', NS);
  const mon = NetlinkMonitor.open({ netns: NS });
  t.after(async () => {
    await mon.close();
    try { ip('netns', 'del', NS); } catch { /* gone */ }
  });

  ip('-n', NS, 'link', 'add', 'm0', 'type', 'veth', 'peer', 'name', 'm1');
  const link = await nextMatching(mon, (e) => e.kind === 'link' && e.link.name === 'm0');
  assert.equal(link.kind === 'link' && link.action, 'new');

  ip('-n', NS, 'link', 'set', 'm0', 'up');
  ip('-n', NS, 'link', 'set', 'm1', 'up');
  ip('-n', NS, 'addr', 'add', '198.18.9.1/24', 'dev', 'm0');
  const addr = await nextMatching(mon, (e) => e.kind === 'address' && e.address.address === '198.18.9.1');
  assert.deepEqual(addr.kind === 'address' && [addr.action, addr.address.prefixLen], ['new', 24]);

  ip('-n', NS, 'route', 'add', '198.19.9.0/24', 'via', '198.18.9.2', 'proto', '80');
  const r = await nextMatching(mon, (e) => e.kind === 'route' && e.route.dst === '198.19.9.0/24');
  assert.deepEqual(r.kind === 'route' && [r.action, r.route.gateway, r.route.protocol], ['new', '198.18.9.2', 80]);
  ip('-n', NS, 'route', 'del', '198.19.9.0/24');
  const d = await nextMatching(mon, (e) => e.kind === 'route' && e.route.dst === '198.19.9.0/24');
  assert.equal(d.kind === 'route' && d.action, 'del');

  ip('-n', NS, 'link', 'del', 'm0');
  const gone = await nextMatching(mon, (e) => e.kind === 'link' && e.link.name === 'm0' && e.action === 'del');
  assert.equal(gone.kind, 'link');

  // sysctls: written inside the netns, invisible outside it
  const outside = readSysctl('net.ipv4.ip_forward');
  writeSysctl('net.ipv4.ip_forward', 1, NS);
  assert.equal(readSysctl('net.ipv4.ip_forward', NS), '1');
  assert.equal(execFileSync('ip', ['netns', 'exec', NS, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).trim(), '1');
  assert.equal(readSysctl('net.ipv4.ip_forward'), outside);
  assert.throws(() => writeSysctl('net.ipv4.no_such_knob', 1, NS), /cannot set sysctl net\.ipv4\.no_such_knob=1 .*ENOENT/);
  assert.throws(() => readSysctl('../etc/passwd'), /expected a dotted key/);
});
