// Codec tests: golden vectors written out by hand from the uapi struct layouts (not produced by
// the encoder), decode of hand-built kernel replies, IP text round trips and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NetlinkError, NlWriter, decodeAddress, decodeError, decodeLink, decodeRoute, encodeAddress, encodeLinkSet,
  encodeRoute, encodeRouteDump, encodeVethAdd, formatIPv6, networkOf, parseIP, splitMessages,
} from './codec.ts';
import { parseFibTrieStat } from './route-count.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const enc = (fn: (w: NlWriter) => void) => { const w = new NlWriter(16); fn(w); return w.toBuffer(); };

void test('RTM_NEWROUTE replace 198.19.1.0/24 via 198.18.0.2 proto 80 (golden)', () => {
  const got = enc((w) => assert.equal(encodeRoute(w, 'replace', { dst: '198.19.1.0/24', gateway: '198.18.0.2' }, 7, 0, 80), null));
  assert.deepEqual(got, hex(`
    2c000000 1800 0105 07000000 00000000
    02 18 00 00 fe 50 00 01 00000000
    0800 0100 c6130100
    0800 0500 c6120002`));
});

void test('RTM_NEWROUTE add IPv6 blackhole in table 100 with metric and ack (golden)', () => {
  const got = enc((w) => assert.equal(encodeRoute(w, 'add', { dst: 'fd00:198:18::/48', type: 'blackhole', table: 100, metric: 5 }, 1, 4, 80), null));
  assert.deepEqual(got, hex(`
    38000000 1800 0506 01000000 00000000
    0a 30 00 00 64 50 00 06 00000000
    1400 0100 fd000198 00180000 00000000 00000000
    0800 0600 05000000`));
});

void test('RTM_DELROUTE in table 1000: table via RTA_TABLE, scope NOWHERE, type unspec (golden)', () => {
  const got = enc((w) => assert.equal(encodeRoute(w, 'del', { dst: '198.19.2.128/25', table: 1000, protocol: 12 }, 0x01020304, 0, 80), null));
  assert.deepEqual(got, hex(`
    2c000000 1900 0100 04030201 00000000
    02 19 00 00 00 0c ff 00 00000000
    0800 0100 c6130280
    0800 0f00 e8030000`));
});

void test('onlink dev route and multipath encode (golden)', () => {
  const got = enc((w) => assert.equal(encodeRoute(w, 'replace', { dst: '198.19.3.0/26', gateway: '198.18.5.1', ifindex: 7, onlink: true, protocol: 80 }, 2, 0, 80), null));
  assert.deepEqual(got, hex(`
    34000000 1800 0105 02000000 00000000
    02 1a 00 00 fe 50 00 01 04000000
    0800 0100 c6130300
    0800 0500 c6120501
    0800 0400 07000000`));
  const mp = enc((w) => assert.equal(encodeRoute(w, 'replace', { dst: '198.19.4.0/24', multipath: [{ gateway: '198.18.0.2', ifindex: 3 }, { gateway: '198.18.1.2', ifindex: 4, weight: 2 }] }, 3, 0, 80), null));
  assert.deepEqual(mp, hex(`
    48000000 1800 0105 03000000 00000000
    02 18 00 00 fe 50 00 01 00000000
    0800 0100 c6130400
    2400 0900
      1000 00 00 03000000 0800 0500 c6120002
      1000 00 01 04000000 0800 0500 c6120102`));
});

void test('route dump request with protocol filter (golden)', () => {
  const got = enc((w) => encodeRouteDump(w, 4, 9, { protocol: 80 }));
  assert.deepEqual(got, hex('1c000000 1a00 0103 09000000 00000000 02 00 00 00 00 50 00 00 00000000'));
});

void test('bad routes are refused with a reason and write nothing', () => {
  const cases: [object, RegExp][] = [
    [{ dst: 'bogus' }, /dst "bogus": expected an IPv4/],
    [{ dst: '198.19.0.0/33' }, /prefix length must be 0..32/],
    [{ dst: '198.19.0.1/24' }, /host bits set beyond \/24/],
    [{ dst: 'fd00::/129' }, /prefix length must be 0..128/],
    [{ dst: '198.19.0.0/24', gateway: 'fd00::1' }, /family differs/],
    [{ dst: '198.19.0.0/24', gateway: '198.18.0.300' }, /gateway "198.18.0.300"/],
    [{ dst: '198.19.0.0/24', type: 'blackhole', gateway: '198.18.0.1' }, /cannot have a gateway/],
    [{ dst: '198.19.0.0/24', type: 'weird' }, /type "weird"/],
    [{ dst: '198.19.0.0/24', protocol: 300 }, /protocol 300/],
    [{ dst: '198.19.0.0/24', table: 0 }, /table 0/],
    [{ dst: '198.19.0.0/24', metric: -1 }, /metric -1/],
    [{ dst: '198.19.0.0/24', ifindex: 0 }, /ifindex 0/],
    [{ dst: '198.19.0.0/24', multipath: [] }, /non-empty/],
    [{ dst: '198.19.0.0/24', multipath: [{ gateway: '198.18.0.1', weight: 0 }] }, /weight 0/],
    [{ dst: 42 }, /expected a CIDR string/],
    [{ dst: '198.19.0.0/24', multipath: [null] }, /multipath\[0\]: expected an object/],
  ];
  for (const [r, re] of cases) {
    const w = new NlWriter(16);
    w.u32(0xdeadbeef);
    const err = encodeRoute(w, 'add', r as never, 1, 0, 80);
    assert.match(String(err), re, JSON.stringify(r));
    assert.equal(w.pos, 4, `nothing written for ${JSON.stringify(r)}`);
  }
});

void test('decodeRoute reads a kernel RTM_NEWROUTE with table > 255, gateway, oif, metric', () => {
  const b = hex(`
    44000000 1800 0200 05000000 00000000
    02 18 00 00 00 50 00 01 00000000
    0800 0f00 e8030000
    0800 0100 c6130500
    0800 0500 c6120002
    0800 0400 03000000
    0800 0600 14000000`);
  const [m] = splitMessages(b);
  assert.deepEqual(decodeRoute(m!), {
    family: 4, dst: '198.19.5.0/24', table: 1000, protocol: 80, scope: 0, type: 'unicast', flags: 0,
    gateway: '198.18.0.2', ifindex: 3, metric: 20,
  });
});

void test('decodeRoute reads IPv6 multipath and default routes', () => {
  const b = hex(`
    44000000 1800 0200 05000000 00000000
    0a 00 00 00 fe 0c 00 01 00000000
    2800 0900
      1c00 00 00 02000000 1400 0500 fe800000 00000000 00000000 00000001
      0800 04 02 05000000`);
  const [m] = splitMessages(b);
  assert.deepEqual(decodeRoute(m!), {
    family: 6, dst: '::/0', table: 254, protocol: 12, scope: 0, type: 'unicast', flags: 0,
    multipath: [{ gateway: 'fe80::1', ifindex: 2, weight: 1, flags: 0 }, { ifindex: 5, weight: 3, flags: 4 }],
  });
});

void test('decodeError reads errno, request seq and the extended-ack text (capped)', () => {
  const b = hex(`
    44000000 0200 0003 11000000 00000000
    9bffffff
    2c000000 1800 0505 11000000 00000000
    2000 0100 4e657874 686f7020 68617320 696e7661 6c696420 67617465 77617900`);
  // flags 0x0300 = NLM_F_CAPPED | NLM_F_ACK_TLVS; errno -101; then "Nexthop has invalid gateway\0"
  const [m] = splitMessages(b);
  assert.deepEqual(decodeError(m!), { errno: 101, seq: 0x11, requestType: 24, extMessage: 'Nexthop has invalid gateway' });
  const ack = hex('24000000 0200 0001 12000000 00000000 00000000 24000000 1800 0505 12000000 00000000');
  assert.deepEqual(decodeError(splitMessages(ack)[0]!), { errno: 0, seq: 0x12, requestType: 24 });
});

void test('decodeLink and decodeAddress read hand-built dump replies', () => {
  const link = hex(`
    44000000 1000 0200 01000000 00000000
    00 00 0100 07000000 43100100 00000000
    0900 0300 63616c69 30000000
    0800 0400 dc050000
    1000 1200 0900 0100 76657468 00000000`);
  assert.deepEqual(decodeLink(splitMessages(link)[0]!), { ifindex: 7, name: 'cali0', flags: 0x11043, up: true, mtu: 1500, kind: 'veth' });
  const addr = hex(`
    34000000 1400 0200 01000000 00000000
    02 18 80 00 07000000
    0800 0100 c6120001
    0800 0200 c6120001
    0900 0300 63616c69 30000000`);
  assert.deepEqual(decodeAddress(splitMessages(addr)[0]!), { ifindex: 7, family: 4, address: '198.18.0.1', prefixLen: 24, scope: 0, flags: 0x80, label: 'cali0' });
});

void test('veth, link set and address requests (golden)', () => {
  const veth = enc((w) => encodeVethAdd(w, { name: 'a0', peerName: 'b0', peerNetnsFd: 9 }, 4));
  assert.deepEqual(veth, hex(`
    60000000 1000 0506 04000000 00000000
    00 00 0000 00000000 00000000 00000000
    0700 0300 61300000
    3800 1200
      0900 0100 76657468 00000000
      2800 0200
        2400 0100
          00 00 0000 00000000 00000000 00000000
          0700 0300 62300000
          0800 1c00 09000000`));
  const up = enc((w) => encodeLinkSet(w, 5, { up: true }, 2));
  assert.deepEqual(up, hex('20000000 1000 0500 02000000 00000000 00 00 0000 05000000 01000000 01000000'));
  const a = enc((w) => encodeAddress(w, 'add', { ifindex: 5, cidr: '198.18.7.1/24' }, 3));
  assert.deepEqual(a, hex('28000000 1400 0506 03000000 00000000 02 18 00 00 05000000 0800 0200 c6120701 0800 0100 c6120701'));
  assert.throws(() => encodeAddress(new NlWriter(), 'add', { ifindex: 5, cidr: '198.18.7.1' }, 1), /expected address\/prefix-length/);
  assert.throws(() => encodeVethAdd(new NlWriter(), { name: 'a-very-long-name-x', peerName: 'b' }, 1), /1-15 bytes/);
});

void test('IP parse and RFC 5952 format', () => {
  const rt = (s: string, want = s) => {
    const ip = parseIP(s);
    assert.ok(ip, s);
    assert.equal(ip.family === 6 ? formatIPv6(ip.bytes) : [...ip.bytes].join('.'), want);
  };
  rt('198.18.0.1');
  rt('0.0.0.0');
  rt('::');
  rt('::1');
  rt('fd00:198:18::1');
  rt('FD00:0198:0018:0000:0000:0000:0000:0001', 'fd00:198:18::1');
  rt('1:0:0:1:0:0:0:1', '1:0:0:1::1');
  rt('1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1');
  rt('::ffff:198.18.0.1');
  rt('fe80::1:2');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1..2.3', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fd00::g', '1:', ':1', '12345::']) {
    assert.equal(parseIP(bad), null, bad);
  }
  assert.equal(networkOf('198.18.7.77', 26), '198.18.7.64/26');
  assert.equal(networkOf('fd00:198:18::abcd', 64), 'fd00:198:18::/64');
});

void test('malformed frames throw NetlinkError(malformed-message)', () => {
  assert.throws(() => splitMessages(hex('08000000 1800 0000 00000000 00000000')), (e) => e instanceof NetlinkError && e.code === 'malformed-message');
  assert.throws(() => splitMessages(hex('40000000 1800 0000 00000000 00000000')), /length 64 outside 16..16/);
  const badAttr = hex('20000000 1800 0000 00000000 00000000 02 18 00 00 fe 50 00 01 00000000 0900 0100');
  assert.throws(() => decodeRoute(splitMessages(badAttr)[0]!), /rtattr at offset 28: length 9/);
  const short = hex('14000000 1800 0000 00000000 00000000 02180000');
  assert.throws(() => decodeRoute(splitMessages(short)[0]!), /rtmsg too short/);
});

void test('fib_triestat parse', () => {
  const text = 'Basic info: size of leaf: 48 bytes, size of tnode: 40 bytes.\nMain:\n\tAver depth:     2.42\n\tPrefixes:       100007\nLocal:\n\tPrefixes:       7\nId 100:\n\tPrefixes:       3\n';
  assert.deepEqual([...parseFibTrieStat(text)], [['Main', 100007], ['Local', 7], ['Id 100', 3]]);
});
