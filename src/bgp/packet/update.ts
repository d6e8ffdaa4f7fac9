// UPDATE message body: withdrawn routes, path attributes, NLRI (RFC 4271 §4.3, RFC 4760,
// RFC 6793, RFC 7911, RFC 8950) with RFC 7606 revised error handling.
//
// Error actions (strongest wins): session reset (thrown BgpMessageError) > treat-as-withdraw >
// attribute discard. See docs/design/bgp-codec.md for the per-attribute table.
import type { ByteReader, ByteWriter } from './bytes.ts';
import { mergeAs4Attributes, toTwoOctetPath } from './as4.ts';
import { decodeNlriRun, familyKey, formatIpv4, formatIpv6, parseIpv4, parseIpv6, writeNlri, nlriSize } from './prefix.ts';
import {
  ATTR,
  ATTR_FLAG,
  BgpEncodeError,
  BgpMessageError,
  ERROR_CODE,
  UPDATE_ERROR,
} from './types.ts';
import type {
  Afi,
  Aggregator,
  AsPathSegment,
  AsPathSegmentType,
  AttributeProblem,
  CodecContext,
  DecodeResult,
  ErrorAction,
  LargeCommunity,
  MpReach,
  MpUnreach,
  PathAttributes,
  Prefix,
  RawAttribute,
  UpdateMessage,
} from './types.ts';

const O = ATTR_FLAG.OPTIONAL;
const T = ATTR_FLAG.TRANSITIVE;

/** Expected Optional|Transitive bits per known attribute. */
const EXPECTED_FLAGS: Record<number, number> = {
  [ATTR.ORIGIN]: T,
  [ATTR.AS_PATH]: T,
  [ATTR.NEXT_HOP]: T,
  [ATTR.MULTI_EXIT_DISC]: O,
  [ATTR.LOCAL_PREF]: T,
  [ATTR.ATOMIC_AGGREGATE]: T,
  [ATTR.AGGREGATOR]: O | T,
  [ATTR.COMMUNITIES]: O | T,
  [ATTR.ORIGINATOR_ID]: O,
  [ATTR.CLUSTER_LIST]: O,
  [ATTR.MP_REACH_NLRI]: O,
  [ATTR.MP_UNREACH_NLRI]: O,
  [ATTR.EXTENDED_COMMUNITIES]: O | T,
  [ATTR.AS4_PATH]: O | T,
  [ATTR.AS4_AGGREGATOR]: O | T,
  [ATTR.LARGE_COMMUNITY]: O | T,
};

/** RFC 7606 action for a malformed instance of each known attribute (MP_* reset, handled inline). */
const MALFORMED_ACTION: Record<number, ErrorAction> = {
  [ATTR.ORIGIN]: 'treat-as-withdraw', // §7.1
  [ATTR.AS_PATH]: 'treat-as-withdraw', // §7.2
  [ATTR.NEXT_HOP]: 'treat-as-withdraw', // §7.3
  [ATTR.MULTI_EXIT_DISC]: 'treat-as-withdraw', // §7.4
  [ATTR.LOCAL_PREF]: 'treat-as-withdraw', // §7.5
  [ATTR.ATOMIC_AGGREGATE]: 'attribute-discard', // §7.6
  [ATTR.AGGREGATOR]: 'attribute-discard', // §7.7
  [ATTR.COMMUNITIES]: 'treat-as-withdraw', // §7.8
  [ATTR.ORIGINATOR_ID]: 'treat-as-withdraw', // §7.9
  [ATTR.CLUSTER_LIST]: 'treat-as-withdraw', // §7.10
  [ATTR.EXTENDED_COMMUNITIES]: 'treat-as-withdraw', // §7.14
  [ATTR.AS4_PATH]: 'attribute-discard', // RFC 6793 §6
  [ATTR.AS4_AGGREGATOR]: 'attribute-discard', // RFC 6793 §6
  [ATTR.LARGE_COMMUNITY]: 'treat-as-withdraw', // RFC 8092 §6
};

const ATTR_NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(ATTR)) ATTR_NAMES[v] = k;
function attrName(t: number): string {
  return ATTR_NAMES[t] ?? `attribute ${t}`;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function updateError(subcode: number, data: Uint8Array, message: string): BgpMessageError {
  return new BgpMessageError(ERROR_CODE.UPDATE_MESSAGE_ERROR, subcode, data, message);
}

/** Martian IPv4 next hops the codec rejects: 0.0.0.0, 224.0.0.0/4 multicast, 255.255.255.255. */
function badIpv4NextHop(b: Uint8Array, i: number): boolean {
  const a = b[i]!;
  if (a >= 224 && a <= 239) return true;
  const v = u32(b, i);
  return v === 0 || v === 0xffffffff;
}

/** Unspecified (::) or multicast (ff00::/8) IPv6 next hops. */
function badIpv6NextHop(b: Uint8Array, i: number): boolean {
  if (b[i] === 0xff) return true;
  for (let k = 0; k < 16; k++) if (b[i + k] !== 0) return false;
  return true;
}

interface MutableAttrs {
  origin?: 0 | 1 | 2;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  extendedCommunities?: Uint8Array[];
  largeCommunities?: LargeCommunity[];
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
  unknown?: RawAttribute[];
}

/** Parse AS_PATH / AS4_PATH segments; returns null + reason on malformation (RFC 7606 §7.2). */
function parseAsPath(
  b: Uint8Array,
  pos: number,
  end: number,
  asSize: 2 | 4,
): { path: AsPathSegment[] | null; reason: string } {
  const path: AsPathSegment[] = [];
  while (pos < end) {
    if (end - pos < 2) return { path: null, reason: 'a single trailing octet after the last segment' };
    const type = b[pos]!;
    const count = b[pos + 1]!;
    if (type < 1 || type > 4) return { path: null, reason: `unrecognized segment type ${type}` };
    if (count === 0) return { path: null, reason: 'segment with length zero' };
    pos += 2;
    const bytes = count * asSize;
    if (pos + bytes > end) return { path: null, reason: `segment of ${count} ASes overruns the attribute` };
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const a = asSize === 4 ? u32(b, pos) : u16(b, pos);
      if (a === 0) return { path: null, reason: 'contains AS 0 (RFC 7607)' };
      asns[i] = a;
      pos += asSize;
    }
    path.push({ type: type as AsPathSegmentType, asns });
  }
  return { path, reason: '' };
}

/** The attribute bytes (flags, type, length, value) for NOTIFICATION data. */
function attrBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  return b.slice(start, end);
}

/**
 * Decode an UPDATE body (after the 19-byte header) from buf[start, end).
 * Throws BgpMessageError where RFC 7606 requires a session reset.
 */
export function decodeUpdateBody(buf: Uint8Array, start: number, end: number, ctx: CodecContext): DecodeResult<UpdateMessage> {
  const empty = new Uint8Array(0);
  if (end - start < 4) {
    throw updateError(UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, empty, `UPDATE body is ${end - start} bytes, need at least 4`);
  }
  const addPath = ctx.addPath;
  const addPathV4 = addPath !== undefined && addPath.has(0x0101);

  // --- Withdrawn routes
  const wlen = u16(buf, start);
  const wStart = start + 2;
  const wEnd = wStart + wlen;
  if (wEnd + 2 > end) {
    throw updateError(
      UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
      empty,
      `UPDATE Withdrawn Routes Length ${wlen} exceeds the message (${end - wStart - 2} bytes available)`,
    );
  }
  const withdrawn: Prefix[] = [];
  const wErr = decodeNlriRun(buf, wStart, wEnd, 1, addPathV4, withdrawn);
  if (wErr !== null) throw updateError(UPDATE_ERROR.INVALID_NETWORK_FIELD, empty, `UPDATE Withdrawn Routes: ${wErr}`);

  // --- Path attributes
  const alen = u16(buf, wEnd);
  const aStart = wEnd + 2;
  const aEnd = aStart + alen;
  if (aEnd > end) {
    throw updateError(
      UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
      empty,
      `UPDATE Total Path Attribute Length ${alen} exceeds the message (${end - aStart} bytes available)`,
    );
  }

  // --- NLRI (parsed before attributes: a malformed NLRI field is a reset whatever else is wrong)
  const nlri: Prefix[] = [];
  const nErr = decodeNlriRun(buf, aEnd, end, 1, addPathV4, nlri);
  if (nErr !== null) throw updateError(UPDATE_ERROR.INVALID_NETWORK_FIELD, empty, `UPDATE NLRI: ${nErr}`);

  const attrs: MutableAttrs = {};
  let mpReach: MpReach | undefined;
  let mpUnreach: MpUnreach | undefined;
  let treatAsWithdraw = false;
  const discarded: AttributeProblem[] = [];
  const errors: AttributeProblem[] = [];
  const seen = new Uint8Array(256);
  const problem = (typeCode: number, action: ErrorAction, subcode: number, reason: string): void => {
    const p: AttributeProblem = { typeCode, action, subcode, reason: `${attrName(typeCode)}: ${reason}` };
    errors.push(p);
    if (action === 'treat-as-withdraw') treatAsWithdraw = true;
    else discarded.push(p);
  };
  const asSize: 2 | 4 = ctx.fourOctetAs ? 4 : 2;

  let pos = aStart;
  while (pos < aEnd) {
    const hStart = pos;
    const left = aEnd - pos;
    if (left < 3) {
      problem(0, 'treat-as-withdraw', UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, `${left} octets left in the attribute list, too few for an attribute header`);
      break;
    }
    const flags = buf[pos]!;
    const type = buf[pos + 1]!;
    const ext = (flags & ATTR_FLAG.EXTENDED_LENGTH) !== 0;
    if (ext && left < 4) {
      problem(type, 'treat-as-withdraw', UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, '3 octets left, too few for an extended-length attribute header');
      break;
    }
    const len = ext ? u16(buf, pos + 2) : buf[pos + 2]!;
    const v = pos + (ext ? 4 : 3);
    const vEnd = v + len;
    if (vEnd > aEnd) {
      if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) {
        throw updateError(
          UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
          attrBytes(buf, hStart, aEnd),
          `UPDATE ${attrName(type)}: length ${len} overruns the path attributes by ${vEnd - aEnd} bytes`,
        );
      }
      problem(type, 'treat-as-withdraw', UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR, `length ${len} overruns the path attributes by ${vEnd - aEnd} bytes`);
      break;
    }
    pos = vEnd;

    if (seen[type]) {
      if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) {
        throw updateError(UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, empty, `UPDATE carries ${attrName(type)} more than once`);
      }
      problem(type, 'attribute-discard', UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, 'repeated attribute, all but the first discarded');
      continue;
    }
    seen[type] = 1;

    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      // Unrecognized attribute.
      if ((flags & O) === 0) {
        throw updateError(
          UPDATE_ERROR.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          attrBytes(buf, hStart, vEnd),
          `UPDATE carries unrecognized well-known attribute type ${type}`,
        );
      }
      if ((flags & T) !== 0) {
        (attrs.unknown ??= []).push({ flags: flags & ~ATTR_FLAG.EXTENDED_LENGTH, typeCode: type, value: buf.slice(v, vEnd) });
      }
      continue;
    }

    if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) {
      if ((flags & (O | T)) !== expected) {
        throw updateError(
          UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR,
          attrBytes(buf, hStart, vEnd),
          `UPDATE ${attrName(type)}: flags 0x${flags.toString(16)}, expected optional non-transitive`,
        );
      }
      const data = attrBytes(buf, hStart, vEnd);
      if (type === ATTR.MP_REACH_NLRI) {
        const r = decodeMpReach(buf, v, vEnd, ctx, data);
        if (r === 'unsupported') {
          problem(type, 'attribute-discard', UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, `AFI ${u16(buf, v)} / SAFI ${buf[v + 2]} not supported`);
        } else {
          mpReach = r.reach;
          if (r.badNextHop) problem(type, 'treat-as-withdraw', UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE, r.badNextHop);
        }
      } else {
        const r = decodeMpUnreach(buf, v, vEnd, ctx, data);
        if (r === 'unsupported') {
          problem(type, 'attribute-discard', UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, `AFI ${u16(buf, v)} / SAFI ${buf[v + 2]} not supported`);
        } else {
          mpUnreach = r;
        }
      }
      continue;
    }

    const malformedAction = MALFORMED_ACTION[type]!;
    if ((flags & (O | T)) !== expected) {
      problem(
        type,
        malformedAction,
        UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR,
        `flags 0x${flags.toString(16)} conflict with the attribute's ${expected & O ? 'optional' : 'well-known'} ${expected & T ? 'transitive' : 'non-transitive'} type`,
      );
      continue;
    }
    const lengthError = (want: string): void => {
      problem(type, malformedAction, UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR, `length ${len}, expected ${want}`);
    };

    switch (type) {
      case ATTR.ORIGIN: {
        if (len !== 1) {
          lengthError('1');
          break;
        }
        const o = buf[v]!;
        if (o > 2) problem(type, 'treat-as-withdraw', UPDATE_ERROR.INVALID_ORIGIN_ATTRIBUTE, `undefined value ${o}`);
        else attrs.origin = o as 0 | 1 | 2;
        break;
      }
      case ATTR.AS_PATH: {
        const r = parseAsPath(buf, v, vEnd, asSize);
        if (r.path === null) problem(type, 'treat-as-withdraw', UPDATE_ERROR.MALFORMED_AS_PATH, r.reason);
        else attrs.asPath = r.path;
        break;
      }
      case ATTR.NEXT_HOP:
        if (len !== 4) lengthError('4');
        else if (badIpv4NextHop(buf, v)) {
          problem(type, 'treat-as-withdraw', UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE, `${formatIpv4(buf, v)} is not a valid host address`);
        } else attrs.nextHop = formatIpv4(buf, v);
        break;
      case ATTR.MULTI_EXIT_DISC:
        if (len !== 4) lengthError('4');
        else attrs.med = u32(buf, v);
        break;
      case ATTR.LOCAL_PREF:
        if (ctx.ebgp) problem(type, 'attribute-discard', 0, 'received from an external peer (RFC 4271 §5.1.5)');
        else if (len !== 4) lengthError('4');
        else attrs.localPref = u32(buf, v);
        break;
      case ATTR.ATOMIC_AGGREGATE:
        if (len !== 0) lengthError('0');
        else attrs.atomicAggregate = true;
        break;
      case ATTR.AGGREGATOR: {
        const want = asSize + 4;
        if (len !== want) {
          lengthError(String(want));
          break;
        }
        const asn = asSize === 4 ? u32(buf, v) : u16(buf, v);
        if (asn === 0) problem(type, 'attribute-discard', UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, 'AS 0 (RFC 7607)');
        else attrs.aggregator = { asn, address: formatIpv4(buf, v + asSize) };
        break;
      }
      case ATTR.COMMUNITIES:
        if (len === 0 || len % 4 !== 0) lengthError('a non-zero multiple of 4');
        else {
          const c = new Array<number>(len / 4);
          for (let i = 0; i < c.length; i++) c[i] = u32(buf, v + 4 * i);
          attrs.communities = c;
        }
        break;
      case ATTR.ORIGINATOR_ID:
        if (ctx.ebgp) problem(type, 'attribute-discard', 0, 'received from an external peer');
        else if (len !== 4) lengthError('4');
        else attrs.originatorId = formatIpv4(buf, v);
        break;
      case ATTR.CLUSTER_LIST:
        if (ctx.ebgp) problem(type, 'attribute-discard', 0, 'received from an external peer');
        else if (len === 0 || len % 4 !== 0) lengthError('a non-zero multiple of 4');
        else {
          const c = new Array<string>(len / 4);
          for (let i = 0; i < c.length; i++) c[i] = formatIpv4(buf, v + 4 * i);
          attrs.clusterList = c;
        }
        break;
      case ATTR.EXTENDED_COMMUNITIES:
        if (len === 0 || len % 8 !== 0) lengthError('a non-zero multiple of 8');
        else {
          const c = new Array<Uint8Array>(len / 8);
          for (let i = 0; i < c.length; i++) c[i] = buf.slice(v + 8 * i, v + 8 * i + 8);
          attrs.extendedCommunities = c;
        }
        break;
      case ATTR.LARGE_COMMUNITY:
        if (len === 0 || len % 12 !== 0) lengthError('a non-zero multiple of 12');
        else {
          const c = new Array<LargeCommunity>(len / 12);
          for (let i = 0; i < c.length; i++) {
            const o = v + 12 * i;
            c[i] = { globalAdmin: u32(buf, o), localData1: u32(buf, o + 4), localData2: u32(buf, o + 8) };
          }
          attrs.largeCommunities = c;
        }
        break;
      case ATTR.AS4_PATH: {
        if (ctx.fourOctetAs) {
          problem(type, 'attribute-discard', 0, 'received from a 4-octet AS speaker (RFC 6793 §4.1)');
          break;
        }
        const r = parseAsPath(buf, v, vEnd, 4);
        if (r.path === null) problem(type, 'attribute-discard', UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, r.reason);
        else attrs.as4Path = r.path;
        break;
      }
      case ATTR.AS4_AGGREGATOR: {
        if (ctx.fourOctetAs) {
          problem(type, 'attribute-discard', 0, 'received from a 4-octet AS speaker (RFC 6793 §4.1)');
          break;
        }
        if (len !== 8) {
          lengthError('8');
          break;
        }
        const asn = u32(buf, v);
        if (asn === 0) problem(type, 'attribute-discard', UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, 'AS 0 (RFC 7607)');
        else attrs.as4Aggregator = { asn, address: formatIpv4(buf, v + 4) };
        break;
      }
    }
  }

  // --- Missing well-known attributes (RFC 7606 §3 d: treat-as-withdraw)
  const hasBodyNlri = nlri.length > 0;
  const hasMpNlri = mpReach !== undefined && mpReach.nlri.length > 0;
  if (hasBodyNlri || hasMpNlri) {
    const missing: number[] = [];
    if (!seen[ATTR.ORIGIN]) missing.push(ATTR.ORIGIN);
    if (!seen[ATTR.AS_PATH]) missing.push(ATTR.AS_PATH);
    if (hasBodyNlri && !seen[ATTR.NEXT_HOP]) missing.push(ATTR.NEXT_HOP);
    for (const t of missing) problem(t, 'treat-as-withdraw', UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE, 'missing');
  }

  const attributes: PathAttributes = ctx.fourOctetAs ? attrs : mergeAs4Attributes(attrs);
  const message: UpdateMessage =
    mpReach === undefined && mpUnreach === undefined
      ? { type: 'UPDATE', withdrawn, attributes, nlri }
      : mpUnreach === undefined
        ? { type: 'UPDATE', withdrawn, attributes, nlri, mpReach }
        : mpReach === undefined
          ? { type: 'UPDATE', withdrawn, attributes, nlri, mpUnreach }
          : { type: 'UPDATE', withdrawn, attributes, nlri, mpReach, mpUnreach };
  return { message, treatAsWithdraw, discarded, errors };
}

function supportedFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

function decodeMpReach(
  buf: Uint8Array,
  v: number,
  vEnd: number,
  ctx: CodecContext,
  data: Uint8Array,
): { reach: MpReach; badNextHop: string | null } | 'unsupported' {
  const fail = (why: string): never => {
    throw updateError(UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, data, `UPDATE MP_REACH_NLRI: ${why}`);
  };
  if (vEnd - v < 5) fail(`length ${vEnd - v}, need at least 5`);
  const afi = u16(buf, v);
  const safi = buf[v + 2]!;
  const nhLen = buf[v + 3]!;
  if (v + 4 + nhLen + 1 > vEnd) fail(`next hop length ${nhLen} overruns the attribute`);
  if (!supportedFamily(afi, safi)) return 'unsupported';
  const nh = v + 4;
  let nextHop: string;
  let linkLocal: string | undefined;
  let badNextHop: string | null = null;
  if (afi === 1 && nhLen === 4) {
    nextHop = formatIpv4(buf, nh);
    if (badIpv4NextHop(buf, nh)) badNextHop = `next hop ${nextHop} is not a valid host address`;
  } else if (nhLen === 16 || nhLen === 32) {
    nextHop = formatIpv6(buf, nh);
    if (badIpv6NextHop(buf, nh)) badNextHop = `next hop ${nextHop} is not a valid host address`;
    if (nhLen === 32) linkLocal = formatIpv6(buf, nh + 16);
  } else {
    return fail(`next hop length ${nhLen} is not valid for AFI ${afi} (expected ${afi === 1 ? '4, 16 or 32' : '16 or 32'})`);
  }
  const nlri: Prefix[] = [];
  const err = decodeNlriRun(buf, nh + nhLen + 1, vEnd, afi as Afi, ctx.addPath?.has(familyKey(afi, safi)) ?? false, nlri);
  if (err !== null) fail(`NLRI: ${err}`);
  const reach: MpReach =
    linkLocal === undefined
      ? { afi: afi as Afi, safi, nextHop, nlri }
      : { afi: afi as Afi, safi, nextHop, linkLocalNextHop: linkLocal, nlri };
  return { reach, badNextHop };
}

function decodeMpUnreach(buf: Uint8Array, v: number, vEnd: number, ctx: CodecContext, data: Uint8Array): MpUnreach | 'unsupported' {
  if (vEnd - v < 3) {
    throw updateError(UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, data, `UPDATE MP_UNREACH_NLRI: length ${vEnd - v}, need at least 3`);
  }
  const afi = u16(buf, v);
  const safi = buf[v + 2]!;
  if (!supportedFamily(afi, safi)) return 'unsupported';
  const withdrawn: Prefix[] = [];
  const err = decodeNlriRun(buf, v + 3, vEnd, afi as Afi, ctx.addPath?.has(familyKey(afi, safi)) ?? false, withdrawn);
  if (err !== null) throw updateError(UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR, data, `UPDATE MP_UNREACH_NLRI: withdrawn routes: ${err}`);
  return { afi: afi as Afi, safi, withdrawn };
}

export function decodeUpdate(reader: ByteReader, ctx: CodecContext): DecodeResult<UpdateMessage> {
  const r = decodeUpdateBody(reader.buf, reader.pos, reader.end, ctx);
  reader.pos = reader.end;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Start an attribute: writes flags (with EXTENDED_LENGTH) and type and a 2-byte length slot. */
function beginAttr(w: ByteWriter, flags: number, type: number): number {
  const at = w.length;
  w.u8((flags | ATTR_FLAG.EXTENDED_LENGTH) & 0xf0);
  w.u8(type);
  w.u16(0);
  return at;
}

/** Finish an attribute: patch its length, shrinking to a 1-byte length when it fits. */
function endAttr(w: ByteWriter, at: number): void {
  const len = w.length - at - 4;
  if (len > 0xffff) throw new BgpEncodeError(`path attribute ${attrName(w.buf[at + 1]!)} is ${len} bytes, max 65535`);
  if (len <= 255) {
    w.buf[at] = w.buf[at]! & ~ATTR_FLAG.EXTENDED_LENGTH;
    w.buf[at + 2] = len;
    w.buf.copyWithin(at + 3, at + 4, w.pos);
    w.pos -= 1;
  } else {
    w.setU16(at + 2, len);
  }
}

function ipv4(text: string, what: string): Uint8Array {
  try {
    return parseIpv4(text);
  } catch (e) {
    throw new BgpEncodeError(`${what}: ${(e as Error).message}`);
  }
}

function ipv6(text: string, what: string): Uint8Array {
  try {
    return parseIpv6(text);
  } catch (e) {
    throw new BgpEncodeError(`${what}: ${(e as Error).message}`);
  }
}

function writeAsPath(w: ByteWriter, path: readonly AsPathSegment[], asSize: 2 | 4, what: string): void {
  for (const s of path) {
    const asns = s.asns;
    if (asns.length === 0) continue;
    for (let i = 0; i < asns.length; i += 255) {
      const n = Math.min(255, asns.length - i);
      w.u8(s.type);
      w.u8(n);
      for (let k = i; k < i + n; k++) {
        const a = asns[k]!;
        if (asSize === 2) {
          if (a > 0xffff || a < 0) throw new BgpEncodeError(`${what}: AS ${a} does not fit 2 octets`);
          w.u16(a);
        } else {
          if (a > 0xffffffff || a < 0) throw new BgpEncodeError(`${what}: AS ${a} outside 0..4294967295`);
          w.u32(a);
        }
      }
    }
  }
}

function writeMpReachBody(w: ByteWriter, r: MpReach, ctx: CodecContext, nlri: readonly Prefix[]): void {
  w.u16(r.afi);
  w.u8(r.safi);
  if (r.nextHop.includes(':')) {
    const g = ipv6(r.nextHop, 'MP_REACH_NLRI next hop');
    if (r.linkLocalNextHop !== undefined) {
      w.u8(32);
      w.bytes(g);
      w.bytes(ipv6(r.linkLocalNextHop, 'MP_REACH_NLRI link-local next hop'));
    } else {
      w.u8(16);
      w.bytes(g);
    }
  } else {
    if (r.afi !== 1) throw new BgpEncodeError(`MP_REACH_NLRI: IPv4 next hop ${r.nextHop} for AFI ${r.afi}`);
    w.u8(4);
    w.bytes(ipv4(r.nextHop, 'MP_REACH_NLRI next hop'));
  }
  w.u8(0); // Reserved
  writeNlriList(w, nlri, r.afi, ctx.addPath?.has(familyKey(r.afi, r.safi)) ?? false, 'MP_REACH_NLRI');
}

export function writeNlriList(w: ByteWriter, list: readonly Prefix[], afi: Afi, addPath: boolean, what: string): void {
  let size = 0;
  for (const p of list) {
    if (p.afi !== afi) throw new BgpEncodeError(`${what}: prefix ${p.key} is not AFI ${afi}`);
    size += nlriSize(p, addPath);
  }
  w.ensure(size);
  let pos = w.pos;
  for (const p of list) pos = writeNlri(w.buf, pos, p, addPath);
  w.pos = pos;
}

/** Write MP_REACH_NLRI as an attribute (header included). */
export function writeMpReachAttr(w: ByteWriter, r: MpReach, ctx: CodecContext, nlri: readonly Prefix[] = r.nlri): void {
  const at = beginAttr(w, O, ATTR.MP_REACH_NLRI);
  writeMpReachBody(w, r, ctx, nlri);
  endAttr(w, at);
}

/** Write MP_UNREACH_NLRI as an attribute (header included). */
export function writeMpUnreachAttr(w: ByteWriter, u: MpUnreach, ctx: CodecContext, withdrawn: readonly Prefix[] = u.withdrawn): void {
  const at = beginAttr(w, O, ATTR.MP_UNREACH_NLRI);
  w.u16(u.afi);
  w.u8(u.safi);
  writeNlriList(w, withdrawn, u.afi, ctx.addPath?.has(familyKey(u.afi, u.safi)) ?? false, 'MP_UNREACH_NLRI');
  endAttr(w, at);
}

/**
 * Write the shared path attributes in ascending type order. For a 2-octet peer
 * (ctx.fourOctetAs false) AS_TRANS substitution + AS4_PATH/AS4_AGGREGATOR are applied here;
 * for a 4-octet peer AS4_* are never sent.
 */
export function writePathAttributes(w: ByteWriter, attrsIn: PathAttributes, ctx: CodecContext): void {
  const a = ctx.fourOctetAs ? attrsIn : toTwoOctetPath(attrsIn);
  const asSize: 2 | 4 = ctx.fourOctetAs ? 4 : 2;
  const unknown = a.unknown ? [...a.unknown].sort((x, y) => x.typeCode - y.typeCode) : [];
  let ui = 0;
  const unknownUpTo = (code: number): void => {
    while (ui < unknown.length && unknown[ui]!.typeCode < code) {
      const u = unknown[ui++]!;
      if (EXPECTED_FLAGS[u.typeCode] !== undefined) {
        throw new BgpEncodeError(`unknown attribute list holds known type ${attrName(u.typeCode)}`);
      }
      const at = beginAttr(w, u.flags, u.typeCode);
      w.bytes(u.value);
      endAttr(w, at);
    }
  };
  let at: number;
  if (a.origin !== undefined) {
    unknownUpTo(ATTR.ORIGIN);
    if (a.origin !== 0 && a.origin !== 1 && a.origin !== 2) throw new BgpEncodeError(`ORIGIN ${String(a.origin)} not 0..2`);
    at = beginAttr(w, T, ATTR.ORIGIN);
    w.u8(a.origin);
    endAttr(w, at);
  }
  if (a.asPath !== undefined) {
    unknownUpTo(ATTR.AS_PATH);
    at = beginAttr(w, T, ATTR.AS_PATH);
    writeAsPath(w, a.asPath, asSize, 'AS_PATH');
    endAttr(w, at);
  }
  if (a.nextHop !== undefined) {
    unknownUpTo(ATTR.NEXT_HOP);
    at = beginAttr(w, T, ATTR.NEXT_HOP);
    w.bytes(ipv4(a.nextHop, 'NEXT_HOP'));
    endAttr(w, at);
  }
  if (a.med !== undefined) {
    unknownUpTo(ATTR.MULTI_EXIT_DISC);
    at = beginAttr(w, O, ATTR.MULTI_EXIT_DISC);
    w.u32(a.med);
    endAttr(w, at);
  }
  if (a.localPref !== undefined) {
    unknownUpTo(ATTR.LOCAL_PREF);
    at = beginAttr(w, T, ATTR.LOCAL_PREF);
    w.u32(a.localPref);
    endAttr(w, at);
  }
  if (a.atomicAggregate) {
    unknownUpTo(ATTR.ATOMIC_AGGREGATE);
    at = beginAttr(w, T, ATTR.ATOMIC_AGGREGATE);
    endAttr(w, at);
  }
  if (a.aggregator !== undefined) {
    unknownUpTo(ATTR.AGGREGATOR);
    at = beginAttr(w, O | T, ATTR.AGGREGATOR);
    if (asSize === 4) w.u32(a.aggregator.asn);
    else w.u16(a.aggregator.asn);
    w.bytes(ipv4(a.aggregator.address, 'AGGREGATOR address'));
    endAttr(w, at);
  }
  if (a.communities !== undefined && a.communities.length > 0) {
    unknownUpTo(ATTR.COMMUNITIES);
    at = beginAttr(w, O | T, ATTR.COMMUNITIES);
    for (const c of a.communities) w.u32(c);
    endAttr(w, at);
  }
  if (a.originatorId !== undefined) {
    unknownUpTo(ATTR.ORIGINATOR_ID);
    at = beginAttr(w, O, ATTR.ORIGINATOR_ID);
    w.bytes(ipv4(a.originatorId, 'ORIGINATOR_ID'));
    endAttr(w, at);
  }
  if (a.clusterList !== undefined && a.clusterList.length > 0) {
    unknownUpTo(ATTR.CLUSTER_LIST);
    at = beginAttr(w, O, ATTR.CLUSTER_LIST);
    for (const c of a.clusterList) w.bytes(ipv4(c, 'CLUSTER_LIST entry'));
    endAttr(w, at);
  }
  if (a.extendedCommunities !== undefined && a.extendedCommunities.length > 0) {
    unknownUpTo(ATTR.EXTENDED_COMMUNITIES);
    at = beginAttr(w, O | T, ATTR.EXTENDED_COMMUNITIES);
    for (const c of a.extendedCommunities) {
      if (c.length !== 8) throw new BgpEncodeError(`EXTENDED_COMMUNITIES entry is ${c.length} bytes, expected 8`);
      w.bytes(c);
    }
    endAttr(w, at);
  }
  if (!ctx.fourOctetAs && a.as4Path !== undefined) {
    unknownUpTo(ATTR.AS4_PATH);
    at = beginAttr(w, O | T, ATTR.AS4_PATH);
    writeAsPath(w, a.as4Path, 4, 'AS4_PATH');
    endAttr(w, at);
  }
  if (!ctx.fourOctetAs && a.as4Aggregator !== undefined) {
    unknownUpTo(ATTR.AS4_AGGREGATOR);
    at = beginAttr(w, O | T, ATTR.AS4_AGGREGATOR);
    w.u32(a.as4Aggregator.asn);
    w.bytes(ipv4(a.as4Aggregator.address, 'AS4_AGGREGATOR address'));
    endAttr(w, at);
  }
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    unknownUpTo(ATTR.LARGE_COMMUNITY);
    at = beginAttr(w, O | T, ATTR.LARGE_COMMUNITY);
    for (const c of a.largeCommunities) {
      w.u32(c.globalAdmin);
      w.u32(c.localData1);
      w.u32(c.localData2);
    }
    endAttr(w, at);
  }
  unknownUpTo(256);
}

/** Encode an UPDATE body. MP_REACH_NLRI / MP_UNREACH_NLRI go first (RFC 7606 §5.1). */
export function encodeUpdate(w: ByteWriter, msg: UpdateMessage, ctx: CodecContext): void {
  const addPathV4 = ctx.addPath?.has(0x0101) ?? false;
  const wAt = w.length;
  w.u16(0);
  writeNlriList(w, msg.withdrawn, 1, addPathV4, 'UPDATE withdrawn routes');
  const wLen = w.length - wAt - 2;
  if (wLen > 0xffff) throw new BgpEncodeError(`UPDATE withdrawn routes are ${wLen} bytes, max 65535`);
  w.setU16(wAt, wLen);
  const aAt = w.length;
  w.u16(0);
  if (msg.mpReach) writeMpReachAttr(w, msg.mpReach, ctx);
  if (msg.mpUnreach) writeMpUnreachAttr(w, msg.mpUnreach, ctx);
  writePathAttributes(w, msg.attributes, ctx);
  const aLen = w.length - aAt - 2;
  if (aLen > 0xffff) throw new BgpEncodeError(`UPDATE path attributes are ${aLen} bytes, max 65535`);
  w.setU16(aAt, aLen);
  writeNlriList(w, msg.nlri, 1, addPathV4, 'UPDATE NLRI');
}

