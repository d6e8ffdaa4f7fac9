// NetlinkRoutes with nexthop objects, against the real kernel in a netns this test creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetlinkRoutes } from '../../src/lib/netlink/index.ts';
import type { Route } from '../../src/lib/netlink/index.ts';

const isRoot = process.getuid?.() === 0;
const NS = `ctx${process.pid % 10000}`;
const ip = (...a: string[]) => execFileSync('ip', ['-n', NS, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
const lines = (...a: string[]) => ip(...a).split('\n').filter((l) => l.trim());

void test('nexthop objects: shared per (gateway, dev), decoded back, pruned when unused', { skip: isRoot ? false : 'needs root (creates network namespaces)' }, async (t) => {
  execFileSync('ip', ['netns', 'add', NS]);
  const nl = NetlinkRoutes.open({ netns: NS, protocol: 80, nexthopObjects: true });
  t.after(() => {
    nl.close();
    try { execFileSync('ip', ['netns', 'del', NS]); } catch { /* gone */ }
  });
  ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ip('addr', 'add', '198.18.0.1/24', 'dev', 'v0');
  ip('link', 'set', 'v0', 'up');
  ip('link', 'set', 'v1', 'up');
  ip('nexthop', 'add', 'id', '5', 'via', '198.18.0.9', 'dev', 'v0'); // someone else's: never touched

  const N = 5000;
  const via = (gw: string): Route[] => Array.from({ length: N }, (_, i) => ({ dst: `198.19.${i >> 8}.${i & 255}/32`, gateway: gw, dev: 'v0' }));
  assert.deepEqual(await nl.apply({ add: via('198.18.0.2'), replace: [{ dst: '198.19.200.0/24', type: 'blackhole' }] }), { ok: N + 1, errors: [] });
  const nh = lines('nexthop', 'show', 'protocol', '80');
  assert.equal(nh.length, 1, nh.join('\n'));
  assert.match(nh[0]!, /^id \d+ via 198\.18\.0\.2 dev v0 scope link proto 80/);
  const shown = lines('route', 'show', 'proto', '80');
  assert.equal(shown.length, N + 1);
  assert.match(shown.find((l) => l.startsWith('198.19.0.7 '))!, /^198\.19\.0\.7 nhid \d+ via 198\.18\.0\.2 dev v0/);

  const dumped = await nl.dumpOwn({ family: 4 });
  assert.equal(dumped.length, N + 1);
  assert.ok(dumped.filter((r) => r.type === 'unicast').every((r) => r.gateway === '198.18.0.2' && r.nhid !== undefined && r.ifindex !== undefined));

  // Replace onto another gateway: a second object; the first is unused until pruned.
  assert.deepEqual(await nl.apply({ replace: via('198.18.0.3') }), { ok: N, errors: [] });
  assert.equal(lines('nexthop', 'show', 'protocol', '80').length, 2);
  assert.equal(await nl.pruneNexthops(), 1);
  assert.match(lines('nexthop', 'show', 'protocol', '80').join('\n'), /via 198\.18\.0\.3 dev v0/);
  assert.equal(lines('route', 'show', 'proto', '80').filter((l) => l.includes('via 198.18.0.3')).length, N);

  // A new writer (restart) adopts the existing object instead of creating another.
  const again = NetlinkRoutes.open({ netns: NS, protocol: 80, nexthopObjects: true });
  try {
    assert.deepEqual(await again.apply({ add: [{ dst: '198.19.201.0/24', gateway: '198.18.0.3', dev: 'v0' }] }), { ok: 1, errors: [] });
    assert.equal(lines('nexthop', 'show', 'protocol', '80').length, 1);
  } finally {
    again.close();
  }

  // Routes without a device stay plain; bad gateways are still reported per route.
  const mixed = await nl.apply({ add: [{ dst: '198.19.202.0/24', gateway: '198.18.0.4' }, { dst: '198.19.203.0/24', gateway: '198.20.0.1', dev: 'v0' }] });
  assert.equal(mixed.ok, 1);
  assert.equal(mixed.errors[0]?.index, 1);
  assert.match(lines('route', 'show', '198.19.202.0/24')[0]!, /^198\.19\.202\.0\/24 via 198\.18\.0\.4 dev v0/);

  // Delete everything, prune: only the foreign object is left.
  const all = [...via('198.18.0.3'), { dst: '198.19.200.0/24' }, { dst: '198.19.201.0/24' }, { dst: '198.19.202.0/24' }];
  assert.deepEqual(await nl.apply({ del: all }), { ok: N + 3, errors: [] });
  assert.equal(await nl.pruneNexthops(), 1);
  assert.deepEqual(lines('nexthop', 'show').map((l) => l.split(' ').slice(0, 4).join(' ')), ['id 5 via 198.18.0.9']);
});
