// Whole messages: header + body dispatch; OPEN, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH bodies.
// UPDATE bodies live in update.ts.
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodeCapabilities, encodeCapability } from './capabilities.ts';
import { checkHeader } from './frame.ts';
import { formatIpv4, parseIpv4 } from './prefix.ts';
import { decodeUpdate, decodeUpdateBody, encodeUpdate } from './update.ts';
import {
  AS_TRANS,
  BGP_HEADER_LENGTH,
  BGP_MAX_EXTENDED_MESSAGE_LENGTH,
  BGP_MAX_MESSAGE_LENGTH,
  BgpEncodeError,
  BgpMessageError,
  CEASE,
  ERROR_CODE,
  HEADER_ERROR,
  MSG_TYPE,
  OPEN_ERROR,
  OPEN_PARAM,
  ROUTE_REFRESH_ERROR,
} from './types.ts';
import type {
  BgpMessage,
  Capability,
  CodecContext,
  DecodeResult,
  Frame,
  KeepaliveMessage,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
} from './types.ts';

export { decodeUpdate, encodeUpdate };

const EMPTY = new Uint8Array(0);
const NO_PROBLEMS: readonly never[] = Object.freeze([]);

function openError(subcode: number, data: Uint8Array, message: string): BgpMessageError {
  return new BgpMessageError(ERROR_CODE.OPEN_MESSAGE_ERROR, subcode, data, message);
}

// ---------------------------------------------------------------------------------------------
// OPEN (RFC 4271 §4.2, RFC 5492, RFC 9072)
// ---------------------------------------------------------------------------------------------

export function decodeOpen(reader: ByteReader, ctx: CodecContext): OpenMessage {
  void ctx;
  if (reader.remaining < 10) {
    throw new BgpMessageError(ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.BAD_MESSAGE_LENGTH, EMPTY, `OPEN body is ${reader.remaining} bytes, need at least 10`);
  }
  const version = reader.u8();
  if (version !== 4) {
    throw openError(OPEN_ERROR.UNSUPPORTED_VERSION_NUMBER, new Uint8Array([0, 4]), `OPEN: BGP version ${version}, only 4 is supported`);
  }
  const myAs = reader.u16();
  const holdTime = reader.u16();
  const idBytes = reader.view(4);
  const bgpId = formatIpv4(idBytes);
  let optLen = reader.u8();
  if (myAs === 0) throw openError(OPEN_ERROR.BAD_PEER_AS, EMPTY, 'OPEN: My Autonomous System is 0 (RFC 7607)');
  if (holdTime === 1 || holdTime === 2) {
    throw openError(OPEN_ERROR.UNACCEPTABLE_HOLD_TIME, EMPTY, `OPEN: hold time ${holdTime}s, must be 0 or at least 3`);
  }
  if (idBytes[0] === 0 && idBytes[1] === 0 && idBytes[2] === 0 && idBytes[3] === 0) {
    throw openError(OPEN_ERROR.BAD_BGP_IDENTIFIER, EMPTY, 'OPEN: BGP Identifier is 0.0.0.0');
  }
  // RFC 9072: Non-Ext OP Len 255 + Non-Ext OP Type 255 -> 2-byte lengths.
  let extended = false;
  if (optLen === 255 && reader.remaining >= 3 && reader.buf[reader.pos] === OPEN_PARAM.EXTENDED_LENGTH) {
    reader.skip(1);
    optLen = reader.u16();
    extended = true;
  }
  if (optLen !== reader.remaining) {
    throw openError(0, EMPTY, `OPEN: Optional Parameters Length ${optLen} does not match the ${reader.remaining} bytes that follow`);
  }
  const capabilities: Capability[] = [];
  const hdr = extended ? 3 : 2;
  while (reader.remaining > 0) {
    if (reader.remaining < hdr) throw openError(0, EMPTY, `OPEN: optional parameter at offset ${reader.pos} truncated`);
    const type = reader.u8();
    const len = extended ? reader.u16() : reader.u8();
    if (len > reader.remaining) {
      throw openError(0, EMPTY, `OPEN: optional parameter type ${type} length ${len} overruns the message (${reader.remaining} bytes left)`);
    }
    if (type !== OPEN_PARAM.CAPABILITIES) {
      throw openError(OPEN_ERROR.UNSUPPORTED_OPTIONAL_PARAMETER, EMPTY, `OPEN: unsupported optional parameter type ${type}`);
    }
    const sub = reader.sub(len, 'capabilities', ERROR_CODE.OPEN_MESSAGE_ERROR, 0);
    for (const c of decodeCapabilities(sub)) {
      if (c.kind === 'FOUR_OCTET_AS' && c.asn === 0) {
        throw openError(OPEN_ERROR.BAD_PEER_AS, EMPTY, 'OPEN: 4-octet AS capability carries AS 0 (RFC 7607)');
      }
      capabilities.push(c);
    }
  }
  return { type: 'OPEN', version, myAs, holdTime, bgpId, capabilities };
}

export function encodeOpen(w: ByteWriter, msg: OpenMessage, ctx: CodecContext): void {
  void ctx;
  if (!Number.isInteger(msg.myAs) || msg.myAs < 0 || msg.myAs > 0xffffffff) throw new BgpEncodeError(`OPEN: myAs ${msg.myAs} outside 0..4294967295`);
  if (!Number.isInteger(msg.holdTime) || msg.holdTime < 0 || msg.holdTime > 0xffff) throw new BgpEncodeError(`OPEN: holdTime ${msg.holdTime} outside 0..65535`);
  w.u8(msg.version || 4);
  w.u16(msg.myAs > 0xffff ? AS_TRANS : msg.myAs);
  w.u16(msg.holdTime);
  try {
    w.bytes(parseIpv4(msg.bgpId));
  } catch (e) {
    throw new BgpEncodeError(`OPEN bgpId: ${(e as Error).message}`);
  }
  // Parameters: all capabilities in one Capabilities parameter when they fit in 255 bytes,
  // otherwise one parameter per capability; RFC 9072 extended lengths if the total exceeds 255.
  const caps = new ByteWriter(256);
  const each: Uint8Array[] = [];
  for (const c of msg.capabilities) {
    const one = new ByteWriter(64);
    encodeCapability(one, c);
    each.push(one.finish());
    caps.bytes(each[each.length - 1]!);
  }
  const params: { type: number; value: Uint8Array }[] = [];
  if (each.length > 0) {
    if (caps.length <= 255) params.push({ type: OPEN_PARAM.CAPABILITIES, value: caps.finish() });
    else for (const v of each) params.push({ type: OPEN_PARAM.CAPABILITIES, value: v });
  }
  for (const p of msg.otherParams ?? []) params.push(p);
  let total = 0;
  for (const p of params) total += 2 + p.value.length;
  const extended = total > 255 || params.some((p) => p.value.length > 255);
  if (!extended) {
    w.u8(total);
    for (const p of params) {
      w.u8(p.type);
      w.u8(p.value.length);
      w.bytes(p.value);
    }
    return;
  }
  total = 0;
  for (const p of params) total += 3 + p.value.length;
  if (total > 0xffff) throw new BgpEncodeError(`OPEN optional parameters are ${total} bytes, max 65535`);
  w.u8(255);
  w.u8(OPEN_PARAM.EXTENDED_LENGTH);
  w.u16(total);
  for (const p of params) {
    w.u8(p.type);
    w.u16(p.value.length);
    w.bytes(p.value);
  }
}

// ---------------------------------------------------------------------------------------------
// NOTIFICATION (RFC 4271 §4.5, RFC 8203/9003 shutdown communication)
// ---------------------------------------------------------------------------------------------

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

function isShutdown(code: number, subcode: number): boolean {
  return code === ERROR_CODE.CEASE && (subcode === CEASE.ADMINISTRATIVE_SHUTDOWN || subcode === CEASE.ADMINISTRATIVE_RESET);
}

export function decodeNotification(reader: ByteReader, ctx: CodecContext): NotificationMessage {
  void ctx;
  const code = reader.u8('NOTIFICATION error code');
  const subcode = reader.u8('NOTIFICATION error subcode');
  const data = reader.bytes(reader.remaining);
  if (isShutdown(code, subcode) && data.length >= 1) {
    const l = data[0]!;
    if (l > 0 && 1 + l <= data.length) {
      try {
        const text = strictUtf8.decode(data.subarray(1, 1 + l));
        return { type: 'NOTIFICATION', code, subcode, data, shutdownMessage: text };
      } catch {
        // Not valid UTF-8: keep the raw data only.
      }
    }
  }
  return { type: 'NOTIFICATION', code, subcode, data };
}

/** UTF-8 bytes of `s`, cut at a character boundary to at most `max` bytes. */
function utf8Truncate(s: string, max: number): Uint8Array {
  let b = utf8enc.encode(s);
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  b = b.slice(0, end);
  return b;
}

export function encodeNotification(w: ByteWriter, msg: NotificationMessage, ctx: CodecContext): void {
  void ctx;
  w.u8(msg.code);
  w.u8(msg.subcode);
  if (msg.shutdownMessage !== undefined && isShutdown(msg.code, msg.subcode)) {
    const b = utf8Truncate(msg.shutdownMessage, 255);
    w.u8(b.length);
    w.bytes(b);
  } else {
    w.bytes(msg.data);
  }
}

// ---------------------------------------------------------------------------------------------
// ROUTE-REFRESH (RFC 2918, RFC 7313)
// ---------------------------------------------------------------------------------------------

export function decodeRouteRefresh(reader: ByteReader, ctx: CodecContext): RouteRefreshMessage {
  void ctx;
  if (reader.remaining !== 4) {
    throw new BgpMessageError(
      ERROR_CODE.ROUTE_REFRESH_MESSAGE_ERROR,
      ROUTE_REFRESH_ERROR.INVALID_MESSAGE_LENGTH,
      EMPTY,
      `ROUTE-REFRESH body is ${reader.remaining} bytes, must be 4`,
    );
  }
  const afi = reader.u16();
  const subtype = reader.u8();
  const safi = reader.u8();
  return { type: 'ROUTE_REFRESH', afi, safi, subtype };
}

export function encodeRouteRefresh(w: ByteWriter, msg: RouteRefreshMessage, ctx: CodecContext): void {
  void ctx;
  w.u16(msg.afi);
  w.u8(msg.subtype);
  w.u8(msg.safi);
}

// ---------------------------------------------------------------------------------------------
// Whole messages
// ---------------------------------------------------------------------------------------------

function plain<M extends BgpMessage>(message: M): DecodeResult<M> {
  return { message, treatAsWithdraw: false, discarded: NO_PROBLEMS, errors: NO_PROBLEMS };
}

/** Decode one whole message (header included, as returned by FrameReader). Throws BgpMessageError. */
export function decodeMessage(frame: Uint8Array | Frame, ctx: CodecContext): DecodeResult {
  const bytes = frame instanceof Uint8Array ? frame : frame.bytes;
  const max = ctx.extendedMessage ? BGP_MAX_EXTENDED_MESSAGE_LENGTH : BGP_MAX_MESSAGE_LENGTH;
  const h = checkHeader(bytes, 0, bytes.length, max);
  if (h === null) {
    throw new BgpMessageError(ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.BAD_MESSAGE_LENGTH, EMPTY, `BGP message is ${bytes.length} bytes, shorter than the 19-byte header`);
  }
  if (h.length !== bytes.length) {
    throw new BgpMessageError(
      ERROR_CODE.MESSAGE_HEADER_ERROR,
      HEADER_ERROR.BAD_MESSAGE_LENGTH,
      bytes.slice(16, 18),
      `BGP header length ${h.length} does not match the ${bytes.length} bytes given`,
    );
  }
  switch (h.type) {
    case MSG_TYPE.UPDATE:
      return decodeUpdateBody(bytes, BGP_HEADER_LENGTH, bytes.length, ctx);
    case MSG_TYPE.KEEPALIVE:
      return plain<KeepaliveMessage>({ type: 'KEEPALIVE' });
    case MSG_TYPE.OPEN:
      return plain(decodeOpen(new ByteReader(bytes, BGP_HEADER_LENGTH, bytes.length, ERROR_CODE.OPEN_MESSAGE_ERROR, 0), ctx));
    case MSG_TYPE.NOTIFICATION:
      return plain(decodeNotification(new ByteReader(bytes, BGP_HEADER_LENGTH), ctx));
    case MSG_TYPE.ROUTE_REFRESH:
      if (bytes.length !== 23) {
        throw new BgpMessageError(
          ERROR_CODE.ROUTE_REFRESH_MESSAGE_ERROR,
          ROUTE_REFRESH_ERROR.INVALID_MESSAGE_LENGTH,
          bytes.slice(),
          `ROUTE-REFRESH length ${bytes.length}, must be 23`,
        );
      }
      return plain(decodeRouteRefresh(new ByteReader(bytes, BGP_HEADER_LENGTH), ctx));
    default:
      // checkHeader rejected other types already.
      throw new BgpMessageError(ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.BAD_MESSAGE_TYPE, new Uint8Array([h.type]), `unknown message type ${h.type}`);
  }
}

/** Start a message: marker, length slot, type. Returns the writer position of the message start. */
export function beginMessage(w: ByteWriter, type: number): number {
  const at = w.length;
  w.ensure(19);
  w.buf.fill(0xff, w.pos, w.pos + 16);
  w.pos += 16;
  w.u16(0);
  w.u8(type);
  return at;
}

/** Patch the length of a message started at `at`, enforcing the maximum size. */
export function endMessage(w: ByteWriter, at: number, ctx: CodecContext, what: string): void {
  const len = w.length - at;
  const max = ctx.extendedMessage ? BGP_MAX_EXTENDED_MESSAGE_LENGTH : BGP_MAX_MESSAGE_LENGTH;
  if (len > max) throw new BgpEncodeError(`${what} would be ${len} bytes, max ${max}${ctx.extendedMessage ? '' : ' (no RFC 8654 extended messages)'}`);
  w.setU16(at + 16, len);
}

/** Encode one whole message including the header. Throws BgpEncodeError if it cannot be encoded. */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Uint8Array {
  const w = new ByteWriter(msg.type === 'UPDATE' ? 4096 : 64);
  const at = beginMessage(w, MSG_TYPE[msg.type]);
  switch (msg.type) {
    case 'OPEN':
      encodeOpen(w, msg, ctx);
      endMessage(w, at, { ...ctx, extendedMessage: false }, 'OPEN');
      return w.finish();
    case 'UPDATE':
      encodeUpdate(w, msg, ctx);
      break;
    case 'NOTIFICATION':
      encodeNotification(w, msg, ctx);
      break;
    case 'KEEPALIVE':
      break;
    case 'ROUTE_REFRESH':
      encodeRouteRefresh(w, msg, ctx);
      break;
  }
  endMessage(w, at, ctx, msg.type);
  return w.finish();
}

/** A complete KEEPALIVE message (19 bytes). */
export const KEEPALIVE_BYTES: Uint8Array = (() => {
  const b = new Uint8Array(19).fill(0xff);
  b[16] = 0;
  b[17] = 19;
  b[18] = MSG_TYPE.KEEPALIVE;
  return b;
})();
