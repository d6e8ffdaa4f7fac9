import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tryParseIP, parseIP, formatIP, tryParseCIDR, parseCIDR, formatCIDR, maskCIDR, isMasked, canonicalCIDR,
  cidrContains, cidrContainsIP, cidrsOverlap, cidrSize, cidrFirst, cidrLast, ipAdd, cidrNth, ipToBytes,
  ipFromBytes, cidrSubnets, splitHostPort, IPError,
} from './ip.ts';

void test('IPv4 parse/format', () => {
  for (const s of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '198.18.0.200']) assert.equal(formatIP(parseIP(s)), s);
  for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4/8']) {
    assert.equal(tryParseIP(s), null, s);
  }
  assert.equal(parseIP('10.0.0.1').value, 0x0a000001n);
});

void test('IPv6 parse/format (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['::', '::'], ['::1', '::1'], ['fd00:198:18::1', 'fd00:198:18::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'], ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'], ['64:ff9b::1.2.3.4', '64:ff9b::102:304'], ['1::', '1::'],
    ['fe80::', 'fe80::'],
  ];
  for (const [i, o] of cases) assert.equal(formatIP(parseIP(i)), o, i);
  for (const s of [':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0', '[::1]', 'g::1', '::1.2.3']) {
    assert.equal(tryParseIP(s), null, s);
  }
  assert.throws(() => parseIP('nope'), (e: unknown) => e instanceof IPError && e.code === 'invalid-ip');
});

void test('CIDR parse, mask, contains, overlap', () => {
  const c = parseCIDR('10.1.2.3/16');
  assert.equal(formatCIDR(c), '10.1.2.3/16');
  assert.equal(formatCIDR(maskCIDR(c)), '10.1.0.0/16');
  assert.equal(isMasked(c), false);
  assert.equal(tryParseCIDR('10.1.2.3/16', { requireMasked: true }), null);
  assert.throws(() => parseCIDR('10.1.2.3/16', { requireMasked: true }), /host bits set \(expected 10.1.0.0\/16\)/);
  assert.equal(tryParseCIDR('10.0.0.0/33'), null);
  assert.equal(tryParseCIDR('10.0.0.0/08'), null);
  assert.equal(tryParseCIDR('10.0.0.0'), null);
  assert.equal(tryParseCIDR('10.0.0.0', { allowBareIP: true })?.prefix, 32);
  assert.equal(tryParseCIDR('fd00::/129'), null);
  assert.equal(canonicalCIDR('fd00:0::1/64'), 'fd00::/64');
  assert.equal(canonicalCIDR('1.2.3.4'), '1.2.3.4/32');
  assert.equal(cidrSize(parseCIDR('10.0.0.0/26')), 64n);
  assert.equal(formatIP(cidrLast(parseCIDR('10.0.0.0/26')), 4), '10.0.0.63');
  assert.equal(formatIP(cidrFirst(parseCIDR('10.0.0.9/26')), 4), '10.0.0.0');
  assert.ok(cidrContains(parseCIDR('10.0.0.0/8'), parseCIDR('10.1.0.0/16')));
  assert.ok(!cidrContains(parseCIDR('10.1.0.0/16'), parseCIDR('10.0.0.0/8')));
  assert.ok(cidrsOverlap(parseCIDR('10.1.0.0/16'), parseCIDR('10.0.0.0/8')));
  assert.ok(!cidrsOverlap(parseCIDR('10.1.0.0/16'), parseCIDR('10.2.0.0/16')));
  assert.ok(!cidrsOverlap(parseCIDR('::/0'), parseCIDR('0.0.0.0/0')));
  assert.ok(cidrContainsIP(parseCIDR('0.0.0.0/0'), parseIP('1.2.3.4')));
  assert.ok(!cidrContainsIP(parseCIDR('::/0'), parseIP('1.2.3.4')));
});

void test('bigint math and bytes', () => {
  assert.equal(formatIP(ipAdd(parseIP('10.0.0.255'), 1)), '10.0.1.0');
  assert.throws(() => ipAdd(parseIP('255.255.255.255'), 1), /outside IPv4/);
  assert.equal(formatIP(cidrNth(parseCIDR('fd00::/122'), 63)), 'fd00::3f');
  assert.throws(() => cidrNth(parseCIDR('fd00::/122'), 64), /outside/);
  assert.deepEqual([...ipToBytes(parseIP('1.2.3.4'))], [1, 2, 3, 4]);
  assert.equal(formatIP(ipFromBytes(ipToBytes(parseIP('fd00::1')))), 'fd00::1');
  const subs = [...cidrSubnets(parseCIDR('10.0.0.0/24'), 26)].map(formatCIDR);
  assert.deepEqual(subs, ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']);
});

void test('splitHostPort', () => {
  assert.deepEqual(splitHostPort('10.0.0.1:179'), { ip: parseIP('10.0.0.1'), port: 179 });
  assert.deepEqual(splitHostPort('[fd00::1]:1790'), { ip: parseIP('fd00::1'), port: 1790 });
  assert.deepEqual(splitHostPort('fd00::1'), { ip: parseIP('fd00::1'), port: null });
  for (const s of ['10.0.0.1:', '10.0.0.1:99999', '[10.0.0.1]:5', 'fd00::1:x', '[fd00::1]5', 'host:80']) assert.equal(splitHostPort(s), null, s);
});

void test('IPv6 formatting agrees with the WHATWG URL host serializer (RFC 5952) on random addresses', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let n = 0; n < 3000; n++) {
    // Groups biased towards zero so that runs of zeros (and ties) are common.
    const groups = Array.from({ length: 8 }, () => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 65536)));
    const text = groups.map((g) => g.toString(16)).join(':');
    const ip = parseIP(text);
    const ours = formatIP(ip);
    const theirs = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    // URL keeps v4-mapped addresses in hex; we print them dotted as Go and netip do.
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) continue;
    assert.equal(ours, theirs, text);
    assert.equal(formatIP(parseIP(ours)), ours);
  }
});

void test('IP acceptance agrees with node:net isIP on random strings', async () => {
  const { isIP } = await import('node:net');
  let seed = 777;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = '0123456789abcdef:.';
  for (let n = 0; n < 20000; n++) {
    const len = 2 + Math.floor(rnd() * 20);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    const ours = tryParseIP(s);
    assert.equal(ours === null ? 0 : ours.family, isIP(s), s);
  }
});

void test('ordinals, containing blocks, ordering', async () => {
  const { cidrOrdinal, cidrOf, cidrCompare, cidrEquals } = await import('./ip.ts');
  const block = parseCIDR('10.0.0.64/26');
  assert.equal(cidrOrdinal(block, parseIP('10.0.0.70')), 6n);
  assert.equal(cidrOrdinal(block, parseIP('10.0.0.128')), -1n);
  assert.equal(cidrOrdinal(block, parseIP('fd00::1')), -1n);
  assert.equal(formatCIDR(cidrOf(parseIP('10.0.0.70'), 26)), '10.0.0.64/26');
  assert.equal(formatCIDR(cidrOf(parseIP('fd00::1:2'), 122)), 'fd00::1:0/122');
  assert.throws(() => cidrOf(parseIP('10.0.0.1'), 33), /not a valid IPv4 prefix/);
  const sorted = ['fd00::/64', '10.0.1.0/24', '10.0.0.0/16', '10.0.0.0/8', '9.0.0.0/8'].map((s) => parseCIDR(s)).sort(cidrCompare).map(formatCIDR);
  assert.deepEqual(sorted, ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '10.0.1.0/24', 'fd00::/64']);
  assert.ok(cidrEquals(parseCIDR('10.0.0.1/8'), parseCIDR('10.0.0.0/8')));
  assert.ok(!cidrEquals(parseCIDR('10.0.0.0/8'), parseCIDR('10.0.0.0/9')));
});
