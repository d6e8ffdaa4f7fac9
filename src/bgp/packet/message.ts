import type { ByteReader, ByteWriter } from './bytes.ts';
import type { BgpMessage, CodecContext, DecodeResult, Frame, NotificationMessage, OpenMessage, RouteRefreshMessage, UpdateMessage } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
/** Decode one whole message (header included, as returned by FrameReader). Throws BgpMessageError. */
export function decodeMessage(frame: Uint8Array | Frame, ctx: CodecContext): DecodeResult { void frame; void ctx; return ni(); }
/** Encode one whole message including the header. Throws BgpEncodeError if it cannot be encoded. */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Uint8Array { void msg; void ctx; return ni(); }
/** Body decoders/encoders: the reader/writer covers the body only (after the 19-byte header). */
export function decodeOpen(reader: ByteReader, ctx: CodecContext): OpenMessage { void reader; void ctx; return ni(); }
export function encodeOpen(writer: ByteWriter, msg: OpenMessage, ctx: CodecContext): void { void writer; void msg; void ctx; ni(); }
export function decodeUpdate(reader: ByteReader, ctx: CodecContext): DecodeResult<UpdateMessage> { void reader; void ctx; return ni(); }
export function encodeUpdate(writer: ByteWriter, msg: UpdateMessage, ctx: CodecContext): void { void writer; void msg; void ctx; ni(); }
export function decodeNotification(reader: ByteReader, ctx: CodecContext): NotificationMessage { void reader; void ctx; return ni(); }
export function encodeNotification(writer: ByteWriter, msg: NotificationMessage, ctx: CodecContext): void { void writer; void msg; void ctx; ni(); }
export function decodeRouteRefresh(reader: ByteReader, ctx: CodecContext): RouteRefreshMessage { void reader; void ctx; return ni(); }
export function encodeRouteRefresh(writer: ByteWriter, msg: RouteRefreshMessage, ctx: CodecContext): void { void writer; void msg; void ctx; ni(); }
/** A complete KEEPALIVE message (19 bytes). */
export const KEEPALIVE_BYTES: Uint8Array = new Uint8Array(19);
