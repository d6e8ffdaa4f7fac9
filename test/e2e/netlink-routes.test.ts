// netlink against the real kernel, inside network namespaces this test creates (and always
// deletes): links/addresses set up through our own NetlinkLinks, 10k routes added, replaced and
// deleted and checked with `ip`, per-route errors, protocol-filtered dumps, IPv6, other tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetlinkLinks, NetlinkRoutes, countIPv4Routes } from '../../src/lib/netlink/index.ts';
import type { Route } from '../../src/lib/netlink/index.ts';

const isRoot = process.getuid?.() === 0;
const ID = `ctn${process.pid % 10000}`;
const NS = `${ID}a`, PEER = `${ID}b`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
}
function routeLines(...args: string[]): string[] {
  return ip('-n', NS, ...args).split('\n').filter((l) => l.trim());
}
const host = (i: number) => `198.19.${(i >> 8) & 255}.${i & 255}/32`;

void test('netlink e2e: links, addresses and routes in a netns', { skip: isRoot ? false : 'needs root (creates network namespaces)' }, async (t) => {
  ip('netns', 'add', NS);
  ip('netns', 'add', PEER);
  const links = NetlinkLinks.open({ netns: NS });
  const routes = NetlinkRoutes.open({ netns: NS, protocol: 80 });
  t.after(() => {
    links.close();
    routes.close();
    for (const ns of [NS, PEER]) { try { ip('netns', 'del', ns); } catch { /* gone */ } }
  });

  await t.test('veth with the peer created in another netns, addresses, up', async () => {
    await links.addVeth({ name: 'eth0', peerName: 'eth1', peerNetns: PEER });
    await links.setLink('eth0', { up: true });
    const peer = NetlinkLinks.open({ netns: PEER });
    try { await peer.setLink('eth1', { up: true }); } finally { peer.close(); }
    await links.setLink('lo', { up: true });
    await links.addAddress('eth0', '198.18.0.1/24');
    await links.addAddress('eth0', 'fd00:198:18::1/64', { flags: 0x02 /* IFA_F_NODAD */ });
    const eth0 = await links.link('eth0');
    assert.equal(eth0.kind, 'veth');
    assert.equal(eth0.up, true);
    assert.match(ip('-n', PEER, 'link', 'show', 'eth1'), /eth1@/);
    const subnets = await links.connectedSubnets();
    assert.deepEqual(subnets.filter((s) => !s.cidr.startsWith('fe80')).map((s) => [s.cidr, s.address, s.dev]).sort(),
      [['198.18.0.0/24', '198.18.0.1', 'eth0'], ['fd00:198:18::/64', 'fd00:198:18::1', 'eth0']]);
    await assert.rejects(links.addAddress('eth0', '198.18.0.1/24'), /EEXIST/);
    await assert.rejects(links.link('nope0'), /no interface named "nope0"/);
  });

  const N = 10_000;
  const batch = (gw: string): Route[] => Array.from({ length: N }, (_, i) => ({ dst: host(i), gateway: gw }));

  await t.test('add 10k routes, then replace them, then delete them', async () => {
    let r = await routes.apply({ add: batch('198.18.0.2') });
    assert.deepEqual(r, { ok: N, errors: [] });
    let lines = routeLines('route', 'show', 'proto', '80');
    assert.equal(lines.length, N);
    assert.ok(lines.includes('198.19.39.15 via 198.18.0.2 dev eth0 '), lines[9999]);
    assert.equal(countIPv4Routes(NS) >= N, true);

    r = await routes.apply({ replace: batch('198.18.0.3') });
    assert.deepEqual(r, { ok: N, errors: [] });
    lines = routeLines('route', 'show', 'proto', '80');
    assert.equal(lines.length, N);
    assert.equal(lines.filter((l) => l.includes('via 198.18.0.3')).length, N);

    const again = await routes.apply({ add: batch('198.18.0.2').slice(0, 3) });
    assert.equal(again.ok, 0);
    assert.deepEqual(again.errors.map((e) => [e.op, e.index, e.code]), [['add', 0, 'EEXIST'], ['add', 1, 'EEXIST'], ['add', 2, 'EEXIST']]);

    r = await routes.apply({ del: batch('198.18.0.3') });
    assert.deepEqual(r, { ok: N, errors: [] });
    assert.equal(routeLines('route', 'show', 'proto', '80').length, 0);
  });

  await t.test('per-route errors do not fail the batch', async () => {
    const r = await routes.apply({
      add: [
        { dst: '198.19.100.0/24', gateway: '198.18.0.2' },
        { dst: '198.19.101.0/24', gateway: '198.20.0.1' }, // not on a connected subnet
        { dst: '198.19.102.0/24', gateway: '198.20.0.1', dev: 'eth0', onlink: true }, // fine with onlink
        { dst: '198.19.103.0/24', dev: 'missing0' },
        { dst: '198.19.104.1/24' },
        { dst: '198.19.105.0/24', type: 'blackhole' },
      ],
      del: [{ dst: '198.19.200.0/24' }],
    });
    assert.equal(r.ok, 3);
    const byIdx = new Map(r.errors.map((e) => [`${e.op}${e.index}`, e]));
    assert.equal(byIdx.get('add1')?.code, 'ENETUNREACH');
    assert.match(byIdx.get('add1')!.message, /add route 1 \(198\.19\.101\.0\/24 via 198\.20\.0\.1\): ENETUNREACH/);
    assert.equal(byIdx.get('add3')?.code, 'invalid-route');
    assert.match(byIdx.get('add3')!.message, /dev "missing0": no such interface/);
    assert.match(byIdx.get('add4')!.message, /host bits set/);
    assert.equal(byIdx.get('del0')?.code, 'ESRCH');
    assert.equal(r.errors.length, 4);
    assert.deepEqual(routeLines('route', 'show', 'proto', '80').sort(), [
      '198.19.100.0/24 via 198.18.0.2 dev eth0 ',
      '198.19.102.0/24 via 198.20.0.1 dev eth0 onlink ',
      'blackhole 198.19.105.0/24 ',
    ]);
  });

  await t.test('dumps filter by protocol and table; lookup finds the FIB entry', async () => {
    ip('-n', NS, 'route', 'add', '198.19.110.0/24', 'via', '198.18.0.2', 'proto', '81');
    ip('-n', NS, 'route', 'add', '198.19.111.0/24', 'via', '198.18.0.2', 'proto', '80', 'table', '1000');
    const own = await routes.dumpOwn({ family: 4 }); // every table but local
    assert.deepEqual(own.map((r) => `${r.dst} ${r.table}`).sort(), ['198.19.100.0/24 254', '198.19.102.0/24 254', '198.19.105.0/24 254', '198.19.111.0/24 1000']);
    assert.ok(own.every((r) => r.protocol === 80));
    const main = await routes.dumpOwn({ family: 4, table: 254 });
    assert.deepEqual(main.map((r) => r.dst).sort(), ['198.19.100.0/24', '198.19.102.0/24', '198.19.105.0/24']);
    const t1000 = await routes.dumpOwn({ table: 1000 });
    assert.deepEqual(t1000.map((r) => [r.dst, r.table, r.gateway]), [['198.19.111.0/24', 1000, '198.18.0.2']]);
    const p81 = await routes.dump({ protocol: 81 });
    assert.deepEqual(p81.map((r) => r.dst), ['198.19.110.0/24']);
    const hit = await routes.lookup('198.19.100.77');
    assert.equal(hit?.dst, '198.19.100.0/24');
    assert.equal(await routes.lookup('203.0.113.1'), null);
    // a route in another table, deleted through the writer
    const d = await routes.apply({ del: [{ dst: '198.19.111.0/24', table: 1000 }, { dst: '198.19.110.0/24' }] });
    assert.equal(d.ok, 1);
    assert.deepEqual(d.errors.map((e) => e.code), ['ESRCH']); // proto 81 is not ours: untouched
    assert.equal(routeLines('route', 'show', 'table', '1000').length, 0);
    assert.equal(routeLines('route', 'show', 'proto', '81').length, 1);
  });

  await t.test('IPv6 routes, metrics and multipath', async () => {
    const r = await routes.apply({
      replace: [
        { dst: 'fd00:198:18:1::/64', gateway: 'fd00:198:18::2' },
        { dst: 'fd00:198:18:2::/64', gateway: 'fd00:198:18::3', metric: 50 },
        { dst: 'fd00:198:18:3::/64', type: 'unreachable' },
        { dst: '198.19.120.0/24', multipath: [{ gateway: '198.18.0.2', dev: 'eth0' }, { gateway: '198.18.0.3', dev: 'eth0', weight: 3 }] },
      ],
    });
    assert.deepEqual(r.errors, []);
    const v6 = routeLines('-6', 'route', 'show', 'proto', '80');
    assert.ok(v6.some((l) => l.startsWith('fd00:198:18:1::/64 via fd00:198:18::2 dev eth0 metric 1024')), v6.join('\n'));
    assert.ok(v6.some((l) => l.startsWith('fd00:198:18:2::/64 via fd00:198:18::3 dev eth0 metric 50')), v6.join('\n'));
    assert.ok(v6.some((l) => l.startsWith('unreachable fd00:198:18:3::/64')), v6.join('\n'));
    const dumped = await routes.dumpOwn({ family: 6 });
    assert.deepEqual(dumped.map((x) => [x.dst, x.gateway, x.metric]).sort(), [
      ['fd00:198:18:1::/64', 'fd00:198:18::2', 1024], ['fd00:198:18:2::/64', 'fd00:198:18::3', 50], ['fd00:198:18:3::/64', undefined, 1024],
    ]);
    const mp = (await routes.dumpOwn({ family: 4 })).find((x) => x.dst === '198.19.120.0/24');
    assert.deepEqual(mp?.multipath?.map((h) => [h.gateway, h.weight]), [['198.18.0.2', 1], ['198.18.0.3', 3]]);
    const del = await routes.apply({ del: [{ dst: 'fd00:198:18:2::/64', metric: 50 }, { dst: 'fd00:198:18:1::/64' }] });
    assert.deepEqual(del, { ok: 2, errors: [] });
  });

  await t.test('move a link into another netns and delete links', async () => {
    await links.addVeth({ name: 'tmp0', peerName: 'tmp1' });
    await links.setLink('tmp1', { netns: PEER, name: 'moved1' });
    assert.match(ip('-n', PEER, 'link', 'show', 'moved1'), /moved1@/);
    await links.delLink('tmp0');
    assert.equal((await links.links()).some((l) => l.name === 'tmp0'), false);
    assert.throws(() => NetlinkRoutes.open({ netns: `${ID}-does-not-exist` }), /cannot open netns \/run\/netns\/ctn\d+-does-not-exist: ENOENT/);
  });
});
