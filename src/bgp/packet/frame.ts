// Framing: split a TCP byte stream into BGP messages. Header checks (marker, length, type,
// per-type length) happen as soon as the 19 header bytes are in, before a body is waited for.
import { BGP_HEADER_LENGTH, BGP_MAX_EXTENDED_MESSAGE_LENGTH, BGP_MAX_MESSAGE_LENGTH, BgpMessageError, ERROR_CODE, HEADER_ERROR, MSG_TYPE } from './types.ts';
import type { Frame } from './types.ts';

/** Smallest legal length per message type (RFC 4271 §4, RFC 2918). */
const MIN_LENGTH: Record<number, number> = {
  [MSG_TYPE.OPEN]: 29,
  [MSG_TYPE.UPDATE]: 23,
  [MSG_TYPE.NOTIFICATION]: 21,
  [MSG_TYPE.KEEPALIVE]: 19,
  [MSG_TYPE.ROUTE_REFRESH]: 19, // exact length 23 is checked by the decoder (RFC 7313 error 7/1 carries the message)
};

function headerError(subcode: number, data: Uint8Array, message: string): BgpMessageError {
  return new BgpMessageError(ERROR_CODE.MESSAGE_HEADER_ERROR, subcode, data, message);
}

/**
 * Validate the header at buf[pos, pos+avail). Returns null if fewer than 19 bytes are available
 * (after checking the marker bytes that are), else the message type and length.
 */
export function checkHeader(buf: Uint8Array, pos: number, avail: number, maxLength: number): { type: number; length: number } | null {
  const m = Math.min(avail, 16);
  for (let i = 0; i < m; i++) {
    if (buf[pos + i] !== 0xff) {
      throw headerError(HEADER_ERROR.CONNECTION_NOT_SYNCHRONIZED, new Uint8Array(0), `BGP header: marker byte ${i} is 0x${buf[pos + i]!.toString(16).padStart(2, '0')}, expected 0xff`);
    }
  }
  if (avail < BGP_HEADER_LENGTH) return null;
  const length = (buf[pos + 16]! << 8) | buf[pos + 17]!;
  const type = buf[pos + 18]!;
  const lenData = (): Uint8Array => buf.slice(pos + 16, pos + 18);
  if (length < BGP_HEADER_LENGTH || length > maxLength) {
    throw headerError(HEADER_ERROR.BAD_MESSAGE_LENGTH, lenData(), `BGP header: length ${length} outside ${BGP_HEADER_LENGTH}..${maxLength}`);
  }
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw headerError(HEADER_ERROR.BAD_MESSAGE_TYPE, new Uint8Array([type]), `BGP header: unknown message type ${type}`);
  }
  if (length < min) {
    throw headerError(HEADER_ERROR.BAD_MESSAGE_LENGTH, lenData(), `BGP header: length ${length} too short for message type ${type} (minimum ${min})`);
  }
  if (type === MSG_TYPE.KEEPALIVE && length !== 19) {
    throw headerError(HEADER_ERROR.BAD_MESSAGE_LENGTH, lenData(), `BGP header: KEEPALIVE length ${length}, must be 19`);
  }
  if ((type === MSG_TYPE.OPEN || type === MSG_TYPE.KEEPALIVE) && length > BGP_MAX_MESSAGE_LENGTH) {
    throw headerError(HEADER_ERROR.BAD_MESSAGE_LENGTH, lenData(), `BGP header: message type ${type} length ${length} exceeds 4096 (RFC 8654 §4)`);
  }
  return { type, length };
}

export interface FrameReaderOptions {
  /** RFC 8654 negotiated: accept messages up to 65535 bytes (can be switched later). */
  extendedMessage?: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * Push chunks from the socket, pull complete messages. Validates marker, length (19..4096 or
 * ..65535) and per-type lengths from the header alone, before buffering the body; throws
 * BgpMessageError (Message Header Error) on a bad header. After an error the reader is poisoned
 * (the session must be closed). Returned frames are views that stay valid: the reader never
 * writes into memory it has handed out.
 */
export class FrameReader {
  extendedMessage: boolean;
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** #buf is our allocation (may append in place). */
  #owned = false;
  #failed: BgpMessageError | null = null;

  constructor(options: FrameReaderOptions = {}) {
    this.extendedMessage = options.extendedMessage ?? false;
  }

  /** Bytes buffered but not yet returned. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const have = this.#end - this.#start;
    if (have === 0) {
      // Zero copy: keep the caller's chunk (never written to).
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    const need = have + chunk.length;
    const nb = new Uint8Array(Math.max(need * 2, 8192));
    nb.set(this.#buf.subarray(this.#start, this.#end), 0);
    nb.set(chunk, have);
    this.#buf = nb;
    this.#start = 0;
    this.#end = need;
    this.#owned = true;
  }

  /** Next complete message, or null if more bytes are needed. Throws BgpMessageError on a bad header. */
  next(): Frame | null {
    if (this.#failed) throw this.#failed;
    const avail = this.#end - this.#start;
    if (avail === 0) return null;
    let h: { type: number; length: number } | null;
    try {
      h = checkHeader(this.#buf, this.#start, avail, this.extendedMessage ? BGP_MAX_EXTENDED_MESSAGE_LENGTH : BGP_MAX_MESSAGE_LENGTH);
    } catch (e) {
      if (e instanceof BgpMessageError) this.#failed = e;
      throw e;
    }
    if (h === null || avail < h.length) return null;
    const bytes = this.#buf.subarray(this.#start, this.#start + h.length);
    this.#start += h.length;
    if (this.#start === this.#end) {
      this.#buf = EMPTY;
      this.#start = this.#end = 0;
      this.#owned = false;
    }
    return { type: h.type, bytes };
  }
}
