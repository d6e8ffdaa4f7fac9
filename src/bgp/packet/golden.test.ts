// Golden byte vectors, written by hand from the RFC formats (only header/length fields are
// computed, by test-helpers.ts, not by the codec). Each vector is decoded and checked field by
// field, and the encoder must reproduce the exact bytes from the decoded value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AS_TRANS,
  KEEPALIVE_BYTES,
  decodeMessage,
  encodeMessage,
  isEndOfRib,
  endOfRib,
  parsePrefix,
} from './index.ts';
import type { CodecContext, OpenMessage, UpdateMessage, NotificationMessage, RouteRefreshMessage, DecodeResult } from './index.ts';
import { frame, hex, toHex, updateFrame } from './test-helpers.ts';

const AS4: CodecContext = { fourOctetAs: true };
const AS2: CodecContext = { fourOctetAs: false };

function dec<T>(bytes: Uint8Array, ctx: CodecContext): DecodeResult & { message: T } {
  const r = decodeMessage(bytes, ctx);
  return r as DecodeResult & { message: T };
}

function keys(ps: readonly { key: string }[]): string[] {
  return ps.map((p) => p.key);
}

void test('KEEPALIVE: 19 bytes, marker + length 19 + type 4', () => {
  const g = hex('ffffffffffffffffffffffffffffffff 0013 04');
  assert.equal(toHex(KEEPALIVE_BYTES), toHex(g));
  assert.deepEqual(decodeMessage(g, AS4).message, { type: 'KEEPALIVE' });
  assert.equal(toHex(encodeMessage({ type: 'KEEPALIVE' }, AS4)), toHex(g));
});

void test('OPEN, 2-octet AS 65001, IPv4 unicast + route refresh + 4-octet AS capability', () => {
  const g = hex(`
    ffffffffffffffffffffffffffffffff 002d 01
    04          # version
    fde9        # my AS 65001
    005a        # hold time 90
    c6120001    # BGP identifier 198.18.0.1
    10          # optional parameters length 16
    02 0e       # parameter: capabilities, 14 bytes
      01 04 0001 00 01   # multiprotocol IPv4 unicast
      02 00              # route refresh
      41 04 0000fde9     # 4-octet AS 65001
  `);
  const { message: m } = dec<OpenMessage>(g, AS2);
  assert.deepEqual(m, {
    type: 'OPEN',
    version: 4,
    myAs: 65001,
    holdTime: 90,
    bgpId: '198.18.0.1',
    capabilities: [{ kind: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { kind: 'ROUTE_REFRESH' }, { kind: 'FOUR_OCTET_AS', asn: 65001 }],
  });
  assert.equal(toHex(encodeMessage(m, AS2)), toHex(g));
});

void test('OPEN, 4-octet AS 4200000001 (AS_TRANS in My AS), every known capability + an unknown one', () => {
  const g = hex(`
    ffffffffffffffffffffffffffffffff 0058 01
    04 5ba0 00b4 c6120002   # v4, AS_TRANS, hold 180, 198.18.0.2
    3b                      # opt params length 59
    02 39                   # capabilities, 57 bytes
      01 04 0002 00 01                          # MP IPv6 unicast
      41 04 fa56ea01                            # 4-octet AS 4200000001
      40 0a 8078 0001 01 80 0002 01 00          # GR: R bit, 120 s; IPv4 uni F=1; IPv6 uni F=0
      05 06 0001 0001 0002                      # extended next hop: IPv4 unicast over IPv6
      45 04 0001 01 03                          # add-path IPv4 unicast send+receive
      46 00                                     # enhanced route refresh
      49 07 05 6e6f646531 00                    # FQDN "node1", ""
      80 00                                     # Cisco route refresh
      06 00                                     # extended message
      83 02 abcd                                # unknown capability 131
  `);
  const { message: m } = dec<OpenMessage>(g, AS4);
  assert.equal(m.myAs, AS_TRANS);
  assert.equal(m.holdTime, 180);
  assert.equal(m.bgpId, '198.18.0.2');
  assert.deepEqual(m.capabilities.slice(0, 9), [
    { kind: 'MULTIPROTOCOL', afi: 2, safi: 1 },
    { kind: 'FOUR_OCTET_AS', asn: 4200000001 },
    {
      kind: 'GRACEFUL_RESTART',
      restartState: true,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    },
    { kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
    { kind: 'ADD_PATH', families: [{ afi: 1, safi: 1, mode: 3 }] },
    { kind: 'ENHANCED_ROUTE_REFRESH' },
    { kind: 'FQDN', hostname: 'node1', domain: '' },
    { kind: 'ROUTE_REFRESH_CISCO' },
    { kind: 'EXTENDED_MESSAGE' },
  ]);
  const unk = m.capabilities[9]!;
  assert.equal(unk.kind, 'UNKNOWN');
  assert.ok(unk.kind === 'UNKNOWN' && unk.code === 131 && toHex(unk.value) === 'abcd');
  // Encoding with the real AS gives AS_TRANS in the 2-octet field and identical bytes.
  assert.equal(toHex(encodeMessage({ ...m, myAs: 4200000001 }, AS4)), toHex(g));
});

void test('OPEN with RFC 9072 extended optional parameters length', () => {
  const g = hex(`
    ffffffffffffffffffffffffffffffff 002b 01
    04 fde9 005a c6120001
    ff ff 000b              # Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length 11
    02 0008                 # capabilities, 2-byte length 8
      41 04 0000fde9        # 4-octet AS 65001
      02 00                 # route refresh
  `);
  const { message: m } = dec<OpenMessage>(g, AS4);
  assert.deepEqual(m.capabilities, [{ kind: 'FOUR_OCTET_AS', asn: 65001 }, { kind: 'ROUTE_REFRESH' }]);
  // The encoder uses the classic format when parameters fit in 255 bytes...
  const classic = encodeMessage(m, AS4);
  assert.equal(classic[28], 10);
  // ...and the extended one when they do not.
  const many = { ...m, capabilities: Array.from({ length: 70 }, (_, i) => ({ kind: 'UNKNOWN' as const, code: 200 + (i % 50), value: new Uint8Array([i, i]) })) };
  const ext = encodeMessage(many, AS4);
  assert.equal(toHex(ext.subarray(28, 30)), 'ffff');
  const back = dec<OpenMessage>(ext, AS4).message;
  assert.equal(back.capabilities.length, 70);
  assert.deepEqual(back.capabilities[69], many.capabilities[69]);
});

void test('NOTIFICATION: Cease / Administrative Shutdown with RFC 8203 shutdown communication', () => {
  const g = hex(`
    ffffffffffffffffffffffffffffffff 0021 03
    06 02                                  # Cease / Administrative Shutdown
    0b 6d61696e74656e616e6365              # length 11, "maintenance"
  `);
  const { message: m } = dec<NotificationMessage>(g, AS4);
  assert.equal(m.code, 6);
  assert.equal(m.subcode, 2);
  assert.equal(m.shutdownMessage, 'maintenance');
  assert.equal(toHex(m.data), '0b6d61696e74656e616e6365');
  assert.equal(toHex(encodeMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array(0), shutdownMessage: 'maintenance' }, AS4)), toHex(g));
  assert.equal(toHex(encodeMessage(m, AS4)), toHex(g));
});

void test('NOTIFICATION: Cease / Administrative Reset with UTF-8 multi-byte text; Hold Timer Expired without data', () => {
  const g = hex(`
    ffffffffffffffffffffffffffffffff 001b 03
    06 04 05 72c3a97365   # "rése" (é = c3 a9)
  `);
  const { message: m } = dec<NotificationMessage>(g, AS4);
  assert.equal(m.shutdownMessage, 'rése');
  const h = hex('ffffffffffffffffffffffffffffffff 0015 03 04 00');
  const { message: n } = dec<NotificationMessage>(h, AS4);
  assert.deepEqual({ code: n.code, subcode: n.subcode, data: toHex(n.data), s: n.shutdownMessage }, { code: 4, subcode: 0, data: '', s: undefined });
  assert.equal(toHex(encodeMessage(n, AS4)), toHex(h));
  // Invalid UTF-8 in a shutdown communication: kept as raw data, no text.
  const bad = hex('ffffffffffffffffffffffffffffffff 0018 03 06 02 02 c328');
  const { message: b } = dec<NotificationMessage>(bad, AS4);
  assert.equal(b.shutdownMessage, undefined);
  assert.equal(toHex(b.data), '02c328');
});

void test('ROUTE-REFRESH IPv4 unicast and IPv6 unicast (RFC 2918), and RFC 7313 subtypes', () => {
  const v4 = hex('ffffffffffffffffffffffffffffffff 0017 05 0001 00 01');
  const v6 = hex('ffffffffffffffffffffffffffffffff 0017 05 0002 02 01');
  assert.deepEqual(decodeMessage(v4, AS4).message, { type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 0 });
  const m = decodeMessage(v6, AS4).message as RouteRefreshMessage;
  assert.deepEqual(m, { type: 'ROUTE_REFRESH', afi: 2, safi: 1, subtype: 2 });
  assert.equal(toHex(encodeMessage(m, AS4)), toHex(v6));
});

// Every path attribute we know, 4-octet AS session.
const ATTRS_AS4 = `
  40 01 01 00                             # ORIGIN IGP
  40 02 0a 02 02 0000fde9 fa56ea01        # AS_PATH AS_SEQUENCE [65001 4200000001]
  40 03 04 c6120001                       # NEXT_HOP 198.18.0.1
  80 04 04 00000064                       # MULTI_EXIT_DISC 100
  40 05 04 000000c8                       # LOCAL_PREF 200
  40 06 00                                # ATOMIC_AGGREGATE
  c0 07 08 0000fde9 c6120002              # AGGREGATOR 65001 198.18.0.2
  c0 08 08 fde90001 ffffff01              # COMMUNITIES 65001:1 NO_EXPORT
  80 09 04 c6120003                       # ORIGINATOR_ID 198.18.0.3
  80 0a 08 c6120004 c6120005              # CLUSTER_LIST 198.18.0.4 198.18.0.5
  c0 10 08 0002fde900000064               # EXTENDED_COMMUNITIES route target 65001:100
  c0 20 0c fa56ea01 00000001 00000002     # LARGE_COMMUNITY 4200000001:1:2
  e0 63 02 beef                           # unknown optional transitive type 99 (Partial set)
`;

void test('UPDATE with every attribute, 4-octet AS, IPv4 withdrawn + NLRI', () => {
  const g = updateFrame(
    '18 c61301', // withdrawn 198.19.1.0/24
    ATTRS_AS4,
    `18 c61300     # 198.19.0.0/24
     20 c6120101   # 198.18.1.1/32
     0a c640       # 198.64.0.0/10
     00            # 0.0.0.0/0`,
  );
  const r = dec<UpdateMessage>(g, AS4);
  assert.equal(r.treatAsWithdraw, false);
  assert.deepEqual(r.errors, []);
  const m = r.message;
  assert.deepEqual(keys(m.withdrawn), ['198.19.1.0/24']);
  assert.deepEqual(keys(m.nlri), ['198.19.0.0/24', '198.18.1.1/32', '198.64.0.0/10', '0.0.0.0/0']);
  const a = m.attributes;
  assert.equal(a.origin, 0);
  assert.deepEqual(a.asPath, [{ type: 2, asns: [65001, 4200000001] }]);
  assert.equal(a.nextHop, '198.18.0.1');
  assert.equal(a.med, 100);
  assert.equal(a.localPref, 200);
  assert.equal(a.atomicAggregate, true);
  assert.deepEqual(a.aggregator, { asn: 65001, address: '198.18.0.2' });
  assert.deepEqual(a.communities, [0xfde90001, 0xffffff01]);
  assert.equal(a.originatorId, '198.18.0.3');
  assert.deepEqual(a.clusterList, ['198.18.0.4', '198.18.0.5']);
  assert.deepEqual(a.extendedCommunities?.map(toHex), ['0002fde900000064']);
  assert.deepEqual(a.largeCommunities, [{ globalAdmin: 4200000001, localData1: 1, localData2: 2 }]);
  assert.equal(a.unknown?.length, 1);
  assert.deepEqual({ ...a.unknown![0]!, value: toHex(a.unknown![0]!.value) }, { flags: 0xe0, typeCode: 99, value: 'beef' });
  assert.equal(m.mpReach, undefined);
  assert.equal(toHex(encodeMessage(m, AS4)), toHex(g));
});

void test('UPDATE from a 2-octet AS peer: AS_TRANS + AS4_PATH/AS4_AGGREGATOR merged; encoder reproduces them', () => {
  const g = updateFrame(
    '',
    `40 01 01 02                       # ORIGIN INCOMPLETE
     40 02 06 02 02 fde9 5ba0          # AS_PATH [65001 AS_TRANS]
     40 03 04 c6120001                 # NEXT_HOP
     c0 07 06 5ba0 c6120002            # AGGREGATOR AS_TRANS 198.18.0.2
     c0 11 0a 02 02 0000fde9 fa56ea01  # AS4_PATH [65001 4200000001]
     c0 12 08 fa56ea01 c6120002        # AS4_AGGREGATOR 4200000001 198.18.0.2`,
    '18 c61300',
  );
  const r = dec<UpdateMessage>(g, AS2);
  assert.deepEqual(r.errors, []);
  const a = r.message.attributes;
  assert.equal(a.origin, 2);
  assert.deepEqual(a.asPath, [{ type: 2, asns: [65001, 4200000001] }]);
  assert.deepEqual(a.aggregator, { asn: 4200000001, address: '198.18.0.2' });
  assert.equal(a.as4Path, undefined);
  assert.equal(a.as4Aggregator, undefined);
  assert.equal(toHex(encodeMessage(r.message, AS2)), toHex(g));
});

void test('UPDATE 2-octet AS path with an AS_SET, no 4-octet ASNs: no AS4_PATH sent', () => {
  const g = updateFrame(
    '',
    `40 01 01 00
     40 02 0c 02 02 fde9 fdea 01 02 fdeb fdec   # AS_SEQUENCE [65001 65002] AS_SET {65003 65004}
     40 03 04 c6120001`,
    '18 c61300',
  );
  const r = dec<UpdateMessage>(g, AS2);
  assert.deepEqual(r.message.attributes.asPath, [
    { type: 2, asns: [65001, 65002] },
    { type: 1, asns: [65003, 65004] },
  ]);
  assert.equal(toHex(encodeMessage(r.message, AS2)), toHex(g));
});

void test('UPDATE IPv6: MP_REACH_NLRI with global + link-local next hop, empty AS_PATH (iBGP)', () => {
  const g = updateFrame(
    '',
    `80 0e 35 0002 01 20                              # MP_REACH_NLRI, IPv6 unicast, next hop length 32
       fd000198001800000000000000000001             # fd00:198:18::1
       fe800000000000000000000000000001             # fe80::1
       00                                           # reserved
       40 fd00019800180001                          # fd00:198:18:1::/64
       30 fd0001980018                              # fd00:198:18::/48
     40 01 01 00
     40 02 00
     40 05 04 00000064`,
    '',
  );
  const r = dec<UpdateMessage>(g, AS4);
  assert.deepEqual(r.errors, []);
  const m = r.message;
  assert.equal(m.nlri.length, 0);
  assert.ok(m.mpReach);
  assert.equal(m.mpReach.afi, 2);
  assert.equal(m.mpReach.safi, 1);
  assert.equal(m.mpReach.nextHop, 'fd00:198:18::1');
  assert.equal(m.mpReach.linkLocalNextHop, 'fe80::1');
  assert.deepEqual(keys(m.mpReach.nlri), ['fd00:198:18:1::/64', 'fd00:198:18::/48']);
  assert.equal(toHex(m.mpReach.nlri[0]!.addr), 'fd000198001800010000000000000000');
  assert.deepEqual(m.attributes.asPath, []);
  assert.equal(m.attributes.localPref, 100);
  assert.equal(toHex(encodeMessage(m, AS4)), toHex(g));
});

void test('UPDATE IPv6 withdraw: MP_UNREACH_NLRI', () => {
  const g = updateFrame('', '80 0f 0c 0002 01 40 fd00019800180001', '');
  const r = dec<UpdateMessage>(g, AS4);
  assert.ok(r.message.mpUnreach);
  assert.deepEqual(keys(r.message.mpUnreach.withdrawn), ['fd00:198:18:1::/64']);
  assert.equal(toHex(encodeMessage(r.message, AS4)), toHex(g));
});

void test('UPDATE RFC 8950: IPv4 NLRI with an IPv6 next hop in MP_REACH_NLRI', () => {
  const g = updateFrame(
    '',
    `80 0e 19 0001 01 10 fd000198001800000000000000000001 00 18 c61300
     40 01 01 00
     40 02 06 02 01 0000fde9`,
    '',
  );
  const r = dec<UpdateMessage>(g, { fourOctetAs: true, extendedNextHop: true });
  assert.deepEqual(r.errors, []);
  assert.equal(r.message.mpReach?.afi, 1);
  assert.equal(r.message.mpReach?.nextHop, 'fd00:198:18::1');
  assert.deepEqual(keys(r.message.mpReach!.nlri), ['198.19.0.0/24']);
  assert.equal(toHex(encodeMessage(r.message, AS4)), toHex(g));
});

void test('UPDATE with RFC 7911 add-path ids (IPv4 body and IPv6 MP_REACH)', () => {
  const ctx: CodecContext = { fourOctetAs: true, addPath: new Set([0x0101, 0x0201]) };
  const g = updateFrame(
    '00000007 18 c61301',
    `80 0e 22 0002 01 10 fd000198001800000000000000000001 00 00000009 40 fd00019800180001
     40 01 01 00
     40 02 00
     40 03 04 c6120001`,
    '00000001 18 c61300 00000002 18 c61300',
  );
  const r = dec<UpdateMessage>(g, ctx);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.message.withdrawn.map((p) => [p.key, p.pathId]), [['198.19.1.0/24', 7]]);
  assert.deepEqual(r.message.nlri.map((p) => [p.key, p.pathId]), [
    ['198.19.0.0/24', 1],
    ['198.19.0.0/24', 2],
  ]);
  assert.deepEqual(r.message.mpReach!.nlri.map((p) => [p.key, p.pathId]), [['fd00:198:18:1::/64', 9]]);
  assert.equal(toHex(encodeMessage(r.message, ctx)), toHex(g));
});

void test('End-of-RIB markers (RFC 4724 §2): IPv4 empty UPDATE, IPv6 empty MP_UNREACH_NLRI', () => {
  const v4 = updateFrame('', '', '');
  const v6 = updateFrame('', '80 0f 03 0002 01', '');
  assert.equal(toHex(encodeMessage(endOfRib(1), AS4)), toHex(v4));
  assert.equal(toHex(encodeMessage(endOfRib(2), AS4)), toHex(v6));
  assert.deepEqual(isEndOfRib(decodeMessage(v4, AS4).message as UpdateMessage), { afi: 1, safi: 1 });
  assert.deepEqual(isEndOfRib(decodeMessage(v6, AS4).message as UpdateMessage), { afi: 2, safi: 1 });
  const notEor = updateFrame('18 c61300', '', '');
  assert.equal(isEndOfRib(decodeMessage(notEor, AS4).message as UpdateMessage), null);
});

void test('UPDATE with extended-length attribute flag on a short attribute decodes the same', () => {
  const g = updateFrame('', '50 01 0001 00  50 02 0000  50 03 0004 c6120001', '18 c61300');
  const r = dec<UpdateMessage>(g, AS4);
  assert.deepEqual(r.errors, []);
  assert.equal(r.message.attributes.origin, 0);
  assert.equal(r.message.attributes.nextHop, '198.18.0.1');
  // The encoder uses the 1-byte length form when the value fits.
  const canonical = updateFrame('', '40 01 01 00 40 02 00 40 03 04 c6120001', '18 c61300');
  assert.equal(toHex(encodeMessage(r.message, AS4)), toHex(canonical));
});

void test('long AS_PATH (> 255 ASes) is split into segments and uses an extended-length attribute', () => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns }], nextHop: '198.18.0.1' },
    nlri: [parsePrefix('198.19.0.0/24')],
  };
  const b = encodeMessage(msg, AS4);
  // AS_PATH header: flags 0x50 (transitive + extended length), type 2, length 2+255*4 + 2+45*4 = 1204 = 0x04b4
  const at = 19 + 2 + 2 + 4; // after withdrawn len, attr len, ORIGIN
  assert.equal(toHex(b.subarray(at, at + 6)), '500204b402ff');
  const r = dec<UpdateMessage>(b, AS4);
  assert.deepEqual(
    r.message.attributes.asPath?.map((s) => s.asns.length),
    [255, 45],
  );
  assert.deepEqual(r.message.attributes.asPath?.flatMap((s) => s.asns), asns);
});

void test('frame() helper sanity: header length equals bytes', () => {
  const f = frame(4, '');
  assert.equal(f.length, 19);
  assert.equal(f[17], 19);
});
