// A corpus of malformed messages with the NOTIFICATION (session reset) or RFC 7606 action each
// must produce. Vectors are hand-written hex; only header/length fields are computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR, ERROR_CODE, HEADER_ERROR, OPEN_ERROR, ROUTE_REFRESH_ERROR, UPDATE_ERROR, decodeMessage } from './index.ts';
import type { CodecContext, DecodeResult, UpdateMessage } from './index.ts';
import { assertBgpError, frame, hex, toHex, updateFrame } from './test-helpers.ts';

const AS4: CodecContext = { fourOctetAs: true };
const AS2: CodecContext = { fourOctetAs: false };
const M = 'ffffffffffffffffffffffffffffffff';

// Valid mandatory attributes for 4-octet sessions, to combine with one broken attribute.
const ORIGIN = '40 01 01 00';
const ASPATH = '40 02 06 02 01 0000fde9';
const NEXTHOP = '40 03 04 c6120001';
const BASE = `${ORIGIN} ${ASPATH} ${NEXTHOP}`;
const NLRI = '18 c61300';

function upd(bytes: Uint8Array, ctx: CodecContext = AS4): DecodeResult & { message: UpdateMessage } {
  return decodeMessage(bytes, ctx) as DecodeResult & { message: UpdateMessage };
}

// ------------------------------------------------------------------------------------------
// Session reset cases
// ------------------------------------------------------------------------------------------

const RESETS: { name: string; bytes: Uint8Array; code: number; subcode: number; data?: Uint8Array; ctx?: CodecContext }[] = [
  { name: 'header: marker not all ones', bytes: hex(`ffffffffffffffffffffffffffff00ff 0013 04`), code: 1, subcode: HEADER_ERROR.CONNECTION_NOT_SYNCHRONIZED },
  { name: 'header: length field larger than the bytes', bytes: hex(`${M} 0014 04`), code: 1, subcode: HEADER_ERROR.BAD_MESSAGE_LENGTH, data: hex('0014') },
  { name: 'header: message type 7', bytes: hex(`${M} 0013 07`), code: 1, subcode: HEADER_ERROR.BAD_MESSAGE_TYPE, data: hex('07') },
  {
    name: 'ROUTE-REFRESH with length 24 (RFC 7313: error 7/1 carrying the message)',
    bytes: hex(`${M} 0018 05 0001 00 01 00`),
    code: ERROR_CODE.ROUTE_REFRESH_MESSAGE_ERROR,
    subcode: ROUTE_REFRESH_ERROR.INVALID_MESSAGE_LENGTH,
    data: hex(`${M} 0018 05 0001 00 01 00`),
  },
  {
    name: 'OPEN version 3 (data: largest supported version, 4)',
    bytes: frame(1, '03 fde9 005a c6120001 00'),
    code: 2,
    subcode: OPEN_ERROR.UNSUPPORTED_VERSION_NUMBER,
    data: hex('0004'),
  },
  { name: 'OPEN hold time 2', bytes: frame(1, '04 fde9 0002 c6120001 00'), code: 2, subcode: OPEN_ERROR.UNACCEPTABLE_HOLD_TIME },
  { name: 'OPEN hold time 1', bytes: frame(1, '04 fde9 0001 c6120001 00'), code: 2, subcode: OPEN_ERROR.UNACCEPTABLE_HOLD_TIME },
  { name: 'OPEN BGP identifier 0.0.0.0', bytes: frame(1, '04 fde9 005a 00000000 00'), code: 2, subcode: OPEN_ERROR.BAD_BGP_IDENTIFIER },
  { name: 'OPEN My AS 0 (RFC 7607)', bytes: frame(1, '04 0000 005a c6120001 00'), code: 2, subcode: OPEN_ERROR.BAD_PEER_AS },
  { name: 'OPEN 4-octet AS capability with AS 0', bytes: frame(1, '04 5ba0 005a c6120001 08 02 06 41 04 00000000'), code: 2, subcode: OPEN_ERROR.BAD_PEER_AS },
  { name: 'OPEN unsupported optional parameter type 1', bytes: frame(1, '04 fde9 005a c6120001 04 01 02 0000'), code: 2, subcode: OPEN_ERROR.UNSUPPORTED_OPTIONAL_PARAMETER },
  { name: 'OPEN optional parameters length larger than the message', bytes: frame(1, '04 fde9 005a c6120001 05 02 02 0200'), code: 2, subcode: 0 },
  { name: 'OPEN trailing bytes after the parameters', bytes: frame(1, '04 fde9 005a c6120001 00 aa'), code: 2, subcode: 0 },
  { name: 'OPEN parameter length overruns', bytes: frame(1, '04 fde9 005a c6120001 04 02 09 0200'), code: 2, subcode: 0 },
  { name: 'OPEN capability length overruns the parameter', bytes: frame(1, '04 fde9 005a c6120001 04 02 02 4104'), code: 2, subcode: 0 },
  { name: 'OPEN capability header truncated', bytes: frame(1, '04 fde9 005a c6120001 05 02 03 0200 41'), code: 2, subcode: 0 },
  {
    name: 'UPDATE Withdrawn Routes Length beyond the message',
    bytes: frame(2, '0010 18c613 0000'),
    code: 3,
    subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
  },
  {
    name: 'UPDATE Total Path Attribute Length beyond the message',
    bytes: frame(2, `0000 0020 ${ORIGIN}`),
    code: 3,
    subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
  },
  { name: 'UPDATE withdrawn prefix length 33', bytes: updateFrame('21 c6130000 00', '', ''), code: 3, subcode: UPDATE_ERROR.INVALID_NETWORK_FIELD },
  { name: 'UPDATE withdrawn prefix overruns', bytes: updateFrame('18 c613', '', ''), code: 3, subcode: UPDATE_ERROR.INVALID_NETWORK_FIELD },
  { name: 'UPDATE NLRI prefix length 40', bytes: updateFrame('', BASE, '28 c613000000'), code: 3, subcode: UPDATE_ERROR.INVALID_NETWORK_FIELD },
  { name: 'UPDATE NLRI prefix overruns the message', bytes: updateFrame('', BASE, '18 c613'), code: 3, subcode: UPDATE_ERROR.INVALID_NETWORK_FIELD },
  {
    name: 'UPDATE add-path NLRI with a truncated path identifier',
    bytes: updateFrame('', BASE, '000000'),
    code: 3,
    subcode: UPDATE_ERROR.INVALID_NETWORK_FIELD,
    ctx: { fourOctetAs: true, addPath: new Set([0x0101]) },
  },
  {
    name: 'UPDATE unrecognized well-known attribute (data: the attribute)',
    bytes: updateFrame('', `${BASE} 40 63 02 beef`, NLRI),
    code: 3,
    subcode: UPDATE_ERROR.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
    data: hex('40 63 02 beef'),
  },
  {
    name: 'UPDATE MP_REACH_NLRI twice',
    bytes: updateFrame('', `80 0e 15 0002 01 10 fd000198001800000000000000000001 00  80 0e 15 0002 01 10 fd000198001800000000000000000001 00 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
  },
  {
    name: 'UPDATE MP_UNREACH_NLRI twice',
    bytes: updateFrame('', '80 0f 03 0002 01 80 0f 03 0002 01', ''),
    code: 3,
    subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
  },
  {
    name: 'UPDATE MP_REACH_NLRI IPv6 with a 4-byte next hop (NLRI cannot be located)',
    bytes: updateFrame('', `80 0e 12 0002 01 04 c6120001 00 40 fd00019800180001 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
  {
    name: 'UPDATE MP_REACH_NLRI IPv6 prefix length 129',
    bytes: updateFrame('', `80 0e 16 0002 01 10 fd000198001800000000000000000001 00 81 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
  {
    name: 'UPDATE MP_REACH_NLRI shorter than 5 bytes',
    bytes: updateFrame('', `80 0e 03 0002 01 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
  {
    name: 'UPDATE MP_REACH_NLRI next hop length overruns',
    bytes: updateFrame('', `80 0e 06 0002 01 10 0000 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
  {
    name: 'UPDATE MP_REACH_NLRI with transitive flag (flags error)',
    bytes: updateFrame('', `c0 0e 15 0002 01 10 fd000198001800000000000000000001 00 ${ORIGIN} 40 02 00`, ''),
    code: 3,
    subcode: UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR,
  },
  { name: 'UPDATE MP_UNREACH_NLRI of 2 bytes', bytes: updateFrame('', '80 0f 02 0002', ''), code: 3, subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR },
  {
    name: 'UPDATE MP_UNREACH_NLRI withdrawn prefix overruns',
    bytes: updateFrame('', '80 0f 05 0002 01 40 fd', ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
  {
    name: 'UPDATE MP_REACH_NLRI length overruns the attribute list',
    bytes: updateFrame('', '80 0e 30 0002 01 10', ''),
    code: 3,
    subcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  },
];

for (const c of RESETS) {
  void test(`reset: ${c.name} -> ${c.code}/${c.subcode}`, () => {
    assertBgpError(() => decodeMessage(c.bytes, c.ctx ?? AS4), c.code, c.subcode, c.data);
  });
}

// ------------------------------------------------------------------------------------------
// RFC 7606 treat-as-withdraw / attribute-discard cases
// ------------------------------------------------------------------------------------------

interface SoftCase {
  name: string;
  attrs: string;
  nlri?: string;
  ctx?: CodecContext;
  taw: boolean;
  /** [typeCode, subcode] of the problems expected in `errors`, in order. */
  problems: [number, number][];
  /** Attributes that must still be there (discard keeps the rest). */
  check?: (m: UpdateMessage) => void;
}

const SOFT: SoftCase[] = [
  { name: 'ORIGIN value 3', attrs: `40 01 01 03 ${ASPATH} ${NEXTHOP}`, taw: true, problems: [[ATTR.ORIGIN, UPDATE_ERROR.INVALID_ORIGIN_ATTRIBUTE]] },
  { name: 'ORIGIN length 2', attrs: `40 01 02 0000 ${ASPATH} ${NEXTHOP}`, taw: true, problems: [[ATTR.ORIGIN, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'ORIGIN flagged optional', attrs: `c0 01 01 00 ${ASPATH} ${NEXTHOP}`, taw: true, problems: [[ATTR.ORIGIN, UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR]] },
  { name: 'AS_PATH segment length 0', attrs: `${ORIGIN} 40 02 02 0200 ${NEXTHOP}`, taw: true, problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]] },
  { name: 'AS_PATH segment type 5', attrs: `${ORIGIN} 40 02 06 05 01 0000fde9 ${NEXTHOP}`, taw: true, problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]] },
  { name: 'AS_PATH segment overruns', attrs: `${ORIGIN} 40 02 06 02 02 0000fde9 ${NEXTHOP}`, taw: true, problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]] },
  { name: 'AS_PATH one trailing octet', attrs: `${ORIGIN} 40 02 07 02 01 0000fde9 02 ${NEXTHOP}`, taw: true, problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]] },
  { name: 'AS_PATH contains AS 0 (RFC 7607)', attrs: `${ORIGIN} 40 02 06 02 01 00000000 ${NEXTHOP}`, taw: true, problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]] },
  {
    name: 'AS_PATH 2-octet encoding on a 4-octet session (segment overruns)',
    attrs: `${ORIGIN} 40 02 04 02 01 fde9 ${NEXTHOP}`,
    taw: true,
    problems: [[ATTR.AS_PATH, UPDATE_ERROR.MALFORMED_AS_PATH]],
  },
  { name: 'NEXT_HOP length 5', attrs: `${ORIGIN} ${ASPATH} 40 03 05 c612000101`, taw: true, problems: [[ATTR.NEXT_HOP, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'NEXT_HOP 0.0.0.0', attrs: `${ORIGIN} ${ASPATH} 40 03 04 00000000`, taw: true, problems: [[ATTR.NEXT_HOP, UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE]] },
  { name: 'NEXT_HOP multicast 224.0.0.5', attrs: `${ORIGIN} ${ASPATH} 40 03 04 e0000005`, taw: true, problems: [[ATTR.NEXT_HOP, UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE]] },
  { name: 'MULTI_EXIT_DISC length 3', attrs: `${BASE} 80 04 03 000064`, taw: true, problems: [[ATTR.MULTI_EXIT_DISC, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'MULTI_EXIT_DISC flagged well-known', attrs: `${BASE} 40 04 04 00000064`, taw: true, problems: [[ATTR.MULTI_EXIT_DISC, UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR]] },
  { name: 'LOCAL_PREF length 5', attrs: `${BASE} 40 05 05 0000006400`, taw: true, problems: [[ATTR.LOCAL_PREF, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  {
    name: 'LOCAL_PREF from an eBGP peer is discarded',
    attrs: `${BASE} 40 05 04 00000064`,
    ctx: { fourOctetAs: true, ebgp: true },
    taw: false,
    problems: [[ATTR.LOCAL_PREF, 0]],
    check: (m) => assert.equal(m.attributes.localPref, undefined),
  },
  {
    name: 'ATOMIC_AGGREGATE length 1 is discarded',
    attrs: `${BASE} 40 06 01 00`,
    taw: false,
    problems: [[ATTR.ATOMIC_AGGREGATE, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]],
    check: (m) => {
      assert.equal(m.attributes.atomicAggregate, undefined);
      assert.equal(m.attributes.nextHop, '198.18.0.1');
    },
  },
  {
    name: 'AGGREGATOR of 6 bytes on a 4-octet session is discarded',
    attrs: `${BASE} c0 07 06 fde9 c6120002`,
    taw: false,
    problems: [[ATTR.AGGREGATOR, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]],
    check: (m) => assert.equal(m.attributes.aggregator, undefined),
  },
  { name: 'AGGREGATOR AS 0 is discarded', attrs: `${BASE} c0 07 08 00000000 c6120002`, taw: false, problems: [[ATTR.AGGREGATOR, UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR]] },
  { name: 'AGGREGATOR flagged non-transitive is discarded', attrs: `${BASE} 80 07 08 0000fde9 c6120002`, taw: false, problems: [[ATTR.AGGREGATOR, UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR]] },
  { name: 'COMMUNITIES length 6', attrs: `${BASE} c0 08 06 fde90001 0000`, taw: true, problems: [[ATTR.COMMUNITIES, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'COMMUNITIES length 0', attrs: `${BASE} c0 08 00`, taw: true, problems: [[ATTR.COMMUNITIES, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'ORIGINATOR_ID length 5', attrs: `${BASE} 80 09 05 c612000300`, taw: true, problems: [[ATTR.ORIGINATOR_ID, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'CLUSTER_LIST length 6', attrs: `${BASE} 80 0a 06 c6120004 0000`, taw: true, problems: [[ATTR.CLUSTER_LIST, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  {
    name: 'ORIGINATOR_ID and CLUSTER_LIST from an eBGP peer are discarded',
    attrs: `${BASE} 80 09 04 c6120003 80 0a 04 c6120004`,
    ctx: { fourOctetAs: true, ebgp: true },
    taw: false,
    problems: [
      [ATTR.ORIGINATOR_ID, 0],
      [ATTR.CLUSTER_LIST, 0],
    ],
  },
  { name: 'EXTENDED_COMMUNITIES length 7', attrs: `${BASE} c0 10 07 0002fde9000000`, taw: true, problems: [[ATTR.EXTENDED_COMMUNITIES, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  { name: 'LARGE_COMMUNITY length 11', attrs: `${BASE} c0 20 0b fa56ea01 00000001 000000`, taw: true, problems: [[ATTR.LARGE_COMMUNITY, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]] },
  {
    name: 'AS4_PATH from a 4-octet peer is discarded (RFC 6793 §4.1)',
    attrs: `${BASE} c0 11 06 02 01 fa56ea01`,
    taw: false,
    problems: [[ATTR.AS4_PATH, 0]],
    check: (m) => assert.deepEqual(m.attributes.asPath, [{ type: 2, asns: [65001] }]),
  },
  {
    name: 'malformed AS4_PATH from a 2-octet peer is discarded; AS_PATH used as is',
    attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXTHOP} c0 11 05 02 01 fa56ea`,
    ctx: AS2,
    taw: false,
    problems: [[ATTR.AS4_PATH, UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR]],
    check: (m) => assert.deepEqual(m.attributes.asPath, [{ type: 2, asns: [23456] }]),
  },
  {
    name: 'AS4_AGGREGATOR ignored when AGGREGATOR is not AS_TRANS; AS4_PATH ignored too',
    attrs: `${ORIGIN} 40 02 04 02 01 5ba0 ${NEXTHOP} c0 07 06 fde9 c6120002 c0 11 06 02 01 fa56ea01 c0 12 08 fa56ea01 c6120002`,
    ctx: AS2,
    taw: false,
    problems: [],
    check: (m) => {
      assert.deepEqual(m.attributes.aggregator, { asn: 65001, address: '198.18.0.2' });
      assert.deepEqual(m.attributes.asPath, [{ type: 2, asns: [23456] }]);
    },
  },
  {
    name: 'repeated COMMUNITIES: the first is kept, the rest discarded',
    attrs: `${BASE} c0 08 04 fde90001 c0 08 04 fde90002`,
    taw: false,
    problems: [[ATTR.COMMUNITIES, UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST]],
    check: (m) => assert.deepEqual(m.attributes.communities, [0xfde90001]),
  },
  { name: 'ORIGIN missing with NLRI', attrs: `${ASPATH} ${NEXTHOP}`, taw: true, problems: [[ATTR.ORIGIN, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE]] },
  {
    name: 'everything missing with NLRI',
    attrs: '',
    taw: true,
    problems: [
      [ATTR.ORIGIN, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE],
      [ATTR.AS_PATH, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE],
      [ATTR.NEXT_HOP, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE],
    ],
  },
  { name: 'NEXT_HOP missing with body NLRI', attrs: `${ORIGIN} ${ASPATH}`, taw: true, problems: [[ATTR.NEXT_HOP, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE]] },
  { name: 'no NLRI: missing attributes are fine', attrs: `${ORIGIN}`, nlri: '', taw: false, problems: [] },
  {
    name: 'MP_REACH_NLRI only: NEXT_HOP not required',
    attrs: `80 0e 1e 0002 01 10 fd000198001800000000000000000001 00 40 fd00019800180001 ${ORIGIN} 40 02 00`,
    nlri: '',
    taw: false,
    problems: [],
  },
  {
    name: 'MP_REACH_NLRI with AS_PATH missing',
    attrs: `80 0e 1e 0002 01 10 fd000198001800000000000000000001 00 40 fd00019800180001 ${ORIGIN}`,
    nlri: '',
    taw: true,
    problems: [[ATTR.AS_PATH, UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE]],
  },
  {
    name: 'MP_REACH_NLRI next hop :: (treat-as-withdraw)',
    attrs: `80 0e 1e 0002 01 10 00000000000000000000000000000000 00 40 fd00019800180001 ${ORIGIN} 40 02 00`,
    nlri: '',
    taw: true,
    problems: [[ATTR.MP_REACH_NLRI, UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE]],
  },
  {
    name: 'MP_REACH_NLRI of an unsupported family (AFI 25) is discarded',
    attrs: `80 0e 09 0019 46 04 c6120001 00 ${BASE}`,
    taw: false,
    problems: [[ATTR.MP_REACH_NLRI, UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR]],
    check: (m) => assert.equal(m.mpReach, undefined),
  },
  {
    name: 'attribute length overruns the attribute list (RFC 7606 §4)',
    attrs: `${BASE} c0 08 08 fde90001`,
    taw: true,
    problems: [[ATTR.COMMUNITIES, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR]],
  },
  { name: 'two octets left in the attribute list', attrs: `${BASE} c0 08`, taw: true, problems: [[0, UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST]] },
  {
    name: 'unknown optional non-transitive attribute is dropped silently',
    attrs: `${BASE} 80 63 02 beef`,
    taw: false,
    problems: [],
    check: (m) => assert.equal(m.attributes.unknown, undefined),
  },
  {
    name: 'unknown optional transitive attribute is kept with its flags',
    attrs: `${BASE} c0 63 02 beef`,
    taw: false,
    problems: [],
    check: (m) => assert.deepEqual(m.attributes.unknown?.map((u) => [u.flags, u.typeCode, toHex(u.value)]), [[0xc0, 99, 'beef']]),
  },
  {
    name: 'strongest action wins: ATOMIC_AGGREGATE discard + ORIGIN treat-as-withdraw',
    attrs: `40 01 01 07 ${ASPATH} ${NEXTHOP} 40 06 01 00`,
    taw: true,
    problems: [
      [ATTR.ORIGIN, UPDATE_ERROR.INVALID_ORIGIN_ATTRIBUTE],
      [ATTR.ATOMIC_AGGREGATE, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR],
    ],
  },
];

for (const c of SOFT) {
  void test(`RFC 7606: ${c.name} -> ${c.taw ? 'treat-as-withdraw' : c.problems.length ? 'attribute-discard' : 'accepted'}`, () => {
    const bytes = updateFrame('18 c61301', c.attrs, c.nlri ?? NLRI);
    const r = upd(bytes, c.ctx ?? AS4);
    assert.equal(r.treatAsWithdraw, c.taw, `treatAsWithdraw (errors: ${JSON.stringify(r.errors)})`);
    assert.deepEqual(
      r.errors.map((e) => [e.typeCode, e.subcode]),
      c.problems,
      JSON.stringify(r.errors),
    );
    for (const e of r.errors) assert.ok(e.reason.length > 5);
    // Discarded = the problems whose action is attribute-discard.
    assert.deepEqual(
      r.discarded,
      r.errors.filter((e) => e.action === 'attribute-discard'),
    );
    if (!c.taw) assert.ok(r.errors.every((e) => e.action === 'attribute-discard'));
    // The prefixes are always reported, so treat-as-withdraw can withdraw them.
    assert.deepEqual(r.message.withdrawn.map((p) => p.key), ['198.19.1.0/24']);
    if ((c.nlri ?? NLRI) === NLRI) assert.deepEqual(r.message.nlri.map((p) => p.key), ['198.19.0.0/24']);
    c.check?.(r.message);
  });
}

void test('UPDATE body shorter than 4 bytes through decodeMessage is caught by framing (length < 23)', () => {
  assertBgpError(() => decodeMessage(hex(`${M} 0015 02 0000`), AS4), 1, HEADER_ERROR.BAD_MESSAGE_LENGTH);
});
